#!/usr/bin/env python3
"""Time gptcu's BPE trainer against Hugging Face `tokenizers` on the same text, same machine.

Both train a byte-level BPE vocabulary of --vocab-size tokens (256 bytes + merges; the specials
gptcu adds are not counted; pairs seen fewer than twice never merged) with the same pre-split
regex (pat_str of a tiktoken .meta.json, cl100k by default):
  gptcu: `build/gptcu tokenizer train --text-unit file` (data/bpe_trainer.cpp), each file one text;
  HF:    Tokenizer(BPE()) with Split(regex, "isolated") + ByteLevel(use_regex=False), BpeTrainer,
         fed the documents (the files cut after each blank line, where no cl100k piece crosses,
         so both count the same pieces; HF parallelises over documents).
Then both vocabularies encode the same text (gptcu's through tiktoken with its ranks) and the
script reports bytes per token, with cl100k_base itself for reference when its file is at hand.

  cmake --build build --target gptcu
  python3 bench/tokenizer_train.py            # Chinese poems, 32000 tokens, all cores
  python3 bench/tokenizer_train.py --out bench/results/DATE-cpu-tokenizer-train.md

Needs: tokenizers, tiktoken (pip). Not part of the test suite.
"""
import argparse
import base64
import datetime
import json
import os
import platform
import re
import shlex
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(REPO), "shared", "data")


