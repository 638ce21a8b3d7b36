#!/usr/bin/env python3
"""bench/torch_kernels.py: PyTorch's time for every op of `gptcu bench kernels`, same shapes, same method.

    python3 bench/torch_kernels.py [--csv torch.csv] [--op NAME ...] [--tokens N ...] [--modes eager,compile]
                                   [--runs 50] [--warmup 5] [--dtype bf16|f32]
    python3 bench/torch_kernels.py --device cpu --quick      # a smoke check of the script on tiny shapes
    python3 bench/compare_kernels.py ours.csv torch.csv      # side by side with gptcu's rows
    python3 bench/torch_kernels.py --op attention            # every attention row (as gptcu's --op attention)

Every op is timed eagerly and through torch.compile (dynamic=False, torch._dynamo.reset() before each
case so that no case falls off the recompile limit), with the method of kernels/bench/harness.h: CUDA
events around the op alone on one stream, an L2 flush (a buffer twice the L2 size written) before
each run, 5 warm-ups (the compilation happens there), the median of 50 runs.

The ops compute what gptcu's do (kernels/cuda/cuda_kernels.h), including "+=" into gradients:
    residual a + b | gelu(tanh) | aten.native_layer_norm and its backward | add + layer norm |
    softmax and aten._softmax_backward_data | F.cross_entropy on bf16 logits, forward, backward
    (autograd.grad of the per-row losses) and forward + backward (autograd on the mean: the fused
    row) | the weighted mean of the losses | F.embedding + positions, aten.embedding_dense_backward |
    the bias gradient | linears through F.linear (the weight stored as gptcu stores it: (C, OC) for
    the layers, (OC, C) for the tied head), GELU after the fc one, backward through addmm_ |
    F.scaled_dot_product_attention(is_causal=True) on the packed qkv, backward through autograd |
    the squared gradient norm | torch.optim.AdamW(fused=True) over GPT-2 124M's fp32 parameters.
The flash_attention_* rows (forward, backward, forward + backward at the FlashAttention-2 paper's
shapes, bf16 only) time F.scaled_dot_product_attention(is_causal=True) under
torch.nn.attention.sdpa_kernel with one backend each, named in the mode column: "flash"
(SDPBackend.FLASH_ATTENTION) and "cudnn" (SDPBackend.CUDNN_ATTENTION); they run with the eager mode
(torch.compile has nothing to change in one library kernel). q, k, v are (B, NH, T, hs) views of a
packed (B, T, 3, NH, hs) tensor, as gptcu reads them in place; the backward returns dq, dk, dv. A
backend this PyTorch or GPU lacks prints a row "unavailable: why" instead of a time.
Rates use gptcu's byte and FLOP counts for the op (kernels/bench/kernel_bench.cpp), so for one op a
rate ratio is the inverse time ratio; the percentages are of the ceilings measured here by PyTorch
(copy_ of 1 GiB, torch.mm bf16 8192^3). Names and shape strings equal gptcu's, so the CSVs join.
CSV columns: op,shape,dtype,mode,median_us,rate,unit,pct_peak (mode: eager, compile, flash or cudnn). A case that fails (out of memory, an op
missing in this PyTorch) prints one line on stderr and the rest go on.
"""
import argparse
import contextlib
import math
import os
import re
import statistics
import sys
import time
from dataclasses import dataclass


@dataclass
class Sizes:
    """GPT-2 124M (kernels/bench/kernel_bench.h); --quick shrinks them for a smoke check."""
    C: int = 768
    NH: int = 12
    layers: int = 12
    V: int = 50304
    Vp: int = 50304
    max_T: int = 1024
    copy_bytes: int = 1 << 30
    gemm: int = 8192
    # flash attention rows: tokens per batch (B = flash_tokens / T), C = NH * hs, the T values
    flash_tokens: int = 16384
    flash_C: int = 2048
    flash_T: tuple = (512, 1024, 2048, 4096, 8192)


QUICK = Sizes(C=64, NH=4, layers=2, V=512, Vp=512, max_T=64, copy_bytes=1 << 24, gemm=256,
              flash_tokens=256, flash_C=256, flash_T=(64, 128))


