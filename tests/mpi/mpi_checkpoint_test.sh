#!/usr/bin/env bash
# Checkpoints across MPI and threads: one whole-model file written by world rank 0, resumable under any layout.
# Saved by MPI pp 2 after 2 steps, resumed by threads dp 2 up to 4; saved by threads after 2 steps, resumed by MPI
# hybrid 2 x 2 up to 4; both end at the uninterrupted one-worker run's parameters.
# Usage: mpi_checkpoint_test.sh <taskpipe> <mpirun>
set -u
source "$(dirname "$0")/common.sh"

"$bin" train "${tiny[@]}" --steps 4 --save "$dir/task.safetensors" >/dev/null || fail "train (task) exited $?"

mpi 2 train "${tiny[@]}" --steps 2 --strategy pp --pp 2 --schedule zb-h1 --save "$dir/mpi_half.safetensors" \
  >"$dir/out" 2>&1 || fail "mpirun pp 2 --steps 2 exited $?: $(tail -3 "$dir/out")"
grep -q "checkpoint $dir/mpi_half.safetensors" "$dir/out" || fail "the MPI run does not name its checkpoint"
ls "$dir"/mpi_half.safetensors.* >/dev/null 2>&1 && fail "a temporary file was left beside the checkpoint"
"$bin" train "${run[@]}" --steps 4 --strategy dp --dp 2 --resume "$dir/mpi_half.safetensors" \
  --save "$dir/threads_end.safetensors" >/dev/null || fail "threads resuming the MPI checkpoint exited $?"
same_parameters "$dir/threads_end.safetensors" "$dir/task.safetensors" "MPI pp 2 saved, threads dp 2 resumed"

"$bin" train "${tiny[@]}" --steps 2 --strategy pp --pp 2 --save "$dir/threads_half.safetensors" >/dev/null ||
  fail "threads pp 2 --steps 2 exited $?"
mpi 4 train "${run[@]}" --steps 4 --strategy hybrid --dp 2 --pp 2 --resume "$dir/threads_half.safetensors" \
  --save "$dir/mpi_end.safetensors" >"$dir/out" 2>&1 || fail "MPI hybrid resuming exited $?: $(tail -3 "$dir/out")"
same_parameters "$dir/mpi_end.safetensors" "$dir/task.safetensors" "threads pp 2 saved, MPI hybrid 2x2 resumed"
echo "resumed across MPI and threads: $(grep "worst relative" "$dir/compare")"

[ "$failures" -eq 0 ] && echo "mpi checkpoint: all checks passed"
exit "$failures"
