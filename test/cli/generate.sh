#!/usr/bin/env bash
# test/cli/generate.sh GPTCU: `gptcu generate` from a tiny model trained on repeated sentences.
#   - plain-text and JSONL prompt files give one {"prompt", "completion", "stopped"} line per
#     prompt, in order; completions are at most --max-new-tokens bytes (a byte tokenizer);
#   - the output does not depend on --batch-size (prompt i samples from stream (seed, i));
#   - greedy completions equal `gptcu sample --temperature 0` on the same prompt;
#   - --chat wraps prompts in the chat template (the run's tokenizer has the chat specials);
#   - one-line errors: a bad JSONL line, a missing file, --max-new-tokens beyond the context.
#   bash test/cli/generate.sh build/gptcu
# shellcheck source=test/cli/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cli_init "$@"

make_corpus corpus.txt 200
tiny_config cfg.yaml "$WORK/corpus.txt" "$WORK/run"
note "train a tiny model (2 layers, 32 wide, context 32, 150 steps)"
run_ok train.log "$GPTCU" pretrain --config cfg.yaml --set model.n_layer=2 --set model.n_embd=32 \
  --set model.block_size=32 --set train.max_steps=150 --set train.eval_every=50
pass "trained"

N=14  # the longest prompt (18 bytes) + 14 fits the context of 32: no prompt is cut
printf 'the cat\na dog\n\nmy friend sees\nthe king likes the\na bird\n' >prompts.txt
python3 - <<'EOF'
import json
with open("prompts.jsonl", "w") as f:
    for p in ["the cat", "a dog", "my friend sees", "the king likes the", "a bird"]:
        f.write(json.dumps({"prompt": p}) + "\n")
EOF
# check_out FILE PROMPTS...: one JSON line per prompt, in order, with the three fields; a
# completion has N bytes (one per token) unless a stop token ended it.
check_out() {
  python3 - "$N" "$@" <<'EOF' || { show_file "$1"; fail "$1 is not what was expected"; }
import json, sys
n, path, prompts = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
rows = [json.loads(l) for l in open(path)]
assert [r["prompt"] for r in rows] == prompts, [r["prompt"] for r in rows]
for r in rows:
    assert set(r) == {"prompt", "completion", "stopped"}, r
    assert isinstance(r["stopped"], bool) and isinstance(r["completion"], str), r
    size = len(r["completion"].encode())
    assert size < n if r["stopped"] else size == n, r
EOF
}

note "plain text and JSONL prompts"
run_ok g1.log "$GPTCU" generate --checkpoint run --input prompts.txt --out out1.jsonl --max-new-tokens $N --seed 3
check_out out1.jsonl "the cat" "a dog" "my friend sees" "the king likes the" "a bird"
grep -q "generated 5 completions" g1.log || { show_file g1.log; fail "no summary line"; }
pass "5 completions: $(head -1 out1.jsonl)"
run_ok g2.log "$GPTCU" generate --checkpoint run --input prompts.jsonl --out out2.jsonl --max-new-tokens $N --seed 3
same_file out1.jsonl out2.jsonl "the same prompts from .txt and .jsonl"
pass "JSONL prompts give the same output"

note "--batch-size does not change the output"
run_ok g3.log "$GPTCU" generate --checkpoint run --input prompts.txt --out out3.jsonl --max-new-tokens $N --seed 3 --batch-size 2
run_ok g4.log "$GPTCU" generate --checkpoint run --input prompts.txt --out out4.jsonl --max-new-tokens $N --seed 3 --batch-size 1
same_file out1.jsonl out3.jsonl "--batch-size 32 vs 2"
same_file out1.jsonl out4.jsonl "--batch-size 32 vs 1"
pass "batch sizes 32, 2, 1 agree"
run_ok g5.log "$GPTCU" generate --checkpoint run --input prompts.txt --out out5.jsonl --max-new-tokens $N --seed 4 --top-p 0.9
check_out out5.jsonl "the cat" "a dog" "my friend sees" "the king likes the" "a bird"
if cmp -s out1.jsonl out5.jsonl; then fail "--seed 3 and --seed 4 --top-p 0.9 give the same completions"; fi
pass "another seed, --top-p 0.9: other completions"

note "greedy generate equals greedy sample"
run_ok g6.log "$GPTCU" generate --checkpoint run --input prompts.txt --out greedy.jsonl --max-new-tokens $N --temperature 0
"$GPTCU" sample --checkpoint run --prompt "my friend sees" --max-new-tokens $N --temperature 0 >s.txt 2>&1 ||
  { show_file s.txt; fail "gptcu sample failed"; }
python3 - greedy.jsonl s.txt <<'EOF' || fail "generate and sample disagree at temperature 0"
import json, sys
row = [json.loads(l) for l in open(sys.argv[1])][2]
text = open(sys.argv[2]).read()
expected = row["prompt"] + row["completion"] + "\n"
if text != expected:
    sys.exit(f"sample printed {text!r}, generate gave {expected!r}")
EOF
pass "greedy: $(sed -n 3p greedy.jsonl)"

note "--chat"
run_ok g7.log "$GPTCU" generate --checkpoint run --input prompts.txt --out chat.jsonl --max-new-tokens $N --chat --seed 3
check_out chat.jsonl "the cat" "a dog" "my friend sees" "the king likes the" "a bird"
if cmp -s out1.jsonl chat.jsonl; then fail "--chat gives the same completions as plain prompts"; fi
pass "--chat: $(head -1 chat.jsonl)"

note "errors"
printf '{"prompt": "a"}\n{"text": "b"}\n' >bad.jsonl
expect_error "a JSONL line without a prompt" "bad.jsonl:2" "prompt" -- \
  "$GPTCU" generate --checkpoint run --input bad.jsonl --out x.jsonl --max-new-tokens 4
printf '{"prompt": "a"}\n{"prompt": \n' >broken.jsonl
expect_error "a JSONL line that is not JSON" "broken.jsonl:2" "not JSON" -- \
  "$GPTCU" generate --checkpoint run --input broken.jsonl --out x.jsonl --max-new-tokens 4
expect_error "a missing prompt file" "nope.txt" -- \
  "$GPTCU" generate --checkpoint run --input nope.txt --out x.jsonl
expect_error "--max-new-tokens beyond the context" "max_new_tokens" "block_size 32" -- \
  "$GPTCU" generate --checkpoint run --input prompts.txt --out x.jsonl --max-new-tokens 40

echo "PASS: generate.sh"
