// kernels/cpu/cpu_kernels.h: the CPU reference kernels, one op per file in kernels/cpu/.
//
// These are the definition of correct for every op: plain C++ loops (and a BLAS call for
// matmuls), readable before fast. Each is a template over the scalar type and is
// instantiated for float (what the trainer runs) and double (what the gradient tests run,
// against fp64 central differences).
//
// The backward rule, stated once: every *_backward ADDS (+=) into every gradient it is
// given (parameters and activations alike); the caller zeroes gradient buffers before the
// first accumulation. A nullptr gradient means "not needed" and is skipped.
//
// Shapes are in comments: B batch, T time, C channels, NH heads, N = B*T rows,
// V real vocabulary, Vp padded vocabulary (a multiple of 128).
//
// This folder knows nothing about tensors, autograd, GPT or files: raw pointers only.
#pragma once
#include <cstdint>

namespace gptcu::cpu {

// ---- linear.cpp: out = inp @ W (+ bias), through OpenBLAS ------------------------------
// W layout in_out: W is (C, OC), out = inp @ W          (Hugging Face Conv1D, GPT-2 weights)
// W layout out_in: W is (OC, C), out = inp @ W^T        (nn.Linear; the tied LM head uses wte)
enum class WeightLayout { in_out, out_in };
// out (N, OC), inp (N, C), bias (OC) or nullptr
template <typename T>
void linear_forward(T* out, const T* inp, const T* w, const T* bias, int N, int C, int OC,
                    WeightLayout layout);
// dinp (N, C), dw like w, dbias (OC); any of them may be nullptr
template <typename T>
void linear_backward(T* dinp, T* dw, T* dbias, const T* dout, const T* inp, const T* w, int N,
                     int C, int OC, WeightLayout layout);

// ---- gelu.cpp: GELU, tanh approximation (GPT-2) ----------------------------------------
// gelu(x) = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
template <typename T>
void gelu_forward(T* out, const T* inp, int64_t n);
template <typename T>
void gelu_backward(T* dinp, const T* dout, const T* inp, int64_t n);

// ---- layernorm.cpp: over the last dimension -------------------------------------------
// out (N, C) = (inp - mean) * rstd * w + b; saves mean (N) and rstd (N) for the backward
template <typename T>
void layernorm_forward(T* out, T* mean, T* rstd, const T* inp, const T* w, const T* b, int N,
                       int C, T eps);
template <typename T>
void layernorm_backward(T* dinp, T* dw, T* db, const T* dout, const T* inp, const T* w,
                        const T* mean, const T* rstd, int N, int C);

// ---- attention.cpp: causal multi-head self-attention, one fused op ---------------------
// qkv (B, T, 3C) holds [q | k | v] along the last dimension (GPT-2 c_attn output); head h
// of q is qkv[b, t, h*hs : (h+1)*hs] with hs = C / NH. Scale 1/sqrt(hs), causal mask.
// out (B, T, C) with heads concatenated; att (B, NH, T, T) keeps the softmax probabilities
// for the backward (zero above the diagonal).
template <typename T>
void attention_forward(T* out, T* att, const T* qkv, int B, int T_, int C, int NH);
// dqkv (B, T, 3C)
template <typename T>
void attention_backward(T* dqkv, const T* dout, const T* qkv, const T* att, int B, int T_, int C,
                        int NH);

// ---- attention_cached.cpp: causal attention of new tokens over a KV cache (generation) ---
// qkv (B, Tn, 3C) packed as for attention_forward; k_cache, v_cache (B, NH, Tmax, hs).
// Row b's new tokens sit at positions start[b] .. start[b]+Tn-1 (<= Tmax): their k and v are
// written there, then the query at position p attends to cache positions 0..p.
// out (B, Tn, C). Forward only (generation runs without gradients).
template <typename T>
void attention_cached_forward(T* out, T* k_cache, T* v_cache, const T* qkv, const int* start,
                              int B, int Tn, int C, int NH, int Tmax);

// ---- softmax.cpp: over the last dimension ---------------------------------------------
// out (N, C)
template <typename T>
void softmax_forward(T* out, const T* inp, int N, int C);
template <typename T>
void softmax_backward(T* dinp, const T* dout, const T* out, int N, int C);

// ---- cross_entropy.cpp: fused softmax + cross-entropy ----------------------------------
// logits (N, Vp), of which only the first V columns are real (the padding never enters the
// softmax and gets zero gradient). targets (N); a target < 0 is ignored (loss 0, no grad).
// losses (N) = -log softmax(logits[i, :V])[targets[i]]
template <typename T>
void cross_entropy_forward(T* losses, const T* logits, const int32_t* targets, int N, int V,
                           int Vp);
// dlogits (N, Vp) += dlosses[i] * (softmax(logits[i, :V]) - onehot(targets[i]))
template <typename T>
void cross_entropy_backward(T* dlogits, const T* dlosses, const T* logits,
                            const int32_t* targets, int N, int V, int Vp);

// ---- token_logprobs.cpp: log-probabilities and entropies of a tempered softmax ---------
// logits (N, Vp), only the first V columns real; z = logits / temperature (temperature > 0).
// logp (N) = log softmax(z[i, :V])[targets[i]]; a target < 0 gives 0 and no gradient.
template <typename T>
void token_logprobs_forward(T* logp, const T* logits, const int32_t* targets, int N, int V, int Vp,
                            T temperature);
// dlogits (N, Vp) += dlogp[i] * (onehot(targets[i]) - softmax(z[i, :V])) / temperature
template <typename T>
void token_logprobs_backward(T* dlogits, const T* dlogp, const T* logits, const int32_t* targets,
                             int N, int V, int Vp, T temperature);
// entropy (N) = -sum_j p_j log p_j, p = softmax(z[i, :V]); no backward (a metric)
template <typename T>
void token_entropy_forward(T* entropy, const T* logits, int N, int V, int Vp, T temperature);

// ---- select_positions.cpp: one time step per batch row --------------------------------
// x (B, T, D), idx (B) in [0, T): out (B, D) = x[b, idx[b]]; dx[b, idx[b]] += dout[b]
template <typename T>
void select_positions_forward(T* out, const T* x, const int32_t* idx, int B, int T_, int64_t D);
template <typename T>
void select_positions_backward(T* dx, const T* dout, const int32_t* idx, int B, int T_, int64_t D);

// ---- masked_sum.cpp: per-row masked sums, and the total of a mask ----------------------
// x, mask (B, T): out (B) = sum_t mask * x (double accumulation); dx += dout[b] * mask
template <typename T>
void masked_sum_forward(T* out, const T* x, const T* mask, int B, int T_);
template <typename T>
void masked_sum_backward(T* dx, const T* dout, const T* mask, int B, int T_);
// sum of mask (n) in double: the denominator of the masked means below
template <typename T>
double mask_total(const T* mask, int64_t n);

// ---- preference_loss.cpp: reward-model (Bradley-Terry) and DPO losses -------------------
// loss (1) = mean_i -log sigmoid(beta * ((chosen - ref_chosen) - (rejected - ref_rejected)) - margin)
// over N pairs; a null ref_* counts as 0. dloss (1); every gradient (N) may be nullptr.
template <typename T>
void preference_loss_forward(T* loss, const T* chosen, const T* rejected, const T* ref_chosen,
                             const T* ref_rejected, int N, T beta, T margin);
template <typename T>
void preference_loss_backward(T* dchosen, T* drejected, T* dref_chosen, T* dref_rejected,
                              const T* dloss, const T* chosen, const T* rejected,
                              const T* ref_chosen, const T* ref_rejected, int N, T beta, T margin);

// ---- policy_loss.cpp: PPO/GRPO clipped surrogate + k3 KL penalty -----------------------
// all (n); loss (1) = inv_count * sum_i mask_i (max(-A r, -A clip(r, 1-eps, 1+eps))
//                     + kl_coef (exp(ref - logp) - (ref - logp) - 1)),  r = exp(logp - old_logp)
// ref_logp may be nullptr (no KL term). Gradient into logp only.
template <typename T>
void policy_loss_forward(T* loss, const T* logp, const T* old_logp, const T* adv, const T* mask,
                         const T* ref_logp, int64_t n, T clip_eps, T kl_coef, T inv_count);
template <typename T>
void policy_loss_backward(T* dlogp, const T* dloss, const T* logp, const T* old_logp, const T* adv,
                          const T* mask, const T* ref_logp, int64_t n, T clip_eps, T kl_coef,
                          T inv_count);

// ---- value_loss.cpp: PPO clipped value loss --------------------------------------------
// all (n); loss (1) = inv_count * sum_i mask_i 0.5 max((v - R)^2, (v_old + clip(v - v_old, -eps, eps) - R)^2)
// (eps <= 0: unclipped). Gradient into values only.
template <typename T>
void value_loss_forward(T* loss, const T* values, const T* old_values, const T* returns,
                        const T* mask, int64_t n, T clip_eps, T inv_count);
template <typename T>
void value_loss_backward(T* dvalues, const T* dloss, const T* values, const T* old_values,
                         const T* returns, const T* mask, int64_t n, T clip_eps, T inv_count);

// ---- embedding.cpp: token + position embedding ----------------------------------------
// out (B, T, C) = wte[tokens[b, t]] + wpe[pos]; tokens (B, T), wte (Vp, C), wpe (maxT, C);
// pos = positions[b, t] (B, T) when given (rows of a KV-cache batch start at different
// positions), else t
template <typename T>
void embedding_forward(T* out, const int32_t* tokens, const T* wte, const T* wpe, int B, int T_,
                       int C, const int32_t* positions = nullptr);
template <typename T>
void embedding_backward(T* dwte, T* dwpe, const T* dout, const int32_t* tokens, int B, int T_,
                        int C);

// ---- residual.cpp: elementwise add, out = a + alpha * b ---------------------------------
template <typename T>
void residual_forward(T* out, const T* a, const T* b, int64_t n, T alpha = T(1));
template <typename T>
void residual_backward(T* da, T* db, const T* dout, int64_t n, T alpha = T(1));

// ---- adamw.cpp: the optimizer step and the gradient norm ------------------------------
// Sum of squares of x (n), accumulated in double.
double sum_squares(const float* x, int64_t n);
// One AdamW step on n elements. grad_scale multiplies the gradient first (global-norm
// clipping); step is 1-based (bias correction); weight decay is decoupled:
//   g = grad*grad_scale; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2
//   p -= lr * ( (m/(1-b1^step)) / (sqrt(v/(1-b2^step)) + eps) + wd * p )
void adamw_update(float* param, const float* grad, float* m, float* v, int64_t n, float lr,
                  float beta1, float beta2, float eps, float weight_decay, int step,
                  float grad_scale);

}  // namespace gptcu::cpu
