#!/usr/bin/env bash
# MPI ranks against in-process threads: the same configuration ends with the same parameters (1e-5 relative).
# Usage: mpi_equal_test.sh <taskpipe> <mpirun> <layout> [schedule kinds...]
#   layout pp: `--strategy pp --pp 2` under each kind on 2 ranks; layout dp: dp 2 and dp 4 on 2 and 4 ranks,
#   hybrid 2 x 2 and pp 4 (zb-h1) on 4 ranks.
set -u
source "$(dirname "$0")/common.sh"
layout="$3"
shift 3

# run_both <ranks> <name> <taskpipe train args...>: the threads' run and the MPI run, their checkpoints compared.
run_both() {
  local n="$1" name="$2"
  shift 2
  "$bin" train "${tiny[@]}" --steps 3 "$@" --save "$dir/$name.threads.safetensors" >/dev/null ||
    fail "$name: threads exited $?"
  mpi "$n" train "${tiny[@]}" --steps 3 "$@" --save "$dir/$name.mpi.safetensors" >"$dir/$name.out" 2>&1 ||
    fail "$name: mpirun -np $n exited $?: $(tail -5 "$dir/$name.out")"
  same_parameters "$dir/$name.mpi.safetensors" "$dir/$name.threads.safetensors" "$name: MPI against threads"
  echo "$name: $(grep "worst relative" "$dir/compare")"
}

if [ "$layout" = pp ]; then
  for kind in "$@"; do
    run_both 2 "pp2-$kind" --strategy pp --pp 2 --schedule "$kind"
  done
else
  run_both 2 dp2 --strategy dp --dp 2
  run_both 4 dp4 --strategy dp --dp 4
  run_both 4 hybrid2x2 --strategy hybrid --dp 2 --pp 2 --schedule 1f1b
  run_both 4 pp4-zb-h1 --strategy pp --pp 4 --schedule zb-h1
  # The rank layout is printed: world rank d*P + r holds pipeline rank r of replica d.
  grep -q "rank 3: replica 1, pipeline rank 1" "$dir/hybrid2x2.out" || fail "hybrid: no rank layout in the output"
fi

[ "$failures" -eq 0 ] && echo "mpi equal ($layout): all checks passed"
exit "$failures"