def flash_shapes(z):
    """(B, NH, T, hs) of the flash attention rows: kernel_bench.h's flash_bench_shapes(), keep in step."""
    return [(z.flash_tokens // T, z.flash_C // hs, T, hs) for hs in (64, 128) for T in z.flash_T]


def bench_ops():
    """The op list (in order) and the --op groups of `gptcu bench kernels`, read from its one
    definition, kernels/bench/kernel_bench.h (kernel_bench_ops, kernel_bench_group)."""
    header = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "kernels", "bench", "kernel_bench.h")
    text = open(header).read()
    names = re.compile(r'"([a-z0-9_]+)"')
    ops = names.findall(text.split("kernel_bench_ops() {", 1)[1].split("return ops;", 1)[0])
    groups = {}
    body = text.split("kernel_bench_group(const std::string& name) {", 1)[1].split("return {};", 1)[0]
    for name, members in re.findall(r'if \(name == "([a-z_]+)"\)\s*return \{([^}]*)\}', body):
        groups[name] = names.findall(members)
    if not ops or "attention" not in groups:
        raise SystemExit(f"error: cannot read the op list from {header}")
    return ops, groups


# The shapes are those of kernel_bench.cpp: a change there needs the same change here.
OPS, GROUPS = bench_ops()
FLASH_OPS = GROUPS["attention"][2:]
EAGER_ONLY = {"peak_copy", "peak_gemm", "adamw_update"}  # nothing for the compiler to fuse; run whatever --modes
CSV_HEADER = "op,shape,dtype,mode,median_us,rate,unit,pct_peak"


def gpt2_parameters(z):
    """(elements, weight decay) of every GPT-2 parameter tensor, as kernel_bench.cpp lists them."""
    C = z.C
    p = [(z.Vp * C, 0.1), (z.max_T * C, 0.1)]
    for _ in range(z.layers):
        p += [(C, 0.0), (C, 0.0), (C * 3 * C, 0.1), (3 * C, 0.0), (C * C, 0.1), (C, 0.0),
              (C, 0.0), (C, 0.0), (C * 4 * C, 0.1), (4 * C, 0.0), (4 * C * C, 0.1), (C, 0.0)]
    p += [(C, 0.0), (C, 0.0)]
    return p


class Unavailable(Exception):
    """A case this PyTorch or GPU cannot run (an SDPA backend): reported as a row, not a failure."""


class Bench:
    def __init__(self, args, torch, sizes):
        self.args, self.torch, self.z = args, torch, sizes
        self.dev = torch.device(args.device)
        self.cuda = self.dev.type == "cuda"
        self.dtype = torch.bfloat16 if args.dtype == "bf16" else torch.float32
        self.s = 2 if args.dtype == "bf16" else 4
        self.peak_gbps = self.peak_tflops = 0.0
        self.failures = 0
        self.csv = open(args.csv, "w") if args.csv else None
        if self.csv:
            self.csv.write(CSV_HEADER + "\n")
            self.csv.flush()
        self.flush_buf = None
        if self.cuda:
            prop = torch.cuda.get_device_properties(self.dev)
            l2 = getattr(prop, "L2_cache_size", 0) or (64 << 20)
            self.flush_buf = torch.empty(2 * l2, dtype=torch.uint8, device=self.dev)
            name = f"{prop.name} ({prop.multi_processor_count} SMs, L2 {l2 / 2**20:.0f} MiB)"
        else:
            name = f"CPU ({torch.get_num_threads()} threads; no L2 flush, host timer)"
        print(f"torch_kernels.py: PyTorch {torch.__version__} on {name}, dtype {args.dtype}, modes {args.modes}")
        print(f"median of {args.runs} runs after {args.warmup} warm-ups; rates over gptcu's bytes/FLOPs per op")
        print(f"{'op':28} {'shape':36} {'mode':8} {'median us':>11} {'rate':>10} {'unit':8} {'% peak':>7}")
        sys.stdout.flush()

    def wants(self, op):
        return not self.args.op or any(op == o or op in GROUPS.get(o, []) for o in self.args.op)

    # ---- timing -------------------------------------------------------------------------
    def time_us(self, fn, warmup=None):
        torch, a = self.torch, self.args
        for _ in range(a.warmup if warmup is None else warmup):
            self.flush()
            fn()
        if not self.cuda:
            times = []
            for _ in range(a.runs):
                t0 = time.perf_counter()
                fn()
                times.append(1e6 * (time.perf_counter() - t0))
            return statistics.median(times)
        ev = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)) for _ in range(a.runs)]
        for start, stop in ev:
            self.flush()
            start.record()
            fn()
            stop.record()
        torch.cuda.synchronize()
        return statistics.median(1e3 * start.elapsed_time(stop) for start, stop in ev)

    def flush(self):
        if self.flush_buf is not None:
            self.flush_buf.fill_(1)

    def sync(self):
        if self.cuda:
            self.torch.cuda.synchronize()

    def emit(self, op, shape, mode, us, rate, unit, pct):
        print(f"{op:28} {shape:36} {mode:8} {us:11.1f} {rate:10.1f} {unit:8} {pct:7.1f}")
        sys.stdout.flush()
        if self.csv:
            self.csv.write(f"{op},{shape},{self.args.dtype},{mode},{us:.3f},{rate:.3f},{unit},{pct:.2f}\n")
            self.csv.flush()

    def compile(self, fn, mode):
        if mode == "eager":
            return fn
        self.torch._dynamo.reset()  # a fresh cache per case: never the recompile limit's eager fallback
        return self.torch.compile(fn, dynamic=False)

    def case(self, op, shape, amount, unit, setup, force=False, modes=None, context=None):
        """setup(mode) -> a zero-argument callable that runs the op once (its inputs made by setup).
        amount: bytes (unit GB/s) or FLOPs (unit TFLOP/s). force: run even if --op does not name it.
        modes: the modes to run (default: --modes, or eager alone for EAGER_ONLY ops); context(mode):
        a context manager around setup and timing (the SDPA backend). setup raising Unavailable prints
        an "unavailable" row (not a failure)."""
        if not force and not self.wants(op):
            return
        if modes is None:
            modes = ["eager"] if op in EAGER_ONLY else self.args.modes
        for mode in modes:
            try:
                with context(mode) if context else contextlib.nullcontext():
                    fn = setup(mode)
                    self.sync()
                    us = self.time_us(fn, warmup=max(self.args.warmup, 1))
                    del fn
            except Unavailable as e:
                print(f"{op:28} {shape:36} {mode:8} unavailable: {e}")
                sys.stdout.flush()
                self.release()
                continue
            except Exception as e:  # noqa: BLE001 - one failing case must not stop the others
                self.failures += 1
                msg = str(e).strip().splitlines()[0][:200] if str(e).strip() else type(e).__name__
                print(f"{op:28} {shape:36} {mode:8} failed: {type(e).__name__}: {msg}", file=sys.stderr)
                sys.stderr.flush()
                self.release()
                continue
            self.release()
            if unit == "GB/s":
                rate = amount / us / 1e3
                pct = 100.0 * rate / self.peak_gbps if self.peak_gbps else 0.0
            else:
                rate = amount / us / 1e6
                pct = 100.0 * rate / self.peak_tflops if self.peak_tflops else 0.0
            if op == "peak_copy":
                self.peak_gbps, pct = rate, 100.0
            if op == "peak_gemm":
                self.peak_tflops, pct = rate, 100.0
            self.emit(op, shape, mode, us, rate, unit, pct)

    def release(self):
        if self.cuda:
            self.torch.cuda.empty_cache()

    # ---- inputs -------------------------------------------------------------------------
    def randn(self, *shape, std=1.0, mean=0.0, dtype=None):
        t = self.torch.randn(*shape, device=self.dev, dtype=dtype or self.dtype)
        return t.mul_(std).add_(mean) if (std != 1.0 or mean != 0.0) else t

    def randint(self, hi, *shape):
        return self.torch.randint(0, hi, shape, device=self.dev, dtype=self.torch.long)


