#!/usr/bin/env bash
# bench/check_torch_parity.sh: gptcu and bench/torch_gpt2.py train the same model on the CPU, in
# fp32, from the same initial weights on the same batches, and their loss curves must agree.
# This is what makes scripts/bench_train.sh's side-by-side GPU losses meaningful: the PyTorch twin
# replicates gptcu's init (loaded from gptcu's weights), data order, schedule, clipping, AdamW and
# gradient accumulation, so any gap there is numerics (bf16, kernels), not a different run.
#
#   bash bench/check_torch_parity.sh            # ~1 min on 2 cores; exit 1 when they disagree
#   TOL=1e-5 STEPS=50 bash bench/check_torch_parity.sh
#   RESULT=bench/results/DATE-torch-gpt2-cpu-parity.md bash bench/check_torch_parity.sh   # also append the table
#
# The model: 2 layers, 2 heads, 64 wide, T = 64, on Tiny Shakespeare's GPT-2 token shards
# (configs/shakespeare_gpt2.yaml, prepared here if missing); micro-batch 4 x 2 accumulation steps,
# 5 warm-up steps then cosine, clipping at 1.0 (it clips in the first steps), evaluation at step
# 10 and 20. The initial weights come from `gptcu pretrain --init-only` (the step-0 checkpoint).
# Not in CI: it needs torch, numpy, safetensors and pyyaml (bench/requirements.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
gptcu=${GPTCU:-build/gptcu}
steps=${STEPS:-20}
tol=${TOL:-1e-4}
threads=${THREADS:-$(nproc)}
run=${RUN_DIR:-runs/torch_parity}
config=configs/shakespeare_gpt2.yaml
[ -x "$gptcu" ] || { echo "check_torch_parity.sh: no $gptcu (build it: cmake --build build --target gptcu)" >&2; exit 1; }
python3 -c "import torch, numpy, safetensors, yaml" 2>/dev/null ||
  { echo "check_torch_parity.sh: needs torch, numpy, safetensors and pyyaml (pip install -r bench/requirements.txt)" >&2; exit 1; }

data=$(python3 -c "import sys; sys.path.insert(0, 'bench'); from gptcu_torch import load_config; print(load_config('$config')['data']['path'])")
[ -f "$data/meta.json" ] || "$gptcu" data prepare --config "$config"

tiny=(--set device=cpu --set model.n_layer=2 --set model.n_head=2 --set model.n_embd=64 --set model.block_size=64
      --set train.batch_size=4 --set train.grad_accum_steps=2 --set "train.max_steps=$steps" --set train.warmup_steps=5
      --set train.lr=1e-3 --set train.min_lr=1e-4 --set train.beta2=0.95 --set train.eval_every=10
      --set train.eval_steps=2 --set train.log_every=5 --set train.checkpoint_every=0)
rm -rf "$run"
mkdir -p "$run"
export OMP_NUM_THREADS=$threads

echo "== gptcu: step-0 weights (--init-only)"
"$gptcu" pretrain --config "$config" "${tiny[@]}" --set "run.dir=$run/init" --init-only > "$run/init.log"
echo "== gptcu: $steps steps"
"$gptcu" pretrain --config "$config" "${tiny[@]}" --set "run.dir=$run/gptcu" | grep -E '^step|^done'
echo "== PyTorch (CPU, fp32, eager): $steps steps from $run/init"
# the run's resolved config: every hyperparameter exactly as gptcu used it
python3 bench/torch_gpt2.py --config "$run/gptcu/config.yaml" --init "$run/init" --device cpu --dtype fp32 \
  --no-compile --threads "$threads" --json "$run/torch.json" | grep -E '^step|^torch'

python3 - "$run/gptcu/metrics.jsonl" "$run/torch.json" "$tol" "${RESULT:-}" "$gptcu ($("$gptcu" version))" <<'PY'
import json, subprocess, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
t = json.load(open(sys.argv[2]))
tol, out, binary = float(sys.argv[3]), sys.argv[4], sys.argv[5]
rel = lambda a, b: abs(a - b) / max(abs(a), abs(b), 1e-30)
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
lines = [f"## gptcu vs bench/torch_gpt2.py on the CPU, fp32, {len(rows)} steps",
         f"date (UTC) {subprocess.run(['date', '-u', '+%F %T'], capture_output=True, text=True).stdout.strip()} | "
         f"commit {commit} | torch {t['torch_version']} | 2 layers, 64 wide, T 64, batch 4 x 2 accumulation, "
         f"Tiny Shakespeare GPT-2 shards | binary {binary}",
         f"command: bash bench/check_torch_parity.sh (STEPS={len(rows)} TOL={tol:g}); PyTorch eager fp32, "
         f"{t['steps']} steps from gptcu's step-0 weights", "",
         "| step | lr | gptcu loss | torch loss | rel. diff | gptcu grad norm | torch grad norm | rel. diff |",
         "|---|---|---|---|---|---|---|---|"]
worst_loss = worst_norm = 0.0
for i, r in enumerate(rows):
    tl, tn = t["losses"][i], t["grad_norms"][i]
    dl, dn = rel(r["loss"], tl), rel(r["grad_norm"], tn)
    worst_loss, worst_norm = max(worst_loss, dl), max(worst_norm, dn)
    assert abs(r["lr"] - t["lrs"][i]) <= 1e-12 * max(1.0, r["lr"]), f"step {i + 1}: lr {r['lr']} vs {t['lrs'][i]}"
    lines.append(f"| {r['step']} | {r['lr']:.3e} | {r['loss']:.7f} | {tl:.7f} | {dl:.1e} | "
                 f"{r['grad_norm']:.6f} | {tn:.6f} | {dn:.1e} |")
gv = [(r["step"], r["val_loss"]) for r in rows if "val_loss" in r]
tv = {e["step"]: e["val_loss"] for e in t["evals"]}
worst_val = max((rel(v, tv[s]) for s, v in gv), default=0.0)
lines.append("")
lines.append("val loss: " + ", ".join(f"step {s}: gptcu {v:.7f} / torch {tv[s]:.7f}" for s, v in gv))
ok = len(t["losses"]) == len(rows) and max(worst_loss, worst_val) <= tol
lines.append(f"largest relative difference: loss {worst_loss:.2e}, val loss {worst_val:.2e}, "
             f"grad norm {worst_norm:.2e} (tolerance on the losses {tol:g}): {'PASS' if ok else 'FAIL'}")
text = "\n".join(lines) + "\n"
print(text)
if out:
    with open(out, "a") as f:
        f.write(text + "\n")
    print("appended to", out)
sys.exit(0 if ok else 1)
PY
