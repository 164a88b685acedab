#!/usr/bin/env bash
# End-to-end checks of `taskpipe train --strategy dp|pp|hybrid` on a tiny model: each layout trains to the one-worker
# run's parameters within 1e-5, a checkpoint saved under pp resumes under dp and ends where the uninterrupted one-worker
# run ends, the cut and the per-worker report are printed (and put in --json), --trace writes the real per-worker
# timeline and --svg draws it (with the simulator's tracks below under --compare-sim), and every conflicting flag or
# bad layout is one line on stderr with exit status 2, before any work.
# Usage: train_parallel_cli_test.sh <path to taskpipe>
set -u
bin="$1"
here=$(cd "$(dirname "$0")" && pwd)
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
dir=$(mktemp -d /tmp/taskpipe_train_parallel_cli.XXXXXX)
trap 'rm -rf "$dir"' EXIT

# expect_bad_input <needle> <args...>: exit status 2, one line on stderr that contains <needle>, nothing on stdout,
# and no checkpoint written (the runs below pass --save): refused before any training work.
expect_bad_input() {
  local needle="$1" out err rc
  shift
  rm -f "$dir/refused.safetensors"
  out=$("$bin" "$@" --save "$dir/refused.safetensors" 2>"$dir/err"); rc=$?
  err=$(cat "$dir/err")
  [ "$rc" -eq 2 ] || fail "'taskpipe $*' exited $rc, expected 2 ($err)"
  [ "$(printf '%s\n' "$err" | grep -c .)" -eq 1 ] || fail "'taskpipe $*' printed not exactly one error line: $err"
  [ -z "$out" ] || fail "'taskpipe $*' printed on stdout: $out"
  printf '%s\n' "$err" | grep -q '^taskpipe: error: ' || fail "'taskpipe $*' error line lacks the prefix: $err"
  printf '%s\n' "$err" | grep -q -- "$needle" || fail "'taskpipe $*' error does not say '$needle': $err"
  [ ! -e "$dir/refused.safetensors" ] || fail "'taskpipe $*' wrote a checkpoint before refusing"
}

# same_parameters <a> <b> <what>: every tensor within 1e-5 relative; the key bias within 2 x steps x lr.
same_parameters() {
  perl "$here/compare_checkpoints.pl" "$1" "$2" 1e-5 0.024 >"$dir/compare" || fail "$3: $(cat "$dir/compare")"
}

text="$dir/text.txt"
for i in $(seq 1 40); do echo "line $i: the quick brown fox jumps over the lazy dog"; done >"$text"
tiny=(--preset tiny --layers 2 --seq 16 --batch 4 --data "$text" --val-fraction 0.2 --val-batches 2 --lr 3e-3 --quiet)

"$bin" train --help | grep -q -- '--strategy' || fail "train --help does not list --strategy"
"$bin" train --help | grep -q -- '--memory-per-worker' || fail "train --help does not list --memory-per-worker"

# The one-worker run, and every parallel layout against it.
"$bin" train "${tiny[@]}" --steps 4 --save "$dir/task.safetensors" >/dev/null || fail "train (task) exited $?"
"$bin" train "${tiny[@]}" --steps 4 --seed 1 --save "$dir/other.safetensors" >/dev/null || fail "train --seed 1 exited $?"
perl "$here/compare_checkpoints.pl" "$dir/other.safetensors" "$dir/task.safetensors" 1e-5 0.024 >/dev/null &&
  fail "the comparison accepts a run from another seed"
pp_out=$("$bin" train "${tiny[@]}" --steps 4 --strategy pp --pp 2 --schedule zb-h1 --save "$dir/pp.safetensors") ||
  fail "train --strategy pp exited $?"
same_parameters "$dir/pp.safetensors" "$dir/task.safetensors" "pp 2 zb-h1"
"$bin" train "${tiny[@]}" --steps 4 --strategy dp --dp 2 --save "$dir/dp.safetensors" >/dev/null ||
  fail "train --strategy dp exited $?"
