# Shared by the tests that launch mpirun: the binary, a scratch folder, the tiny model's flags and bounded launches.
# Open MPI refuses root without these, and needs --oversubscribe for more ranks than cores.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# One host, no network: keep Open MPI on shared memory, quiet about missing interconnects.
export OMPI_MCA_btl=self,vader OMPI_MCA_btl_base_warn_component_unused=0 OMPI_MCA_rmaps_base_oversubscribe=1
bin="$1"
mpirun="${2:-mpirun}"
here=$(cd "$(dirname "$0")" && pwd)
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
dir=$(mktemp -d /tmp/taskpipe_mpi_test.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$dir"' EXIT

text="$dir/text.txt"
for i in $(seq 1 40); do echo "line $i: the quick brown fox jumps over the lazy dog"; done >"$text"
run=(--seq 16 --batch 4 --data "$text" --val-fraction 0.2 --val-batches 2 --lr 3e-3 --quiet)
tiny=(--preset tiny --layers 2 "${run[@]}")  # with --resume the size comes from the checkpoint: "${run[@]}" alone

# mpi <ranks> <taskpipe args...>: mpirun bounded to 60 s (a hang is a failure, not a stuck CI).
mpi() {
  local n="$1"
  shift
  timeout -s KILL 60 "$mpirun" --oversubscribe -np "$n" "$bin" "$@"
}

# same_parameters <a> <b> <what>: every tensor within 1e-5 relative; the key bias within 2 x steps x lr.
same_parameters() {
  perl "$here/../cli/compare_checkpoints.pl" "$1" "$2" 1e-5 0.024 >"$dir/compare" || fail "$3: $(cat "$dir/compare")"
}