def run(b):
    torch, z, s = b.torch, b.z, b.s
    F = torch.nn.functional
    aten = torch.ops.aten

    # ---- the two ceilings ------------------------------------------------------------------
    nbytes = z.copy_bytes

    def copy_setup(mode):
        src = torch.full((nbytes,), 0x5a, dtype=torch.uint8, device=b.dev)
        dst = torch.empty_like(src)
        return lambda: dst.copy_(src)
    # The percentages need the ceilings: they run whatever --op names (force).
    b.case("peak_copy", f"bytes={nbytes}", 2.0 * nbytes, "GB/s", copy_setup, force=True)

    g = z.gemm

    def gemm_setup(mode):
        x = b.randn(g, g, dtype=torch.bfloat16)
        y = b.randn(g, g, dtype=torch.bfloat16)
        return lambda: torch.mm(x, y)
    gemm_shape = f"M={g} N={g} K={g} bf16"
    b.case("peak_gemm", gemm_shape, 2.0 * g * g * g, "TFLOP/s", gemm_setup, force=True)

    for tokens in b.args.tokens:
        run_tokens(b, F, aten, tokens)
    run_flash(b)
    run_parameters(b)


def run_tokens(b, F, aten, N):
    torch, z, s = b.torch, b.z, b.s
    T = min(N, z.max_T)
    B = N // T
    C, NH, V, Vp = z.C, z.NH, z.V, z.Vp
    hs = C // NH
    eps = 1e-5
    nc = f"N={N} C={C}"

    # residual: read a, b, write out | read dout, read + write da, db
    n = N * C

    def residual_fwd(mode):
        a, c = b.randn(N, C), b.randn(N, C)
        f = b.compile(lambda x, y: x + y, mode)
        return lambda: f(a, c)
    b.case("residual_forward", nc, 3.0 * n * s, "GB/s", residual_fwd)

    def residual_bwd(mode):
        da, db, dout = b.randn(N, C), b.randn(N, C), b.randn(N, C)

        def f(da, db, dout):
            da.add_(dout)
            db.add_(dout)
        f = b.compile(f, mode)
        return lambda: f(da, db, dout)
    b.case("residual_backward", nc, 5.0 * n * s, "GB/s", residual_bwd)

    # gelu on (N, 4C): read inp, write out | read dout, inp, read + write dinp
    n4 = N * 4 * C
    shape = f"N={N} C={4 * C}"

    def gelu_fwd(mode):
        x = b.randn(N, 4 * C)
        f = b.compile(lambda x: F.gelu(x, approximate="tanh"), mode)
        return lambda: f(x)
    b.case("gelu_forward", shape, 2.0 * n4 * s, "GB/s", gelu_fwd)

    def gelu_bwd(mode):
        x, dout, dinp = b.randn(N, 4 * C), b.randn(N, 4 * C), b.randn(N, 4 * C)

        def f(dinp, dout, x):
            dinp.add_(aten.gelu_backward(dout, x, approximate="tanh"))
        f = b.compile(f, mode)
        return lambda: f(dinp, dout, x)
    b.case("gelu_backward", shape, 4.0 * n4 * s, "GB/s", gelu_bwd)

    # layernorm
    def ln_inputs():
        return b.randn(N, C), b.randn(C, std=0.1, mean=1.0), b.randn(C, std=0.1)

    def ln_fwd(mode):
        x, w, bias = ln_inputs()
        f = b.compile(lambda x, w, bias: aten.native_layer_norm(x, [C], w, bias, eps), mode)
        return lambda: f(x, w, bias)
    b.case("layernorm_forward", nc, 2.0 * n * s + 2.0 * C * s + 8.0 * N, "GB/s", ln_fwd)

    def ln_bwd(mode):
        x, w, bias = ln_inputs()
        _, mean, rstd = aten.native_layer_norm(x, [C], w, bias, eps)
        dout, dinp, dw, db = b.randn(N, C), b.randn(N, C), b.randn(C, std=0.1), b.randn(C, std=0.1)

        def f(dinp, dw, db, dout, x, w, bias, mean, rstd):
            gi, gw, gb = aten.native_layer_norm_backward(dout, x, [C], mean, rstd, w, bias, [True, True, True])
            dinp.add_(gi)
            dw.add_(gw)
            db.add_(gb)
        f = b.compile(f, mode)
        return lambda: f(dinp, dw, db, dout, x, w, bias, mean, rstd)
    b.case("layernorm_backward", nc, 4.0 * n * s + 5.0 * C * s + 8.0 * N, "GB/s", ln_bwd)

    def res_ln_fwd(mode):
        x, w, bias = ln_inputs()
        y = b.randn(N, C)

        def f(x, y, w, bias):
            res = x + y
            out, mean, rstd = aten.native_layer_norm(res, [C], w, bias, eps)
            return res, out, mean, rstd
        f = b.compile(f, mode)
        return lambda: f(x, y, w, bias)
    b.case("residual_layernorm_forward", nc, 4.0 * n * s + 2.0 * C * s + 8.0 * N, "GB/s", res_ln_fwd)

    # softmax over attention-like rows (B*NH*T, T)
    rows = B * NH * T
    ns = rows * T
    shape = f"rows={rows} C={T}"

    def sm_fwd(mode):
        x = b.randn(rows, T)
        f = b.compile(lambda x: torch.softmax(x, -1), mode)
        return lambda: f(x)
    b.case("softmax_forward", shape, 2.0 * ns * s, "GB/s", sm_fwd)

    def sm_bwd(mode):
        x, dout, dinp = b.randn(rows, T), b.randn(rows, T), b.randn(rows, T)
        out = torch.softmax(x, -1)

        def f(dinp, dout, out):
            dinp.add_(aten._softmax_backward_data(dout, out, -1, out.dtype))
        f = b.compile(f, mode)
        return lambda: f(dinp, dout, out)
    b.case("softmax_backward", shape, 4.0 * ns * s, "GB/s", sm_bwd)

    # cross-entropy over (N, Vp) bf16 logits
    shape = f"N={N} V={V} Vp={Vp}"

    def ce_inputs():
        return b.randn(N, Vp), b.randint(V, N)

    def ce_losses(logits, targets):
        return F.cross_entropy(logits[:, :V] if Vp != V else logits, targets, reduction="none")

    def ce_fwd(mode):
        logits, targets = ce_inputs()
        f = b.compile(ce_losses, mode)
        return lambda: f(logits, targets)
    b.case("cross_entropy_forward", shape, 1.0 * N * V * s + 12.0 * N, "GB/s", ce_fwd)

    def ce_bwd(mode):
        logits, targets = ce_inputs()
        logits.requires_grad_(True)
        dlogits = b.randn(N, Vp, std=1e-3)
        dlosses = torch.full((N,), 1.0 / N, device=b.dev, dtype=b.dtype)
        losses = b.compile(ce_losses, mode)(logits, targets)  # the forward, untimed

        def step():
            (g,) = torch.autograd.grad(losses, logits, dlosses, retain_graph=True)
            dlogits.add_(g)
        return step
    b.case("cross_entropy_backward", shape, 3.0 * N * V * s + 12.0 * N, "GB/s", ce_bwd)

    def ce_fused(mode):
        logits, targets = ce_inputs()
        logits.requires_grad_(True)
        f = b.compile(lambda l, t: F.cross_entropy(l[:, :V] if Vp != V else l, t), mode)

        def step():
            loss = f(logits, targets)
            (g,) = torch.autograd.grad(loss, logits)
            return loss, g
        return step
    b.case("cross_entropy_fused", shape, 1.0 * N * V * s + 1.0 * N * Vp * s + 12.0 * N, "GB/s", ce_fused)

    # weighted mean of the per-token losses (fp32)
    shape = f"N={N}"

    def wm_inputs():
        return b.randn(N, dtype=torch.float32, mean=10.0), b.randint(V, N)

    def wm_forward(losses, targets):
        w = (targets >= 0).float()
        count = w.sum()
        return (w * losses).sum() / count, w, count

    def wm_fwd(mode):
        losses, targets = wm_inputs()
        f = b.compile(wm_forward, mode)
        return lambda: f(losses, targets)
    b.case("weighted_mean_forward", shape, 12.0 * N, "GB/s", wm_fwd)

    def wm_bwd(mode):
        losses, targets = wm_inputs()
        _, w, count = wm_forward(losses, targets)
        dlosses = b.randn(N, dtype=torch.float32, std=1e-3)
        dout = torch.ones((), device=b.dev, dtype=torch.float32)

        def f(dlosses, dout, w, count):
            dlosses.add_(dout * w / count)
        f = b.compile(f, mode)
        return lambda: f(dlosses, dout, w, count)
    b.case("weighted_mean_backward", shape, 12.0 * N, "GB/s", wm_bwd)

    # embedding: tokens (B, T), wte (Vp, C), wpe (T, C)
    shape = f"B={B} T={T} C={C} Vp={Vp}"
    tokens = b.randint(V, B, T)
    distinct = float(torch.unique(tokens).numel())

    def emb_fwd(mode):
        wte, wpe = b.randn(Vp, C, std=0.02), b.randn(T, C, std=0.02)
        f = b.compile(lambda tok, wte, wpe: F.embedding(tok, wte) + wpe, mode)
        return lambda: f(tokens, wte, wpe)
    b.case("embedding_forward", shape, 4.0 * N + distinct * C * s + 1.0 * T * C * s + n * s, "GB/s", emb_fwd)

    def emb_bwd(mode):
        dwte, dwpe, dout = b.randn(Vp, C, std=1e-3), b.randn(T, C, std=1e-3), b.randn(B, T, C)

        def f(dwte, dwpe, dout, tok):
            dwte.add_(aten.embedding_dense_backward(dout.reshape(N, C), tok.reshape(N), Vp, -1, False))
            dwpe.add_(dout.sum(0))
        f = b.compile(f, mode)
        return lambda: f(dwte, dwpe, dout, tokens)
    b.case("embedding_backward", shape, n * s + 4.0 * N + 2 * distinct * C * s + 2.0 * T * C * s, "GB/s", emb_bwd)

    # bias gradient over (N, 4C)
    OC = 4 * C

    def bias_bwd(mode):
        dout, dbias = b.randn(N, OC), b.randn(OC, std=1e-3)

        def f(dbias, dout):
            dbias.add_(dout.sum(0))
        f = b.compile(f, mode)
        return lambda: f(dbias, dout)
    b.case("bias_backward", f"N={N} OC={OC}", 1.0 * N * OC * s + 2.0 * OC * s, "GB/s", bias_bwd)

    # linears: (name, C, OC, weight stored (C, OC) [gptcu in_out] or (OC, C) [out_in], bias)
    for name, Ci, OCi, in_out, has_bias in [("qkv", C, 3 * C, True, True), ("attn_proj", C, C, True, True),
                                            ("fc", C, 4 * C, True, True), ("fc_proj", 4 * C, C, True, True),
                                            ("lm_head", C, Vp, False, False)]:
        shape = f"{name} N={N} C={Ci} OC={OCi}"
        flops = 2.0 * N * Ci * OCi

        def lin_inputs(Ci=Ci, OCi=OCi, in_out=in_out, has_bias=has_bias):
            x = b.randn(N, Ci)
            w = b.randn(Ci, OCi, std=0.02) if in_out else b.randn(OCi, Ci, std=0.02)
            bias = b.randn(OCi, std=0.02) if has_bias else None
            return x, w, bias

        def weight_oc_c(w, in_out=in_out):  # F.linear's (OC, C) view of the stored weight
            return w.t() if in_out else w

        def lin_fwd(mode, lin_inputs=lin_inputs, weight_oc_c=weight_oc_c):
            x, w, bias = lin_inputs()
            f = b.compile(lambda x, w, bias: F.linear(x, weight_oc_c(w), bias), mode)
            return lambda: f(x, w, bias)
        b.case("linear_forward", shape, flops, "TFLOP/s", lin_fwd)

        if name == "fc":
            def lin_gelu(mode, lin_inputs=lin_inputs, weight_oc_c=weight_oc_c):
                x, w, bias = lin_inputs()

                def f(x, w, bias):
                    pre = F.linear(x, weight_oc_c(w), bias)
                    return F.gelu(pre, approximate="tanh"), pre
                f = b.compile(f, mode)
                return lambda: f(x, w, bias)
            b.case("linear_forward_gelu", shape, flops, "TFLOP/s", lin_gelu)

        def lin_bwd(mode, lin_inputs=lin_inputs, in_out=in_out, Ci=Ci, OCi=OCi):
            x, w, bias = lin_inputs()
            dout = b.randn(N, OCi)
            dinp = b.randn(N, Ci, std=1e-3)
            dw = b.randn(*w.shape, std=1e-3)
            dbias = b.randn(OCi, std=1e-3) if bias is not None else None

            def f(dinp, dw, dbias, dout, x, w):
                if in_out:  # w (C, OC): dinp += dout @ w^T, dw += x^T @ dout
                    dinp.addmm_(dout, w.t())
                    dw.addmm_(x.t(), dout)
                else:       # w (OC, C): dinp += dout @ w,   dw += dout^T @ x
                    dinp.addmm_(dout, w)
                    dw.addmm_(dout.t(), x)
                if dbias is not None:
                    dbias.add_(dout.sum(0))
            f = b.compile(f, mode)
            return lambda: f(dinp, dw, dbias, dout, x, w)
        b.case("linear_backward", shape, 2 * flops, "TFLOP/s", lin_bwd)

    # causal attention on packed qkv (B, T, 3C), at GPT-2 shapes: the rows of gptcu's interim kernel
    shape = f"B={B} T={T} C={C} NH={NH}"
    flops = 2.0 * B * NH * T * T * hs

    def attend(qkv):
        q, k, v = qkv.view(B, T, 3, NH, hs).permute(2, 0, 3, 1, 4).unbind(0)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return y.transpose(1, 2).reshape(B, T, C)

    def att_fwd(mode):
        qkv = b.randn(B, T, 3 * C)
        f = b.compile(attend, mode)
        return lambda: f(qkv)
    b.case("attention_interim_forward", shape, flops, "TFLOP/s", att_fwd)

    def att_bwd(mode):
        qkv = b.randn(B, T, 3 * C).requires_grad_(True)
        dout, dqkv = b.randn(B, T, C), b.randn(B, T, 3 * C, std=1e-3)
        out = b.compile(attend, mode)(qkv)  # the forward, untimed

        def step():
            (g,) = torch.autograd.grad(out, qkv, dout, retain_graph=True)
            dqkv.add_(g)
        return step
    b.case("attention_interim_backward", shape, 2.5 * flops, "TFLOP/s", att_bwd)


