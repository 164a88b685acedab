#!/usr/bin/env bash
# Under mpirun, `taskpipe train --json` on world rank 0 reports every rank: the threads' per-worker figures (busy,
# idle, peak memory by category) and the bytes each rank sent in the last step, which must be exactly what the layout
# needs: no gradient sent twice (check_report.pl computes the counts from the model and the layout).
# Usage: mpi_report_test.sh <taskpipe> <mpirun>
set -u
source "$(dirname "$0")/common.sh"

# check <ranks> <name> <taskpipe train args...>: the MPI report against the expected bytes and the threads' schema.
check() {
  local n="$1" name="$2"
  shift 2
  "$bin" train "${tiny[@]}" --steps 2 --json "$@" >"$dir/$name.threads.json" ||
    fail "$name: threads exited $?"
  mpi "$n" train "${tiny[@]}" --steps 2 --json "$@" >"$dir/$name.mpi.json" 2>"$dir/$name.err" ||
    fail "$name: mpirun -np $n exited $?: $(tail -5 "$dir/$name.err")"
  perl "$here/check_report.pl" "$dir/$name.mpi.json" "$dir/$name.threads.json" || fail "$name: the report"
}

check 2 dp2 --strategy dp --dp 2
check 2 pp2-1f1b --strategy pp --pp 2 --schedule 1f1b --microbatches 4
check 2 pp2-zb-v --strategy pp --pp 2 --schedule zb-v
check 4 hybrid2x2 --strategy hybrid --dp 2 --pp 2 --schedule zb-h1
check 4 dp4 --strategy dp --dp 4

[ "$failures" -eq 0 ] && echo "mpi report: all checks passed"
exit "$failures"
