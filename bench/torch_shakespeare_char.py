#!/usr/bin/env python3
"""PyTorch (CPU) baseline of nanoGPT's shakespeare_char CPU recipe, byte-level.

This is the reference run that gptcu's C++ trainer is compared against (wall
time, training tokens/s, final validation loss). It trains exactly the same
model and recipe as gptcu:

  data       byte-level tokens (id = UTF-8 byte 0..255, id 256 = <|endoftext|>,
             unused here); vocab 257 padded to 384 for wte / LM head, the loss
             only looks at the first 257 logits. First 90% of tokens = train,
             last 10% = validation (no shuffling).
  model      GPT-2 as in nanoGPT's model.py with bias=True: n_layer 4, n_head 4,
             n_embd 128, block_size 64, dropout 0, pre-LayerNorm (eps 1e-5),
             learned position embeddings, tanh GELU, causal SDPA attention,
             LM head tied to wte, GPT-2 init (std 0.02, zero biases, residual
             projections std 0.02/sqrt(2*n_layer)).
  training   batch 12 x block 64, 2000 steps, AdamW(lr 1e-3, betas (0.9, 0.99),
             eps 1e-8, weight decay 0.1 on 2-D weights only), linear warm-up
             lr*(step+1)/100 for 100 steps, cosine decay to 1e-4 at max_steps,
             grad-norm clipping 1.0, no gradient accumulation. Random windows
             from the train split with a seeded generator.
  eval       every 250 steps and at the end: mean loss over --eval-steps random
             validation batches (same batches at every eval). Eval time is
             excluded from train_seconds / tokens_per_s, included in wall_seconds.

Run (from the repository root):

  pip install -r bench/requirements.txt
  python3 bench/torch_shakespeare_char.py                 # full recipe, all cores
  python3 bench/torch_shakespeare_char.py --max-steps 100 --eval-steps 20   # smoke test
  python3 bench/torch_shakespeare_char.py --threads 2 --json bench/results/torch.json

It prints a progress line every 50 steps and, at the end, one line
`RESULT {json}` with framework, torch version, threads, steps, tokens_per_step,
train_seconds, wall_seconds, tokens_per_s, tokens_per_s_median_step (from the
median step time; robust to other processes stealing cores), val_loss and
train_loss (mean of the last 50 steps). wall_seconds starts after the imports
(`import torch` itself takes ~2.5 s and is not counted; constructing AdamW
lazily imports more of torch, ~1.6 s, which is counted).

Timing note: with --threads equal to the core count, any other busy process
makes torch's thread pool stall badly (10x slowdowns were seen on a 2-core box
while a compiler ran), so benchmark on an otherwise idle machine.
"""

import argparse
import json
import os
import statistics
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gptcu_torch import GPT, lr_at  # noqa: E402  (the model and schedule twins of gptcu)

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_DATA = os.path.normpath(
    os.path.join(REPO_ROOT, "..", "shared", "data", "pretrain", "tinyshakespeare.txt"))

VOCAB_SIZE = 257          # 256 bytes + <|endoftext|>
PADDED_VOCAB = 384        # rounded up to a multiple of 128


# --------------------------------------------------------------------------
# Data, eval (the model and schedule: bench/gptcu_torch.py)
# --------------------------------------------------------------------------

def load_bytes(path):
    with open(path, "rb") as f:
        raw = f.read()
    data = torch.from_numpy(np.frombuffer(raw, dtype=np.uint8).astype(np.int64))
    n_train = int(0.9 * len(data))
    return data[:n_train], data[n_train:]


def get_batch(data, batch_size, block_size, gen):
    ix = torch.randint(len(data) - block_size, (batch_size,), generator=gen)
    offs = ix[:, None] + torch.arange(block_size)[None, :]
    return data[offs], data[offs + 1]


@torch.no_grad()
def evaluate(model, val_data, args):
    model.eval()
    gen = torch.Generator().manual_seed(args.seed + 1)   # same val batches every eval
    total = 0.0
    for _ in range(args.eval_steps):
        x, y = get_batch(val_data, args.batch_size, args.block_size, gen)
        total += model(x, y).item()
    model.train()
    return total / args.eval_steps


