#!/usr/bin/env python3
"""PyTorch twin of `gptcu pretrain` on token shards: the same model, weights, batches and updates.

Given a gptcu run config (configs/gpt2_124m.yaml, or a run's resolved RUN/config.yaml) and the
initial weights of a gptcu run (a checkpoint's model.safetensors), it trains exactly what gptcu
trains, so that the two loss curves can be laid side by side:

  weights    loaded from --init (gptcu writes them; see scripts/bench_train.sh for how to get
             the step-0 weights of a config), Conv1D (in, out) transposed into nn.Linear.
  data       the train/val shards of the prepared directory data.path, windows of T+1 tokens
             in gptcu's order (Philox-keyed Feistel permutation per epoch, data/loader.cpp);
             micro-batch k of the run = step * grad_accum_steps + micro.
  updates    AdamW (betas, eps, weight decay on 2-D parameters), gradient clipping without
             epsilon, the warm-up + cosine/linear/constant schedule, gradient accumulation:
             all from the config's train section, as train/trainer.cpp does.
  eval       mean loss of val batches 0..eval_steps-1 every eval_every steps and at max_steps.

On a GPU (the default for device: cuda): bf16 autocast with fp32 parameters (as gptcu's fp32
master weights), torch.compile, scaled_dot_product_attention (flash), fused AdamW. It measures a
large bf16 matmul at start-up and reports MFU = flops_per_token * tokens/s over (a) that measured
rate and (b) the datasheet bf16 dense peak, flops_per_token = 6N + 6*L*T*C.

  # CPU parity with gptcu (bench/check_torch_parity.sh):
  python3 bench/torch_gpt2.py --config RUN/config.yaml --init RUN0/checkpoints/step_00000000 \\
      --device cpu --dtype fp32 --json out.json
  # GPU throughput (scripts/bench_train.sh):
  python3 bench/torch_gpt2.py --config configs/gpt2_124m.yaml --init INIT --steps 50 --json out.json
  # the largest micro-batch that fits (tries each until out of memory):
  python3 bench/torch_gpt2.py --config configs/gpt2_124m.yaml --init INIT --find-max-batch 8,16,32,64

Prints a line per log_every steps and `RESULT {json}` at the end (the --json file has the
per-step losses, grad norms and times too). Needs torch, numpy, safetensors, pyyaml.
"""

import argparse
import gc
import glob
import json
import os
import statistics
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gptcu_torch import (ShardBatches, clip_grads_, gpt_from_gptcu_weights, load_config,  # noqa: E402
                         make_adamw, train_schedule)

# bf16 dense tensor-core peaks from the datasheets (FLOP/s), matched in this order by name.
DATASHEET_BF16 = [("H200", 989.4e12), ("GH200", 989.4e12), ("H100 PCIe", 756.5e12), ("H100 NVL", 835.5e12),
                  ("H100", 989.4e12), ("A100", 312e12), ("L40S", 362.05e12), ("A10G", 70e12)]


def datasheet_peak(name):
    for key, peak in DATASHEET_BF16:
        if key in name:
            return peak
    return None


def measure_bf16_gemm(device, n=8192, iters=20):
    """FLOP/s of an n x n x n bf16 matmul on this GPU (cuBLAS), the best of three timings."""
    a = torch.randn(n, n, device=device, dtype=torch.bfloat16)
    b = torch.randn(n, n, device=device, dtype=torch.bfloat16)
    for _ in range(3):
        a @ b
    best = 0.0
    for _ in range(3):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(iters):
            a @ b
        end.record()
        end.synchronize()
        best = max(best, 2.0 * n ** 3 * iters / (start.elapsed_time(end) / 1e3))
    del a, b
    torch.cuda.empty_cache()
    return best


def find_init(path):
    """--init: a model.safetensors, a checkpoint directory, or a run directory (its newest checkpoint)."""
    if os.path.isfile(path):
        return path
    for candidate in (os.path.join(path, "model.safetensors"),):
        if os.path.isfile(candidate):
            return candidate
    found = sorted(glob.glob(os.path.join(path, "checkpoints", "step_*", "model.safetensors")))
    if not found:
        raise SystemExit(f"error: --init {path}: no model.safetensors there (nor under checkpoints/step_*)")
    return found[-1]


