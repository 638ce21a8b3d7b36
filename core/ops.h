// core/ops.h: the differentiable ops, each one coarse and fused, each in core/ops/<op>.cpp.
//
// An op checks its inputs, dispatches on device to kernels/cpu (or kernels/cuda), and, if a
// gradient is needed, records its backward closure on the autograd tape (core/autograd.h).
// A GPT-2 layer is about a dozen of these calls (see model/gpt.cpp).
//
// Shapes: B batch, T time, C channels, NH heads, V real vocab, Vp padded vocab.
#pragma once
#include <string>
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

// Activation recompute (train.recompute): the two ops below equal the unfused chains, bit for bit
// (the same kernels in the same order), but keep fewer activations for the backward, which
// recomputes the dropped one into a temporary. Weights are in_out (GPT-2 Conv1D), w (C, OC).
// linear(gelu(pre), w, bias): keeps pre (..., C) only, not gelu(pre) (the MLP's 4C activation).
Tensor gelu_linear(const Tensor& pre, const Tensor& w, const Tensor& bias);
// linear(layernorm(x, ln_w, ln_b), w, bias): keeps x and the per-row mean and rstd, not the
// normalised (..., C) rows.
Tensor layernorm_linear(const Tensor& x, const Tensor& ln_w, const Tensor& ln_b, const Tensor& w,
                        const Tensor& bias, float eps = 1e-5f);

// causal self-attention: qkv (B, T, 3C) -> (B, T, C)
// On the CPU: the reference (kernels/cpu/attention.cpp), whatever attention_kernel() says.
// On a GPU: the kernel chosen by attention_kernel() below.
Tensor attention(const Tensor& qkv, int n_head);

// Which GPU kernel attention() runs; a process-wide setting (the config key `attention`).
//   automatic  flash when the activations are bf16 and the head dim C / NH is one the flash kernel
//              supports (cuda::flash_attention_supported: 64, 128), else interim   (the default)
//   flash      the flash kernel (kernels/cuda/flash_attention_*.cu: saves out and a per-row
//              logsumexp, no (B, NH, T, T) tensor); an f32 model or another head dim is a UserError
//   interim    cuBLAS batched GEMMs + softmax, saving the (B, NH, T, T) probabilities (any dtype,
//              any head dim)
// Read when attention() runs (the forward); its backward uses the kernel its forward chose.
enum class AttentionKernel { automatic, flash, interim };
void set_attention_kernel(AttentionKernel kernel);
AttentionKernel attention_kernel();
// "auto" | "flash" | "interim" (the config's spelling) -> the enum; anything else is a UserError.
AttentionKernel parse_attention_kernel(const std::string& name);
const char* attention_kernel_name(AttentionKernel kernel);  // "auto", "flash" or "interim"
// Sets the kernel for a scope and restores the previous setting when it ends (tests, benchmarks).
class AttentionKernelScope {
 public:
  explicit AttentionKernelScope(AttentionKernel kernel) : saved_(attention_kernel()) { set_attention_kernel(kernel); }
  ~AttentionKernelScope() { set_attention_kernel(saved_); }
  AttentionKernelScope(const AttentionKernelScope&) = delete;
  AttentionKernelScope& operator=(const AttentionKernelScope&) = delete;

 private:
  AttentionKernel saved_;
};

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

// a + alpha * b, same shapes (the residual stream; alpha weighs the terms of a combined loss)
Tensor add(const Tensor& a, const Tensor& b, float alpha = 1.0f);

// the same data seen with another shape (free), with a gradient
Tensor reshape(const Tensor& x, const Shape& shape);

// ---- post-training: scoring, preference and RL losses --------------------------------
// Masked means divide by the mask's total (a zero total is an error); the means of the
// one-element losses are accumulated in double. Inputs documented as fixed get no gradient.

// Log-probability of each target under softmax(logits / temperature) over the first vocab_size
// entries: logits (..., Vp), targets (...) i32 -> (...) f32. target < 0: 0 and no gradient.
// (PPO scores with the sampling temperature.) Fused: never materialises the probabilities; backward
// like cross-entropy's, scaled by 1/temperature.
Tensor token_logprobs(const Tensor& logits, const Tensor& targets, int vocab_size, float temperature = 1.0f);

// Entropy of softmax(logits / temperature) per row: (..., Vp) -> (...). A metric: no gradient.
Tensor token_entropy(const Tensor& logits, int vocab_size, float temperature = 1.0f);

// Row b of x at position idx[b]: x (B, T, ...) , idx (B) i32 -> (B, ...). Gradient scatters back.
// (The reward model reads its scalar head at the last token of each sequence.)
Tensor select_positions(const Tensor& x, const Tensor& idx);

// Per-row masked sum: x (B, T), mask (B, T) f32 -> (B). (Sequence log-probabilities for DPO.)
// The mask is fixed (no gradient).
Tensor masked_sum(const Tensor& x, const Tensor& mask);

// Reward-model loss, a one-element tensor: mean_i -log sigmoid(chosen_i - rejected_i - margin); chosen, rejected (N).
Tensor pairwise_loss(const Tensor& chosen, const Tensor& rejected, float margin = 0.0f);

// DPO (Rafailov et al. 2023), one element: mean_i -log sigmoid(beta * ((pc_i - rc_i) - (pr_i - rr_i))) from
// sequence log-probs (N) of the policy (pc chosen, pr rejected; with grad) and the frozen reference (rc, rr).
// (A reference that does require grad gets its gradient too.)
Tensor dpo_loss(const Tensor& policy_chosen, const Tensor& policy_rejected,
                const Tensor& ref_chosen, const Tensor& ref_rejected, float beta);

// PPO/GRPO clipped surrogate, one element: the masked mean over tokens of
//   max(-A r, -A clip(r, 1-eps, 1+eps)) + kl_coef * (exp(ref - logp) - (ref - logp) - 1)
// with r = exp(logp - old_logp). logp (B, T) with grad; old_logp, advantages, mask (B, T) f32 fixed;
// ref_logp (B, T) optional (the k3 KL estimator of Schulman's "Approximating KL divergence"; used when kl_coef > 0).
Tensor policy_loss(const Tensor& logp, const Tensor& old_logp, const Tensor& advantages, const Tensor& mask,
                   float clip_eps, const Tensor& ref_logp = {}, float kl_coef = 0.0f);

// PPO clipped value loss, one element: 0.5 * masked mean of max((v - R)^2, (v_old + clip(v - v_old, -eps, eps) - R)^2);
// values (B, T) with grad, old_values, returns, mask fixed. eps <= 0: unclipped.
Tensor value_loss(const Tensor& values, const Tensor& old_values, const Tensor& returns, const Tensor& mask, float clip_eps);

}  // namespace gptcu::ops
