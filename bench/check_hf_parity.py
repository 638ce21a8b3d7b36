#!/usr/bin/env python3
"""Check that a gptcu checkpoint IS a Hugging Face GPT2LMHeadModel.

Loads RUN's newest checkpoint (model.safetensors, HF parameter names) into
transformers' GPT2LMHeadModel, built from the checkpoint's config.yaml, and compares:
  1. the parameter names: every HF parameter is in the file (lm_head is tied to wte);
  2. greedy generation: `gptcu sample --temperature 0` and HF's greedy decoding must
     produce the same tokens from the same prompt (byte-level tokens, ids = bytes).

  pip install torch transformers safetensors pyyaml
  python3 bench/check_hf_parity.py --checkpoint runs/shakespeare_char --prompt "ROMEO:" --tokens 100

Exit code 0 when both match. Not part of the test suite (needs PyTorch + transformers).
"""
import argparse
import glob
import os
import subprocess
import sys

import torch
import yaml
from safetensors.torch import load_file
from transformers import GPT2Config, GPT2LMHeadModel

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def newest_checkpoint(path):
    if os.path.exists(os.path.join(path, "model.safetensors")):
        return path
    found = sorted(glob.glob(os.path.join(path, "checkpoints", "step_*")))
    if not found:
        sys.exit(f"no checkpoint under {path}")
    return found[-1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--prompt", default="ROMEO:")
    ap.add_argument("--tokens", type=int, default=100)
    ap.add_argument("--gptcu", default=os.path.join(REPO, "build", "gptcu"))
    args = ap.parse_args()

    ckpt = newest_checkpoint(args.checkpoint)
    cfg = yaml.safe_load(open(os.path.join(ckpt, "config.yaml")))
    m = cfg["model"]
    vocab = m["vocab_size"] or 257  # 0: the byte tokenizer's 256 bytes + <|endoftext|>
    hf_cfg = GPT2Config(vocab_size=vocab, n_positions=m["block_size"], n_embd=m["n_embd"],
                        n_layer=m["n_layer"], n_head=m["n_head"], activation_function="gelu_new",
                        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, layer_norm_epsilon=1e-5,
                        bos_token_id=256, eos_token_id=256, tie_word_embeddings=True)
    model = GPT2LMHeadModel(hf_cfg).eval()
    state = load_file(os.path.join(ckpt, "model.safetensors"))
    expected = {k for k in model.state_dict() if k != "lm_head.weight" and not k.endswith(".attn.bias")
                and not k.endswith(".attn.masked_bias")}
    missing, extra = expected - set(state), set(state) - expected
    print(f"checkpoint {ckpt}: {len(state)} tensors; missing from file: {sorted(missing) or 'none'}; "
          f"unknown to HF: {sorted(extra) or 'none'}")
    result = model.load_state_dict(state, strict=False)
    assert not result.unexpected_keys, result.unexpected_keys
    assert all(k == "lm_head.weight" or k.endswith("attn.bias") or k.endswith("attn.masked_bias")
               for k in result.missing_keys), result.missing_keys
    model.tie_weights()

    prompt_ids = list(args.prompt.encode("utf-8"))
    with torch.no_grad():
        ids = torch.tensor([prompt_ids])
        for _ in range(args.tokens):  # greedy, cropping to the context like gptcu does
            logits = model(ids[:, -m["block_size"]:]).logits[0, -1]
            nxt = int(torch.argmax(logits))
            ids = torch.cat([ids, torch.tensor([[nxt]])], dim=1)
            if nxt == 256:
                break
    hf_bytes = bytes(i for i in ids[0].tolist() if i < 256)

    out = subprocess.run([args.gptcu, "sample", "--checkpoint", ckpt, "--prompt", args.prompt,
                          "--temperature", "0", "--max-new-tokens", str(args.tokens)],
                         capture_output=True, check=True).stdout
    ours = out[:-1] if out.endswith(b"\n") else out  # the CLI adds one newline
    same = ours == hf_bytes
    n = min(len(ours), len(hf_bytes))
    first_diff = next((i for i in range(n) if ours[i] != hf_bytes[i]), n)
    print(f"greedy generation, {args.tokens} tokens: gptcu and transformers "
          f"{'agree on every token' if same else f'differ from byte {first_diff}'}")
    print("---- gptcu ----\n" + ours.decode("utf-8", "replace"))
    if not same:
        print("---- transformers ----\n" + hf_bytes.decode("utf-8", "replace"))
    return 0 if same and not missing and not extra else 1


if __name__ == "__main__":
    sys.exit(main())
