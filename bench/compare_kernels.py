#!/usr/bin/env python3
"""bench/compare_kernels.py: gptcu's kernel times beside PyTorch's, op by op.

    build/gptcu bench kernels --csv ours.csv
    python3 bench/torch_kernels.py --csv torch.csv
    python3 bench/compare_kernels.py ours.csv torch.csv [--markdown]

Joins the two CSVs on (op, shape). ours.csv has gptcu's columns (op,shape,dtype,median_us,rate,unit,
pct_peak); torch.csv has a mode column too (eager, compile; and for the flash_attention_* rows the
SDPA backend: flash, cudnn). For each row it prints the median times and the ratios torch time /
gptcu time (equal to gptcu's TFLOP/s or GB/s / torch's, as both count the same work): above 1 gptcu
is faster, below 1 PyTorch is. The flash/gptcu and cudnn/gptcu columns (gptcu's flash attention
against PyTorch's flash and cuDNN attention backends) appear when torch.csv has such rows. The
ceilings (peak_copy, peak_gemm) are compared the same way: they should agree within a few percent on
one GPU, else the two runs did not see the same machine. A row missing on one side shows "-"; the
last lines give the geometric mean of each ratio over the ops both sides ran.
"""
import argparse
import csv
import math
import sys

OURS_COLUMNS = ["op", "shape", "dtype", "median_us", "rate", "unit", "pct_peak"]
TORCH_COLUMNS = ["op", "shape", "dtype", "mode", "median_us", "rate", "unit", "pct_peak"]


def read_rows(path, columns, default_mode=None):
    """{(op, shape): {mode: row}} from a CSV with at least `columns`; a bad file is an error naming it."""
    try:
        f = open(path, newline="")
    except OSError as e:
        sys.exit(f"compare_kernels.py: error: cannot read {path}: {e.strerror}")
    with f:
        reader = csv.DictReader(f)
        missing = [c for c in columns if c not in (reader.fieldnames or [])]
        if missing:
            sys.exit(f"compare_kernels.py: error: {path}: no column(s) {', '.join(missing)} "
                     f"(header: {','.join(reader.fieldnames or [])})")
        rows = {}
        order = []
        for n, r in enumerate(reader, 2):
            try:
                r["median_us"] = float(r["median_us"])
                r["rate"] = float(r["rate"])
                r["pct_peak"] = float(r["pct_peak"])
            except (TypeError, ValueError):
                sys.exit(f"compare_kernels.py: error: {path}:{n}: not a number in {r}")
            key = (r["op"], r["shape"])
            if key not in rows:
                order.append(key)
            rows.setdefault(key, {})[r.get("mode") or default_mode] = r
    return rows, order


def ratio(torch_row, ours_row):
    if not torch_row or not ours_row or ours_row["median_us"] <= 0:
        return None
    return torch_row["median_us"] / ours_row["median_us"]


def compare(ours, ours_order, torch, torch_order):
    """The joined table: a list of dicts, gptcu's order first, then rows only PyTorch has."""
    keys = list(ours_order) + [k for k in torch_order if k not in ours]
    table = []
    for key in keys:
        o = ours.get(key, {}).get("gptcu")
        e = torch.get(key, {}).get("eager")
        c = torch.get(key, {}).get("compile")
        fl = torch.get(key, {}).get("flash")
        cu = torch.get(key, {}).get("cudnn")
        table.append({"op": key[0], "shape": key[1], "ours": o, "eager": e, "compile": c, "flash": fl, "cudnn": cu,
                      "vs_eager": ratio(e, o), "vs_compile": ratio(c, o),
                      "vs_flash": ratio(fl, o), "vs_cudnn": ratio(cu, o)})
    return table


def geomean(xs):
    xs = [x for x in xs if x is not None and x > 0]
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else None


def fmt_us(row):
    return f"{row['median_us']:.1f}" if row else "-"


def fmt_ratio(x):
    return f"{x:.3g}x" if x is not None else "-"


def fmt_rate(row):
    return f"{row['rate']:.1f} {row['unit']} ({row['pct_peak']:.0f}%)" if row else "-"


def render(table, markdown=False):
    # the SDPA backend columns only when some row has them (the flash_attention_* rows)
    backends = [m for m in ("flash", "cudnn") if any(t[m] for t in table)]
    head = (["op", "shape", "gptcu us", "eager us", "compile us"] + [f"{m} us" for m in backends] +
            ["eager/gptcu", "compile/gptcu"] + [f"{m}/gptcu" for m in backends] + ["gptcu rate (% peak)"])
    body = [[t["op"], t["shape"], fmt_us(t["ours"]), fmt_us(t["eager"]), fmt_us(t["compile"])] +
            [fmt_us(t[m]) for m in backends] +
            [fmt_ratio(t["vs_eager"]), fmt_ratio(t["vs_compile"])] + [fmt_ratio(t["vs_" + m]) for m in backends] +
            [fmt_rate(t["ours"])] for t in table]
    kernels = [t for t in table if not t["op"].startswith("peak_")]
    ve = [t["vs_eager"] for t in kernels if t["vs_eager"] is not None]
    vc = [t["vs_compile"] for t in kernels if t["vs_compile"] is not None]
    lines = []
    if markdown:
        lines.append("| " + " | ".join(head) + " |")
        lines.append("|" + "|".join("---" for _ in head) + "|")
        lines += ["| " + " | ".join(r) + " |" for r in body]
    else:
        widths = [max(len(str(r[i])) for r in body + [head]) for i in range(len(head))]
        lines.append("  ".join(h.ljust(w) for h, w in zip(head, widths)).rstrip())
        lines += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip() for r in body]
    lines.append("")
    lines.append(f"geometric mean of torch time / gptcu time: eager {fmt_ratio(geomean(ve))} over {len(ve)} rows, "
                 f"compile {fmt_ratio(geomean(vc))} over {len(vc)} rows (above 1: gptcu faster)")
    for m in backends:
        vm = [t["vs_" + m] for t in kernels if t["vs_" + m] is not None]
        lines.append(f"geometric mean of torch-{m} time / gptcu time (flash attention rows): "
                     f"{fmt_ratio(geomean(vm))} over {len(vm)} rows (above 1: gptcu faster)")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("ours", help="gptcu bench kernels --csv output")
    ap.add_argument("torch", help="bench/torch_kernels.py --csv output")
    ap.add_argument("--markdown", action="store_true", help="a Markdown table")
    args = ap.parse_args(argv)
    ours, ours_order = read_rows(args.ours, OURS_COLUMNS, default_mode="gptcu")
    torch, torch_order = read_rows(args.torch, TORCH_COLUMNS)
    dt_o = {r["dtype"] for m in ours.values() for r in m.values() if not r["op"].startswith("peak_")}
    dt_t = {r["dtype"] for m in torch.values() for r in m.values() if not r["op"].startswith("peak_")}
    if dt_o and dt_t and dt_o != dt_t:
        print(f"warning: dtypes differ: gptcu {sorted(dt_o)}, torch {sorted(dt_t)}", file=sys.stderr)
    print(render(compare(ours, ours_order, torch, torch_order), args.markdown))
    return 0


if __name__ == "__main__":
    sys.exit(main())
