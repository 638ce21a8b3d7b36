"""PyTorch twins of gptcu's pieces, shared by the bench/torch_*.py baselines.

What each piece mirrors (keep them in step with the C++):

  GPT, Block, ...        model/gpt.cpp: GPT-2 (bias=True, no dropout), pre-LayerNorm (eps 1e-5),
                         learned positions, tanh GELU, causal SDPA, LM head tied to wte, vocabulary
                         padded to a multiple of 128 (the loss reads the first V logits only).
  load_gptcu_weights     model/weights.cpp: Hugging Face GPT-2 names, Conv1D weights (in, out),
                         wte saved without its padded rows (they stay zero).
  GptcuConfig            train/config.{h,cpp}: a YAML run config with gptcu's defaults, --set KEY=VALUE.
  lr_at                  train/schedule.cpp: linear warm-up lr*(step+1)/warmup, then cosine /
                         linear / constant to min_lr at lr_decay_steps (0: max_steps).
  clip_grads_             train/adamw.cpp: scale = clip/norm when norm > clip (no +1e-6), the norm
                         of every gradient together.
  ShardBatches           data/loader.cpp + data/shard_corpus.cpp: the train/val token shards of a
                         `gptcu data prepare` directory, windows of T+1 tokens at w*T, visited in
                         gptcu's per-epoch Feistel permutation keyed by Philox-4x32-10
                         (core/rng.h), micro-batch `index` = positions index*B .. index*B+B-1.

AdamW itself is torch.optim.AdamW with weight decay on the 2-D parameters only: the same update
as kernels/cpu/adamw.cpp (decoupled decay, bias corrections, eps outside the square root).
"""

import json
import math
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

M32 = 0xFFFFFFFF
M64 = 0xFFFFFFFFFFFFFFFF


# --------------------------------------------------------------------------
# core/rng.h: Philox-4x32-10 and the splitmix key of (seed, stream)
# --------------------------------------------------------------------------

def rng_key(seed, stream):
    """Rng(seed, stream).key(): splitmix64 of seed ^ stream tag."""
    z = (seed ^ ((stream * 0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019) & M64)) & M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def philox4x32(key, ctr_lo, ctr_hi):
    """philox4x32(key, ctr_lo, ctr_hi) for arrays of counters (uint64); returns x[0..3] (uint64 arrays)."""
    ctr_lo = np.asarray(ctr_lo, dtype=np.uint64)
    ctr_hi = np.asarray(ctr_hi, dtype=np.uint64)
    m32, s32 = np.uint64(M32), np.uint64(32)
    c0, c1 = ctr_lo & m32, ctr_lo >> s32
    c2, c3 = ctr_hi & m32, ctr_hi >> s32
    k0, k1 = key & M32, key >> 32
    for _ in range(10):
        p0 = np.uint64(0xD2511F53) * c0
        p1 = np.uint64(0xCD9E8D57) * c2
        n0 = (p1 >> s32) ^ c1 ^ np.uint64(k0)
        n2 = (p0 >> s32) ^ c3 ^ np.uint64(k1)
        c1, c3 = p1 & m32, p0 & m32
        c0, c2 = n0, n2
        k0 = (k0 + 0x9E3779B9) & M32
        k1 = (k1 + 0xBB67AE85) & M32
    return c0, c1, c2, c3


# --------------------------------------------------------------------------
# data/loader.cpp: EpochOrder and TokenDataset over the shards of a prepared directory
# --------------------------------------------------------------------------

DATA_ORDER_STREAM = 0xDA7A0  # kDataOrderStream in data/loader.cpp


class EpochOrder:
    """A seeded permutation of [0, n) per epoch: 4-round Feistel network on Philox, cycle walking."""

    def __init__(self, n, seed):
        assert n >= 1
        self.n = n
        self.key = rng_key(seed, DATA_ORDER_STREAM)
        self.k = 1
        while self.k < 32 and (1 << (2 * self.k)) < n:
            self.k += 1

    def at(self, positions):
        p = np.asarray(positions, dtype=np.uint64)
        n = np.uint64(self.n)
        epoch, x = p // n, p % n
        k = np.uint64(self.k)
        mask = np.uint64((1 << self.k) - 1)
        todo = np.ones(x.shape, dtype=bool)  # cycle walking: re-encrypt while >= n
        while todo.any():
            xe, ee = x[todo], epoch[todo]
            left, right = xe >> k, xe & mask
            for rnd in range(4):
                r0, r1, _, _ = philox4x32(self.key, right, (ee << np.uint64(2)) | np.uint64(rnd))
                f = ((r1 << np.uint64(32)) | r0) & mask
                left, right = right, left ^ f
            x[todo] = (left << k) | right
            todo = x >= n
        return x


