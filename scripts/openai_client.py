#!/usr/bin/env python3
"""scripts/openai_client.py: the official `openai` Python client against `gptcu serve`.

    gptcu serve --checkpoint runs/task/sft --port 8000 &
    python3 scripts/openai_client.py --base-url http://127.0.0.1:8000/v1 [--prompt "What is 12 + 35?"]

Lists the models, then asks one chat completion plainly and the same one streamed (greedy,
same seed), prints both, and checks the replies' shape: a string reply, finish_reason stop or
length, usage adding up, a stream of chunks whose text equals the plain reply. Exits 1 with a
one-line reason on any failure (a connection error included). Needs `pip install openai`.
"""
import argparse
import sys


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base-url", required=True, help="e.g. http://127.0.0.1:8000/v1")
    ap.add_argument("--prompt", default="What is 12 + 35?")
    ap.add_argument("--max-tokens", type=int, default=16)
    args = ap.parse_args()
    try:
        from openai import OpenAI
    except ImportError:
        print("error: the openai package is not installed (pip install openai)", file=sys.stderr)
        return 2
    client = OpenAI(base_url=args.base_url, api_key="not-needed", max_retries=0, timeout=60)
    messages = [{"role": "user", "content": args.prompt}]
    try:
        model = client.models.list().data[0].id
        print(f"model: {model}")
        plain = client.chat.completions.create(model=model, messages=messages, max_tokens=args.max_tokens,
                                               temperature=0, seed=7)
        choice = plain.choices[0]
        print(f"user: {args.prompt}")
        print(f"assistant (non-streamed): {choice.message.content!r}  finish_reason={choice.finish_reason}  "
              f"usage={plain.usage.prompt_tokens}+{plain.usage.completion_tokens}")
        assert plain.object == "chat.completion", plain.object
        assert isinstance(choice.message.content, str) and choice.message.role == "assistant"
        assert choice.finish_reason in ("stop", "length"), choice.finish_reason
        assert plain.usage.total_tokens == plain.usage.prompt_tokens + plain.usage.completion_tokens
        assert 1 <= plain.usage.completion_tokens <= args.max_tokens

        print("assistant (streamed):     ", end="", flush=True)
        pieces, finish = [], None
        for chunk in client.chat.completions.create(model=model, messages=messages, max_tokens=args.max_tokens,
                                                    temperature=0, seed=7, stream=True):
            assert chunk.object == "chat.completion.chunk", chunk.object
            delta = chunk.choices[0].delta
            if delta.content:
                pieces.append(delta.content)
                print(delta.content, end="", flush=True)
            finish = chunk.choices[0].finish_reason or finish
        print(f"  ({len(pieces)} pieces, finish_reason={finish})")
        assert finish in ("stop", "length"), finish
        streamed = "".join(pieces)
        assert streamed == choice.message.content, f"streamed {streamed!r} != plain {choice.message.content!r}"
    except AssertionError as e:
        print(f"error: unexpected reply: {e}", file=sys.stderr)
        return 1
    except Exception as e:  # connection refused, an HTTP error status, ...
        print(f"error: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    print("ok: the openai client talked to the server (plain and streamed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
