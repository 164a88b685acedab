#!/usr/bin/env bash
# Faults under mpirun: no rank hangs silently. A rank that throws (NaN, a refused checkpoint) brings the job down
# within 10 s with one line naming the rank, the stage, the step and the cause; a rank killed from outside (SIGKILL)
# takes every other rank down within 10 s and mpirun exits non-zero; a rank stopped from outside (SIGSTOP) makes its
# neighbour wait past --comm-timeout, which names the rank and the message it waited for and aborts the job.
# A -np that is not D x P is one line, exit status 2. Each case prints its time.
# Usage: mpi_faults_test.sh <taskpipe> <mpirun>
set -u
source "$(dirname "$0")/common.sh"

now() { date +%s.%N; }
seconds_since() { echo "$(now) - $1" | bc; }
within() { [ "$(echo "$1 <= $2" | bc)" -eq 1 ]; }

# A mismatch between -np and D x P: one error line (world rank 0's), exit status 2, before any work.
mpi 2 train "${tiny[@]}" --strategy pp --pp 3 --microbatches 4 --steps 1 >"$dir/out" 2>"$dir/err"
rc=$?
[ "$rc" -ne 0 ] || fail "-np 2 with --pp 3 exited 0"
[ "$(grep -c '^taskpipe: error: ' "$dir/err")" -eq 1 ] || fail "-np 2 with --pp 3: not one error line: $(cat "$dir/err")"
grep -q "needs -np 3" "$dir/err" || fail "-np 2 with --pp 3: the error does not say what -np is needed"
echo "mismatch: exit status $rc: $(grep '^taskpipe: error: ' "$dir/err")"

# Flags an MPI run would ignore or could not agree on: one line, exit status 2.
for flags in "--trace $dir/t.json" "--partition profile"; do
  mpi 2 train "${tiny[@]}" --strategy pp --pp 2 --steps 1 $flags >"$dir/out" 2>"$dir/err"
  rc=$?
  [ "$rc" -ne 0 ] || fail "mpirun with $flags exited 0"
  [ "$(grep -c '^taskpipe: error: ' "$dir/err")" -eq 1 ] || fail "mpirun with $flags: not one error line: $(cat "$dir/err")"
done

# --comm-timeout outside mpirun would be ignored: refused.
"$bin" train "${tiny[@]}" --strategy pp --pp 2 --steps 1 --comm-timeout 5 >"$dir/out" 2>"$dir/err"
rc=$?
[ "$rc" -eq 2 ] || fail "--comm-timeout outside mpirun exited $rc, expected 2"
[ "$(grep -c . "$dir/err")" -eq 1 ] && grep -q '^taskpipe: error: --comm-timeout applies under mpirun only' "$dir/err" ||
  fail "--comm-timeout outside mpirun: not the one error line: $(cat "$dir/err")"

