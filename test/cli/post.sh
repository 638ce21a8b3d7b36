#!/usr/bin/env bash
# test/cli/post.sh GPTCU: the post-training commands end to end, on the generated task with a
# byte tokenizer and a tiny model (1 layer, 32 wide, 64-token context), a few steps each:
#   - data task -> data prepare of each file (text, dialogue, preference, rl_prompt);
#   - pretrain -> sft -> reward (+ reward score on prefs.jsonl) -> dpo -> ppo (verifier, and a
#     reward model) -> grpo -> eval --task answers: each exits 0, writes a checkpoint and logs its
#     metrics (val_accuracy, reward_margin, kl/value_loss, eval_accuracy); r.json has "accuracy";
#     reward score also takes a reply longer than the model's context;
#   - one-line errors: a missing model.init_from, rl.reward=model with a missing rl.reward_model,
#     a missing rl.reference, SFT on preference data, reward score with a language model.
#   bash test/cli/post.sh build/gptcu
# shellcheck source=test/cli/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cli_init "$@"

note "the task, prepared"
run_ok task.log "$GPTCU" data task --out task --seed 3 --pretrain 600 --sft 200 --prefs 120 --rl-train 64 --rl-test 24
for f in pretrain:text sft:dialogue prefs:preference rl_train:rl_prompt rl_test:rl_prompt; do
  n=${f%%:*} kind=${f##*:}
  # rl_test is held out as a whole: (nearly) all of it in the validation split
  vf=0.1
  [[ $n == rl_test ]] && vf=0.99
  run_ok "prep_$n.log" "$GPTCU" data prepare --input "task/$n.jsonl" --kind "$kind" --out "prep/$n" \
    --tokenizer byte --set model.block_size=64 --set data.val_fraction=$vf
  [[ -f prep/$n/meta.json ]] || fail "prepare of $n.jsonl wrote no meta.json"
done
for f in prep/prefs/train_pairs.bin prep/prefs/val_pairs.bin prep/rl_train/train_prompts.bin \
  prep/rl_test/val_prompts.bin; do
  [[ -s $f ]] || fail "$f is missing or empty"
done
pass "five prepared directories, pairs and prompts"

# a base config: a tiny model, a few steps, evaluation at the end only
cat >base.yaml <<EOF
device: cpu
model:
  n_layer: 1
  n_head: 2
  n_embd: 32
  block_size: 64
data:
  tokenizer: byte
train:
  batch_size: 4
  max_steps: 4
  lr: 3.0e-3
  min_lr: 3.0e-4
  warmup_steps: 1
  eval_every: 0
  eval_steps: 2
  log_every: 1
  seed: 11
rl:
  prompts_per_rollout: 4
  group_size: 2
  epochs: 1
  minibatches: 2
  max_new_tokens: 8
  eval_max_prompts: 8
EOF

# has_checkpoint RUN: RUN/checkpoints holds a complete step_* directory
has_checkpoint() {
  compgen -G "$1/checkpoints/step_*/model.safetensors" >/dev/null || fail "$1: no checkpoint written"
}
# logs LOG WORD...: each WORD appears in LOG
logs() {
  local log="$1" w
  shift
  for w in "$@"; do
    grep -qF -- "$w" "$log" || { show_file "$log"; fail "$log does not mention '$w'"; }
  done
}
# train_ok CMD RUN LOG WORDS... -- SETS...: gptcu CMD --config base.yaml --set run.dir=RUN SETS
train_ok() {
  local cmd="$1" run="$2" log="$3" words=()
  shift 3
  while [[ $# -gt 0 && "$1" != "--" ]]; do
    words+=("$1")
    shift
  done
  shift
  local sets=(--set "run.dir=$run")
  local s
  for s in "$@"; do sets+=(--set "$s"); done
  run_ok "$log" "$GPTCU" "$cmd" --config base.yaml "${sets[@]}"
  has_checkpoint "$run"
  logs "$log" "done: step" "${words[@]}"
  pass "$cmd -> $run: $(grep '^done:' "$log")"
}

note "pretrain, sft, reward, dpo, ppo, grpo"
train_ok pretrain pre pre.log "val loss" -- data.path=prep/pretrain train.max_steps=30
train_ok sft sft sft.log "val loss" "sample 1:" -- data.path=prep/sft model.init_from=pre sft.sample_max_new_tokens=8
train_ok reward rm rm.log "val_accuracy" "val_margin" "val_pairs" -- data.path=prep/prefs model.init_from=sft
run_ok score.log "$GPTCU" reward score --checkpoint rm --input task/prefs.jsonl --out scores.jsonl
logs score.log "read task/prefs.jsonl: 120 pairs" "pairwise accuracy"
[[ $(wc -l <scores.jsonl) -eq 120 ]] || fail "scores.jsonl has $(wc -l <scores.jsonl) lines, expected 120"
grep -q '"chosen_score"' scores.jsonl || fail "scores.jsonl has no chosen_score"
pass "reward score: $(grep 'pairwise accuracy' score.log)"
# a reply longer than the reward model's context (64 bytes) is scored on its newest tokens
python3 -c 'import json; print(json.dumps({"prompt": "Say it long.", "chosen": "yes " * 40, "rejected": "no " * 40}))' >long.jsonl
run_ok score_long.log "$GPTCU" reward score --checkpoint rm --input long.jsonl
logs score_long.log "read long.jsonl: 1 pairs" "pairwise accuracy"
pass "reward score of a 160-byte reply with a 64-token context"
train_ok dpo dpo dpo.log "reward_margin" "val_reward_accuracy" -- data.path=prep/prefs model.init_from=sft
rl_sets=(data.path=prep/rl_train rl.eval_prompts=prep/rl_test/val_prompts.bin model.init_from=sft)
train_ok ppo ppo ppo.log "| kl " "| value_loss " "eval_accuracy" "reward: verifier" -- "${rl_sets[@]}"
train_ok ppo ppo_rm ppo_rm.log "| kl " "| value_loss " "reward: model" -- "${rl_sets[@]}" rl.reward=model rl.reward_model=rm
train_ok grpo grpo grpo.log "eval_accuracy" -- "${rl_sets[@]}" train.max_steps=2

# a PPO policy carries a value head: generate (and sample, chat, serve) must load it
printf '{"prompt": "What is 2 + 3?"}\n' >one.jsonl
run_ok gen_ppo.log "$GPTCU" generate --checkpoint ppo --input one.jsonl --out gen_ppo.jsonl --chat --max-new-tokens 4
grep -q '"completion"' gen_ppo.jsonl || fail "generate from the PPO checkpoint wrote no completion"
pass "generate from a checkpoint with a value head"

note "eval --task answers"
run_ok eval.log "$GPTCU" eval --checkpoint grpo --task answers --data prep/rl_test/val_prompts.bin --out r.json \
  --max-new-tokens 8
logs eval.log "eval answers" "accuracy"
acc=$(json_field r.json accuracy) || fail "r.json has no accuracy"
python3 -c "import sys; a = float(sys.argv[1]); sys.exit(0 if 0 <= a <= 1 else 1)" "$acc" ||
  fail "r.json accuracy $acc is not in [0, 1]"
held=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["splits"]["val"]["records"])' prep/rl_test/meta.json)
[[ $held -ge 20 && $(json_field r.json prompts) -eq $held ]] ||
  fail "r.json: $(json_field r.json prompts) prompts; prep/rl_test holds $held validation prompts (of 24)"
pass "eval: accuracy $acc on $held held-out prompts"

note "errors"
expect_error "missing model.init_from" "model.init_from" "nowhere" -- \
  "$GPTCU" sft --config base.yaml --set data.path=prep/sft --set model.init_from=nowhere --set run.dir=x
expect_error "rl.reward=model, missing reward model" "rl.reward_model" "no_rm" -- \
  "$GPTCU" ppo --config base.yaml --set data.path=prep/rl_train --set model.init_from=sft --set run.dir=x \
  --set rl.reward=model --set rl.reward_model=no_rm
expect_error "rl.reward=model, no reward model named" "rl.reward_model" -- \
  "$GPTCU" ppo --config base.yaml --set data.path=prep/rl_train --set model.init_from=sft --set run.dir=x \
  --set rl.reward=model
expect_error "missing rl.reference" "rl.reference" "no_ref" -- \
  "$GPTCU" grpo --config base.yaml --set data.path=prep/rl_train --set model.init_from=sft --set run.dir=x \
  --set rl.reference=no_ref
expect_error "SFT on preference data" "dialogue" -- \
  "$GPTCU" sft --config base.yaml --set data.path=prep/prefs --set model.init_from=pre --set run.dir=x
expect_error "reward score with a language model" "value head" -- \
  "$GPTCU" reward score --checkpoint sft --input task/prefs.jsonl
[[ -e x ]] && fail "a failed command left a run directory behind"
echo "all post-training checks passed"