class Runner:
    """The model, optimizer and data of one run, and a training step as gptcu takes it."""

    def __init__(self, cfg, args):
        self.cfg, self.args = cfg, args
        m, t = cfg["model"], cfg["train"]
        self.device = torch.device(args.device)
        self.cuda = self.device.type == "cuda"
        self.model = gpt_from_gptcu_weights(find_init(args.init), m["n_head"])
        got = (self.model.n_layer, self.model.n_embd, self.model.block_size)
        want = (m["n_layer"], m["n_embd"], m["block_size"])
        if got != want:
            raise SystemExit(f"error: --init has n_layer, n_embd, block_size = {got}, the config says {want}")
        self.model.to(self.device)
        self.data = ShardBatches(cfg["data"]["path"], m["block_size"], int(t["seed"]))
        if self.data.vocab_size > self.model.vocab_size:
            raise SystemExit(f"error: the data's vocabulary ({self.data.vocab_size}) is larger than the model's "
                             f"({self.model.vocab_size})")
        self.opt = make_adamw(self.model, cfg, fused=self.cuda)
        self.params = list(self.model.parameters())
        self.autocast = args.dtype == "bf16"
        self.forward = torch.compile(self.model) if args.compile else self.model
        self.schedule = train_schedule(cfg)

    def batch(self, split, index, B):
        x, y = split.batch(index, B)
        x, y = torch.from_numpy(x), torch.from_numpy(y)
        if self.cuda:
            return x.pin_memory().to(self.device, non_blocking=True), y.pin_memory().to(self.device, non_blocking=True)
        return x, y

    def loss(self, x, y):
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.autocast):
            return self.forward(x, y)

    def step(self, step, first_batch, B, accum):
        """One optimizer step on micro-batches first_batch .. first_batch+accum-1: (loss, norm, lr)."""
        lr = self.schedule(step)
        for g in self.opt.param_groups:
            g["lr"] = lr
        self.opt.zero_grad(set_to_none=True)
        loss_sum = torch.zeros((), device=self.device, dtype=torch.float64)
        for micro in range(accum):
            x, y = self.batch(self.data.train, first_batch + micro, B)
            loss = self.loss(x, y)
            (loss / accum).backward()
            loss_sum += loss.detach().double()
        norm = clip_grads_(self.params, self.cfg["train"]["grad_clip"])
        self.opt.step()
        return (loss_sum / accum).item(), norm.item(), lr

    @torch.no_grad()
    def evaluate(self, steps, B):
        total = 0.0
        for i in range(steps):
            x, y = self.batch(self.data.val, i, B)
            total += self.loss(x, y).item()
        return total / steps


def train(cfg, args):
    t = cfg["train"]
    B, accum = t["batch_size"], t["grad_accum_steps"]
    T = cfg["model"]["block_size"]
    steps = args.steps or t["max_steps"]
    run = Runner(cfg, args)
    model = run.model
    tokens_per_step = B * T * accum
    gemm = measure_bf16_gemm(run.device) if run.cuda else None
    name = torch.cuda.get_device_name(run.device) if run.cuda else "cpu"
    peak = datasheet_peak(name) if run.cuda else None
    print(f"torch {torch.__version__} | device {name} | {args.dtype}{' + compile' if args.compile else ''} | "
          f"params {model.num_parameters():,} | {model.flops_per_token() / 1e9:.3f} GFLOP/token | "
          f"tokens/step {tokens_per_step:,} ({B} x {T} x {accum})"
          + (f" | bf16 GEMM measured {gemm / 1e12:.0f} TFLOP/s" if gemm else "")
          + (f", datasheet {peak / 1e12:.0f}" if peak else ""), flush=True)

    losses, norms, lrs, times, evals = [], [], [], [], []
    wall0 = time.perf_counter()
    for step in range(steps):
        t0 = time.perf_counter()
        loss, norm, lr = run.step(step, step * accum, B, accum)  # .item() synchronises
        dt = time.perf_counter() - t0
        losses.append(loss)
        norms.append(norm)
        lrs.append(lr)
        times.append(dt)
        done = step + 1
        if done % t["log_every"] == 0 or done == 1 or done == steps:
            print(f"step {done:5d}/{steps} | loss {loss:.6f} | lr {lr:.2e} | norm {norm:.4f} | "
                  f"{tokens_per_step / dt:.0f} tok/s | {dt * 1e3:.1f} ms/step", flush=True)
        if (t["eval_every"] > 0 and done % t["eval_every"] == 0) or done == t["max_steps"]:
            val = run.evaluate(t["eval_steps"], B)
            evals.append({"step": done, "val_loss": val})
            print(f"step {done} | val loss {val:.6f} | train loss {loss:.6f}", flush=True)

    # tokens/s over the steps after the first few (torch.compile and the allocator warm up there)
    skip = min(args.skip_steps, max(0, steps - 1))
    steady = times[skip:]
    tps = tokens_per_step * len(steady) / sum(steady)
    result = {
        "framework": "pytorch", "torch_version": torch.__version__, "device": name, "dtype": args.dtype,
        "compile": args.compile, "steps": steps, "batch_size": B, "grad_accum_steps": accum, "block_size": T,
        "tokens_per_step": tokens_per_step, "params": model.num_parameters(),
        "flops_per_token": model.flops_per_token(),
        "tokens_per_s": tps, "tokens_per_s_median_step": tokens_per_step / statistics.median(steady),
        "tokens_per_s_all": tokens_per_step * steps / sum(times), "steady_from_step": skip + 1,
        "train_seconds": sum(times), "wall_seconds": time.perf_counter() - wall0,
        "train_loss": losses[-1], "val_loss": evals[-1]["val_loss"] if evals else None,
        "losses": losses, "grad_norms": norms, "lrs": lrs, "step_seconds": times, "evals": evals,
    }
    if run.cuda:
        flops = model.flops_per_token() * tps
        result.update({"gemm_flops_measured": gemm, "datasheet_flops": peak,
                       "mfu_measured": flops / gemm, "mfu_datasheet": flops / peak if peak else None,
                       "peak_memory_allocated": torch.cuda.max_memory_allocated(run.device),
                       "peak_memory_reserved": torch.cuda.max_memory_reserved(run.device)})
        print(f"MFU {100 * result['mfu_measured']:.1f}% of the measured bf16 GEMM rate"
              + (f", {100 * result['mfu_datasheet']:.1f}% of the datasheet peak" if peak else "")
              + f" | peak memory {result['peak_memory_allocated'] / 2**30:.2f} GiB allocated, "
              f"{result['peak_memory_reserved'] / 2**30:.2f} GiB reserved", flush=True)
    return result


