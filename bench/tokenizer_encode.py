#!/usr/bin/env python3
"""bench/tokenizer_encode.py: encode throughput of gptcu's BpeTokenizer against Python's
tiktoken, on the same files with the same vocabularies (read offline from local files).

    python3 bench/tokenizer_encode.py --gptcu build/gptcu --tokenizers ../shared/data/tokenizers \
        --input ../shared/data/pretrain/tinyshakespeare.txt --input ../shared/data/pretrain/quan_tang_shi.txt \
        --max-mb 5 --threads 2 --repeat 5 [--out bench/results/DATE-cpu-tokenizer-encode.md]

tiktoken runs single-threaded (encode_ordinary on the whole text) and with all threads
(encode_ordinary_batch over ~256 KB chunks cut at line ends); tiktoken's encodings use its own
pat_str (tiktoken_ext.openai_public, its fastest form). gptcu runs `gptcu tokenizer bench`, which
loads the .tiktoken/.meta.json or GPT-2 files as a user would (the meta pat_str), times encode
and encode_parallel, and checks that both give the same ids. Reported: the median wall-clock MB/s
over --repeat runs (after one warm-up), and for one thread also MB/s by the thread's CPU time,
the steadier number on a machine shared with other work. The token counts of both must agree.
Needs: tiktoken (pip).
"""
import argparse
import inspect
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time

import tiktoken
import tiktoken_ext.openai_public as openai_public
from tiktoken.load import data_gym_to_mergeable_bpe_ranks, load_tiktoken_bpe


def tiktoken_encoding(name, tokenizers):
    if name == "gpt2":
        d = os.path.join(tokenizers, "gpt2")
        ranks = data_gym_to_mergeable_bpe_ranks(os.path.join(d, "vocab.bpe"), os.path.join(d, "encoder.json"))
        return tiktoken.Encoding("gpt2", pat_str=openai_public.r50k_pat_str, mergeable_ranks=ranks,
                                 special_tokens={"<|endoftext|>": 50256})
    ranks = load_tiktoken_bpe(os.path.join(tokenizers, name + ".tiktoken"))
    meta = json.load(open(os.path.join(tokenizers, name + ".meta.json")))
    src = inspect.getsource(getattr(openai_public, name))  # tiktoken's own pat_str, without downloading
    if name == "cl100k_base":
        pat = re.search(r'"pat_str": r"""(.*?)"""', src).group(1)
    else:
        pat = "|".join(re.findall(r'r"""(.*?)"""', src))
    return tiktoken.Encoding(name, pat_str=pat, mergeable_ranks=ranks, special_tokens=meta["special_tokens"])


def gptcu_spec(name, tokenizers):
    return os.path.join(tokenizers, "gpt2") if name == "gpt2" else os.path.join(tokenizers, name + ".tiktoken")


def time_runs(fn, repeat):
    fn()
    wall, cpu = [], []
    for _ in range(repeat):
        c0, t0 = time.thread_time(), time.perf_counter()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.thread_time() - c0)
    return statistics.median(wall), statistics.median(cpu)


def chunks_at_lines(text, size=256 * 1024):
    out, start = [], 0
    while start < len(text):
        end = text.find("\n", start + size)
        end = len(text) if end < 0 else end + 1
        out.append(text[start:end])
        start = end
    return out