same_parameters "$dir/dp.safetensors" "$dir/task.safetensors" "dp 2"
hybrid=$("$bin" train "${tiny[@]}" --steps 4 --strategy hybrid --dp 2 --pp 2 --save "$dir/hybrid.safetensors" \
  --json) || fail "train --strategy hybrid exited $?"
same_parameters "$dir/hybrid.safetensors" "$dir/task.safetensors" "hybrid 2 x 2"

# Saved under pp 2 zb-h1 after 2 steps, resumed under dp 2 up to 4: the uninterrupted one-worker run's parameters.
"$bin" train "${tiny[@]}" --steps 2 --strategy pp --pp 2 --schedule zb-h1 --save "$dir/half.safetensors" \
  >/dev/null || fail "train --strategy pp --steps 2 exited $?"
"$bin" train --resume "$dir/half.safetensors" --seq 16 --batch 4 --data "$text" --val-fraction 0.2 --val-batches 2 \
  --lr 3e-3 --quiet --steps 4 --strategy dp --dp 2 --save "$dir/resumed.safetensors" >/dev/null ||
  fail "train --resume under dp exited $?"
same_parameters "$dir/resumed.safetensors" "$dir/task.safetensors" "pp -> dp resume"

# The cut and the per-worker report, in text and in JSON.
printf '%s\n' "$pp_out" | grep -q '^stage 1: layers \[' || fail "no cut printed: $pp_out"
printf '%s\n' "$pp_out" | grep -q '^rank 1: time .* memory [0-9]* bytes' || fail "no predicted memory: $pp_out"
printf '%s\n' "$pp_out" | grep -q '^replica 0 rank 1: busy .* idle .* peak bytes parameters [0-9]*, gradients [0-9]*, optimizer [0-9]*, activations [1-9]' ||
  fail "no per-worker report: $pp_out"
for key in workers partition busy_s idle_s rank_memory parameter_checksum validation_loss; do
  printf '%s' "$hybrid" | grep -q "\"$key\"" || fail "train --json (hybrid) lacks $key"
done
[ "$(printf '%s' "$hybrid" | grep -c '"busy_s"')" -eq 4 ] || fail "hybrid 2 x 2 does not report 4 workers"
printf '%s' "$hybrid" | grep -q '^stage' && fail "--json printed the cut as text"

# --partition profile, and the real timeline: one track per worker, F/I/W slices named stage, kind, micro-batch.
"$bin" train "${tiny[@]}" --steps 2 --strategy pp --pp 2 --schedule zb-h1 --partition profile \
  --trace "$dir/trace.json" >"$dir/profile_out" || fail "train --partition profile --trace exited $?"
grep -q 'partition by profile' "$dir/profile_out" || fail "no profile cut: $(cat "$dir/profile_out")"
grep -q '"replica 0 rank 1"' "$dir/trace.json" || fail "the trace lacks the track of replica 0 rank 1"
grep -q '"1W1"' "$dir/trace.json" && grep -q '"0F0"' "$dir/trace.json" || fail "the trace lacks F or W slices"

# --svg draws the same per-worker timeline; --compare-sim adds the simulator's tracks below the measured ones.
# well_formed_svg <file> <what>: xmllint accepts it when installed, else it opens with <svg and closes with </svg>.
well_formed_svg() {
  [ -s "$1" ] || { fail "$2: no SVG file written"; return; }
  if command -v xmllint >/dev/null 2>&1; then
    xmllint --noout "$1" 2>"$dir/xmllint" || fail "$2: xmllint rejects the SVG: $(head -3 "$dir/xmllint")"
  else
    grep -q '<svg' "$1" && [ "$(tail -c 200 "$1" | grep -c '</svg>')" -eq 1 ] || fail "$2: not a closed <svg> document"
  fi
}
"$bin" train "${tiny[@]}" --steps 2 --strategy pp --pp 2 --schedule 1f1b --svg "$dir/pp.svg" >"$dir/svg_out" ||
  fail "train --svg exited $?"
