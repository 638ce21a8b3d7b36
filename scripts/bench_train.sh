#!/usr/bin/env bash
# scripts/bench_train.sh: gptcu and PyTorch (bench/torch_gpt2.py: bf16 autocast, torch.compile,
# flash SDPA, fused AdamW) train the same GPT-2 on the same GPU, one after the other, from the same
# initial weights on the same batches. Prints, and appends to bench/results/DATE-GPU-train.md:
# tokens/s, MFU (6N + 6*L*T*C FLOPs per token, over a bf16 GEMM rate measured on this GPU and over
# the datasheet peak), peak memory, the largest micro-batch each fits, the ratio gptcu / PyTorch,
# and the first 50 losses of each side by side.
#
#   scripts/bench_train.sh                                   # configs/gpt2_124m.yaml, 50 steps each
#   STEPS=20 SEARCH=0 scripts/bench_train.sh configs/gpt2_350m.yaml
#   scripts/bench_train.sh configs/gpt2_124m.yaml --set train.grad_accum_steps=4   # --set: both sides
#   DEVICE=cpu scripts/bench_train.sh configs/gpt2_124m.yaml --set model.n_layer=2 ...   # dry run of the plumbing
#
# Env: STEPS (optimizer steps per side, default 50), SEARCH (1: search the largest micro-batch,
# default 1), BATCHES (sizes tried in order, default "8 16 24 32 48 64 96 128"), GPTCU
# (default build/gptcu, a CUDA build), RUN_DIR (default runs/bench_train/CONFIG-NAME), OUT_DIR
# (default bench/results), DEVICE (cpu: a dry run on the CPU in fp32, without the GPU numbers,
# written under RUN_DIR instead of bench/results).
#
# How the two runs are made the same run: the step-0 weights come from `gptcu pretrain --init-only`
# on the CPU (its checkpoint step_00000000 holds gptcu's initialisation exactly, with no training);
# gptcu then trains from its own identical init, PyTorch loads those weights. PyTorch
# reads the gptcu run's resolved config.yaml and replicates its data order, schedule, clipping and
# accumulation (bench/gptcu_torch.py; proved on the CPU by bench/check_torch_parity.sh). Both
# stop after STEPS steps of the config's full schedule (gptcu --stop-after), without evaluation.
# Needs: nvidia-smi, a CUDA build of gptcu, python3 with torch, numpy, safetensors, pyyaml.
set -euo pipefail
cd "$(dirname "$0")/.."
config=${1:-configs/gpt2_124m.yaml}
shift || true
sets=("$@")  # --set KEY=VALUE ..., given to both sides
steps=${STEPS:-50}
search=${SEARCH:-1}
batches=${BATCHES:-8 16 24 32 48 64 96 128}
gptcu=${GPTCU:-build/gptcu}
device=${DEVICE:-cuda}
name=$(basename "$config" .yaml)
run=${RUN_DIR:-runs/bench_train/$name}

if [ "$device" = cpu ]; then
  gpu=cpu
  out_dir=${OUT_DIR:-$run}
  dev_sets=(--set device=cpu)
  torch_dev=(--device cpu --dtype fp32 --no-compile)
  search=0
else
  gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -n 1 || true)
  if [ -z "$gpu" ]; then
    echo "bench_train.sh: no NVIDIA GPU here (nvidia-smi lists none); this benchmark times gptcu and PyTorch on one GPU" >&2
    exit 1
  fi
  out_dir=${OUT_DIR:-bench/results}
  dev_sets=(--set device=cuda)
  torch_dev=(--device cuda)
fi
[ -x "$gptcu" ] || { echo "bench_train.sh: no $gptcu (build it first)" >&2; exit 1; }
python3 -c "import torch, numpy, safetensors, yaml" 2>/dev/null ||
  { echo "bench_train.sh: needs python3 with torch, numpy, safetensors, pyyaml (bench/requirements.txt)" >&2; exit 1; }

rm -rf "$run"
mkdir -p "$run" "$out_dir"
data=$(python3 - "$config" "${sets[@]}" <<'PY'
import sys
sys.path.insert(0, "bench")
from gptcu_torch import load_config
args = sys.argv[2:]
print(load_config(sys.argv[1], [a for a in args if a != "--set"])["data"]["path"])
PY
)
# logged LOG PATTERN CMD...: runs CMD with its output in LOG, shows the lines matching PATTERN as they
# come, and on failure the last lines of LOG, then stops.
logged() {
  local log=$1 pattern=$2 rc
  shift 2
  set +e
  "$@" 2>&1 | tee "$log" | grep --line-buffered -E "$pattern"
  rc=${PIPESTATUS[0]}
  set -e
  if [ "$rc" != 0 ]; then
    echo "bench_train.sh: failed (exit $rc): $* ; the end of $log:" >&2
    tail -n 5 "$log" >&2
    exit 1
  fi
}

