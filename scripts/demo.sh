#!/usr/bin/env bash
# scripts/demo.sh: the main job. The whole ChatGPT recipe, end to end, on the CPU, with no download:
#   1. set up and build
#   2. generate the built-in task (gptcu data task): arithmetic and word puzzles in English and
#      Chinese, as pretraining text, chats, preference pairs and RL prompts; a held-out test set
#      of problems that no training file contains
#   3. tokenize each into shards (gptcu data prepare, byte-level BPE with chat tokens)
#   4. pretrain -> SFT -> reward model -> PPO, GRPO and DPO (configs/task/*.yaml)
#   5. evaluate held-out answer accuracy after each stage (greedy, exact match) and print one
#      table with the reward model's held-out pairwise accuracy and the wall time of each stage.
# Run dir: runs/task (override: RUN_DIR=...). About 10 minutes on 2 cores after the build.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release ${GPTCU_CMAKE_ARGS:-} > /dev/null
cmake --build build --target gptcu -j "$(nproc)"
gptcu=build/gptcu
run=${RUN_DIR:-runs/task}
rm -rf "$run"
mkdir -p "$run"
log() { echo "== $*"; }
declare -A seconds accuracy
now() { date +%s.%N; }
elapsed() { python3 -c "print(f'{$(now) - $1:.0f}')"; }

stage_sets() {  # stage, its data dir, its init run (or -)
  local out=(--set "run.dir=$run/$1" --set "data.path=$run/prepared/$2")
  [ "$3" != - ] && out+=(--set "model.init_from=$run/$3")
  printf '%s\n' "${out[@]}"
}

