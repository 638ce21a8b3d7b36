#!/usr/bin/env bash
# test/cli/eval.sh GPTCU: every `gptcu eval` task once, on a tiny model (1 layer, 16 wide, 32-token
# context, a few pretraining steps) and a reward model made from it:
#   - perplexity on a text file, a prepared directory and one .bin shard; bleu on --hyp/--ref files
#     (no checkpoint) and on generated replies; classify on --predictions and on replies; choice on
#     a CMMLU-style CSV directory; gsm8k on GSM8K-style JSONL and the task's rl_test.jsonl;
#     answers on a prompt shard; reward-accuracy on raw pairs and on a prepared directory;
#   - each writes its JSON result (default CHECKPOINT/eval_TASK.json) with the task's fields;
#   - one-line errors: missing files, hyp/ref line counts, malformed JSONL (file:line), invalid
#     UTF-8, an empty dataset, a task without --checkpoint, a language model as a reward model.
#   bash test/cli/eval.sh build/gptcu
# shellcheck source=test/cli/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cli_init "$@"

note "a tiny model and a reward model"
run_ok task.log "$GPTCU" data task --out task --seed 5 --pretrain 300 --sft 10 --prefs 40 --rl-train 8 --rl-test 12
for f in pretrain:text prefs:preference rl_test:rl_prompt; do
  n=${f%%:*}
  run_ok "prep_$n.log" "$GPTCU" data prepare --input "task/$n.jsonl" --kind "${f##*:}" --out "prep/$n" \
    --tokenizer byte --set model.block_size=32 --set data.val_fraction=0.5
done
cat >base.yaml <<EOF2
device: cpu
model: {n_layer: 1, n_head: 2, n_embd: 16, block_size: 32}
data: {tokenizer: byte}
train: {batch_size: 4, max_steps: 3, lr: 3.0e-3, warmup_steps: 1, eval_every: 0, eval_steps: 1, log_every: 1, seed: 3}
EOF2
run_ok pre.log "$GPTCU" pretrain --config base.yaml --set run.dir=pre --set data.path=prep/pretrain
run_ok rm.log "$GPTCU" reward --config base.yaml --set run.dir=rm --set data.path=prep/prefs --set model.init_from=pre
pass "pretrain and reward runs"

# has_fields FILE KEY...: FILE is a JSON object holding every KEY; prints "KEY=value" of the first
has_fields() {
  python3 - "$@" <<'EOF2' || fail "$1: missing fields (wanted ${*:2})"
import json, sys
j = json.load(open(sys.argv[1]))
missing = [k for k in sys.argv[2:] if k not in j]
if missing:
    sys.exit(f"{sys.argv[1]}: no {missing} in {sorted(j)}")
print(f"{sys.argv[2]}={j[sys.argv[2]]}")
EOF2
}
ckpt_json() { echo "$(compgen -G "$1/checkpoints/step_*" | tail -1)/eval_$2.json"; }

note "perplexity"
make_corpus corpus.txt 40
run_ok ppl.log "$GPTCU" eval --checkpoint pre --task perplexity --data corpus.txt
logs=$(grep -c "perplexity:" ppl.log)
[[ $logs -ge 1 ]] || { show_file ppl.log; fail "no progress line"; }
pass "text: $(has_fields "$(ckpt_json pre perplexity)" perplexity mean_nll tokens tokens_per_second bits_per_byte)"
run_ok ppl2.log "$GPTCU" eval --checkpoint pre --task perplexity --data prep/pretrain --out ppl_dir.json
pass "prepared dir: $(has_fields ppl_dir.json perplexity tokens windows)"
shard=$(compgen -G "prep/pretrain/val_*.bin" | grep -v mask | head -1)
run_ok ppl3.log "$GPTCU" eval --checkpoint pre --task perplexity --data "$shard" --max-tokens 50 --out ppl_bin.json
[[ $(json_field ppl_bin.json tokens) -eq 50 ]] || fail "ppl_bin.json: tokens $(json_field ppl_bin.json tokens), expected 50"
pass "one shard, --max-tokens 50"

note "bleu"
printf 'the cat sat on the mat\n猫坐在垫子上。\n' >hyp.txt
printf 'the cat sat on a mat\n猫坐在垫子上了。\n' >ref1.txt
printf 'a cat sat on the mat\n一只猫坐在垫子上。\n' >ref2.txt
run_ok bleu.log "$GPTCU" eval --task bleu --hyp hyp.txt --ref ref1.txt --ref ref2.txt --tokenize zh --out bleu.json
pass "--hyp/--ref: $(has_fields bleu.json score precisions bp sys_len ref_len signature)"
printf '%s\n' '{"prompt": "Say hi.", "reference": "hi"}' '{"prompt": "Name a colour.", "references": ["red", "blue"]}' >bleu_prompts.jsonl
run_ok bleu2.log "$GPTCU" eval --checkpoint pre --task bleu --data bleu_prompts.jsonl --max-new-tokens 4 --hyp-out gen.txt
[[ $(wc -l <gen.txt) -eq 2 ]] || fail "gen.txt has $(wc -l <gen.txt) lines, expected 2"
pass "generated: $(has_fields "$(ckpt_json pre bleu)" score segments examples)"