def _read_header(path):
    header = np.fromfile(path, dtype="<i4", count=256)
    if header.size < 3 or header[0] != 20240520:
        raise ValueError(f"{path}: not a gptcu/llm.c token shard")
    return header


def _read_tokens(path):
    header = _read_header(path)
    dtype = {1: "<u2", 2: "<u4"}[int(header[1])]
    return np.memmap(path, dtype=dtype, mode="r", offset=1024, shape=(int(header[2]),))


def _read_mask(path):
    header = _read_header(path)
    assert int(header[1]) == 3, f"{path}: not a mask shard"
    return np.memmap(path, dtype=np.uint8, mode="r", offset=1024, shape=(int(header[2]),))


class TokenWindows:
    """TokenDataset: shards concatenated, (N-1)//T windows of T+1 tokens, seeded epoch order."""

    def __init__(self, files, T, seed):
        shards = [_read_tokens(f) for f in files]
        self.tokens = np.concatenate(shards).astype(np.int64)
        masks = [f[:-4] + ".mask.bin" for f in files]
        have = [os.path.exists(m) for m in masks]
        self.mask = np.concatenate([_read_mask(m) for m in masks]) if all(have) else None
        self.T = T
        if len(self.tokens) <= T:
            raise ValueError(f"{len(self.tokens)} tokens: too few for one window of {T + 1}")
        self.order = EpochOrder((len(self.tokens) - 1) // T, seed)

    def batch(self, index, B):
        """Micro-batch `index` of B windows (one rank): x, y (B, T) int64; y = -1 off the mask."""
        T = self.T
        w = self.order.at(np.arange(index * B, index * B + B, dtype=np.uint64)).astype(np.int64)
        offs = w[:, None] * T + np.arange(T + 1)[None, :]
        win = self.tokens[offs]
        x, y = win[:, :T], win[:, 1:].copy()
        if self.mask is not None:
            y[self.mask[offs[:, 1:]] == 0] = -1
        return x, y


class ShardBatches:
    """data/shard_corpus.cpp: the train and val splits of a `gptcu data prepare` directory."""

    def __init__(self, directory, T, seed):
        meta_path = os.path.join(directory, "meta.json")
        if not os.path.exists(meta_path):
            raise SystemExit(f"error: '{directory}' is not a prepared data directory (no meta.json; "
                             f"run gptcu data prepare)")
        with open(meta_path) as f:
            meta = json.load(f)
        splits = meta.get("splits", {})

        def files(split):
            return [os.path.join(directory, f) for f in splits.get(split, {}).get("files", [])]

        self.vocab_size = int(meta.get("vocab_size", 0))
        self.train = TokenWindows(files("train"), T, seed)
        self.val = TokenWindows(files("val"), T, seed)


# --------------------------------------------------------------------------
# train/config.cpp: a run config (YAML) with gptcu's defaults and --set overrides
# --------------------------------------------------------------------------

# gptcu's defaults (train/config.h) for the keys the baselines read.
GPTCU_DEFAULTS = {
    "device": "cpu", "precision": "bf16",
    "model": {"n_layer": 12, "n_head": 12, "n_embd": 768, "block_size": 1024, "vocab_size": 0},
    "data": {"path": "", "tokenizer": "byte", "val_fraction": 0.1},
    "train": {"batch_size": 8, "grad_accum_steps": 1, "max_steps": 1000, "lr": 6e-4, "min_lr": 6e-5,
              "warmup_steps": 100, "lr_decay_steps": 0, "lr_schedule": "cosine", "weight_decay": 0.1,
              "beta1": 0.9, "beta2": 0.95, "eps": 1e-8, "grad_clip": 1.0, "eval_every": 250, "eval_steps": 20,
              "log_every": 10, "seed": 1337},
    "run": {"dir": ""},
}


def _numbers(node):
    """YAML 1.1 (PyYAML) reads 1e-08 (no dot) as a string; gptcu reads it as a number."""
    if isinstance(node, dict):
        return {k: _numbers(v) for k, v in node.items()}
    if isinstance(node, str):
        for kind in (int, float):
            try:
                return kind(node)
            except ValueError:
                pass
    return node


def load_config(path, sets=()):
    """A gptcu YAML config (e.g. configs/gpt2_124m.yaml, or a run's resolved RUN/config.yaml) as a
    nested dict, gptcu's defaults filled in, then `KEY=VALUE` overrides (values parsed as YAML)."""
    import yaml
    with open(path) as f:
        loaded = yaml.safe_load(f) or {}
    cfg = json.loads(json.dumps(GPTCU_DEFAULTS))
    for section, value in loaded.items():
        if isinstance(value, dict):
            cfg.setdefault(section, {}).update(value)
        else:
            cfg[section] = value
    for s in sets:
        key, sep, value = s.partition("=")
        if not sep:
            raise SystemExit(f"error: --set {s}: expected KEY=VALUE")
        parts = key.split(".")
        node = cfg
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = yaml.safe_load(value)
    return _numbers(cfg)


# --------------------------------------------------------------------------
# train/schedule.cpp
# --------------------------------------------------------------------------

def lr_at(step, lr, min_lr, warmup, decay_steps, kind="cosine"):
    """The learning rate of 0-based step `step`, exactly as LrSchedule::at."""
    if step < warmup:
        return lr * (step + 1) / warmup
    if kind == "constant":
        return lr
    if step >= decay_steps:
        return min_lr
    progress = (step - warmup) / max(1, decay_steps - warmup)
    if kind == "linear":
        return lr + (min_lr - lr) * progress
    assert kind == "cosine", kind
    return min_lr + 0.5 * (1.0 + math.cos(math.pi * progress)) * (lr - min_lr)


def train_schedule(cfg):
    """lr_at bound to a config's train section: step -> lr."""
    t = cfg["train"]
    decay = t["lr_decay_steps"] if t["lr_decay_steps"] > 0 else t["max_steps"]
    return lambda step: lr_at(step, t["lr"], t["min_lr"], t["warmup_steps"], decay, t["lr_schedule"])


# --------------------------------------------------------------------------
# train/adamw.cpp: gradient clipping and the optimizer
# --------------------------------------------------------------------------

@torch.no_grad()
def clip_grads_(params, max_norm):
    """Scales every gradient by max_norm / norm when the norm of them all exceeds max_norm
    (gptcu's rule: no epsilon, as clip_grad_norm_ adds). Returns the norm before clipping, a
    0-d tensor (no host sync on a GPU). On the CPU the sum of squares is taken in float64, as
    kernels/cpu/adamw.cpp's sum_squares does."""
    grads = [p.grad for p in params if p.grad is not None]
    if grads[0].is_cuda:
        norm = torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))
    else:
        norm = torch.sqrt(sum((g.double() * g.double()).sum() for g in grads))
    if max_norm > 0:
        scale = torch.clamp(max_norm / norm, max=1.0).to(grads[0].dtype)
        torch._foreach_mul_(grads, scale)
    return norm