if [ ! -f "$data/meta.json" ]; then
  echo "== data: preparing $data"
  logged "$run/prepare.log" '^(wrote|  train tokens)' "$gptcu" data prepare --config "$config" "${sets[@]}"
fi

echo "== gptcu: step-0 weights of $config (--init-only, on the CPU)"
logged "$run/init.log" '^(init-only|done:)' "$gptcu" pretrain --config "$config" "${sets[@]}" --set device=cpu \
  --set "run.dir=$run/init" --init-only

echo "== gptcu: $steps steps on $gpu"
logged "$run/gptcu.log" '^(step |done:|memory: |model: n_|device: [^"])' "$gptcu" pretrain --config "$config" \
  "${sets[@]}" "${dev_sets[@]}" --set train.eval_every=0 --set train.checkpoint_every=0 --set "run.dir=$run/gptcu" \
  --stop-after "$steps"

echo "== PyTorch: $steps steps on $gpu"
logged "$run/torch.log" '^(step|torch|MFU)' python3 bench/torch_gpt2.py --config "$run/gptcu/config.yaml" \
  --init "$run/init" "${torch_dev[@]}" --steps "$steps" --json "$run/torch.json"

if [ "$search" = 1 ]; then
  echo "== largest micro-batch, PyTorch (tries: $batches)"
  python3 bench/torch_gpt2.py --config "$run/gptcu/config.yaml" --init "$run/init" "${torch_dev[@]}" \
    --find-max-batch "$(echo "$batches" | tr ' ' ',')" --json "$run/torch_maxbatch.json" 2>&1 |
    tee "$run/torch_maxbatch.log" | grep -E '^batch' || true
  echo "== largest micro-batch, gptcu (tries: $batches)"
  largest=0
  for b in $batches; do
    if "$gptcu" pretrain --config "$config" "${sets[@]}" "${dev_sets[@]}" --set "train.batch_size=$b" \
        --set train.grad_accum_steps=1 --set train.eval_every=0 --set train.eval_steps=1 \
        --set train.checkpoint_every=0 --set "run.dir=$run/maxbatch_$b" --stop-after 2 > "$run/maxbatch_$b.log" 2>&1; then
      peak=$(grep -oE 'memory: peak [^(]*' "$run/maxbatch_$b.log" | sed 's/memory: peak //' || true)
      echo "batch $b: fits${peak:+, peak $peak}"
      largest=$b
      rm -rf "$run/maxbatch_$b"
    elif grep -qiE 'out of (GPU )?memory|OutOfMemory|CUDA_ERROR_OUT_OF_MEMORY|cudaErrorMemoryAllocation' \
        "$run/maxbatch_$b.log"; then
      echo "batch $b: out of memory"
      break
    else
      echo "batch $b: failed, not for memory (see $run/maxbatch_$b.log):"
      tail -n 2 "$run/maxbatch_$b.log"
      break
    fi
  done
  echo "{\"largest_batch_size\": $largest}" > "$run/gptcu_maxbatch.json"
fi

stamp=$(date -u +%Y-%m-%d)
slug=$(echo "$gpu" | tr '[:upper:]' '[:lower:]' | sed -E 's/^nvidia //; s/[^a-z0-9]+/-/g; s/^-|-$//g')
[ "$device" = cpu ] && slug=cpu-dryrun
result="$out_dir/${stamp}-${slug}-train.md"
python3 - "$run" "$config" "$steps" "$gpu" "$result" "${sets[*]:-}" <<'PY'
import json, os, re, subprocess, sys
import yaml
run, config, steps, gpu, out, sets = sys.argv[1:7]
rows = [json.loads(l) for l in open(f"{run}/gptcu/metrics.jsonl") if l.strip()]
g = json.load(open(f"{run}/gptcu/summary.json"))
t = json.load(open(f"{run}/torch.json"))
log = open(f"{run}/gptcu.log").read()
tokens_per_step = t["tokens_per_step"]
# gptcu's steady tokens/s: the same steps as PyTorch's (after its first few), from metrics.jsonl.
# gptcu reads its losses back only at log lines (train.log_every), so time_s is exact there and
# spread evenly over the steps in between: start the steady stretch at the first exact row at or
# after PyTorch's first steady step.
skip = t["steady_from_step"] - 1
times = [r["time_s"] for r in rows]
log_every = int(yaml.safe_load(open(f"{run}/gptcu/config.yaml"))["train"]["log_every"])
exact = [i for i, r in enumerate(rows) if r["step"] == 1 or r["step"] % log_every == 0]
start = next((i for i in exact if i >= skip - 1), len(rows) - 1) if skip > 0 else -1
steady = times[-1] - (times[start] if start >= 0 else 0.0)
g_tps = tokens_per_step * (len(rows) - 1 - start) / steady if steady > 0 else float("nan")
fpt = t["flops_per_token"]
gemm, peak = t.get("gemm_flops_measured"), t.get("datasheet_flops")
m = re.search(r"memory: peak (.*?) on ", log)
g_mem = m.group(1) if m else "-"
def maxbatch(path):
    try:
        return json.load(open(path))["largest_batch_size"]
    except (OSError, KeyError, ValueError):
        return None
