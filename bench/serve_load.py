#!/usr/bin/env python3
"""bench/serve_load.py: a bounded load test of `gptcu serve` on loopback.

    python3 bench/serve_load.py --checkpoint runs/task/sft [--gptcu build/gptcu] \
        [--clients 8] [--requests 25] [--max-batch 8] [--prompts runs/task/data/sft.jsonl]
    python3 bench/serve_load.py --base-url http://127.0.0.1:8000      # a server already running

Starts the server on a free port (unless --base-url), then runs --clients threads, each sending
--requests chat completions one after another (stdlib http.client, one connection each),
alternating streamed and non-streamed, with user prompts taken in turn from a JSONL of
{"messages": [...]} (the first user message) or a built-in list. Every reply is checked: HTTP 200,
a chat.completion with usage, or a stream of chunks ending in "data: [DONE]" with a usage
chunk (stream_options.include_usage). Prints requests/s, completion tokens/s, latency
p50/p90/p99 (whole request) and time to first text chunk (streamed), and exits 1 if any
request failed. Sampling: temperature 0.8, a seed per request, max_tokens from --max-tokens
(default: the server's choice).
"""
import argparse
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time

BUILTIN_PROMPTS = ["What is 12 + 35?", "Length of the word nubuto?", "What is the last letter of hipo?",
                   "chair in upper case?", "39 minus 13 is?", "93加4是多少?"]


def load_prompts(path):
    if not path:
        return BUILTIN_PROMPTS
    prompts = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                msgs = json.loads(line).get("messages", [])
                user = next((m["content"] for m in msgs if m.get("role") == "user"), None)
                if user:
                    prompts.append(user)
            if len(prompts) >= 1000:
                break
    return prompts or BUILTIN_PROMPTS


def percentile(xs, p):
    xs = sorted(xs)
    k = (len(xs) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def one_request(conn, prompt, stream, seed, max_tokens):
    """Returns (latency s, first-chunk s or None, completion tokens); raises on any failure."""
    body = {"model": "gptcu", "messages": [{"role": "user", "content": prompt}], "temperature": 0.8, "seed": seed}
    if max_tokens:
        body["max_tokens"] = max_tokens
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    t0 = time.perf_counter()
    conn.request("POST", "/v1/chat/completions", json.dumps(body), {"Content-Type": "application/json"})
    resp = conn.getresponse()
    if resp.status != 200:
        raise RuntimeError(f"HTTP {resp.status}: {resp.read()[:200]!r}")
    if not stream:
        j = json.loads(resp.read())
        assert j["object"] == "chat.completion" and isinstance(j["choices"][0]["message"]["content"], str), j
        return time.perf_counter() - t0, None, j["usage"]["completion_tokens"]
    first, tokens, done = None, None, False
    for raw in resp:  # http.client undoes the chunked encoding; SSE lines
        line = raw.decode().rstrip("\r\n")
        if not line:
            continue
        assert line.startswith("data: "), line
        data = line[6:]
        if data == "[DONE]":
            done = True
            continue
        assert not done, "an event after [DONE]"
        event = json.loads(data)
        if event.get("usage"):
            tokens = event["usage"]["completion_tokens"]
        elif event["choices"][0]["delta"].get("content") and first is None:
            first = time.perf_counter() - t0
    assert done and tokens is not None, "the stream did not end with a usage chunk and [DONE]"
    return time.perf_counter() - t0, first, tokens


def start_server(args):
    proc = subprocess.Popen([args.gptcu, "serve", "--checkpoint", args.checkpoint, "--port", "0",
                             "--max-batch", str(args.max_batch), "--max-queue", str(max(32, args.clients))],
                            stderr=subprocess.PIPE, text=True)
    for line in proc.stderr:
        m = re.search(r"on http://127\.0\.0\.1:(\d+)/", line)
        if m:
            threading.Thread(target=lambda: [None for _ in proc.stderr], daemon=True).start()  # drain the log
            return proc, f"http://127.0.0.1:{m.group(1)}"
    raise SystemExit(f"error: the server did not start (exit code {proc.wait()})")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint")
    ap.add_argument("--base-url")
    ap.add_argument("--gptcu", default=os.path.join(os.path.dirname(__file__), "..", "build", "gptcu"))
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--requests", type=int, default=25, help="per client")
    ap.add_argument("--max-batch", type=int, default=8)
    ap.add_argument("--max-tokens", type=int, default=0, help="0: the server's choice")
    ap.add_argument("--prompts", help="JSONL of {\"messages\": [...]}; default: a built-in list")
    args = ap.parse_args()
    if not args.base_url and not args.checkpoint:
        ap.error("give --checkpoint (the server is started here) or --base-url")
    prompts = load_prompts(args.prompts)
    proc = None
    if not args.base_url:
        proc, args.base_url = start_server(args)
    host, port = re.match(r"https?://([^:/]+):(\d+)", args.base_url).groups()
    results, failures, lock = [], [], threading.Lock()

    def client(c):
        conn = http.client.HTTPConnection(host, int(port), timeout=300)
        for i in range(args.requests):
            n = c * args.requests + i
            try:
                r = one_request(conn, prompts[n % len(prompts)], stream=(n % 2 == 1), seed=n, max_tokens=args.max_tokens)
                with lock:
                    results.append((n % 2 == 1,) + r)
            except Exception as e:
                with lock:
                    failures.append(f"client {c} request {i}: {type(e).__name__}: {e}")
                conn.close()
                conn = http.client.HTTPConnection(host, int(port), timeout=300)
        conn.close()

    t0 = time.perf_counter()
    threads = [threading.Thread(target=client, args=(c,)) for c in range(args.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    if proc:
        proc.terminate()
        proc.wait(30)
    total = args.clients * args.requests
    lat = [r[1] for r in results]
    ttft = [r[2] for r in results if r[0] and r[2] is not None]
    tokens = sum(r[3] for r in results)
    print(f"requests: {total} ({args.clients} clients x {args.requests}), ok {len(results)}, failed {len(failures)}, "
          f"streamed {sum(r[0] for r in results)}")
    print(f"wall: {wall:.2f} s  requests/s: {len(results) / wall:.1f}  completion tokens: {tokens}  "
          f"tokens/s: {tokens / wall:.0f}  mean tokens/request: {tokens / max(1, len(results)):.1f}")
    if lat:
        print(f"latency s: p50 {percentile(lat, 50):.3f}  p90 {percentile(lat, 90):.3f}  p99 {percentile(lat, 99):.3f}  "
              f"max {max(lat):.3f}  mean {statistics.mean(lat):.3f}")
    if ttft:
        print(f"time to first text (streamed) s: p50 {percentile(ttft, 50):.3f}  p99 {percentile(ttft, 99):.3f}")
    for f in failures[:10]:
        print("FAILED:", f, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
