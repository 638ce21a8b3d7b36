#!/usr/bin/env bash
# bench/shakespeare_cpu.sh: nanoGPT's shakespeare_char CPU recipe, gptcu vs PyTorch, side by side
# on the same machine in one call. Appends a results table to bench/results/.
#
#   bash bench/shakespeare_cpu.sh                 # full recipe (2000 steps each; ~10 min on 2 cores)
#   STEPS=200 bash bench/shakespeare_cpu.sh       # quick look
#
# Needs: a built build/gptcu (scripts/test.sh or scripts/demo.sh) and `pip install torch numpy`.
# Run it on an otherwise idle machine: both trainers use every core.
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${STEPS:-2000}
data=${DATA:-../shared/data/pretrain/tinyshakespeare.txt}
threads=${THREADS:-$(nproc)}
eval_steps=${EVAL_STEPS:-50}
run=${RUN_DIR:-runs/bench_shakespeare_char}
out_dir=bench/results
mkdir -p "$out_dir" "$run"
stamp=$(date -u +%Y-%m-%d)
result="$out_dir/${stamp}-cpu-shakespeare_char.md"
rm -rf "$run/gptcu"

echo "== gptcu ($threads threads)"
OMP_NUM_THREADS=$threads build/gptcu pretrain --config configs/shakespeare_char.yaml \
  --set "run.dir=$run/gptcu" --set "data.path=$data" --set "train.max_steps=$steps" \
  --set "train.lr_decay_steps=$steps" --set "train.eval_steps=$eval_steps" | grep -vE '^  |^#|^[a-z_]+:$'
echo "== PyTorch ($threads threads)"
python3 bench/torch_shakespeare_char.py --data "$data" --max-steps "$steps" --threads "$threads" \
  --eval-steps "$eval_steps" --json "$run/torch.json"

python3 - "$run/gptcu/summary.json" "$run/torch.json" "$result" "$steps" "$threads" <<'PY'
import json, platform, subprocess, sys
g, t = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
out, steps, threads = sys.argv[3], sys.argv[4], sys.argv[5]
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
rows = [("train wall time (s, excl. eval)", g["train_seconds"], t["train_seconds"]),
        ("total wall time (s)", g["wall_seconds"], t["wall_seconds"]),
        ("tokens/s (training)", g["tokens_per_s"], t["tokens_per_s"]),
        ("final val loss", g["val_loss"], t["val_loss"]),
        ("final train loss", g["train_loss"], t["train_loss"])]
lines = [f"## shakespeare_char, CPU, {steps} steps, {threads} threads",
         f"date (UTC) {subprocess.run(['date','-u','+%F %T'],capture_output=True,text=True).stdout.strip()} | "
         f"commit {commit} | CPU {cpu} | torch {t.get('torch_version','?')}",
         "", "| metric | gptcu | PyTorch | gptcu / PyTorch |", "|---|---|---|---|"]
for name, a, b in rows:
    ratio = f"{a / b:.2f}" if b else "-"
    lines.append(f"| {name} | {a:.4g} | {b:.4g} | {ratio} |")
lines.append("")
text = "\n".join(lines) + "\n"
print(text)
with open(out, "a") as f:
    f.write(text + "\n")
print("appended to", out)
PY