def run_gptcu(binary, spec, path, threads, repeat):
    out = subprocess.run([binary, "tokenizer", "bench", "--tokenizer", spec, "--input", path, "--threads",
                          str(threads), "--repeat", str(repeat)], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"gptcu tokenizer bench failed: {out.stderr.strip()}")
    res = {"raw": out.stdout}
    res["tokens"] = int(re.search(r"^tokens\s+(\d+)", out.stdout, re.M).group(1))
    for key in ("encode_1", "encode_n", "decode_1"):
        res[key] = float(re.search(rf"^{key}\s+([\d.]+) MB/s", out.stdout, re.M).group(1))
    res["encode_1_cpu"] = float(re.search(r"by thread CPU time ([\d.]+) MB/s", out.stdout).group(1))
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gptcu", default="build/gptcu")
    ap.add_argument("--tokenizers", default="../shared/data/tokenizers")
    ap.add_argument("--input", action="append", required=True, help="text file (repeatable)")
    ap.add_argument("--encodings", default="gpt2,cl100k_base,o200k_base")
    ap.add_argument("--max-mb", type=float, default=5.0, help="use the first MB of each input")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--out", help="also write the table (markdown) here")
    args = ap.parse_args()

    rows, raw = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for path in args.input:
            data = open(path, "rb").read()[: int(args.max_mb * 1e6)]
            text = data.decode("utf-8", errors="ignore")  # drops a character cut in half at the end
            cut = os.path.join(tmp, os.path.basename(path))
            open(cut, "wb").write(text.encode("utf-8"))
            mb = len(text.encode("utf-8")) / 1e6
            for name in args.encodings.split(","):
                enc = tiktoken_encoding(name, args.tokenizers)
                ids = enc.encode_ordinary(text)
                t1, c1 = time_runs(lambda: enc.encode_ordinary(text), args.repeat)
                parts = chunks_at_lines(text)
                tn, _ = time_runs(lambda: enc.encode_ordinary_batch(parts, num_threads=args.threads), args.repeat)
                g = run_gptcu(args.gptcu, gptcu_spec(name, args.tokenizers), cut, args.threads, args.repeat)
                if g["tokens"] != len(ids):
                    sys.exit(f"{name} on {path}: gptcu gives {g['tokens']} tokens, tiktoken {len(ids)}")
                raw.append(f"$ {args.gptcu} tokenizer bench --tokenizer {gptcu_spec(name, args.tokenizers)} "
                           f"--input {os.path.basename(path)}(first {args.max_mb} MB) --threads {args.threads} "
                           f"--repeat {args.repeat}\n{g['raw']}"
                           f"tiktoken {tiktoken.__version__}: encode_ordinary {mb / t1:.2f} MB/s wall, {mb / c1:.2f} "
                           f"MB/s by thread CPU time; encode_ordinary_batch({len(parts)} chunks, {args.threads} "
                           f"threads) {mb / tn:.2f} MB/s\n")
                rows.append([os.path.basename(path), name, f"{mb:.2f}", str(len(ids)), f"{len(data) / len(ids):.2f}",
                             f"{mb / t1:.2f}", f"{g['encode_1']:.2f}", f"{g['encode_1'] / (mb / t1):.2f}x",
                             f"{mb / c1:.2f}", f"{g['encode_1_cpu']:.2f}", f"{g['encode_1_cpu'] / (mb / c1):.2f}x",
                             f"{mb / tn:.2f}", f"{g['encode_n']:.2f}", f"{g['encode_n'] / (mb / tn):.2f}x"])
                print(" | ".join(rows[-1]), flush=True)

    head = ["input", "encoding", "MB", "tokens", "bytes/token", "tiktoken 1T", "gptcu 1T", "ratio",
            "tiktoken 1T (CPU)", "gptcu 1T (CPU)", "ratio (CPU)", f"tiktoken {args.threads}T batch",
            f"gptcu {args.threads}T", "ratio"]
    table = "| " + " | ".join(head) + " |\n|" + "---|" * len(head) + "\n"
    table += "".join("| " + " | ".join(r) + " |\n" for r in rows)
    print("\n" + table)
    if args.out:
        with open(args.out, "w") as f:
            f.write("# BPE encode throughput: gptcu vs tiktoken (CPU)\n\n")
            f.write(f"Command: `python3 bench/tokenizer_encode.py {' '.join(sys.argv[1:])}`\n\n")
            f.write(f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores "
                    f"(`lscpu`: {cpu_model()}), shared with other jobs while measuring; Python "
                    f"{platform.python_version()}, tiktoken {tiktoken.__version__}.\n\n")
            f.write("MB/s = 10^6 bytes of UTF-8 input per second; median of the runs. 1T: one thread "
                    "(tiktoken encode_ordinary, gptcu encode); CPU: by the thread's CPU time instead of wall "
                    "time; NT batch: tiktoken encode_ordinary_batch over ~256 KB chunks, gptcu encode_parallel "
                    "(ids identical to encode).\n\n")
            f.write(table + "\n## Raw output\n\n```\n" + "\n".join(raw) + "```\n")


def cpu_model():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        return re.search(r"Model name:\s*(.*)", out).group(1).strip()
    except Exception:
        return "unknown"


if __name__ == "__main__":
    main()
