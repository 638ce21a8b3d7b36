#!/usr/bin/env python3
"""bench/check_safetensors.py: parity of model/safetensors.cpp with Hugging Face's safetensors.

Python writes py.safetensors; the C++ test "[parity]" in test_model reads it, checks every
tensor byte for byte, and writes cpp.safetensors; Python then reads that one back.

    pip install safetensors numpy
    python bench/check_safetensors.py --test-bin build/test/test_model

Not needed by the test suite (the C++ half is a hidden test that only this script runs).
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file, save_file

# The same tensors as in test/model/test_safetensors.cpp ("parity with the Python package").
EXPECT = {
    "f32": np.array([[-1.0, -0.5, 0.0], [0.5, 1.0, 1.5]], dtype=np.float32),
    "f64": np.array(3.25, dtype=np.float64),  # 0-d
    "i32": np.array([[-1, 0], [2147483647, -2147483648]], dtype=np.int32),
    "u16": np.array([0, 1, 65535, 7], dtype=np.uint16),
    "i64": np.array([1 << 40], dtype=np.int64),
    "empty": np.zeros((0, 3), dtype=np.float32),
    "u8": np.arange(5, dtype=np.uint8),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--test-bin", default="build/test/test_model", help="the test_model executable")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        save_file(EXPECT, os.path.join(tmp, "py.safetensors"), metadata={"writer": "python"})
        env = dict(os.environ, GPTCU_SAFETENSORS_PARITY_DIR=tmp)
        run = subprocess.run([args.test_bin, "[parity]"], env=env)
        if run.returncode != 0:
            print("FAIL: the C++ reader disagrees with the Python writer", file=sys.stderr)
            return 1
        path = os.path.join(tmp, "cpp.safetensors")
        got = load_file(path)
        with safe_open(path, framework="numpy") as f:
            meta = f.metadata()
        ok = meta == {"writer": "gptcu"} and sorted(got) == sorted(EXPECT)
        for name, want in EXPECT.items():
            g = got.get(name)
            same = g is not None and g.dtype == want.dtype and g.shape == want.shape and np.array_equal(g, want)
            print(f"  {name:6s} {str(want.dtype):8s} {str(want.shape):8s} {'ok' if same else 'MISMATCH'}")
            ok = ok and same
        print("safetensors parity:", "ok (Python -> C++ -> Python)" if ok else "FAIL")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
