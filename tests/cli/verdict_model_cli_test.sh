#!/usr/bin/env bash
# End-to-end checks of `taskpipe verdict --model`: a tiny model judged in JSON and as text under a tight memory limit
# (dp listed as not fitting, a pipeline recommended), the SVG and trace outputs, and bad input (one line on stderr,
# exit status 2, nothing on stdout). Usage: verdict_model_cli_test.sh <taskpipe>
set -u
bin="$1"
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

expect_bad_input() {
  local out err rc
  out=$("$bin" "$@" 2>"$dir/err"); rc=$?
  err=$(cat "$dir/err")
  [ "$rc" -eq 2 ] || fail "'taskpipe $*' exited $rc, expected 2"
  [ "$(printf '%s\n' "$err" | grep -c .)" -eq 1 ] || fail "'taskpipe $*' printed not exactly one error line: $err"
  [ -z "$out" ] || fail "'taskpipe $*' printed on stdout: $out"
  printf '%s\n' "$err" | grep -q '^taskpipe: error: ' || fail "'taskpipe $*' error line lacks the prefix: $err"
  [ -z "${expect_text:-}" ] || printf '%s\n' "$err" | grep -qF -- "$expect_text" ||
    fail "'taskpipe $*' error does not say '$expect_text': $err"
}

tiny=(verdict --model --preset tiny --seq 16 --batch 4 --steps 1)
json=$("$bin" "${tiny[@]}" --top 2 --json 2>/dev/null) || fail "verdict --model --json exited $?"
for key in '"models"' '"workload"' '"profile"' '"intra_op_speedup"' '"transport_seconds_per_byte"' '"baseline"' \
           '"candidates"' '"predicted_step_seconds"' '"measured_step_seconds"' '"error"' '"memory_per_worker"' \
           '"measured_peak_bytes"' '"fits"' '"bound"' '"recommended"' '"verdict"'; do
  printf '%s' "$json" | grep -q "$key" || fail "verdict --model --json lacks $key"
done
# The baseline and the two best-predicted candidates are measured.
[ "$(printf '%s' "$json" | grep -c '"measured_step_seconds"')" -eq 3 ] || fail "--top 2 did not measure 2 + baseline"
[ "$(printf '%s' "$json" | grep -c '"recommended": true')" -eq 1 ] || fail "verdict did not recommend exactly one"
for s in '"strategy": "task"' '"strategy": "dp"' '"strategy": "pp"' '"schedule": "zb-h1"' '"schedule": "dualpipe-v"'; do
  printf '%s' "$json" | grep -q "$s" || fail "verdict --model --json lists no candidate with $s"
done

# Tight: 3/4 of the tiny model's parameters, gradients and AdamW state.
state=$(printf '%s' "$json" | grep -o '"model_state_bytes": [0-9.e+]*' | head -1 | grep -o '[0-9][0-9.e+]*$')
[ -n "$state" ] || fail "verdict --model --json lacks model_state_bytes"
limit=$(awk -v s="$state" 'BEGIN { printf "%d", 0.75 * s }')
mkdir "$dir/trace"
text=$("$bin" "${tiny[@]}" --top 1 --memory-per-worker "$limit" --svg "$dir/plot.svg" --trace "$dir/trace" \
  2>/dev/null) || fail "verdict --model with a tight limit exited $?"
printf '%s' "$text" | grep -q '^verdict: Use pp x2 ' || fail "a tight limit did not recommend a pipeline: $text"
printf '%s' "$text" | grep -q 'dp x2 does not fit' || fail "a tight limit did not say dp does not fit: $text"
printf '%s' "$text" | grep -q 'memory: does not fit' || fail "the table marks no candidate as not fitting: $text"
grep -q '<svg' "$dir/plot.svg" || fail "--svg wrote no SVG"
grep -q 'Pareto front' "$dir/plot.svg" || fail "--svg has no Pareto front legend"
grep -q '"traceEvents"' "$dir/trace/model-measured.json" || fail "--trace wrote no measured timeline"
grep -q '"traceEvents"' "$dir/trace/model-predicted.json" || fail "--trace wrote no predicted timeline"

expect_text="divide" expect_bad_input verdict --model --preset tiny --heads 3
expect_text="applies with --model only" expect_bad_input verdict --layers 2
expect_text="conflicts with --model" expect_bad_input verdict --model --chain gzip
expect_text="workers" expect_bad_input verdict --model --workers 65
expect_text="seq" expect_bad_input verdict --model --preset tiny --seq 100
expect_bad_input verdict --model --preset huge
expect_bad_input verdict --model --steps 0
expect_text="/dev/full" expect_bad_input "${tiny[@]}" --top 1 --svg /dev/full

[ "$failures" -eq 0 ] && echo "verdict model cli: all checks passed"
exit "$failures"
