#!/usr/bin/env python3
"""test/dist/compare_safetensors.py A B TOL: every tensor of A and B (same names, shapes, F32)
agrees to TOL in max |a - b| / (1 + |b|); prints the worst. Exit 1 otherwise. (No numpy
needed: safetensors is an 8-byte header length, a JSON header, then the raw data.)"""
import json, struct, sys
from array import array


def load(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", (path, name, info["dtype"])
        begin, end = info["data_offsets"]
        out[name] = array("f", data[begin:end])
    return out


a, b, tol = load(sys.argv[1]), load(sys.argv[2]), float(sys.argv[3])
if sorted(a) != sorted(b):
    sys.exit(f"FAIL: different tensors: {sorted(set(a) ^ set(b))}")
worst, where = 0.0, ""
for name in a:
    if len(a[name]) != len(b[name]):
        sys.exit(f"FAIL: {name}: {len(a[name])} vs {len(b[name])} elements")
    for x, y in zip(a[name], b[name]):
        d = abs(x - y) / (1 + abs(y))
        if not d <= worst:  # also catches NaN
            worst, where = d, name
        if d != d:
            sys.exit(f"FAIL: {name}: NaN")
print(f"max relative difference {worst:.3g} (in {where or '-'}), tolerance {tol:g}")
sys.exit(0 if worst <= tol else 1)
