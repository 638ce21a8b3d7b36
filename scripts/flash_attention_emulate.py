#!/usr/bin/env python3
"""scripts/flash_attention_emulate.py: a numpy model of the flash-attention kernels' arithmetic
(kernels/cuda/flash_attention_{fwd,bwd}.cu), to check the numerics without a GPU and to debug
them against a GPU run.

It reproduces, for one (batch, head) at a time:
  forward   the 64 x 64 tiles, the causal tile skipping and masks, the online softmax in log2
            units (running max m, running sum l of the fp32 p, bf16-rounded p into P V, the
            rescale of O), out = bf16(O / l), lse = m ln2 + ln l;
  backward  D = rowsum(dO * out) from the bf16 out, P = exp2(S scale log2e - lse log2e) in fp32,
            dS = bf16(P (dP - D) scale), dV = bf16(P)^T dO, dK = dS^T Q, dQ = dS K, then
            dqkv = bf16(dqkv0 + grad).
Only fp32 summation orders differ from the GPU (tensor cores accumulate in their own order).
It compares against the fp64 reference and a naive bf16 attention exactly as
test/kernels/test_flash_attention_cuda.cpp does and prints each error and the ratio to the test's
bound 2 * naive + 1e-5 (> 1 fails).

  python3 scripts/flash_attention_emulate.py                 # gradients from dqkv0 = 0
  python3 scripts/flash_attention_emulate.py --dqkv0 1.0     # "+=" into a random N(0, 1) dqkv0
  python3 scripts/flash_attention_emulate.py --heads 4 --reps 10 --T 7 64
Needs numpy only.
"""
import argparse

import numpy as np

F32 = np.float32
LOG2E = F32(1.4426950408889634)
LN2 = F32(0.6931471805599453)
BR = BC = 64  # the kernels' tile sizes (forward: query rows per block, keys per step)


def rb(x):
    """x rounded to bf16 (nearest-even) and back to fp32, like __float2bfloat16_rn."""
    u = np.asarray(x, dtype=F32).view(np.uint32).astype(np.uint64)
    u = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16) << 16
    return u.astype(np.uint32).view(F32)


def flash(q, k, v, do, g0):
    """The kernels: returns out, lse, and dqkv = bf16(g0 + grad) for [dq, dk, dv]."""
    T, hs = q.shape
    scale = F32(1 / np.sqrt(F32(hs)))
    scale_log2 = F32(scale * LOG2E)
    out = np.zeros((T, hs), F32)
    lse = np.zeros(T, F32)
    for q0 in range(0, T, BR):  # one block per query tile
        Q = q[q0:q0 + BR]
        qi = np.arange(q0, q0 + len(Q))[:, None]
        m = np.full((len(Q), 1), -np.inf, F32)
        l = np.zeros((len(Q), 1), F32)
        O = np.zeros((len(Q), hs), F32)
        for k0 in range(0, min(q0 + BR, T), BC):  # causal: key tiles up to the diagonal
            K, V = k[k0:k0 + BC], v[k0:k0 + BC]
            kj = np.arange(k0, k0 + len(K))[None, :]
            s2 = (Q @ K.T).astype(F32) * scale_log2
            valid = kj <= qi
            m_new = np.maximum(m, np.where(valid, s2, -np.inf).max(1, keepdims=True)).astype(F32)
            p = np.where(valid, np.exp2(s2 - m_new), 0).astype(F32)
            alpha = np.exp2(m - m_new).astype(F32)
            l = alpha * l + p.sum(1, keepdims=True, dtype=F32)
            m = m_new
            O = O * alpha + (rb(p) @ V).astype(F32)
        out[q0:q0 + len(Q)] = rb(O / l)
        lse[q0:q0 + len(Q)] = (m * LN2 + np.log(l))[:, 0]
    D = (do * out).sum(1, dtype=F32)
    i, j = np.arange(T)[:, None], np.arange(T)[None, :]
    P = np.where(j <= i, np.exp2((q @ k.T).astype(F32) * scale_log2 - (lse * LOG2E)[:, None]), 0).astype(F32)
    dS = rb(P * ((do @ v.T).astype(F32) - D[:, None]) * scale)
    grads = (dS @ k, dS.T @ q, rb(P).T @ do)
    return out, lse, [rb(g + d) for g, d in zip(g0, grads)]


