#!/usr/bin/env bash
# scripts/demo.sh: the main job, end to end on the CPU with no download.
#   1. set up and build
#   2. generate an addition corpus ("47+38=85" per line) with gptcu data synth
#   3. pretrain a small GPT on it (configs/toy.yaml), with evaluation and checkpoints
#   4. sample answers from the checkpoint
# Run dir: runs/toy (override: RUN_DIR=...). Extra args go to `gptcu pretrain` (e.g. --set train.max_steps=200).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release ${GPTCU_CMAKE_ARGS:-} > /dev/null
cmake --build build -j "$(nproc)"
run_dir=${RUN_DIR:-runs/toy}
mkdir -p "$run_dir"
echo "== generating the corpus"
build/gptcu data synth --out "$run_dir/addition.txt" --lines 20000 --seed 1337
echo "== pretraining"
build/gptcu pretrain --config configs/toy.yaml --set "run.dir=$run_dir" --set "data.path=$run_dir/addition.txt" "$@"
echo "== sampling (greedy) from $run_dir"
correct=0; total=0
for prompt in "12+34=" "50+27=" "9+88=" "71+5=" "33+33=" "8+1=" "64+19=" "25+70=" \
              "47+88=" "90+5=" "3+99=" "58+41=" "16+16=" "75+66=" "21+9=" "44+57="; do
  line=$(build/gptcu sample --checkpoint "$run_dir" --prompt "$prompt" --temperature 0 --max-new-tokens 6 | head -n 1)
  a=${prompt%%+*}; b=${prompt#*+}; b=${b%=}
  want="$prompt$((a + b))"
  mark="wrong"; [ "$line" = "$want" ] && { mark="right"; correct=$((correct + 1)); }
  total=$((total + 1))
  printf '  %-12s (%s)\n' "$line" "$mark"
done
echo "== $correct/$total sums right after pretraining (greedy; the corpus holds 20000 random sums of 10201 possible, so most prompts are seen)"
echo "== free sampling"
build/gptcu sample --checkpoint "$run_dir" --prompt "1" --max-new-tokens 60 --temperature 0.8 --seed 7