def make_adamw(model, cfg, fused=False):
    """AdamW over the model with gptcu's hyperparameters: weight decay on 2-D parameters only."""
    t = cfg["train"]
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    extra = {"fused": True} if fused else {"foreach": False}
    return torch.optim.AdamW([{"params": decay, "weight_decay": t["weight_decay"]},
                              {"params": no_decay, "weight_decay": 0.0}],
                             lr=t["lr"], betas=(t["beta1"], t["beta2"]), eps=t["eps"], **extra)


# --------------------------------------------------------------------------
# model/gpt.cpp: GPT-2 (nanoGPT's model.py with bias=True, dropout=0)
# --------------------------------------------------------------------------

class CausalSelfAttention(nn.Module):
    def __init__(self, n_embd, n_head):
        super().__init__()
        assert n_embd % n_head == 0
        self.n_head = n_head
        self.c_attn = nn.Linear(n_embd, 3 * n_embd, bias=True)
        self.c_proj = nn.Linear(n_embd, n_embd, bias=True)

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        hs = C // self.n_head
        q = q.view(B, T, self.n_head, hs).transpose(1, 2)
        k = k.view(B, T, self.n_head, hs).transpose(1, 2)
        v = v.view(B, T, self.n_head, hs).transpose(1, 2)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=None, dropout_p=0.0, is_causal=True)
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.c_proj(y)


class MLP(nn.Module):
    def __init__(self, n_embd):
        super().__init__()
        self.c_fc = nn.Linear(n_embd, 4 * n_embd, bias=True)
        self.gelu = nn.GELU(approximate="tanh")
        self.c_proj = nn.Linear(4 * n_embd, n_embd, bias=True)

    def forward(self, x):
        return self.c_proj(self.gelu(self.c_fc(x)))