# NaN: h.0.ln_2's weights set to NaN; the rank that holds h.0 names itself, its stage, step 0 and the layer.
"$bin" train "${tiny[@]}" --steps 1 --save "$dir/base.safetensors" >/dev/null || fail "train --steps 1 exited $?"
perl -e 'open(my $f, "+<", $ARGV[0]) or die; binmode $f; read($f, my $l, 8); my $n = unpack("Q<", $l);
  read($f, my $h, $n); $h =~ /"h\.0\.ln_2\.weight":\{"data_offsets":\[(\d+),(\d+)\]/ or die "no h.0.ln_2.weight";
  seek($f, 8 + $n + $1, 0); print $f pack("L<", 0x7fc00000) x (($2 - $1) / 4); close($f) or die;' \
  "$dir/base.safetensors" || fail "could not write NaN into the checkpoint"
t0=$(now)
mpi 2 train "${run[@]}" --strategy pp --pp 2 --steps 3 --init "$dir/base.safetensors" >"$dir/out" 2>&1
rc=$?
took=$(seconds_since "$t0")
[ "$rc" -ne 0 ] || fail "NaN: mpirun exited 0"
within "$took" 10 || fail "NaN: the job took $took s to go down"
grep -Eq '^taskpipe: error: rank [01] \(replica 0, pipeline rank [01]\), stages [0-9,]+: step 0: stage [0-9] micro-batch [0-9]+ F: .*h\.0' \
  "$dir/out" || fail "NaN: no line naming the rank, stage, step and layer: $(grep -m3 . "$dir/out")"
echo "NaN: job down in $took s, exit status $rc: $(grep -m1 '^taskpipe: error: ' "$dir/out")"

# A refused checkpoint: resumed with another batch.
"$bin" train "${tiny[@]}" --strategy pp --pp 2 --steps 1 --save "$dir/b4.safetensors" >/dev/null ||
  fail "train --steps 1 exited $?"
t0=$(now)
mpi 2 train --seq 16 --batch 8 --data "$text" --val-fraction 0.2 --quiet --strategy pp --pp 2 --steps 3 \
  --resume "$dir/b4.safetensors" >"$dir/out" 2>&1
rc=$?
took=$(seconds_since "$t0")
[ "$rc" -ne 0 ] || fail "refused checkpoint: mpirun exited 0"
within "$took" 10 || fail "refused checkpoint: the job took $took s to go down"
grep -Eq '^taskpipe: error: .*batch 4' "$dir/out" || fail "refused checkpoint: no error line: $(grep -m3 . "$dir/out")"
echo "refused checkpoint: job down in $took s, exit status $rc: $(grep -m1 '^taskpipe: error: ' "$dir/out")"

# start_long <ranks> <args...>: a long run in the background; sets job (mpirun's pid) and ranks (its children).
start_long() {
  local n="$1"
  shift
  "$mpirun" --oversubscribe -np "$n" "$bin" train "${tiny[@]}" --steps 1000000 "$@" >"$dir/out" 2>&1 &
  job=$!
  for _ in $(seq 1 300); do
    grep -q "^mpi: " "$dir/out" && break
    sleep 0.1
  done
  sleep 1  # into the training loop
  ranks=$(pgrep -P "$job" -f taskpipe | sort -n)
}

# wait_job <what>: waits for mpirun (at most 30 s, then kills it: a failure); sets rc and took (seconds since t0).
wait_job() {
  local waited=0
  while kill -0 "$job" 2>/dev/null && [ "$waited" -lt 300 ]; do
    sleep 0.1
    waited=$((waited + 1))
  done
  if kill -0 "$job" 2>/dev/null; then
    fail "$1: mpirun still runs 30 s later"
    kill -KILL "$job" $ranks 2>/dev/null
  fi
  wait "$job"
  rc=$?
  took=$(seconds_since "$t0")
}

# SIGKILL from outside: the other ranks go within 10 s, mpirun's status is non-zero.
start_long 2 --strategy pp --pp 2
[ "$(echo "$ranks" | wc -w)" -eq 2 ] || fail "SIGKILL: expected 2 rank processes under mpirun, found '$ranks'"
victim=$(echo "$ranks" | tail -1)
t0=$(now)
kill -KILL "$victim"
wait_job SIGKILL
[ "$rc" -ne 0 ] || fail "SIGKILL: mpirun exited 0"
within "$took" 10 || fail "SIGKILL: the other rank took $took s to go"
sleep 0.5
for p in $ranks; do
  state=$(ps -o stat= -p "$p" 2>/dev/null)
  [ -n "$state" ] && [ "${state#Z}" = "$state" ] && fail "SIGKILL: rank process $p still runs ($state)"
done
echo "SIGKILL: every rank gone in $took s, mpirun exit status $rc"

# SIGSTOP from outside: its neighbour waits --comm-timeout 2 s, names what it waited for, and aborts the job.
start_long 2 --strategy pp --pp 2 --comm-timeout 2
[ "$(echo "$ranks" | wc -w)" -eq 2 ] || fail "SIGSTOP: expected 2 rank processes under mpirun, found '$ranks'"
victim=$(echo "$ranks" | tail -1)
t0=$(now)
kill -STOP "$victim"
wait_job SIGSTOP
kill -KILL "$victim" 2>/dev/null
[ "$rc" -ne 0 ] || fail "SIGSTOP: mpirun exited 0"
within "$took" 10 || fail "SIGSTOP: the job took $took s to go down"
grep -Eq 'waited more than 2 s for rank [01] \(replica 0, pipeline rank [01]\)' "$dir/out" ||
  fail "SIGSTOP: no line naming the rank waited for: $(grep -m3 . "$dir/out")"
echo "SIGSTOP: job down in $took s, exit status $rc: $(grep -m1 'waited more than' "$dir/out")"

[ "$failures" -eq 0 ] && echo "mpi faults: all checks passed"
exit "$failures"