def run_flash(b):
    """The flash_attention_* rows: SDPA under one backend each (mode column flash / cudnn)."""
    torch, F = b.torch, b.torch.nn.functional
    if "eager" not in b.args.modes or b.args.dtype != "bf16" or not any(b.wants(op) for op in FLASH_OPS):
        return  # one library kernel: nothing for torch.compile; bf16 only, as gptcu's kernel
    try:
        from torch.nn.attention import SDPBackend, sdpa_kernel
    except ImportError:
        SDPBackend = sdpa_kernel = None
    backends = {"flash": getattr(SDPBackend, "FLASH_ATTENTION", None),
                "cudnn": getattr(SDPBackend, "CUDNN_ATTENTION", None)}

    def context(mode):
        backend = backends[mode]
        return sdpa_kernel([backend]) if backend is not None else contextlib.nullcontext()

    for B, NH, T, hs in flash_shapes(b.z):
        shape = f"B={B} NH={NH} T={T} hs={hs}"  # kernel_bench.h's flash_bench_shape_str
        flops = 2.0 * B * NH * T * T * hs  # causal forward; backward 2.5x, forward + backward 3.5x

        def inputs(grad, B=B, NH=NH, T=T, hs=hs):
            qkv = b.randn(B, T, 3, NH, hs)
            q, k, v = (qkv[:, :, i].transpose(1, 2) for i in range(3))  # (B, NH, T, hs) views, packed strides
            if grad:  # leaves with the packed strides (detach keeps them)
                q, k, v = (x.detach().requires_grad_(True) for x in (q, k, v))
            return q, k, v

        def attend(q, k, v):
            return F.scaled_dot_product_attention(q, k, v, is_causal=True)

        def checked(mode, run):
            """run() once inside the backend's context: a backend that cannot run raises Unavailable."""
            if backends[mode] is None:
                raise Unavailable(f"this PyTorch ({torch.__version__}) has no torch.nn.attention backend '{mode}'")
            try:
                return run()
            except torch.cuda.OutOfMemoryError:
                raise
            except RuntimeError as e:
                first = str(e).strip().splitlines()[0][:160] if str(e).strip() else type(e).__name__
                raise Unavailable(first) from None

        def fwd(mode):
            q, k, v = inputs(False)
            checked(mode, lambda: attend(q, k, v))
            return lambda: attend(q, k, v)

        def bwd(mode, B=B, NH=NH, T=T, hs=hs):
            q, k, v = inputs(True)
            dout = b.randn(B, T, NH, hs).transpose(1, 2)
            out = checked(mode, lambda: attend(q, k, v))  # the forward, untimed

            def step():
                return torch.autograd.grad(out, (q, k, v), dout, retain_graph=True)
            checked(mode, step)  # the backend's backward may be missing where its forward is not
            return step

        def fwdbwd(mode, B=B, NH=NH, T=T, hs=hs):
            q, k, v = inputs(True)
            dout = b.randn(B, T, NH, hs).transpose(1, 2)

            def step():
                return torch.autograd.grad(attend(q, k, v), (q, k, v), dout)
            checked(mode, step)
            return step

        for op, amount, setup in [("flash_attention_forward", flops, fwd), ("flash_attention_backward", 2.5 * flops, bwd),
                                  ("flash_attention_fwdbwd", 3.5 * flops, fwdbwd)]:
            b.case(op, shape, amount, "TFLOP/s", setup, modes=list(backends), context=context)


