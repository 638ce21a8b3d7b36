#!/usr/bin/env python3
"""bench/hh_split.py HH.jsonl.gz OUT_DIR: a fixed held-out split of hh-rlhf pairs for the CPU reward run.

Writes OUT_DIR/train.jsonl and OUT_DIR/heldout.jsonl (the original lines, ~80/20 by crc32 of the
line, so the split does not depend on anything but the data) and OUT_DIR/pretrain.jsonl:
{"text": chosen transcript} for the training pairs only, the pretraining corpus. No held-out
transcript reaches pretraining or reward training."""
import gzip
import json
import os
import sys
import zlib

src, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
lines = [l for l in gzip.open(src, "rt", encoding="utf-8").read().splitlines() if l.strip()]
train = [l for l in lines if zlib.crc32(l.encode()) % 5 != 0]
held = [l for l in lines if zlib.crc32(l.encode()) % 5 == 0]
for name, rows in (("train", train), ("heldout", held)):
    with open(os.path.join(out, name + ".jsonl"), "w", encoding="utf-8") as f:
        f.write("\n".join(rows) + "\n")
with open(os.path.join(out, "pretrain.jsonl"), "w", encoding="utf-8") as f:
    for l in train:
        f.write(json.dumps({"text": json.loads(l)["chosen"].strip()}, ensure_ascii=False) + "\n")
print(f"{len(lines)} pairs: {len(train)} train, {len(held)} held out -> {out}")
