#!/usr/bin/env bash
# End-to-end checks of the `taskpipe` command: --version, --help, bad input (one line on stderr, exit status 2),
# and the bench and schedule subcommands' JSON output. Usage: cli_test.sh <path to taskpipe>
set -u
bin="$1"
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# expect_bad_input <args...>: exit status 2, exactly one line on stderr, nothing on stdout.
expect_bad_input() {
  local out err rc
  out=$("$bin" "$@" 2>/tmp/taskpipe_cli_err.$$); rc=$?
  err=$(cat /tmp/taskpipe_cli_err.$$)
  [ "$rc" -eq 2 ] || fail "'taskpipe $*' exited $rc, expected 2"
  [ "$(printf '%s\n' "$err" | grep -c .)" -eq 1 ] || fail "'taskpipe $*' printed not exactly one error line: $err"
  [ -z "$out" ] || fail "'taskpipe $*' printed on stdout: $out"
  printf '%s\n' "$err" | grep -q '^taskpipe: error: ' || fail "'taskpipe $*' error line lacks the prefix: $err"
}

[ "$("$bin" --version)" = "taskpipe 0.1.0" ] || fail "--version printed '$("$bin" --version)'"
"$bin" --help | grep -q 'bench' || fail "--help does not list the bench command"
"$bin" bench --help | grep -q -- '--workers' || fail "bench --help does not list --workers"

expect_bad_input
expect_bad_input --bogus
expect_bad_input frobnicate
expect_bad_input bench --workers 0
expect_bad_input bench --workers lots
expect_bad_input bench --size huge
expect_bad_input bench --frob
expect_bad_input schedule --kind nope --stages 4 --microbatches 8
expect_bad_input schedule --kind 1f1b --stages 4 --microbatches 2
"$bin" --bogus 2>&1 | grep -q -- "--bogus" || fail "the error for --bogus does not name it"

json=$("$bin" bench --repetitions 1 --workers 2 --json) || fail "bench --json exited $?"
for key in '"workloads"' '"spawn_overhead_ns_per_task"' '"fib"' '"skynet"' '"nqueens"' '"matmul"' '"speedup"'; do
  printf '%s' "$json" | grep -q "$key" || fail "bench --json lacks $key"
done

sched=$("$bin" schedule --kind 1f1b --stages 4 --microbatches 8 --costs f=1,b=1,w=1 --json) || fail "schedule --json exited $?"
# 1F1B: makespan m(F+B+W) + (p-1)(F+B+W) = 24 + 9 = 33.
printf '%s' "$sched" | grep -q '"makespan": 33' || fail "schedule --json makespan is not 33: $sched"

# ZB-H2, F = B = W = 1: a parallelogram, cost (the longest rank's own time) 3m = 24 against a makespan of 3m + p - 1.
sched=$("$bin" schedule --kind zb-h2 --stages 4 --microbatches 8 --json) || fail "schedule zb-h2 --json exited $?"
printf '%s' "$sched" | grep -q '"cost": 24' || fail "zb-h2 --json cost is not 24: $sched"
printf '%s' "$sched" | grep -q '"makespan": 27' || fail "zb-h2 --json makespan is not 27: $sched"
printf '%s' "$sched" | grep -q '"peak_activations_until_w"' || fail "zb-h2 --json lacks peak_activations_until_w"
expect_bad_input schedule --kind zb-h1 --stages 4 --microbatches 8 --costs act=10,wact=-1
# wact above act: an I that keeps more than it frees grows its micro-batch (rank 0: four F's of 10, then I0 makes 41).
sched=$("$bin" schedule --kind zb-h1 --stages 4 --microbatches 8 --costs act=10,wact=11 --json) ||
  fail "schedule with wact > act exited $?"
printf '%s' "$sched" | tr -d ' \n' | grep -q '"peak_activation_bytes":\[41.0,' ||
  fail "zb-h1 rank 0 does not peak at 41 bytes with act=10,wact=11: $sched"
# Working memory: I0 holds 5 more while it runs, on top of the four F's 40.
sched=$("$bin" schedule --kind zb-h1 --stages 4 --microbatches 8 --costs act=10,wact=11,bwork=5 --json) ||
  fail "schedule with bwork exited $?"
printf '%s' "$sched" | tr -d ' \n' | grep -q '"peak_activation_bytes":\[45.0,' ||
  fail "zb-h1 rank 0 does not peak at 45 bytes with act=10,wact=11,bwork=5: $sched"

# zb-auto says the memory limit it planned under; --compare shows each kind's peak in M_B and whether it fits.
out=$("$bin" schedule --kind zb-auto --stages 4 --microbatches 8 --memory-limit 4) || fail "zb-auto --memory-limit exited $?"
printf '%s' "$out" | grep -q 'memory limit 4 M_B per rank' || fail "zb-auto does not print its memory limit: $out"
out=$("$bin" schedule --compare --stages 4 --microbatches 8 --costs f=1,b=1,w=1,comm=0.1) || fail "--compare exited $?"
printf '%s' "$out" | grep -q 'peak M_B' || fail "--compare lacks the peak M_B column: $out"
printf '%s' "$out" | grep -Eq '^gpipe .* no$' || fail "--compare does not mark gpipe over the limit: $out"
printf '%s' "$out" | grep -Eq '^dualpipe-v .* yes$' || fail "--compare lacks a fitting dualpipe-v row: $out"
printf '%s' "$out" | grep -Eq '^zb-v .* yes$' || fail "--compare lacks zb-v with comm > 0 (it used to stall): $out"

rm -f /tmp/taskpipe_cli_err.$$
[ "$failures" -eq 0 ] && echo "cli: all checks passed"
exit "$failures"