def run_parameters(b):
    torch, z, s = b.torch, b.z, b.s
    params = gpt2_parameters(z)
    n = sum(p for p, _ in params)
    shape = f"params={n}"

    def ss(mode):
        grads = b.randn(n, std=1e-2)
        f = b.compile(lambda g: g.float().square().sum(), mode)
        return lambda: f(grads)
    b.case("sum_squares", shape, 1.0 * n * s, "GB/s", ss)

    def adamw(mode):
        # PyTorch's mixed-precision way: fp32 parameters and gradients (read p, g, m, v; write p, m, v:
        # 28 bytes per parameter, what gptcu's bf16 step moves with its fp32 master weights).
        ps = [torch.randn(k, device=b.dev).mul_(0.02) for k, _ in params]
        for p in ps:
            p.grad = torch.randn_like(p).mul_(1e-2)
        groups = [{"params": [p for p, (_, wd) in zip(ps, params) if wd > 0], "weight_decay": 0.1},
                  {"params": [p for p, (_, wd) in zip(ps, params) if wd == 0], "weight_decay": 0.0}]
        opt = torch.optim.AdamW(groups, lr=6e-4, betas=(0.9, 0.95), eps=1e-8, fused=b.cuda)
        return opt.step
    b.case("adamw_update", shape, 28.0 * n, "GB/s", adamw)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--csv", help="also write the rows here (" + CSV_HEADER + ")")
    ap.add_argument("--op", action="append", help="only this op (repeatable)")
    ap.add_argument("--tokens", type=int, nargs="+", help="N = B*T values (default 8192 65536)")
    ap.add_argument("--modes", default="eager,compile", help="comma-separated: eager, compile")
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--dtype", choices=["bf16", "f32"], default="bf16")
    ap.add_argument("--device", default="cuda", help="cuda (default) or cpu")
    ap.add_argument("--quick", action="store_true",
                    help="tiny shapes (C=64, V=512, T<=64), 3 runs, 1 warm-up: a smoke check, not a benchmark")
    args = ap.parse_args(argv)
    args.modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    for m in args.modes:
        if m not in ("eager", "compile"):
            ap.error(f"--modes: unknown mode '{m}' (eager, compile)")
    for op in args.op or []:
        if op not in OPS and op not in GROUPS:
            ap.error(f"--op '{op}' is not a benchmarked op (known: {', '.join(OPS)}; attention = all the attention rows)")
    sizes = QUICK if args.quick else Sizes()
    if args.quick:
        args.runs, args.warmup = min(args.runs, 3), min(args.warmup, 1)
    if not args.tokens:
        args.tokens = [256] if args.quick else [8192, 65536]
    for t in args.tokens:
        if t < 1 or t % min(t, sizes.max_T):
            ap.error(f"--tokens {t}: must be at most {sizes.max_T} or a multiple of it")

    import torch  # after the argument checks, so that --help and mistakes are fast
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("torch_kernels.py: error: no CUDA device visible to PyTorch (use --device cpu --quick for a smoke check)",
              file=sys.stderr)
        return 1
    b = Bench(args, torch, sizes)
    run(b)
    if b.failures:
        print(f"torch_kernels.py: {b.failures} case(s) failed (see above)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
