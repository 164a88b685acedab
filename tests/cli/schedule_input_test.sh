#!/usr/bin/env bash
# Bad input to `taskpipe schedule` and `taskpipe bench` (issue 12, points 6, 7, 8 and 10): every numeric flag's range,
# the sizes an imported CSV may hold, flags that conflict or would be ignored, every file written (and standard
# output) checked, offending bytes shown escaped, and the CSV round trip keeping the simulated figures for every kind.
# Each case is one line on stderr and exit status 2 before anything is allocated. Usage: schedule_input_test.sh <bin>
set -u
bin="$1"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# expect_bad_input <grep pattern the error line must match> <args...>: exit status 2 within 10 s, exactly one line on
# stderr with the prefix and the pattern, nothing on stdout.
expect_bad_input() {
  local want="$1" out err rc
  shift
  out=$(timeout 10 "$bin" "$@" 2>"$dir/err"); rc=$?
  err=$(cat "$dir/err")
  [ "$rc" -eq 2 ] || fail "'taskpipe $*' exited $rc, expected 2 (stderr: $err)"
  [ "$(printf '%s\n' "$err" | grep -c .)" -eq 1 ] || fail "'taskpipe $*' printed not exactly one error line: $err"
  [ -z "$out" ] || fail "'taskpipe $*' printed on stdout: ${out:0:200}"
  printf '%s\n' "$err" | grep -q '^taskpipe: error: ' || fail "'taskpipe $*' error line lacks the prefix: $err"
  printf '%s\n' "$err" | grep -q -e "$want" || fail "'taskpipe $*' error does not say '$want': $err"
}

# --- point 6: every numeric flag has a range, refused before any allocation (these crashed, overflowed or ran for
# minutes: SIGFPE at --chunks 2^30, bad_alloc at --stages 100000).
expect_bad_input 'chunks.*out of range 2\.\.32' schedule --kind interleaved --chunks 1073741824
expect_bad_input 'chunks.*out of range' schedule --kind interleaved --chunks 2000000000
expect_bad_input 'ranks.*out of range 1\.\.256' schedule --stages 100000
expect_bad_input 'ranks.*out of range 1\.\.256' schedule --ranks 0
expect_bad_input 'microbatches.*out of range 1\.\.4096' schedule --microbatches 100000000
expect_bad_input 'width.*out of range 1\.\.1000' schedule --width 2000000000
expect_bad_input 'layers.*out of range' schedule --layers -4
expect_bad_input 'memory-limit.*out of range' schedule --kind zb-auto --memory-limit 99999999
expect_bad_input 'microbatches.*out of range' schedule --microbatches 99999999999999999999
expect_bad_input 'not an integer' schedule --microbatches 8.5
expect_bad_input 'not an integer' schedule --ranks 0x10
expect_bad_input 'stages x .* micro-batches.*at most 131072' schedule --kind interleaved --ranks 256 --chunks 4 \
  --microbatches 4096
expect_bad_input 'stages.*at most 1024' schedule --kind interleaved --ranks 256 --chunks 8 --microbatches 256
expect_bad_input 'workers.*out of range 1\.\.256' bench --workers 100000
expect_bad_input 'repetitions.*out of range 1\.\.1000' bench --repetitions 0
# Imported numbers: an int overflowed at 0F2147483647 and 2147483647F0.
printf '0F2147483647\n' >"$dir/mb.csv"
expect_bad_input "micro-batch 2147483647 in '0F2147483647': micro-batches are numbered 0\.\.4095" \
  schedule --import "$dir/mb.csv"
printf '2147483647F0\n' >"$dir/stage.csv"
expect_bad_input "stage 2147483647 in '2147483647F0': stages are numbered 0\.\.1023" schedule --import "$dir/stage.csv"
printf '0F99999999999\n' >"$dir/huge.csv"
expect_bad_input "bad action '0F99999999999'" schedule --import "$dir/huge.csv"
expect_bad_input 'larger than 64 MiB' schedule --import /dev/zero
for _ in $(seq 257); do echo 0F0; done >"$dir/rows.csv"
expect_bad_input 'more than 256 rows' schedule --import "$dir/rows.csv"
printf '1023F4095\n' >"$dir/work.csv"
expect_bad_input 'stages x 4096 micro-batches: at most 131072' schedule --import "$dir/work.csv"
# --costs values have ranges too, and a list has at most one value per stage.
expect_bad_input "'f=1e10': f must be in \[0, 1e+09\]" schedule --costs f=1e10
expect_bad_input 'act must be in' schedule --costs act=1e300
expect_bad_input 'f must be in' schedule --costs f=nan
expect_bad_input 'f must be in' schedule --costs f=-1
expect_bad_input 'lists more than 1024 values' schedule --costs "f=$(printf '1:%.0s' $(seq 1100))1"

