#!/usr/bin/env bash
# scripts/poems.sh: the Chinese recipe end to end on the CPU: train a 32k BPE tokenizer on the
# Tang and Song poems, prepare the shards with it, pretrain a small GPT, sample a poem.
# Needs ../shared/data/pretrain/{quan_tang_shi,song_ci}.txt (or POEMS_DIR=...). Extra args go to
# `gptcu pretrain` (e.g. --set train.max_steps=50).
set -euo pipefail
cd "$(dirname "$0")/.."
poems=${POEMS_DIR:-../shared/data/pretrain}
bash scripts/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release ${GPTCU_CMAKE_ARGS:-} > /dev/null
cmake --build build -j "$(nproc)"
mkdir -p prepared/tokenizers
echo "== training the tokenizer"
build/gptcu tokenizer train --input "$poems/quan_tang_shi.txt" "$poems/song_ci.txt" --vocab-size 32000 \
  --out prepared/tokenizers/poems32k
echo "== preparing the shards"
build/gptcu data prepare --config configs/tang_poems.yaml \
  --input "$poems/quan_tang_shi.txt" "$poems/song_ci.txt"
echo "== pretraining"
build/gptcu pretrain --config configs/tang_poems.yaml "$@"
echo "== sampling"
build/gptcu sample --checkpoint runs/tang_poems --prompt "春" --max-new-tokens 60 --temperature 0.8 --seed 7