def fmt_time(s):
    s = int(round(s))
    return f"{s // 60}m{s % 60:02d}s"


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=DEFAULT_DATA)
    ap.add_argument("--max-steps", type=int, default=2000)
    ap.add_argument("--batch-size", type=int, default=12)
    ap.add_argument("--block-size", type=int, default=64)
    ap.add_argument("--n-layer", type=int, default=4)
    ap.add_argument("--n-head", type=int, default=4)
    ap.add_argument("--n-embd", type=int, default=128)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--min-lr", type=float, default=1e-4)
    ap.add_argument("--warmup-steps", type=int, default=100)
    ap.add_argument("--weight-decay", type=float, default=0.1)
    ap.add_argument("--grad-clip", type=float, default=1.0)
    ap.add_argument("--eval-interval", type=int, default=250)
    ap.add_argument("--eval-steps", type=int, default=200)
    ap.add_argument("--log-interval", type=int, default=50)
    ap.add_argument("--seed", type=int, default=1337)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--json", default=None, help="also write the RESULT json to this file")
    args = ap.parse_args()

    wall_t0 = time.perf_counter()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    train_data, val_data = load_bytes(args.data)
    model = GPT(args.n_layer, args.n_head, args.n_embd, args.block_size, VOCAB_SIZE, PADDED_VOCAB)
    n_params = sum(p.numel() for p in model.parameters())

    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": args.weight_decay},
         {"params": no_decay, "weight_decay": 0.0}],
        lr=args.lr, betas=(0.9, 0.99), eps=1e-8)

    tokens_per_step = args.batch_size * args.block_size
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, params {n_params:,} "
          f"(incl. padded wte), train tokens {len(train_data):,}, val tokens {len(val_data):,}, "
          f"tokens/step {tokens_per_step}", flush=True)

    gen = torch.Generator().manual_seed(args.seed)
    losses = []
    step_times = []
    train_seconds = 0.0
    val_loss = float("nan")
    interval_t, interval_steps = 0.0, 0

    model.train()
    for step in range(args.max_steps):
        t0 = time.perf_counter()
        lr = lr_at(step, args.lr, args.min_lr, args.warmup_steps, args.max_steps)
        for g in optimizer.param_groups:
            g["lr"] = lr
        x, y = get_batch(train_data, args.batch_size, args.block_size, gen)
        loss = model(x, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if args.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), args.grad_clip)
        optimizer.step()
        loss_val = loss.item()
        dt = time.perf_counter() - t0
        train_seconds += dt
        step_times.append(dt)
        interval_t += dt
        interval_steps += 1
        losses.append(loss_val)

        done = step + 1
        if done % args.log_interval == 0 or done == args.max_steps:
            tps = interval_steps * tokens_per_step / interval_t
            eta = (args.max_steps - done) * (train_seconds / done)
            print(f"step {done:5d}/{args.max_steps} | loss {loss_val:.4f} | lr {lr:.2e} | "
                  f"{tps:8.0f} tok/s | ETA {fmt_time(eta)} (train only)", flush=True)
            interval_t, interval_steps = 0.0, 0

        if done % args.eval_interval == 0 or done == args.max_steps:
            te = time.perf_counter()
            val_loss = evaluate(model, val_data, args)
            print(f"eval  step {done:5d} | val_loss {val_loss:.4f} | "
                  f"{time.perf_counter() - te:.1f}s", flush=True)

    wall_seconds = time.perf_counter() - wall_t0
    tail = losses[-50:]
    result = {
        "framework": "pytorch",
        "torch_version": torch.__version__,
        "threads": torch.get_num_threads(),
        "steps": args.max_steps,
        "tokens_per_step": tokens_per_step,
        "train_seconds": round(train_seconds, 3),
        "wall_seconds": round(wall_seconds, 3),
        "tokens_per_s": round(args.max_steps * tokens_per_step / train_seconds, 1),
        # robust to other processes stealing the cores now and then
        "tokens_per_s_median_step": round(tokens_per_step / statistics.median(step_times), 1),
        "val_loss": round(val_loss, 4),
        "train_loss": round(sum(tail) / len(tail), 4),
        "eval_steps": args.eval_steps,
        "seed": args.seed,
        "params": n_params,
    }
    line = json.dumps(result)
    print("RESULT " + line, flush=True)
    if args.json:
        with open(args.json, "w") as f:
            f.write(line + "\n")


if __name__ == "__main__":
    sys.exit(main())
