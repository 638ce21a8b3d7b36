// core/ops.h: the differentiable ops, each one coarse and fused, each in core/ops/<op>.cpp.
//
// An op checks its inputs, dispatches on device to kernels/cpu (or kernels/cuda), and, if a
// gradient is needed, records its backward closure on the autograd tape (core/autograd.h).
// A GPT-2 layer is about a dozen of these calls (see model/gpt.cpp).
//
// Shapes: B batch, T time, C channels, NH heads, V real vocab, Vp padded vocab.
#pragma once
#include <vector>

#include "core/tensor.h"
#include "kernels/cpu/cpu_kernels.h"

namespace gptcu::ops {

using WeightLayout = cpu::WeightLayout;

// x (..., C) -> (..., OC). w (C, OC) for in_out (GPT-2 Conv1D) or (OC, C) for out_in
// (the tied LM head, using wte). bias (OC) or an undefined tensor.
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& bias,
              WeightLayout layout = WeightLayout::in_out);

// tanh-approximate GELU, any shape
Tensor gelu(const Tensor& x);

// x (..., C) -> (..., C), normalised over the last dimension, then * w (C) + b (C)
Tensor layernorm(const Tensor& x, const Tensor& w, const Tensor& b, float eps = 1e-5f);

// causal self-attention: qkv (B, T, 3C) -> (B, T, C)
Tensor attention(const Tensor& qkv, int n_head);

// Causal attention of Tn new tokens over a KV cache (generation; no gradient):
// qkv (B, Tn, 3C) -> (B, Tn, C). k_cache, v_cache (B, NH, Tmax, hs) f32. Row b's new keys
// and values are written at positions start[b] .. start[b]+Tn-1 (start has B entries,
// start[b] + Tn <= Tmax), then the new query at position p attends to cache positions 0..p.
// For a cache filled by earlier calls this equals attention() over the whole sequence.
Tensor attention_cached(const Tensor& qkv, Tensor& k_cache, Tensor& v_cache,
                        const std::vector<int>& start, int n_head);

// softmax over the last dimension
Tensor softmax(const Tensor& x);

// Per-token cross-entropy: logits (..., Vp), targets (...) i32 -> losses (...) f32.
// Only the first `vocab_size` logits are real. A target < 0 is ignored (loss 0, no gradient);
// a target >= vocab_size is an error.
Tensor cross_entropy_per_token(const Tensor& logits, const Tensor& targets, int vocab_size);

// Mean cross-entropy over the counted tokens, a one-element tensor:
//   sum_i m_i * loss_i / sum_i m_i [target_i >= 0]
// where m (same shape as targets, f32) is the optional per-token loss mask (undefined = 1).
Tensor cross_entropy(const Tensor& logits, const Tensor& targets, int vocab_size,
                     const Tensor& mask = {});

// tokens (B, T) i32, wte (Vp, C), wpe (maxT, C) -> (B, T, C)
Tensor embedding(const Tensor& tokens, const Tensor& wte, const Tensor& wpe);
// The same with explicit positions (B, T) i32, 0 <= pos < maxT: wte[tokens] + wpe[positions]
// (generation with a KV cache, where each row continues at its own position; no gradient).
Tensor embedding_at(const Tensor& tokens, const Tensor& positions, const Tensor& wte, const Tensor& wpe);

// a + b, same shapes (the residual stream)
Tensor add(const Tensor& a, const Tensor& b);

// the same data seen with another shape (free), with a gradient
Tensor reshape(const Tensor& x, const Shape& shape);

}  // namespace gptcu::ops
