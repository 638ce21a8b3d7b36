#!/usr/bin/env bash
# bench/tokenizer_compression.sh: the acceptance check "a 32k tokenizer trained on the Chinese
# poems compresses held-out poems better (bytes per token) than cl100k_base does".
#
#   bash bench/tokenizer_compression.sh            # prints the table, appends it to RESULTS
#
# 1. The poems (quan_tang_shi.txt + song_ci.txt; poems are separated by blank lines) are split
#    deterministically: every 10th poem (counting through both files) is held out, the rest is
#    the training part (temporary files; both keep the blank lines between poems).
# 2. `gptcu tokenizer train` trains a VOCAB-token tokenizer on the training part (defaults:
#    cl100k pre-split regex, one document per poem).
# 3. `gptcu tokenizer bench` encodes the held-out part (and checks decode gives it back) with
#    that tokenizer, cl100k_base, o200k_base and gpt2; bytes/token = held-out bytes / tokens.
# Exits 1 if the trained tokenizer does not beat cl100k_base on the held-out poems.
# Environment: GPTCU (build/gptcu), SHARED (../shared/data), VOCAB (32000), THREADS (0: all
# cores), RESULTS (bench/results/2026-11-23-cpu-tokenizer-compression.md; "" to not write).
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
GPTCU="${GPTCU:-$REPO/build/gptcu}"
SHARED="${SHARED:-$REPO/../shared/data}"
VOCAB="${VOCAB:-32000}"
THREADS="${THREADS:-0}"
RESULTS="${RESULTS-$REPO/bench/results/2026-11-23-cpu-tokenizer-compression.md}"
POEMS=("$SHARED/pretrain/quan_tang_shi.txt" "$SHARED/pretrain/song_ci.txt")
TOK="$SHARED/tokenizers"
[[ -x "$GPTCU" ]] || { echo "error: $GPTCU is not built (cmake --build build --target gptcu)" >&2; exit 1; }
for f in "${POEMS[@]}" "$TOK/cl100k_base.tiktoken" "$TOK/o200k_base.tiktoken" "$TOK/gpt2/encoder.json"; do
  [[ -e "$f" ]] || { echo "error: $f not found (set SHARED=...)" >&2; exit 1; }
done
TMP="$(mktemp -d "${TMPDIR:-/tmp}/gptcu-compression.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT

# awk's paragraph mode: a record is a poem (runs of blank lines separate them).
awk -v train="$TMP/train.txt" -v held="$TMP/held.txt" 'BEGIN { RS = ""; ORS = "\n\n" }
  { if (NR % 10 == 0) print > held; else print > train }' "${POEMS[@]}"
n_train=$(awk 'BEGIN { RS = "" } END { print NR }' "$TMP/train.txt")
n_held=$(awk 'BEGIN { RS = "" } END { print NR }' "$TMP/held.txt")
held_bytes=$(wc -c <"$TMP/held.txt")
echo "split: $n_train training poems ($(wc -c <"$TMP/train.txt") bytes), $n_held held-out poems ($held_bytes bytes)"

train_cmd=("$GPTCU" tokenizer train --input "$TMP/train.txt" --vocab-size "$VOCAB" --out "$TMP/poems" --threads "$THREADS")
echo "+ ${train_cmd[*]}"
t0=$(date +%s.%N)
"${train_cmd[@]}" | tee "$TMP/train.log"
train_s=$(printf '%.2f' "$(echo "$(date +%s.%N) - $t0" | bc)")

# bench_line NAME SPEC FILE: "| NAME | vocab | tokens | bytes/token |" from `gptcu tokenizer bench`.
bench_line() {
  "$GPTCU" tokenizer bench --tokenizer "$2" --input "$3" --repeat 1 --threads "$THREADS" >"$TMP/bench.log" ||
    { cat "$TMP/bench.log" >&2; exit 1; }
  # "tokenizer  NAME (N ids, loaded in S s)" and "tokens     N (X bytes/token)"
  local vocab tokens bpt
  vocab=$(sed -n 's/^tokenizer .*(\([0-9]*\) ids.*/\1/p' "$TMP/bench.log")
  tokens=$(sed -n 's/^tokens *\([0-9]*\) (.*/\1/p' "$TMP/bench.log")
  bpt=$(sed -n 's/^tokens .*(\([0-9.]*\) bytes\/token)/\1/p' "$TMP/bench.log")
  [[ -n "$vocab" && -n "$tokens" && -n "$bpt" ]] || { cat "$TMP/bench.log" >&2; echo "error: cannot read $TMP/bench.log" >&2; exit 1; }
  echo "| $1 | $vocab | $tokens | $bpt |"
}

rows=()
rows+=("$(bench_line "poems${VOCAB} (trained on the training part)" "$TMP/poems" "$TMP/held.txt")")
rows+=("$(bench_line cl100k_base "$TOK/cl100k_base.tiktoken" "$TMP/held.txt")")
rows+=("$(bench_line o200k_base "$TOK/o200k_base.tiktoken" "$TMP/held.txt")")
rows+=("$(bench_line gpt2 "$TOK/gpt2" "$TMP/held.txt")")
in_sample="$(bench_line "poems${VOCAB} on its own training part (in-sample, for contrast)" "$TMP/poems" "$TMP/train.txt")"

ours=$(echo "${rows[0]}" | awk -F'|' '{ print $5 }')
cl100k=$(echo "${rows[1]}" | awk -F'|' '{ print $5 }')
if (($(echo "$ours > $cl100k" | bc))); then
  verdict="PASS: poems${VOCAB} ${ours// /} bytes/token > cl100k_base ${cl100k// /} on the held-out poems ($(echo "scale=2; $ours / $cl100k" | bc)x)"
  rc=0
else
  verdict="FAIL: poems${VOCAB} ${ours// /} bytes/token <= cl100k_base ${cl100k// /} on the held-out poems"
  rc=1
fi

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
report=$(cat <<REPORT
## Held-out compression, ${VOCAB}-token poems tokenizer vs the reference encodings
date (UTC) $(date -u '+%Y-%m-%d %H:%M:%S') | commit $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$REPO" diff --quiet HEAD 2>/dev/null || echo " (+ uncommitted changes)") | CPU ${cpu:-unknown} ($(nproc) cores, load average $(cut -d' ' -f1 /proc/loadavg))

Split: every 10th poem of quan_tang_shi.txt + song_ci.txt (counted through both, blank-line separated)
is held out: ${n_train} training poems, ${n_held} held-out poems (${held_bytes} bytes).
Trained with \`gptcu tokenizer train --input TRAIN --vocab-size ${VOCAB} --out PREFIX\` (cl100k pre-split,
one document per poem) in ${train_s} s wall (reading, training, saving, bytes/token pass).
bytes/token = held-out bytes / tokens, from \`gptcu tokenizer bench --input HELD\` (higher is better).

| tokenizer | vocab (ids) | tokens on the held-out poems | bytes/token |
|---|---|---|---|
$(printf '%s\n' "${rows[@]}")

In-sample, for contrast: $(echo "$in_sample" | awk -F'|' '{ print $5 }' | tr -d ' ') bytes/token on the training part.

$verdict

Training log:
\`\`\`
$(cat "$TMP/train.log")
\`\`\`
REPORT
)
echo
echo "$report"
if [[ -n "$RESULTS" ]]; then
  [[ -e "$RESULTS" ]] || printf '# Tokenizer compression on held-out Chinese poems (bench/tokenizer_compression.sh)\n' >"$RESULTS"
  printf '\n%s\n' "$report" >>"$RESULTS"
  echo "appended to $RESULTS"
fi
exit $rc
