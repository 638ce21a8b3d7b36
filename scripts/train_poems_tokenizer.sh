#!/usr/bin/env bash
# scripts/train_poems_tokenizer.sh: trains the 32k-token BPE tokenizer of the Chinese poems
# (cl100k pre-split regex, one document per poem, <|endoftext|> = 32000) into
#   data/tokenizers/poems32k.tiktoken + data/tokenizers/poems32k.meta.json
# which a pretraining config names as `data.tokenizer: data/tokenizers/poems32k`. Deterministic
# (the same files on every machine and thread count), a few seconds on 2 cores; the files are
# not committed (.gitignore). bench/tokenizer_compression.sh measures such a tokenizer on
# held-out poems against cl100k_base. Extra arguments go to `gptcu tokenizer train`.
#   bash scripts/train_poems_tokenizer.sh
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -x build/gptcu ]] || { echo "error: build/gptcu is not built (cmake --build build --target gptcu)" >&2; exit 1; }
build/gptcu tokenizer train --input ../shared/data/pretrain/quan_tang_shi.txt ../shared/data/pretrain/song_ci.txt \
  --vocab-size 32000 --out data/tokenizers/poems32k "$@"