def reference(q, k, v, do, g0):
    """fp64, on the same (bf16) inputs."""
    q, k, v, do = (x.astype(np.float64) for x in (q, k, v, do))
    T, hs = q.shape
    i, j = np.arange(T)[:, None], np.arange(T)[None, :]
    S = np.where(j <= i, q @ k.T / np.sqrt(hs), -np.inf)
    m = S.max(1, keepdims=True)
    e = np.exp(S - m)
    P = e / e.sum(1, keepdims=True)
    lse = (m + np.log(e.sum(1, keepdims=True)))[:, 0]
    dP = do @ v.T
    dS = P * (dP - (P * dP).sum(1, keepdims=True)) / np.sqrt(hs)
    return P @ v, lse, [g + d for g, d in zip(g0, (dS @ k, dS.T @ q, P.T @ do))]


def naive_bf16(q, k, v, do, g0):
    """Every op's output rounded to bf16, as in the test's naive_bf16()."""
    T, hs = q.shape
    scale = rb(1 / np.sqrt(hs))
    i, j = np.arange(T)[:, None], np.arange(T)[None, :]
    s = np.where(j <= i, rb(rb(q @ k.T) * scale), -np.inf)
    m = s.max(1, keepdims=True)
    e = np.exp(s - m).astype(F32)
    total = e.sum(1, keepdims=True, dtype=F32)
    P = rb(e / total)
    dp = rb(do @ v.T)
    dS = rb(rb(P * (dp - (P * dp).sum(1, keepdims=True, dtype=F32))) * scale)
    grads = (rb(dS @ k), rb(dS.T @ q), rb(P.T @ do))
    return rb(P @ v), (m + np.log(total))[:, 0], [rb(g + d) for g, d in zip(g0, grads)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--T", type=int, nargs="+", default=[1, 7, 64, 129, 1000, 1024])
    ap.add_argument("--hs", type=int, nargs="+", default=[64, 128])
    ap.add_argument("--heads", type=int, default=4, help="B * NH: errors are maxima over this many heads")
    ap.add_argument("--reps", type=int, default=1, help="random draws per (hs, T)")
    ap.add_argument("--dqkv0", type=float, default=0.0, help="std of the random dqkv the gradient is added to")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    names = ("out", "lse", "dq", "dk", "dv")
    worst = 0.0
    for hs in args.hs:
        for T in args.T:
            for _ in range(args.reps):
                err = {n: [0.0, 0.0] for n in names}  # kernel, naive
                for _ in range(args.heads):
                    q, k, v, do = (rb(rng.standard_normal((T, hs))) for _ in range(4))
                    g0 = [rb(rng.standard_normal((T, hs)) * args.dqkv0) for _ in range(3)]
                    ref, fl, nv = reference(q, k, v, do, g0), flash(q, k, v, do, g0), naive_bf16(q, k, v, do, g0)
                    flat = lambda r: [r[0], r[1], *r[2]]
                    for n, a, b, c in zip(names, flat(ref), flat(fl), flat(nv)):
                        err[n][0] = max(err[n][0], float(np.abs(b - a).max()))
                        err[n][1] = max(err[n][1], float(np.abs(c - a).max()))
                parts = []
                for n in names:
                    ratio = err[n][0] / (2 * err[n][1] + 1e-5)
                    worst = max(worst, ratio)
                    parts.append(f"{n} {err[n][0]:.2e}/{err[n][1]:.2e} ({ratio:.2f}){' FAIL' if ratio > 1 else ''}")
                print(f"hs={hs} T={T}: " + "  ".join(parts))
    print(f"kernel/naive max errors (ratio to the bound 2*naive+1e-5); worst ratio {worst:.2f}")


if __name__ == "__main__":
    main()