class Block(nn.Module):
    def __init__(self, n_embd, n_head):
        super().__init__()
        self.ln_1 = nn.LayerNorm(n_embd, eps=1e-5, bias=True)
        self.attn = CausalSelfAttention(n_embd, n_head)
        self.ln_2 = nn.LayerNorm(n_embd, eps=1e-5, bias=True)
        self.mlp = MLP(n_embd)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        x = x + self.mlp(self.ln_2(x))
        return x


def padded_vocab(vocab_size):
    """GPTConfig::padded_vocab_size: up to a multiple of 128."""
    return (vocab_size + 127) // 128 * 128


class GPT(nn.Module):
    def __init__(self, n_layer, n_head, n_embd, block_size, vocab_size, padded_vocab_size=None, init=True):
        super().__init__()
        padded_vocab_size = padded_vocab_size or padded_vocab(vocab_size)
        self.n_layer, self.n_embd = n_layer, n_embd
        self.block_size = block_size
        self.vocab_size = vocab_size
        self.wte = nn.Embedding(padded_vocab_size, n_embd)
        self.wpe = nn.Embedding(block_size, n_embd)
        self.h = nn.ModuleList([Block(n_embd, n_head) for _ in range(n_layer)])
        self.ln_f = nn.LayerNorm(n_embd, eps=1e-5, bias=True)
        self.lm_head = nn.Linear(n_embd, padded_vocab_size, bias=False)
        self.lm_head.weight = self.wte.weight  # weight tying

        if init:
            # GPT-2 init (torch's RNG, not gptcu's): N(0, 0.02) for Linear/Embedding weights,
            # zero biases, residual projections scaled by 1/sqrt(2*n_layer).
            self.apply(self._init_weights)
            for name, p in self.named_parameters():
                if name.endswith("c_proj.weight"):
                    nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * n_layer))

    @staticmethod
    def _init_weights(module):
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def num_parameters(self):
        """As gptcu (and Hugging Face) count them: the real vocabulary rows of wte only."""
        total = sum(p.numel() for p in self.parameters())
        return total - (self.wte.weight.shape[0] - self.vocab_size) * self.n_embd

    def flops_per_token(self):
        """Model FLOPs of one training token, forward + backward: 6N + 6*L*T*C (the attention
        scores and their weighted sum under a causal mask)."""
        return 6 * self.num_parameters() + 6 * self.n_layer * self.block_size * self.n_embd

    def forward(self, idx, targets):
        B, T = idx.shape
        assert T <= self.block_size
        pos = torch.arange(T, dtype=torch.long, device=idx.device)
        x = self.wte(idx) + self.wpe(pos)
        for block in self.h:
            x = block(x)
        x = self.ln_f(x)
        logits = self.lm_head(x)[..., :self.vocab_size]   # drop padded vocab rows
        return F.cross_entropy(logits.reshape(-1, self.vocab_size), targets.reshape(-1), ignore_index=-1)


# Conv1D weights: Hugging Face / gptcu store them (in, out); nn.Linear holds (out, in).
_CONV1D = ("attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight")


def read_gptcu_weights(path):
    """A gptcu model.safetensors as {name without 'transformer.': float32 tensor}."""
    from safetensors.torch import load_file
    tensors = load_file(path)
    return {(k[len("transformer."):] if k.startswith("transformer.") else k): v for k, v in tensors.items()}


def gpt_from_gptcu_weights(path, n_head):
    """A GPT built to the shapes of a gptcu model.safetensors and loaded with its weights."""
    w = read_gptcu_weights(path)
    n_layer = 1 + max(int(k.split(".")[1]) for k in w if k.startswith("h."))
    vocab_size, n_embd = w["wte.weight"].shape
    block_size = w["wpe.weight"].shape[0]
    model = GPT(n_layer, n_head, n_embd, block_size, vocab_size, init=False)
    state = model.state_dict()
    missing = set(state) - {"lm_head.weight"}
    with torch.no_grad():
        for name, value in w.items():
            if name not in state:
                raise SystemExit(f"error: {path}: tensor '{name}' has no place in the model")
            if name.endswith(_CONV1D):
                value = value.t()
            target = state[name]
            if name == "wte.weight":  # padded rows: zero
                target.zero_()
                target[:vocab_size].copy_(value)
            else:
                assert target.shape == value.shape, (name, target.shape, value.shape)
                target.copy_(value)
            missing.discard(name)
    if missing:
        raise SystemExit(f"error: {path} has no tensor(s) {sorted(missing)}")
    return model