# --- point 7: conflicting or ignored flags, and every write checked.
expect_bad_input 'a list of 6 values for 4 ranks and 4 stages' schedule --costs f=1:2:3:4:5:6
expect_bad_input 'a list of 6 values for 4 ranks and 8 stages' schedule --kind interleaved --costs f=1:2:3:4:5:6
"$bin" schedule --kind interleaved --csv "$dir/il.csv" >/dev/null || fail "interleaved --csv failed"
expect_bad_input 'a list of 3 values for 4 ranks and 8 stages' schedule --import "$dir/il.csv" --costs f=1:2:3
for flag in "--svg $dir/a.svg" "--trace $dir/a.json" "--csv $dir/a.csv" "--import $dir/a.csv" "--kind nope" \
  "--kind 1f1b" "--width 80"; do
  # shellcheck disable=SC2086
  expect_bad_input "^taskpipe: error: --compare and ${flag%% *} do not go together" schedule --compare $flag
done
for flag in "--kind 1f1b" "--ranks 4" "--stages 4" "--microbatches 8" "--chunks 2" "--layers 8" "--memory-limit 3"; do
  name=${flag%% *}
  [ "$name" = --stages ] && name=--ranks
  # shellcheck disable=SC2086
  expect_bad_input "^taskpipe: error: --import and $name do not go together" schedule --import "$dir/il.csv" $flag
done
expect_bad_input '--json and --width do not go together' schedule --json --width 80
expect_bad_input '--chunks is for --kind interleaved' schedule --kind 1f1b --chunks 3
expect_bad_input '--chunks is for --kind interleaved (zb-v always has 2)' schedule --kind zb-v --chunks 2
expect_bad_input '--memory-limit is for --kind zb-auto' schedule --kind zb-h1 --memory-limit 3
expect_bad_input 'ranks.*out of range' schedule --compare --stages 0
expect_bad_input '--compare: every kind refuses' schedule --compare --ranks 4 --microbatches 3 --layers 7
expect_bad_input "cannot write schedule file '/dev/full': No space left on device" schedule --csv /dev/full
expect_bad_input "cannot write SVG file '/dev/full': No space left on device" schedule --svg /dev/full
expect_bad_input "cannot write trace file '/dev/full': No space left on device" schedule --trace /dev/full
expect_bad_input "cannot create SVG file '$dir/no/such/dir.svg': No such file or directory" \
  schedule --svg "$dir/no/such/dir.svg"
expect_bad_input '--svg: the file name is empty' schedule --svg ''
expect_bad_input '--trace: the file name is empty' schedule --trace ''
expect_bad_input '--csv: the file name is empty' schedule --csv ''
expect_bad_input '--import: the file name is empty' schedule --import ''
expect_bad_input "--svg and --trace name one file" schedule --svg "$dir/x" --trace "$dir/x"
expect_bad_input "--csv and --import name one file" schedule --csv "$dir/x" --import "$dir/x"
expect_bad_input "--svg and --csv name one file" schedule --svg "$dir/x" --csv "$dir/./x"
# Standard output is checked like any file.
for args in "schedule --json" "schedule" "schedule --compare" "schedule --help" "--version"; do
  # shellcheck disable=SC2086
  "$bin" $args >/dev/full 2>"$dir/err"; rc=$?
  [ "$rc" -eq 2 ] || fail "'taskpipe $args >/dev/full' exited $rc, expected 2"
  grep -q '^taskpipe: error: cannot write standard output' "$dir/err" ||
    fail "'taskpipe $args >/dev/full' said: $(cat "$dir/err")"
done
# A written file is complete: the SVG closes, the trace is one JSON document, the CSV imports.
"$bin" schedule --kind zb-h1 --svg "$dir/ok.svg" --trace "$dir/ok.json" --csv "$dir/ok.csv" >/dev/null ||
  fail "writing the three files failed"
tail -n 1 "$dir/ok.svg" | grep -q '</svg>' || fail "the SVG is not complete"
tail -c 4 "$dir/ok.json" | grep -q '}' || fail "the trace is not complete"
"$bin" schedule --import "$dir/ok.csv" --json >/dev/null || fail "the written CSV does not import"

