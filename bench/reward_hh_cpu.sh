#!/usr/bin/env bash
# bench/reward_hh_cpu.sh [GPTCU]: a reward model on hh-rlhf (harmless-base) on the CPU, end to end,
# printing its pairwise accuracy on held-out pairs. One core, about 5 minutes.
#   1. bench/hh_split.py: 1,811 training pairs, 501 held out (20%, by a hash of the line);
#   2. pretrain a 4-layer, 128-wide GPT (GPT-2 tokenizer, block 384) on the chosen transcripts of
#      the training pairs (configs/pretrain_hh_cpu.yaml);
#   3. gptcu reward from it on the training pairs (configs/reward_hh_cpu.yaml; 10% of them a dev
#      split, val_accuracy in the log);
#   4. gptcu reward score on the 501 held-out pairs: the number, with a 95% Wilson interval.
# Writes prepared/hh_cpu/ and runs/hh_cpu_{pretrain,reward}/ (replaced) under the repository.
#   bash bench/reward_hh_cpu.sh build/gptcu
set -euo pipefail
cd "$(dirname "$0")/.."
GPTCU="${1:-build/gptcu}"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"
start=$(date +%s)
rm -rf prepared/hh_cpu runs/hh_cpu_pretrain runs/hh_cpu_reward
python3 bench/hh_split.py ../shared/data/preference/hh_rlhf_harmless_base_test.jsonl.gz prepared/hh_cpu/split
"$GPTCU" data prepare --config configs/pretrain_hh_cpu.yaml --set prepare.threads=1 | grep -E "records|tokens"
"$GPTCU" data prepare --config configs/reward_hh_cpu.yaml --set prepare.threads=1 | grep -E "records|over max"
"$GPTCU" pretrain --config configs/pretrain_hh_cpu.yaml | grep -E "^(step|done)"
"$GPTCU" reward --config configs/reward_hh_cpu.yaml | grep -E "^(step|done)"
"$GPTCU" reward score --checkpoint runs/hh_cpu_reward --input prepared/hh_cpu/split/heldout.jsonl \
  --out runs/hh_cpu_reward/heldout_scores.jsonl | tee runs/hh_cpu_reward/heldout.txt
python3 - runs/hh_cpu_reward/heldout_scores.jsonl "$(( $(date +%s) - start ))" <<'PY'
import json, math, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
n, k = len(rows), sum(r["chosen_score"] > r["rejected_score"] for r in rows)
p, z = k / n, 1.96
c = (p + z * z / (2 * n)) / (1 + z * z / n)
h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
print(f"held-out pairwise accuracy {p:.4f} ({k} of {n}), 95% Wilson interval [{c - h:.3f}, {c + h:.3f}], "
      f"wall {sys.argv[2]} s")
PY