def bytes_to_unicode():
    """GPT-2's byte -> printable character table (what HF's ByteLevel uses)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


def documents(texts):
    """Each text cut after every blank line ("\n\n" followed by a non-space character)."""
    docs = []
    for t in texts:
        docs.extend(d for d in re.split(r"(?<=\n\n)(?=\S)", t) if d)
    return docs


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def run_gptcu(args, pattern):
    """`gptcu tokenizer train` on the files (each file one text); its stats from the printed lines."""
    prefix = "/tmp/gptcu_bench_tokenizer_train"
    cmd = [args.binary, "tokenizer", "train", "--input", *args.input, "--vocab-size", str(args.vocab_size),
           "--pattern", pattern, "--text-unit", "file", "--threads", str(args.threads), "--out", prefix]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"gptcu tokenizer train failed:\n{proc.stderr}")
    # "bpe-train: 1643906 pieces, 850372 unique, counted in 0.3 s"
    # "trained 32000 ranks + 1 special(s) = vocab size 32001 in 4.26 s (31744 merges, 7460 merges/s; counting 0.31 s); ..."
    pieces = re.search(r"^bpe-train: (\d+) pieces, (\d+) unique", proc.stdout, re.M)
    trained = re.search(r"^trained \d+ ranks .* in ([\d.]+) s \(\d+ merges, \d+ merges/s; counting ([\d.]+) s\)",
                        proc.stdout, re.M)
    if not pieces or not trained:
        sys.exit(f"cannot read the statistics from the output of {' '.join(cmd)}:\n{proc.stdout}")
    stats = {"words": int(pieces[1]), "unique_words": int(pieces[2]), "seconds": float(trained[1]),
             "count_seconds": float(trained[2]), "wall": wall, "log": proc.stdout}
    ranks = []
    with open(prefix + ".tiktoken") as f:
        for line in f:
            if line.strip():
                token, rank = line.split()
                assert int(rank) == len(ranks)
                ranks.append(base64.b64decode(token))
    return stats, ranks, " ".join(shlex.quote(c) for c in cmd)


def run_hf(args, pattern, docs):
    os.environ["RAYON_NUM_THREADS"] = str(args.threads)  # before tokenizers starts its pool
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(pattern), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    trainer = trainers.BpeTrainer(vocab_size=args.vocab_size, min_frequency=2, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), special_tokens=[])
    t0 = time.perf_counter()
    tok.train_from_iterator(docs, trainer, length=len(docs))
    seconds = time.perf_counter() - t0
    decode = {c: b for b, c in bytes_to_unicode().items()}
    vocab = {bytes(decode[c] for c in t): i for t, i in tok.get_vocab().items()}
    return tok, seconds, vocab


def bytes_per_token_tiktoken(name, ranks, pattern, docs):
    import tiktoken

    enc = tiktoken.Encoding(name=name, pat_str=pattern, mergeable_ranks=ranks, special_tokens={})
    n = sum(len(ids) for ids in enc.encode_ordinary_batch(docs))
    return sum(len(d.encode()) for d in docs) / n


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--input", nargs="+", default=[os.path.join(SHARED, "pretrain", f)
                                                   for f in ("quan_tang_shi.txt", "song_ci.txt")])
    ap.add_argument("--meta", default=os.path.join(SHARED, "tokenizers", "cl100k_base.meta.json"),
                    help="tiktoken .meta.json whose pat_str is the pre-split regex")
    ap.add_argument("--vocab-size", type=int, default=32000)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--binary", default=os.path.join(REPO, "build", "gptcu"))
    ap.add_argument("--out", help="write the results as markdown here")
    args = ap.parse_args()

    with open(args.meta) as f:
        pattern = json.load(f)["pat_str"]
    texts = []
    for path in args.input:
        with open(path, encoding="utf-8") as f:
            texts.append(f.read())
    docs = documents(texts)
    nbytes = sum(len(t.encode()) for t in texts)
    print(f"{len(args.input)} files, {nbytes / 1e6:.1f} MB, {len(docs)} documents, {args.threads} threads", flush=True)

    g, g_ranks, g_cmd = run_gptcu(args, pattern)
    print(g["log"], end="")
    g_merge_s = g["seconds"] - g["count_seconds"]
    print(f"gptcu: {g['seconds']:.2f} s in train_bpe ({g['count_seconds']:.2f} counting, {g_merge_s:.2f} merging), "
          f"{g['wall']:.2f} s wall", flush=True)

    hf_tok, hf_s, hf_vocab = run_hf(args, pattern, docs)
    print(f"HF tokenizers: {hf_s:.2f} s", flush=True)

    g_set, hf_set = set(g_ranks), set(hf_vocab)
    common = len(g_set & hf_set)
    g_bpt = bytes_per_token_tiktoken("gptcu", {t: i for i, t in enumerate(g_ranks)}, pattern, docs)
    hf_bpt = nbytes / sum(len(e.ids) for e in hf_tok.encode_batch(docs))
    ref_path = args.meta.replace(".meta.json", ".tiktoken")
    ref_bpt = None
    if os.path.exists(ref_path):
        import tiktoken.load

        ref_bpt = bytes_per_token_tiktoken("ref", tiktoken.load.load_tiktoken_bpe(ref_path), pattern, docs)

    merges = len(g_ranks) - 256
    hf_merges = len(hf_vocab) - 256
    rows = [
        ("vocabulary size", len(g_ranks), len(hf_vocab)),
        ("train seconds (in process, file reading excluded)", f"{g['seconds']:.2f}", f"{hf_s:.2f}"),
        ("  of which pre-split + counting", f"{g['count_seconds']:.2f}", "n/a"),
        ("merges/s (merges / train seconds)", f"{merges / g['seconds']:.0f}", f"{hf_merges / hf_s:.0f}"),
        ("merges/s of the merge phase alone", f"{merges / g_merge_s:.0f}", "n/a"),
        ("process wall seconds (reading, training, saving, bytes/token pass)", f"{g['wall']:.2f}", "n/a"),
        ("pieces / unique pieces", f"{g['words']} / {g['unique_words']}", "n/a"),
        ("bytes per token on the training text", f"{g_bpt:.3f}", f"{hf_bpt:.3f}"),
    ]
    ratio = g["seconds"] / hf_s
    lines = [
        f"## BPE tokenizer training, CPU, {args.vocab_size} tokens, {args.threads} threads",
        f"date (UTC) {datetime.datetime.utcnow():%Y-%m-%d %H:%M:%S} | commit {commit()} | CPU {cpu_model()} "
        f"({os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end) | tokenizers {__import__('tokenizers').__version__} | tiktoken {__import__('tiktoken').__version__}",
        "",
        f"Text: {', '.join(os.path.basename(p) for p in args.input)} ({nbytes / 1e6:.1f} MB, {len(docs)} documents). "
        f"Pre-split: pat_str of {os.path.basename(args.meta)}.",
        "",
        "| metric | gptcu | HF tokenizers |",
        "|---|---|---|",
        *[f"| {name} | {a} | {b} |" for name, a, b in rows],
        "",
        f"gptcu / HF train time: {ratio:.2f} ({1 / ratio:.1f}x {'faster' if ratio < 1 else 'slower'}). "
        f"Tokens in both vocabularies: {common} of {len(g_ranks)} ({100 * common / len(g_ranks):.1f}%).",
    ]
    if ref_bpt:
        lines.append(f"For reference, {os.path.basename(ref_path)} itself (100k+ tokens): {ref_bpt:.3f} bytes per token.")
    lines += ["", "Commands:", "```", f"python3 bench/{os.path.basename(__file__)} " + " ".join(sys.argv[1:]),
              g_cmd, "```", "", "gptcu progress log:", "```", g["log"].rstrip(), "```"]
    report = "\n".join(lines) + "\n"
    print(report)
    if args.out:
        with open(args.out, "w") as f:
            f.write(report)


def commit():
    try:
        return subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True).stdout.strip() or "unknown"
    except OSError:
        return "unknown"


if __name__ == "__main__":
    main()
