#!/usr/bin/env python3
"""bench/bleu_parity.py: our corpus BLEU (`gptcu eval --task bleu --hyp --ref`) against sacrebleu's
(pip install sacrebleu) on the hypothesis/reference files of bench/bleu_parity/ (see make_data.py
there), with several tokenizers each. Fails (exit 1) if any score differs by more than 0.01 BLEU;
also reports whether hyp_len/ref_len agree exactly.

    python3 bench/bleu_parity.py [--gptcu build/gptcu] [--shared /work/shared/data] [--markdown OUT.md]

--shared DIR adds pairs built at run time (in a temporary directory, never committed) from the
first lines of the Alpaca outputs in DIR/sft (English and Chinese), perturbed as make_data.py does.
"""
import argparse
import glob
import json
import os
import random
import subprocess
import sys
import tempfile

import sacrebleu

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "bleu_parity")
# tokenizers to run per pair prefix
TOKENIZERS = {"en": ["13a", "char", "none"], "zh": ["zh", "char", "13a"], "mixed": ["zh", "13a", "char"],
              "edge": ["13a", "zh", "char", "none"], "alpaca_en": ["13a"], "alpaca_zh": ["zh", "char"]}


def read_lines(path):
    # as sacrebleu's command line reads: UTF-8, lines split at "\n" only
    with open(path, encoding="utf-8", newline="\n") as f:
        return [line[:-1] if line.endswith("\n") else line for line in f]


def pairs_in(directory):
    for hyp in sorted(glob.glob(os.path.join(directory, "*.hyp.txt"))):
        prefix = hyp[: -len(".hyp.txt")]
        refs = sorted(glob.glob(prefix + ".ref*.txt"))
        yield os.path.basename(prefix), hyp, refs


def shared_pairs(shared, tmp):
    """Alpaca outputs (first non-empty line, at most 300 per language) with word/char perturbations."""
    r = random.Random(7)
    out = []
    for lang in ["en", "zh"]:
        path = os.path.join(shared, "sft", f"alpaca_{lang}_demo.json")
        if not os.path.exists(path):
            continue
        lines = []
        for rec in json.load(open(path, encoding="utf-8")):
            first = next((l.strip() for l in rec["output"].split("\n") if l.strip()), "")
            if first:
                lines.append(first)
            if len(lines) == 300:
                break
        hyps = []
        for s in lines:
            units = s.split(" ") if lang == "en" else list(s)
            units = [u for u in units if r.random() > 0.1]
            for i in range(len(units) - 1):
                if r.random() < 0.05:
                    units[i], units[i + 1] = units[i + 1], units[i]
            hyps.append((" " if lang == "en" else "").join(units))
        prefix = os.path.join(tmp, f"alpaca_{lang}")
        for name, ls in [(".hyp.txt", hyps), (".ref1.txt", lines)]:
            with open(prefix + name, "w", encoding="utf-8", newline="\n") as f:
                f.write("".join(l + "\n" for l in ls))
        out.append((f"alpaca_{lang}", prefix + ".hyp.txt", [prefix + ".ref1.txt"]))
    return out


def ours(gptcu, hyp, refs, tok, tmp):
    out = os.path.join(tmp, "r.json")
    cmd = [gptcu, "eval", "--task", "bleu", "--hyp", hyp, "--tokenize", tok, "--out", out]
    for ref in refs:
        cmd += ["--ref", ref]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return json.load(open(out))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gptcu", default=os.path.join(HERE, "..", "build", "gptcu"))
    ap.add_argument("--shared", default="")
    ap.add_argument("--markdown", default="")
    args = ap.parse_args()
    rows, worst, failed = [], 0.0, False
    with tempfile.TemporaryDirectory() as tmp:
        pairs = list(pairs_in(DATA))
        if args.shared:
            pairs += shared_pairs(args.shared, tmp)
        for name, hyp, refs in pairs:
            kind = next(k for k in sorted(TOKENIZERS, key=len, reverse=True) if name.startswith(k))
            h = read_lines(hyp)
            rs = [read_lines(r) for r in refs]
            for tok in TOKENIZERS[kind]:
                theirs = sacrebleu.corpus_bleu(h, rs, tokenize=tok)
                mine = ours(args.gptcu, hyp, refs, tok, tmp)
                diff = abs(mine["score"] - theirs.score)
                lens = mine["sys_len"] == theirs.sys_len and mine["ref_len"] == theirs.ref_len
                worst = max(worst, diff)
                ok = diff <= 0.01
                failed |= not ok
                rows.append((name, len(h), len(refs), tok, theirs.score, mine["score"], diff, lens, ok))
    lines = [f"sacrebleu {sacrebleu.__version__}; |ours - sacrebleu| must be <= 0.01 BLEU", "",
             "| pair | segments | refs | tokenize | sacrebleu | gptcu | abs diff | lengths equal | ok |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name, n, k, tok, t, m, d, lens, ok in rows:
        lines.append(f"| {name} | {n} | {k} | {tok} | {t:.6f} | {m:.6f} | {d:.2e} | {'yes' if lens else 'NO'} | "
                     f"{'ok' if ok else 'FAIL'} |")
    lines += ["", f"{len(rows)} comparisons, largest difference {worst:.2e}: {'FAILED' if failed else 'all within 0.01'}"]
    text = "\n".join(lines)
    print(text)
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
