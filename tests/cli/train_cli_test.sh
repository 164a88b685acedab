#!/usr/bin/env bash
# End-to-end checks of `taskpipe train`, `eval` and `generate` on a tiny model: --json output, checkpoints that
# round-trip and resume bit-identically, the trace, and every kind of bad input (one line on stderr, exit status 2).
# Usage: train_cli_test.sh <path to taskpipe>
set -u
bin="$1"
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
dir=$(mktemp -d /tmp/taskpipe_train_cli.XXXXXX)
trap 'rm -rf "$dir"' EXIT

# expect_bad_input <needle> <args...>: exit status 2, one line on stderr that contains <needle>, nothing on stdout.
expect_bad_input() {
  local needle="$1" out err rc
  shift
  out=$("$bin" "$@" 2>"$dir/err"); rc=$?
  err=$(cat "$dir/err")
  [ "$rc" -eq 2 ] || fail "'taskpipe $*' exited $rc, expected 2 ($err)"
  [ "$(printf '%s\n' "$err" | grep -c .)" -eq 1 ] || fail "'taskpipe $*' printed not exactly one error line: $err"
  [ -z "$out" ] || fail "'taskpipe $*' printed on stdout: $out"
  printf '%s\n' "$err" | grep -q '^taskpipe: error: ' || fail "'taskpipe $*' error line lacks the prefix: $err"
  printf '%s\n' "$err" | grep -q -- "$needle" || fail "'taskpipe $*' error does not say '$needle': $err"
}

# json_field <json> <key>: the value of "key": (numbers and strings) in pretty-printed JSON.
json_field() { printf '%s\n' "$1" | sed -n "s/^ *\"$2\": \"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}$/\1/p" | head -1; }

text="$dir/text.txt"
for i in $(seq 1 40); do echo "line $i: the quick brown fox jumps over the lazy dog"; done >"$text"
: >"$dir/empty.txt"
tiny=(--preset tiny --layers 1 --seq 16 --batch 2 --data "$text" --val-fraction 0.2 --val-batches 2)

"$bin" train --help | grep -q -- '--grad-clip' || fail "train --help does not list --grad-clip"
"$bin" train --help | grep -q -- '--resume' || fail "train --help does not list --resume"
"$bin" eval --help | grep -q -- '--checkpoint' || fail "eval --help does not list --checkpoint"
"$bin" generate --help | grep -q -- '--top-k' || fail "generate --help does not list --top-k"

# A run in one go, and the same run stopped after 2 steps and resumed: the same parameters, bit for bit.
full=$("$bin" train "${tiny[@]}" --steps 4 --json --save "$dir/full.safetensors" 2>/dev/null) || fail "train --json exited $?"
for key in final_loss validation_loss tokens_per_second peak_bytes parameter_checksum optimizer; do
  printf '%s' "$full" | grep -q "\"$key\"" || fail "train --json lacks $key: $full"
done
"$bin" train "${tiny[@]}" --steps 2 --save "$dir/half.safetensors" >/dev/null 2>&1 || fail "train --steps 2 failed"
resumed=$("$bin" train --resume "$dir/half.safetensors" --seq 16 --batch 2 --data "$text" --val-fraction 0.2 \
  --val-batches 2 --steps 4 --json 2>/dev/null) || fail "train --resume exited $?"
[ -n "$(json_field "$full" parameter_checksum)" ] || fail "no parameter_checksum in: $full"
[ "$(json_field "$full" parameter_checksum)" = "$(json_field "$resumed" parameter_checksum)" ] ||
  fail "resumed run's parameters differ: $(json_field "$full" parameter_checksum) vs $(json_field "$resumed" parameter_checksum)"
[ "$(json_field "$resumed" steps_run)" = "2" ] || fail "the resumed run did not run 2 steps: $resumed"

# --init starts from the weights with a fresh optimizer: it runs from step 0.
"$bin" train --init "$dir/half.safetensors" --seq 16 --batch 2 --data "$text" --val-fraction 0 --steps 1 \
  >/dev/null 2>&1 || fail "train --init failed"

# eval and generate on the checkpoint.
loss=$("$bin" eval --checkpoint "$dir/full.safetensors" --data "$text" --batch 2 --seq 16 --batches 2 --json) ||
  fail "eval --json exited $?"
printf '%s' "$loss" | grep -q '^{"loss":[0-9.e+-]*}$' || fail "eval --json printed: $loss"
gen=$("$bin" generate --checkpoint "$dir/full.safetensors" --prompt "line" --tokens 20 --seed 3) ||
  fail "generate exited $?"
[ "${gen:0:4}" = "line" ] || fail "generate does not start with the prompt: $gen"
gen2=$("$bin" generate --checkpoint "$dir/full.safetensors" --prompt "line" --tokens 20 --seed 3)
[ "$gen" = "$gen2" ] || fail "generate with the same seed printed different text"