well_formed_svg "$dir/pp.svg" "pp --svg"
grep -q 'replica 0 rank 1' "$dir/pp.svg" || fail "the SVG lacks the track of replica 0 rank 1"
grep -q 'sim rank' "$dir/pp.svg" && fail "the SVG has simulated tracks without --compare-sim"
grep -q "^svg $dir/pp.svg" "$dir/svg_out" || fail "train --svg does not name the file: $(cat "$dir/svg_out")"
"$bin" train "${tiny[@]}" --steps 2 --strategy hybrid --dp 2 --pp 2 --microbatches 2 --svg "$dir/sim.svg" \
  --compare-sim --trace "$dir/sim.json" >/dev/null || fail "train --svg --compare-sim exited $?"
well_formed_svg "$dir/sim.svg" "hybrid --svg --compare-sim"
for track in "replica 1 rank 1" "sim rank 0" "sim rank 1"; do
  grep -q "$track" "$dir/sim.svg" || fail "the --compare-sim SVG lacks the track '$track'"
  grep -q "\"$track\"" "$dir/sim.json" || fail "the --compare-sim trace lacks the track '$track'"
done
grep -q 'sim rank 2' "$dir/sim.svg" && fail "the --compare-sim SVG has a simulated rank past P = 2"
"$bin" train "${tiny[@]}" --steps 1 --strategy dp --dp 2 --svg "$dir/dp.svg" >/dev/null || fail "dp --svg exited $?"
well_formed_svg "$dir/dp.svg" "dp --svg"

# Conflicting flags and bad layouts: one line, exit 2, before any work.
expect_bad_input "--compare-sim needs --svg FILE or --trace FILE" train "${tiny[@]}" --strategy pp --compare-sim
expect_bad_input "--compare-sim conflicts with --strategy task" train "${tiny[@]}" --compare-sim --trace "$dir/t.json"
expect_bad_input "--svg conflicts with --strategy task" train "${tiny[@]}" --svg "$dir/task.svg"
expect_bad_input "does not exist" train "${tiny[@]}" --strategy pp --svg "$dir/no/such/dir/x.svg"
expect_bad_input "--pp conflicts with --strategy dp" train "${tiny[@]}" --strategy dp --pp 2
expect_bad_input "--dp conflicts with --strategy pp" train "${tiny[@]}" --strategy pp --dp 2
expect_bad_input "--schedule conflicts with --strategy task" train "${tiny[@]}" --schedule zb-h1
expect_bad_input "--microbatches conflicts with --strategy task" train "${tiny[@]}" --microbatches 2
expect_bad_input "--partition conflicts with --strategy task" train "${tiny[@]}" --partition profile
expect_bad_input "--threads 2 conflicts with --strategy pp" train "${tiny[@]}" --strategy pp --threads 2
expect_bad_input "--chunks applies to --schedule interleaved only" train "${tiny[@]}" --strategy pp --chunks 2
expect_bad_input "unknown schedule kind" train "${tiny[@]}" --strategy pp --schedule nope
expect_bad_input "--strategy" train "${tiny[@]}" --strategy model
expect_bad_input "--pp" train "${tiny[@]}" --strategy pp --pp 65
expect_bad_input "more than the model's 4 layers" train "${tiny[@]}" --strategy pp --pp 5 --schedule gpipe
expect_bad_input "6 stages" train "${tiny[@]}" --strategy pp --pp 3 --schedule zb-v
expect_bad_input "multiple of 3" train "${tiny[@]}" --strategy dp --dp 3
expect_bad_input "multiple of 8" train "${tiny[@]}" --strategy hybrid --dp 2 --pp 2 --microbatches 4
expect_bad_input "microbatches" train "${tiny[@]}" --strategy pp --pp 2 --microbatches 1
expect_bad_input "fits 1000 bytes" train "${tiny[@]}" --strategy pp --pp 2 --memory-per-worker 1000
expect_bad_input "fits 1000 bytes" train "${tiny[@]}" --memory-per-worker 1000

[ "$failures" -eq 0 ] && echo "train parallel cli: all checks passed"
exit "$failures"
