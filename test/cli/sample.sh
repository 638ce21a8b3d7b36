#!/usr/bin/env bash
# test/cli/sample.sh GPTCU: `gptcu sample` from a tiny model trained on repeated sentences.
#   - the output starts with the prompt and is at most --max-new-tokens bytes longer;
#   - same seed: the same text; another seed: (almost surely) another text;
#   - temperature 0 (greedy) ignores the seed, equals --top-k 1, and writes only bytes seen
#     in the corpus;
#   - a run directory and its newest checkpoint directory give the same text.
#   bash test/cli/sample.sh build/gptcu
# shellcheck source=test/cli/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cli_init "$@"

make_corpus corpus.txt 200
tiny_config cfg.yaml "$WORK/corpus.txt" "$WORK/run"
note "train a tiny model (2 layers, 32 wide, 150 steps)"
run_ok train.log "$GPTCU" pretrain --config cfg.yaml --set model.n_layer=2 --set model.n_embd=32 \
  --set train.max_steps=150 --set train.eval_every=50
loss=$(tail -1 run/metrics.jsonl | python3 -c 'import json,sys; print(json.load(sys.stdin)["loss"])')
python3 -c "import sys; sys.exit(0 if float('$loss') < 2.5 else 1)" ||
  fail "the final train loss is $loss after 150 steps on repeated sentences; expected < 2.5 (uniform over bytes is 5.5)"
pass "trained: final loss $loss"

prompt="the cat"
N=60
# sample OUT ARGS...: runs gptcu sample with the prompt; the text goes to OUT.
sample() {
  local out="$1"
  shift
  "$GPTCU" sample --checkpoint run --prompt "$prompt" --max-new-tokens $N "$@" >"$out" 2>"$out.err" ||
    { show_file "$out.err" stderr; fail "gptcu sample $* failed"; }
}
# starts_with_prompt FILE: the text begins with the prompt and is at most N bytes longer
# (plus the final newline).
starts_with_prompt() {
  [[ "$(head -c ${#prompt} "$1")" == "$prompt" ]] || { show_file "$1"; fail "$1 does not start with the prompt '$prompt'"; }
  local size
  size=$(wc -c <"$1")
  [[ $size -gt ${#prompt} && $size -le $((${#prompt} + N + 1)) ]] ||
    fail "$1 has $size bytes; expected the prompt (${#prompt}) plus 1..$N new bytes and a newline"
}

note "sampling at temperature 1"
sample s1a.txt --seed 1
sample s1b.txt --seed 1
sample s2.txt --seed 2
starts_with_prompt s1a.txt
starts_with_prompt s2.txt
pass "output starts with the prompt: $(head -1 s1a.txt)"
same_file s1a.txt s1b.txt "--seed 1 twice gives different text"
pass "same seed -> identical output"
if cmp -s s1a.txt s2.txt; then fail "--seed 1 and --seed 2 give the same $N sampled bytes"; fi
pass "different seed -> different output"
sample topk.txt --seed 1 --top-k 5 --temperature 0.8
starts_with_prompt topk.txt
pass "--top-k 5 --temperature 0.8 works"

note "greedy (temperature 0)"
sample g1.txt --temperature 0 --seed 1
sample g2.txt --temperature 0 --seed 2
sample g3.txt --temperature 0 --seed 12345
starts_with_prompt g1.txt
same_file g1.txt g2.txt "temperature 0 depends on the seed"
same_file g1.txt g3.txt "temperature 0 depends on the seed"
pass "temperature 0 is the same for seeds 1, 2, 12345: $(head -1 g1.txt)"
sample k1.txt --top-k 1 --seed 7
same_file g1.txt k1.txt "--top-k 1 (temperature 1) differs from greedy"
pass "--top-k 1 equals temperature 0"
python3 - corpus.txt g1.txt <<'EOF' || fail "greedy output has bytes that never occur in the corpus"
import sys
seen = set(open(sys.argv[1], "rb").read())
bad = sorted(set(open(sys.argv[2], "rb").read()) - seen)
if bad:
    sys.exit(f"bytes {bad} are not in the corpus")
EOF
pass "greedy output uses only bytes from the corpus"

note "run directory vs checkpoint directory, --max-new-tokens 0"
"$GPTCU" sample --checkpoint run/checkpoints/step_00000150 --prompt "$prompt" --max-new-tokens $N --seed 1 >c1.txt 2>&1 ||
  { show_file c1.txt; fail "sample from the checkpoint directory failed"; }
same_file s1a.txt c1.txt "--checkpoint RUN and --checkpoint RUN/checkpoints/step_00000150"
pass "--checkpoint RUN samples from its newest checkpoint"
"$GPTCU" sample --checkpoint run --prompt "$prompt" --max-new-tokens 0 >z.txt 2>&1 || { show_file z.txt; fail "--max-new-tokens 0 failed"; }
[[ "$(cat z.txt)" == "$prompt" ]] || { show_file z.txt; fail "--max-new-tokens 0 should print just the prompt"; }
pass "--max-new-tokens 0 prints the prompt"

echo "PASS: sample.sh"