note "classify"
printf '%s\n' '{"label": "pos", "prediction": "Pos."}' '{"label": "neg", "prediction": "pos"}' '{"label": "neg", "prediction": "neg"}' >preds.jsonl
run_ok cls.log "$GPTCU" eval --task classify --predictions preds.jsonl --out cls.json
python3 -c 'import json,sys; j=json.load(open("cls.json")); sys.exit(0 if abs(j["accuracy"]-2/3)<1e-9 and abs(j["macro_f1"]-(2/3+2/3)/2)<1e-9 else 1)' ||
  fail "cls.json: accuracy or macro_f1 wrong: $(cat cls.json)"
pass "--predictions: $(has_fields cls.json accuracy macro_precision macro_recall macro_f1 classes)"
printf '%s\n' '{"text": "I love it", "label": "pos"}' '{"prompt": "I hate it", "label": "neg"}' >labelled.jsonl
run_ok cls2.log "$GPTCU" eval --checkpoint pre --task classify --data labelled.jsonl --max-new-tokens 3
pass "replies: $(has_fields "$(ckpt_json pre classify)" accuracy macro_f1 unknown_predictions)"

note "choice"
mkdir -p mc
printf ',Question,A,B,C,D,Answer\n0,"1 + 1, in words?",two,three,"fo,ur",one,A\n1,the cat ...,sat,"ran\nfast",dog,x,A\n' >mc/toy.csv
printf ',Question,A,B,C,D,Answer\n0,猫坐在,垫子上,天上,水里,火中,A\n' >mc/zh.csv
run_ok mc.log "$GPTCU" eval --checkpoint pre --task choice --data mc --prompt-format plain
pass "$(has_fields "$(ckpt_json pre choice)" accuracy accuracy_norm questions subjects)"

note "gsm8k and answers"
printf '%s\n' '{"question": "What is 2 + 3?", "answer": "2 + 3 = 5\n#### 5"}' '{"question": "What is 10 - 4?", "answer": "#### 6"}' >gsm.jsonl
run_ok gsm.log "$GPTCU" eval --checkpoint pre --task gsm8k --data gsm.jsonl --max-new-tokens 4
pass "gsm8k: $(has_fields "$(ckpt_json pre gsm8k)" accuracy prompts verifier)"
run_ok gsm2.log "$GPTCU" eval --checkpoint pre --task gsm8k --data task/rl_test.jsonl --verifier exact --max-new-tokens 4 --out rl.json
[[ $(json_field rl.json prompts) -eq $(wc -l <task/rl_test.jsonl) ]] || fail "rl.json: not every rl_test prompt"
pass "rl_test.jsonl: $(has_fields rl.json accuracy prompts)"
run_ok ans.log "$GPTCU" eval --checkpoint pre --task answers --data prep/rl_test/val_prompts.bin --max-new-tokens 4 --out ans.json
pass "answers: $(has_fields ans.json accuracy prompts)"

note "reward-accuracy"
run_ok ra.log "$GPTCU" eval --checkpoint rm --task reward-accuracy --data task/prefs.jsonl --out ra.json
[[ $(json_field ra.json pairs) -eq 40 ]] || fail "ra.json: $(json_field ra.json pairs) pairs, expected 40"
pass "raw pairs: $(has_fields ra.json accuracy mean_margin skipped_identical skipped_invalid)"
run_ok ra2.log "$GPTCU" eval --checkpoint rm --task reward-accuracy --data prep/prefs
pass "prepared: $(has_fields "$(ckpt_json rm reward-accuracy)" accuracy mean_margin pairs)"

note "errors"
printf 'one line\n' >one.txt
expect_error "missing hypothesis file" "nope.txt" -- "$GPTCU" eval --task bleu --hyp nope.txt --ref ref1.txt
expect_error "hyp/ref line counts" "ref1.txt" "2 lines" "one.txt" -- "$GPTCU" eval --task bleu --hyp one.txt --ref ref1.txt
printf 'ok\n\xff\xfe bad\n' >bad_utf8.txt
expect_error "invalid UTF-8" "bad_utf8.txt:2" "UTF-8" -- "$GPTCU" eval --task bleu --hyp bad_utf8.txt --ref ref1.txt
printf '%s\n' '{"label": "a", "prediction": "a"}' '{"label": "a", "prediction":' >bad.jsonl
expect_error "malformed JSONL" "bad.jsonl:2" -- "$GPTCU" eval --task classify --predictions bad.jsonl
: >empty.jsonl
expect_error "empty dataset" "empty.jsonl" -- "$GPTCU" eval --task classify --predictions empty.jsonl
expect_error "missing data file" "nowhere.txt" -- "$GPTCU" eval --checkpoint pre --task perplexity --data nowhere.txt
expect_error "no checkpoint" "--checkpoint" -- "$GPTCU" eval --task choice --data mc
printf '%s\n' '{"question": "1 + 1?", "answer": "#### 2"}' '{"question": "2 + 2?", "answer": ' >bad_gsm.jsonl
expect_error "malformed gsm8k line" "bad_gsm.jsonl:2" -- "$GPTCU" eval --checkpoint pre --task gsm8k --data bad_gsm.jsonl
expect_error "a language model as reward model" "value head" -- "$GPTCU" eval --checkpoint pre --task reward-accuracy --data task/prefs.jsonl
echo "all eval checks passed"