def find_max_batch(cfg, args):
    """Tries each micro-batch size in order (a forward, backward and optimizer step each) and
    stops at the first that runs out of memory: the last one that ran is the largest."""
    run = Runner(cfg, args)
    largest, tried = 0, []
    for B in [int(b) for b in args.find_max_batch.split(",")]:
        try:
            torch.cuda.reset_peak_memory_stats(run.device)
            for i in range(2):
                run.step(0, i, B, 1)
            peak = torch.cuda.max_memory_allocated(run.device)
            tried.append({"batch_size": B, "fits": True, "peak_memory_allocated": peak})
            print(f"batch {B}: fits, peak {peak / 2**30:.2f} GiB", flush=True)
            largest = B
        except (torch.cuda.OutOfMemoryError, RuntimeError) as e:
            # inside torch.compile an OOM may come wrapped in another RuntimeError
            if not isinstance(e, torch.cuda.OutOfMemoryError) and "out of memory" not in str(e).lower():
                raise
            tried.append({"batch_size": B, "fits": False})
            print(f"batch {B}: out of memory", flush=True)
            break
        finally:
            run.opt.zero_grad(set_to_none=True)
            gc.collect()
            torch.cuda.empty_cache()
    return {"framework": "pytorch", "device": torch.cuda.get_device_name(run.device), "largest_batch_size": largest,
            "tried": tried}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", required=True, help="a gptcu run config (YAML)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config key")
    ap.add_argument("--init", required=True, help="gptcu weights: model.safetensors, a checkpoint or run directory")
    ap.add_argument("--steps", type=int, default=0, help="steps to run (0: train.max_steps); the schedule "
                    "still runs to max_steps, as gptcu's --stop-after")
    ap.add_argument("--device", default=None, help="cpu or cuda (default: the config's device)")
    ap.add_argument("--dtype", choices=["bf16", "fp32"], default=None,
                    help="bf16: autocast with fp32 parameters (default on a GPU); fp32 (default on the CPU)")
    ap.add_argument("--compile", action=argparse.BooleanOptionalAction, default=None,
                    help="torch.compile the model (default: on a GPU)")
    ap.add_argument("--skip-steps", type=int, default=3, help="steps left out of tokens/s (compile, warm-up)")
    ap.add_argument("--threads", type=int, default=os.cpu_count(), help="CPU threads")
    ap.add_argument("--find-max-batch", default=None, metavar="B1,B2,...",
                    help="GPU: find the largest micro-batch among these (ascending) instead of training")
    ap.add_argument("--json", default=None, help="also write the result (with per-step values) to this file")
    args = ap.parse_args()

    cfg = load_config(args.config, args.set)
    if args.device is None:
        args.device = "cuda" if str(cfg["device"]).startswith("cuda") else "cpu"
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        raise SystemExit(f"error: --device {args.device}: torch sees no CUDA GPU here")
    on_gpu = args.device.startswith("cuda")
    if args.dtype is None:
        args.dtype = "bf16" if on_gpu else "fp32"
    if args.compile is None:
        args.compile = on_gpu
    if args.dtype == "bf16" and not on_gpu:
        raise SystemExit("error: --dtype bf16 is for the GPU (gptcu trains in fp32 on the CPU)")
    if args.find_max_batch and not on_gpu:
        raise SystemExit("error: --find-max-batch needs a GPU")
    torch.set_num_threads(args.threads)
    if on_gpu and args.dtype == "bf16":  # the few fp32 matmuls outside autocast
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True

    result = find_max_batch(cfg, args) if args.find_max_batch else train(cfg, args)
    summary = {k: v for k, v in result.items() if not isinstance(v, list) or k == "tried"}
    print("RESULT " + json.dumps(summary), flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f)
            f.write("\n")


if __name__ == "__main__":
    sys.exit(main())