gb, tb = maxbatch(f"{run}/gptcu_maxbatch.json"), maxbatch(f"{run}/torch_maxbatch.json")

def fmt(v, spec):
    return "-" if v is None else format(v, spec)
def ratio(a, b):
    return f"{a / b:.2f}" if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b else "-"
table = [("tokens/s (steady)", g_tps, t["tokens_per_s"], ",.0f"),
         ("tokens/s (all steps)", g["tokens_per_s"], t["tokens_per_s_all"], ",.0f"),
         ("ms per step (steady)", 1e3 * tokens_per_step / g_tps, 1e3 * tokens_per_step / t["tokens_per_s"], ".1f")]
if gemm:
    table.append(("MFU vs measured bf16 GEMM (%)", 100 * fpt * g_tps / gemm, 100 * t["mfu_measured"], ".1f"))
if peak:
    table.append(("MFU vs datasheet peak (%)", 100 * fpt * g_tps / peak, 100 * t["mfu_datasheet"], ".1f"))
table.append((f"loss after {len(rows)} steps", rows[-1]["loss"], t["losses"][-1], ".4f"))
commit = os.environ.get("GPTCU_COMMIT") or subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                                          text=True).stdout.strip()  # no .git on a GPU machine
date = subprocess.run(["date", "-u", "+%F %T"], capture_output=True, text=True).stdout.strip()
lines = [f"## {os.path.basename(config)} on {gpu}: gptcu vs PyTorch, {len(rows)} steps",
         f"date (UTC) {date} | commit {commit} | torch {t['torch_version']} | {t['params']:,} parameters, "
         f"{fpt / 1e9:.3f} GFLOP/token (6N + 6LTC) | {t['batch_size']} x {t['block_size']} x "
         f"{t['grad_accum_steps']} = {tokens_per_step:,} tokens/step | PyTorch: {t['dtype']}"
         f"{' + torch.compile' if t['compile'] else ''}"
         + (f" | bf16 GEMM measured {gemm / 1e12:.0f} TFLOP/s" if gemm else "")
         + (f", datasheet {peak / 1e12:.0f} TFLOP/s" if peak else "")
         + (f" | overrides: {sets}" if sets else ""),
         f"tokens/s (steady) leaves out the first {skip} step(s) on both sides (compilation, allocator warm-up).",
         "", "| metric | gptcu | PyTorch | gptcu / PyTorch |", "|---|---|---|---|"]
for name, a, b, spec in table:
    lines.append(f"| {name} | {fmt(a, spec)} | {fmt(b, spec)} | {ratio(a, b)} |")
if "peak_memory_allocated" in t:
    lines.append(f"| peak GPU memory | {g_mem} | {t['peak_memory_allocated'] / 2**30:.2f} GiB allocated, "
                 f"{t['peak_memory_reserved'] / 2**30:.2f} GiB reserved | - |")
if gb is not None or tb is not None:
    lines.append(f"| largest micro-batch (of those tried) | {fmt(gb, 'd')} | {fmt(tb, 'd')} | {ratio(gb, tb)} |")
lines += ["", "First losses (same initial weights, same batches):", "",
          "| step | gptcu | PyTorch | difference |", "|---|---|---|---|"]
for i, r in enumerate(rows[:50]):
    tl = t["losses"][i]
    lines.append(f"| {r['step']} | {r['loss']:.4f} | {tl:.4f} | {r['loss'] - tl:+.4f} |")
text = "\n".join(lines) + "\n"
print(text)
with open(out, "a") as f:
    f.write(text + "\n")
print("appended to", out)
PY