# --- point 8: the CSV round trip keeps every figure (makespan, bubbles, peaks) for every kind, with uniform costs and
# with per-rank ones (zb-v: uniform only until its generator stops stalling on uneven costs, issue 12 point 9).
figures_without_kind() { grep -v -e '"kind"' -e '"memory_limit"'; }  # zb-auto also prints the limit it planned under
for costs in "f=1,b=1,w=1" "f=1:2:1:1,b=2,act=8,wact=2"; do
  for kind in gpipe 1f1b interleaved zb-h1 zb-h2 zb-v zb-auto; do
    [ "$kind" = zb-v ] && [ "$costs" != "f=1,b=1,w=1" ] && continue
    gen=$("$bin" schedule --kind "$kind" --costs "$costs" --csv "$dir/rt.csv" --json) ||
      { fail "$kind --costs $costs --csv failed"; continue; }
    imp=$("$bin" schedule --import "$dir/rt.csv" --costs "$costs" --json) ||
      { fail "importing $kind's CSV failed"; continue; }
    [ "$(printf '%s\n' "$gen" | figures_without_kind)" = "$(printf '%s\n' "$imp" | figures_without_kind)" ] ||
      fail "$kind --costs $costs: the imported schedule's figures differ: $(diff <(echo "$gen") <(echo "$imp") | head -8)"
  done
done
# The figures of the issue: 28.5 and 25.5, not doubled after the round trip.
"$bin" schedule --kind interleaved --csv "$dir/i.csv" >/dev/null
"$bin" schedule --import "$dir/i.csv" --json | grep -q '"makespan": 28.5' || fail "interleaved round trip is not 28.5"
"$bin" schedule --kind zb-v --csv "$dir/v.csv" >/dev/null
"$bin" schedule --import "$dir/v.csv" --json | grep -q '"makespan": 25.5' || fail "zb-v round trip is not 25.5"
# One value per stage is taken as it is, the same way for the generated and the imported interleaved schedule.
g=$("$bin" schedule --kind interleaved --costs f=1:1:1:1:2:2:2:2 --json | grep '"makespan"')
i=$("$bin" schedule --import "$dir/i.csv" --costs f=1:1:1:1:2:2:2:2 --json | grep '"makespan"')
[ -n "$g" ] && [ "$g" = "$i" ] || fail "per-stage costs: generated $g, imported $i"

# --- point 10: messages name the right rule and show the offending bytes escaped and short.
expect_bad_input 'comm takes one value' schedule --costs comm=1:2
expect_bad_input "unknown key 'x'" schedule --costs x=1
expect_bad_input 'f is given twice' schedule --costs f=1,f=2
expect_bad_input "'abc' is not a number" schedule --costs f=abc
expect_bad_input "value 2 of 'f=1:x:3:4': 'x' is not a number" schedule --costs f=1:x:3:4
expect_bad_input "'f=': empty value" schedule --costs f=
expect_bad_input "'\\\\x01\\\\x02' is not a number" schedule --costs "f=$(printf '\001\002')"
expect_bad_input "'abc' is not an integer; expected 1\.\.256" bench --workers abc
expect_bad_input "'abc' is not an integer" schedule --microbatches abc
expect_bad_input "unknown schedule kind 'a\\\\x01b'" schedule --kind "$(printf 'a\001b')"
head -c 2000 "$bin" | tr -d '\000' >"$dir/binary.csv"
expect_bad_input "bad action '\\\\x7FELF" schedule --import "$dir/binary.csv"
err=$("$bin" schedule --import "$dir/binary.csv" 2>&1 >/dev/null)
[ "${#err}" -lt 300 ] || fail "the binary file's message is ${#err} bytes long: $err"
printf '\177ELF\000\001' >"$dir/nul.csv"
expect_bad_input 'holds NUL bytes' schedule --import "$dir/nul.csv"
printf '0F0,0B0\n\357\273\2771F0\n' >"$dir/bom_inside.csv"
expect_bad_input "row 2, cell 1: bad action '\\\\xEF\\\\xBB\\\\xBF1F0'" schedule --import "$dir/bom_inside.csv"
printf '\357\273\2770F0,1F0,1B0,0B0\n' >"$dir/bom.csv"
"$bin" schedule --import "$dir/bom.csv" --json >/dev/null || fail "a CSV with a leading byte-order mark does not import"
expect_bad_input "'a\\\\x0Ab': No such file" schedule --import "$(printf 'a\nb')"
expect_bad_input 'not expected: --bogus\\x0Ax' schedule "$(printf -- '--bogus\nx')"

# --- point 12: --ranks is the flag's name in --help, --stages its old alias.
"$bin" schedule --help | grep -q -- '-p,--ranks,--stages' || fail "schedule --help does not name --ranks"
[ "$("$bin" schedule --ranks 3 --microbatches 6 --json | grep '"ranks"')" = \
  "$("$bin" schedule --stages 3 --microbatches 6 --json | grep '"ranks"')" ] || fail "--stages is not --ranks"
"$bin" schedule --help | grep -q 'Limits: at most 1024 stages' || fail "schedule --help does not state the limits"
"$bin" schedule --help | grep -q 'imports with' || fail "schedule --help does not state the costs rule"

[ "$failures" -eq 0 ] && echo "schedule input: all checks passed"
exit "$failures"
