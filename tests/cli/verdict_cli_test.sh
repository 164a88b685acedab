#!/usr/bin/env bash
# End-to-end checks of `taskpipe verdict`: a small JSON workload judged in JSON and as text, the SVG and trace
# outputs, and bad input (one line on stderr, exit status 2, nothing on stdout). Usage: verdict_cli_test.sh <taskpipe>
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

cat >"$dir/chain.json" <<'JSON'
{"name": "tiny", "items": 300, "stages": [
  {"name": "read", "cost_us": 5},
  {"name": "work", "mode": "parallel", "cost_us": 40, "spread": 0.2},
  {"name": "write", "mode": "serial_in_order", "cost_us": 5, "state_bytes": 65536}]}
JSON

json=$("$bin" verdict --workload "$dir/chain.json" --top 2 -r 1 --json 2>/dev/null) || fail "verdict --json exited $?"
for key in '"chains"' '"profile"' '"candidates"' '"predicted_throughput"' '"measured_throughput"' '"error"' \
           '"memory_per_worker"' '"bound"' '"verdict"' '"effective_cores"'; do
  printf '%s' "$json" | grep -q "$key" || fail "verdict --json lacks $key"
done
[ "$(printf '%s' "$json" | grep -c '"measured_throughput"')" -eq 2 ] || fail "verdict --top 2 did not measure 2 candidates"
[ "$(printf '%s' "$json" | grep -c '"recommended": true')" -eq 1 ] || fail "verdict did not recommend exactly one"

mkdir "$dir/trace"
text=$("$bin" verdict --workload "$dir/chain.json" --top 1 -r 1 --svg "$dir/plot.svg" --trace "$dir/trace" 2>/dev/null) ||
  fail "verdict with --svg and --trace exited $?"
printf '%s' "$text" | grep -q '^verdict: Use ' || fail "verdict printed no verdict line: $text"
grep -q '<svg' "$dir/plot.svg" || fail "--svg wrote no SVG"
grep -q 'Pareto front' "$dir/plot.svg" || fail "--svg has no Pareto front legend"
grep -q '"traceEvents"' "$dir/trace/chain-measured.json" || fail "--trace wrote no Chrome trace"

printf '{"stages": [{"cost_us": 1}, {"mode": "paralel"}]}' >"$dir/typo.json"
printf '{"stages": [' >"$dir/cut.json"
expect_text="stages[1].mode" expect_bad_input verdict --workload "$dir/typo.json"
expect_text="not valid JSON" expect_bad_input verdict --workload "$dir/cut.json"
expect_bad_input verdict --workload "$dir/missing.json"
expect_text="give one" expect_bad_input verdict --workload "$dir/chain.json" --chain gzip
expect_bad_input verdict --chain bzip
expect_bad_input verdict --top 0
expect_bad_input verdict --workers 0
expect_bad_input verdict --repetitions 21
expect_text="gzip chain only" expect_bad_input verdict --chain words --size 4
expect_text="not a directory" expect_bad_input verdict --workload "$dir/chain.json" --trace "$dir/nowhere"
expect_text="/dev/full" expect_bad_input verdict --workload "$dir/chain.json" --top 1 -r 1 --svg /dev/full

[ "$failures" -eq 0 ] && echo "verdict cli: all checks passed"
exit "$failures"
