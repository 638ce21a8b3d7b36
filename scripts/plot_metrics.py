#!/usr/bin/env python3
"""Plot the loss curves of one or more gptcu runs (RUN/metrics.jsonl) into a PNG.

  python3 scripts/plot_metrics.py runs/shakespeare_char [runs/other ...] --out curves.png

Training loss (thin, smoothed over --smooth steps) and validation loss (markers) per run,
against the step. Needs matplotlib (pip install matplotlib); gptcu itself does not.
"""
import argparse
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def read(run):
    path = os.path.join(run, "metrics.jsonl")
    if not os.path.exists(path):
        sys.exit(f"error: {path} does not exist")
    rows = [json.loads(line) for line in open(path) if line.strip()]
    if not rows:
        sys.exit(f"error: {path} is empty")
    return rows


def smooth(values, k):
    out, acc = [], 0.0
    for i, v in enumerate(values):
        acc += v
        if i >= k:
            acc -= values[i - k]
        out.append(acc / min(i + 1, k))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--out", default="curves.png")
    ap.add_argument("--smooth", type=int, default=20)
    args = ap.parse_args()
    fig, ax = plt.subplots(figsize=(8, 5))
    for run in args.runs:
        rows = read(run)
        steps = [r["step"] for r in rows]
        line, = ax.plot(steps, smooth([r["loss"] for r in rows], args.smooth), lw=1,
                        label=f"{run} train")
        val = [(r["step"], r["val_loss"]) for r in rows if "val_loss" in r]
        if val:
            ax.plot(*zip(*val), "o-", color=line.get_color(), label=f"{run} val ({val[-1][1]:.4f})")
    ax.set_xlabel("step")
    ax.set_ylabel("loss (nats/token)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(args.out, dpi=100)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