# Plain progress lines when stderr is not a terminal, and a trace that names the phases.
"$bin" train "${tiny[@]}" --steps 3 --log-every 1 --trace "$dir/trace.json" >/dev/null 2>"$dir/progress" ||
  fail "train --trace failed"
[ "$(grep -c '^step [0-9]*/3: loss' "$dir/progress")" -eq 3 ] || fail "progress lines: $(cat "$dir/progress")"
grep -q "\"forward_backward\"" "$dir/trace.json" && grep -q "\"W h.0\"" "$dir/trace.json" || fail "the trace lacks the phases or the layers"

# The default corpus, when the fortunes package is installed.
if [ -d /usr/share/games/fortunes ]; then
  "$bin" train --preset tiny --layers 1 --seq 16 --batch 2 --steps 1 >/dev/null 2>&1 || fail "train on fortunes failed"
fi

# Bad input: one line, exit 2, before any work.
expect_bad_input "divide" train --preset tiny --embd 64 --heads 3 --data "$text"
expect_bad_input "context" train --preset tiny --seq 65 --data "$text"
expect_bad_input "cannot be opened" train --preset tiny --data "$dir/missing.txt"
expect_bad_input "empty" train --preset tiny --data "$dir/empty.txt"
expect_bad_input "needs at least" train --preset tiny --seq 64 --batch 64 --data "$text"
expect_bad_input "--batch" train --preset tiny --batch 0
expect_bad_input "lr" train "${tiny[@]}" --lr 0
expect_bad_input "beta1" train "${tiny[@]}" --beta1 1
expect_bad_input "--grad-clip" train "${tiny[@]}" --grad-clip -1
expect_bad_input "warmup" train "${tiny[@]}" --steps 3 --warmup 3
expect_bad_input "--threads" train "${tiny[@]}" --threads 0
expect_bad_input "exclude" train --resume "$dir/half.safetensors" --init "$dir/half.safetensors"
expect_bad_input "--layers conflicts" train --resume "$dir/half.safetensors" --layers 2
expect_bad_input "--save-every needs" train "${tiny[@]}" --save-every 2
expect_bad_input "does not exist" train "${tiny[@]}" --save "$dir/no/such/dir/x.safetensors"
expect_bad_input "No space left" train "${tiny[@]}" --steps 1 --quiet --save /dev/full
expect_bad_input "keep them" train --resume "$dir/half.safetensors" --seq 8 --batch 2 --data "$text" --steps 4
expect_bad_input "same --data" train --resume "$dir/half.safetensors" --seq 16 --batch 2 --data "$text" --steps 4 \
  --val-fraction 0.5
expect_bad_input "cannot be opened" eval --checkpoint "$dir/missing.safetensors"
head -c 100 "$dir/full.safetensors" >"$dir/truncated.safetensors"
expect_bad_input "truncated" eval --checkpoint "$dir/truncated.safetensors" --data "$text"
printf 'not a checkpoint at all' >"$dir/junk.safetensors"
expect_bad_input "checkpoint" eval --checkpoint "$dir/junk.safetensors" --data "$text"
# A checkpoint whose config says embd 32 while its tensors are 64 wide (the same-length edit keeps the file valid).
perl -0777 -pe 's/"n_embd":"64"/"n_embd":"32"/' "$dir/full.safetensors" >"$dir/shape.safetensors"
expect_bad_input "has shape" eval --checkpoint "$dir/shape.safetensors" --data "$text"
expect_bad_input "context" eval --checkpoint "$dir/full.safetensors" --data "$text" --seq 65
expect_bad_input "--prompt is empty" generate --checkpoint "$dir/full.safetensors" --prompt ""
# NaN: every weight of h.0.ln_2 set to NaN; the first training step names the step and the layer.
perl -e 'open(my $f, "+<", $ARGV[0]) or die; binmode $f; read($f, my $l, 8); my $n = unpack("Q<", $l);
  read($f, my $h, $n); $h =~ /"h\.0\.ln_2\.weight":\{"data_offsets":\[(\d+),(\d+)\]/ or die "no h.0.ln_2.weight";
  seek($f, 8 + $n + $1, 0); print $f pack("L<", 0x7fc00000) x (($2 - $1) / 4); close($f) or die;' \
  "$dir/half.safetensors" || fail "could not write NaN into the checkpoint"
expect_bad_input "step 0: .*h.0" train --init "$dir/half.safetensors" --seq 16 --batch 2 --data "$text" \
  --val-fraction 0 --steps 1

[ "$failures" -eq 0 ] && echo "train cli: all checks passed"
exit "$failures"