log "generating the built-in task"
t=$(now)
$gptcu data task --out "$run/data" --seed 1337 --pretrain 30000 --sft 6000 --prefs 3000 --rl-train 3000 --rl-test 400
for spec in pretrain:text sft:dialogue prefs:preference rl_train:rl_prompt; do
  name=${spec%%:*}; kind=${spec#*:}; dir=${name/rl_train/rl}
  $gptcu data prepare --input "$run/data/$name.jsonl" --out "$run/prepared/$dir" --kind "$kind" \
    --tokenizer byte --set model.block_size=64 | tail -n 2
done
# the held-out problems: 99% go to val_prompts.bin, the evaluation set (prepare keeps a train split)
$gptcu data prepare --input "$run/data/rl_test.jsonl" --out "$run/prepared/rl_test" --kind rl_prompt \
  --tokenizer byte --set model.block_size=64 --set data.val_fraction=0.99 | tail -n 2
test_prompts="$run/prepared/rl_test/val_prompts.bin"
seconds[data]=$(elapsed "$t")

declare -A sampled
evaluate() {  # stage name, run dir: greedy replies, then 8 sampled replies per prompt (temperature 1)
  $gptcu eval --checkpoint "$2" --task answers --data "$test_prompts" --max-new-tokens 12 --out "$run/eval_$1.json"
  $gptcu eval --checkpoint "$2" --task answers --data "$test_prompts" --max-new-tokens 12 \
    --temperature 1 --samples 8 --out "$run/eval_$1_sampled.json" | grep -m1 "accuracy"
  accuracy[$1]=$(python3 -c "import json; print(f\"{json.load(open('$run/eval_$1.json'))['accuracy']:.3f}\")")
  sampled[$1]=$(python3 -c "import json; print(f\"{json.load(open('$run/eval_$1_sampled.json'))['accuracy']:.3f}\")")
}

train_stage() {  # command, stage, config, data dir, init run
  local cmd=$1 stage=$2 config=$3 data=$4 init=$5
  log "$stage: gptcu $cmd --config $config"
  local t; t=$(now)
  mapfile -t extra < <(stage_sets "$stage" "$data" "$init")
  # everything but the resolved config (it is in $run/$stage/config.yaml)
  $gptcu "$cmd" --config "$config" "${extra[@]}" | sed -u '/^# resolved config/,/^$/d'
  seconds[$stage]=$(elapsed "$t")
}

train_stage pretrain pretrain configs/task/pretrain.yaml pretrain -
evaluate pretrain "$run/pretrain"
train_stage sft sft configs/task/sft.yaml sft pretrain
evaluate sft "$run/sft"
train_stage reward reward configs/task/reward.yaml prefs sft
rm_acc=$(python3 -c "import json; print(f\"{json.load(open('$run/reward/summary.json'))['eval']['val_accuracy']:.3f}\")")
train_stage ppo ppo configs/task/ppo.yaml rl sft
evaluate ppo "$run/ppo"
train_stage grpo grpo configs/task/grpo.yaml rl sft
evaluate grpo "$run/grpo"
train_stage dpo dpo configs/task/dpo.yaml prefs sft
evaluate dpo "$run/dpo"

n=$(python3 -c "import json; print(json.load(open('$run/eval_sft.json'))['prompts'])")
echo
echo "== the built-in task: held-out answer accuracy ($n problems no training file contains; exact match)"
echo "   greedy: one greedy reply per problem; sampled: mean over 8 replies per problem at temperature 1"
printf '%-22s %-8s %-8s %s\n' "stage" "greedy" "sampled" "wall time"
printf '%-22s %-8s %-8s %ss\n' "data + tokenize" "-" "-" "${seconds[data]}"
for s in pretrain sft ppo grpo dpo; do
  label=$s; [ "$s" = pretrain ] && label="pretrain"; [ "$s" = sft ] && label="SFT"
  [ "$s" = ppo ] && label="PPO (from SFT)"; [ "$s" = grpo ] && label="GRPO (from SFT)"; [ "$s" = dpo ] && label="DPO (from SFT)"
  printf '%-22s %-8s %-8s %ss\n' "$label" "${accuracy[$s]}" "${sampled[$s]}" "${seconds[$s]}"
done
printf '%-22s %-8s %-8s %ss\n' "reward model" "$rm_acc" "-" "${seconds[reward]}"
echo "(reward model: pairwise accuracy on held-out preference pairs, chosen scored above rejected)"
python3 - "$run" <<'PY'
# Paired against SFT, problem by problem (the same held-out problems for every stage):
#   greedy: problems fixed (SFT wrong, stage right) and broken, with the exact two-sided sign-test
#           p-value of that split (how likely so lopsided a split is if the stage were no better);
#   sampled: the mean per-problem difference in the fraction of 8 replies right, +- its standard error.
import json, math, sys
run = sys.argv[1]
def load(stage, kind): return json.load(open(f"{run}/eval_{stage}{kind}.json"))
def sign_test(a, b):  # two-sided exact binomial test of a successes vs b failures at p = 1/2
    n, k = a + b, min(a, b)
    return 1.0 if n == 0 else min(1.0, 2 * sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n)
sft_g, sft_s = load("sft", "")["right_per_prompt"], load("sft", "_sampled")["right_per_prompt"]
print("paired against SFT on the same problems:")
for stage in ["ppo", "grpo", "dpo"]:
    g, s = load(stage, "")["right_per_prompt"], load(stage, "_sampled")["right_per_prompt"]
    fixed = sum(1 for x, y in zip(sft_g, g) if y > x)
    broken = sum(1 for x, y in zip(sft_g, g) if y < x)
    d = [(y - x) / 8 for x, y in zip(sft_s, s)]
    mean = sum(d) / len(d)
    se = math.sqrt(sum((v - mean) ** 2 for v in d) / (len(d) - 1) / len(d))
    print(f"  {stage.upper():5s} greedy: {fixed:3d} fixed, {broken:3d} broken, {fixed - broken:+4d} net "
          f"(sign test p = {sign_test(fixed, broken):.3f}) | sampled: {mean:+.3f} +- {se:.3f}")
PY
