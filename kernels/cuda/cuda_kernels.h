// kernels/cuda/cuda_kernels.h: the CUDA kernels, one op per file in kernels/cuda/, each the GPU
// twin of kernels/cpu/<op>.cpp with the same argument order and the same backward rule
// (every *_backward ADDS into every gradient it is given; nullptr = not needed).
//
// Conventions, for every function below:
// - Pointers are device pointers. `stream` is the last argument; every launch goes on it and is
//   followed by a check of the last error (GPTCU_CUDA_CHECK_LAUNCH). Nothing synchronises the
//   host: no function here waits for the GPU or copies to the host.
// - T is the storage type of activations, parameters and their gradients: gptcu::bf16 (the
//   training default) or float (`precision: fp32`, for parity debugging). Every template is
//   instantiated for exactly these two. Arithmetic is fp32 inside the kernels (bf16 values are
//   widened on load and rounded to nearest-even on store); statistics (LayerNorm mean/rstd),
//   losses, log-sum-exps, master weights and Adam moments are fp32 always.
// - Loads and stores are 16-byte vectors where the row length allows it (C a multiple of
//   8 bf16 / 4 floats, 16-byte-aligned pointers); other sizes take a scalar path, so any size works.
// - Deterministic: no result depends on the order of racing atomics (reductions over rows go
//   through fixed-shape partial sums in `scratch`).
// - Scratch: where a kernel needs temporary device memory, a *_scratch_bytes() function says how
//   much for the given sizes, and the caller passes a buffer at least that large (from the
//   caching allocator). Contents on entry do not matter.
//
// Shapes: B batch, T time, C channels, NH heads, hs = C/NH, N = B*T rows, V real vocabulary,
// Vp padded vocabulary, OC output channels.
//
// The folder is compiled for sm_80 and sm_90 whenever nvcc is present (GPTCU_CUDA=AUTO), so that
// a machine without a GPU still builds and links all of it.
#pragma once
#include <cstddef>
#include <cstdint>

#include "kernels/bf16.h"
#include "kernels/cpu/cpu_kernels.h"  // WeightLayout

typedef struct CUstream_st* cudaStream_t;

namespace gptcu::cuda {

using WeightLayout = cpu::WeightLayout;

// ---- device.cu: devices and the library handles ------------------------------------------
// Number of visible CUDA devices (0 when there is no driver or no GPU; never throws).
int device_count();
// "NVIDIA H100 80GB HBM3" for device `index`.
const char* device_name(int index);

// ---- residual.cu: out = a + alpha * b;  da += dout, db += alpha * dout  (n elements) --------
template <typename T>
void residual_forward(T* out, const T* a, const T* b, int64_t n, float alpha, cudaStream_t stream);
template <typename T>
void residual_backward(T* da, T* db, const T* dout, int64_t n, float alpha, cudaStream_t stream);

// ---- gelu.cu: tanh-approximate GELU (n elements) -----------------------------------------
template <typename T>
void gelu_forward(T* out, const T* inp, int64_t n, cudaStream_t stream);
// dinp += dout * gelu'(inp)
template <typename T>
void gelu_backward(T* dinp, const T* dout, const T* inp, int64_t n, cudaStream_t stream);

// ---- layernorm.cu: over the last dimension ------------------------------------------------
// out (N, C) = (inp - mean) * rstd * w + b; mean, rstd (N) fp32, saved for the backward
template <typename T>
void layernorm_forward(T* out, float* mean, float* rstd, const T* inp, const T* w, const T* b, int N, int C,
                       float eps, cudaStream_t stream);
size_t layernorm_backward_scratch_bytes(int N, int C);
// dinp (N, C), dw (C), db (C), each may be nullptr
template <typename T>
void layernorm_backward(T* dinp, T* dw, T* db, void* scratch, const T* dout, const T* inp, const T* w,
                        const float* mean, const float* rstd, int N, int C, cudaStream_t stream);

// ---- residual_layernorm.cu: the residual add fused with the next LayerNorm ----------------
// res (N, C) = a + b;  out (N, C) = layernorm(res) with mean, rstd (N). One read of a and b,
// one write of res and out. (Its backward is layernorm_backward + residual_backward.)
template <typename T>
void residual_layernorm_forward(T* res, T* out, float* mean, float* rstd, const T* a, const T* b, const T* w,
                                const T* bias, int N, int C, float eps, cudaStream_t stream);

// ---- softmax.cu: over the last dimension ---------------------------------------------------
// out (N, C)
template <typename T>
void softmax_forward(T* out, const T* inp, int N, int C, cudaStream_t stream);
// dinp += out * (dout - sum(dout * out))
template <typename T>
void softmax_backward(T* dinp, const T* dout, const T* out, int N, int C, cudaStream_t stream);

// ---- cross_entropy.cu: softmax + cross-entropy over the first V of Vp logits -----------------
// Never materialises fp32 probabilities. A target < 0 is ignored (loss 0, no gradient); targets
// >= V are the caller's to reject (checked on the host before upload).
// losses (N) = lse - logits[target], lse (N) = log sum_j<V exp(logits[i, j]), saved for the backward.
template <typename T>
void cross_entropy_forward(float* losses, float* lse, const T* logits, const int32_t* targets, int N, int V,
                           int Vp, cudaStream_t stream);
// dlogits (N, Vp) += dlosses[i] * (softmax(logits[i, :V]) - onehot(targets[i])); padding columns
// unchanged. One read of logits and one read-modify-write of dlogits.
template <typename T>
void cross_entropy_backward(T* dlogits, const float* dlosses, const T* logits, const float* lse,
                            const int32_t* targets, int N, int V, int Vp, cudaStream_t stream);
// Forward and gradient in one pass, llm.c-style: losses (N) as above, and
//   dlogits (N, Vp) = scale * weights[i] * (softmax(logits[i, :V]) - onehot(targets[i]))
// WRITTEN (not accumulated), padding columns 0; dlogits may equal logits (in place). weights (N)
// fp32 or nullptr (= 1). Moves one read and one write of the logits. The kernel benchmark's
// "cross_entropy_fused" and issue 6's training path use it.
template <typename T>
void cross_entropy_fused(float* losses, T* dlogits, const T* logits, const int32_t* targets, const float* weights,
                         float scale, int N, int V, int Vp, cudaStream_t stream);
// The mean over counted tokens, the loss the trainer sees:
//   weights[i] = targets[i] < 0 ? 0 : (mask ? mask[i] : 1);  count[0] = sum weights;
//   out[0] = sum weights[i] * losses[i] / count[0]      (0 when count is 0)
// weights (N) and count (1) are written for the backward. mask (N) fp32 or nullptr.
void weighted_mean_forward(float* out, float* weights, float* count, const float* losses, const int32_t* targets,
                           const float* mask, int N, cudaStream_t stream);
// dlosses[i] += dout[0] * weights[i] / count[0]   (dout, count: device scalars; no host sync)
void weighted_mean_backward(float* dlosses, const float* dout, const float* weights, const float* count, int N,
                            cudaStream_t stream);

// ---- embedding.cu: token + position embedding ---------------------------------------------
// out (B, T, C) = wte[tokens[b, t]] + wpe[pos]; pos = positions[b, t] when given, else t
template <typename T>
void embedding_forward(T* out, const int32_t* tokens, const T* wte, const T* wpe, int B, int T_, int C,
                       const int32_t* positions, cudaStream_t stream);
size_t embedding_backward_scratch_bytes(int B, int T_, int C);
// dwte (Vp, C) += sum over (b, t) with tokens[b, t] = v of dout[b, t];  dwpe (T, C) += sum over b.
// Deterministic: positions are sorted by token (stable), and each token's rows are summed in
// position order in fp32, then added once.
template <typename T>
void embedding_backward(T* dwte, T* dwpe, void* scratch, const T* dout, const int32_t* tokens, int B, int T_, int C,
                        cudaStream_t stream);

// ---- bias_grad.cu: dbias (OC) += sum over N rows of dout (N, OC), fp32 accumulation -----------
size_t bias_backward_scratch_bytes(int N, int OC);
template <typename T>
void bias_backward(T* dbias, void* scratch, const T* dout, int N, int OC, cudaStream_t stream);

// ---- matmul.cu: linear layers through cuBLASLt ----------------------------------------------
// bf16 (or fp32) inputs, fp32 compute. One cuBLASLt handle and one 32 MiB workspace per device,
// created on first use; the algorithm for each (shape, layout, epilogue) is chosen by the cuBLASLt
// heuristic once and cached.
// out (N, OC) = inp (N, C) @ W (+ bias), W (C, OC) for in_out, (OC, C) for out_in.
// With gelu_pre != nullptr: gelu_pre (N, OC) = inp @ W + bias (the pre-activation, saved for the
// backward) and out = gelu(gelu_pre), in one cuBLASLt call (epilogue GELU_AUX_BIAS).
template <typename T>
void linear_forward(T* out, const T* inp, const T* w, const T* bias, int N, int C, int OC, WeightLayout layout,
                    T* gelu_pre, cudaStream_t stream);
size_t linear_backward_scratch_bytes(int N, int OC);
// dinp (N, C) += dout @ W^T;  dw += inp^T @ dout (in_out) or dout^T @ inp (out_in);
// dbias (OC) += column sums of dout. Any gradient may be nullptr.
template <typename T>
void linear_backward(T* dinp, T* dw, T* dbias, void* scratch, const T* dout, const T* inp, const T* w, int N, int C,
                     int OC, WeightLayout layout, cudaStream_t stream);
// C (M, N) = A (M, K) @ B (K, N), row-major bf16, fp32 accumulation: the benchmark's peak GEMM.
void gemm_bf16(bf16* c, const bf16* a, const bf16* b, int M, int N, int K, cudaStream_t stream);
// Deterministic matmuls (train.deterministic): no split-K algorithms (matmul_cache.h). Every other
// kernel here is deterministic already (no float atomics).
void set_deterministic_matmul(bool on);

// ---- attention.cu: causal self-attention (the interim, non-flash version) --------------------
// qkv (B, T, 3C) packed [q | k | v] as for cpu::attention_forward; out (B, T, C).
// Through cuBLAS strided-batched GEMMs and the softmax kernel: att (B, NH, T, T) holds the
// probabilities for the backward (zero above the diagonal). Scratch: q, k, v re-laid out per head
// and the scores.
size_t attention_scratch_bytes(int B, int T_, int C, int NH);
template <typename T>
void attention_forward(T* out, T* att, void* scratch, const T* qkv, int B, int T_, int C, int NH,
                       cudaStream_t stream);
// dqkv (B, T, 3C) += the gradient
template <typename T>
void attention_backward(T* dqkv, void* scratch, const T* dout, const T* qkv, const T* att, int B, int T_, int C,
                        int NH, cudaStream_t stream);

// ---- adamw.cu: the optimizer over all parameters in one launch -----------------------------
// The flat parameter buffer is cut into chunks of at most `adamw_chunk_elems` elements, each
// inside one parameter (so each has one weight-decay value); the host builds the list once.
constexpr int adamw_chunk_elems = 65536;
struct AdamWChunk {
  int64_t begin;       // element offset into params/grads/master/m/v
  int32_t size;        // elements, <= adamw_chunk_elems
  float weight_decay;  // 0 for biases and LayerNorm
};
size_t grad_norm_scratch_bytes(int64_t n);
// out[0] = sum of grads[i]^2 over n elements, fp32 partials in a fixed order (deterministic).
template <typename T>
void sum_squares(float* out, void* scratch, const T* grads, int64_t n, cudaStream_t stream);
// One AdamW step over every chunk (one block per chunk), reading the gradient norm from the device:
//   norm = sqrt(norm_sq[0]); scale = (grad_clip > 0 && norm > grad_clip) ? grad_clip / norm : 1
//   if norm is not finite: nothing changes (the host sees the norm when it logs and stops)
//   g = grads * scale; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2
//   p = master - lr * ((m / (1 - b1^step)) / (sqrt(v / (1 - b2^step)) + eps) + wd * master)
//   master = p (fp32); params = round(p) to T.   master may be nullptr when T is float (params are
//   the master weights); then params is updated in place. Same update as cpu::adamw_update.
template <typename T>
void adamw_update(T* params, float* master, const T* grads, float* m, float* v, const AdamWChunk* chunks,
                  int n_chunks, float lr, float beta1, float beta2, float eps, int step, float grad_clip,
                  const float* norm_sq, cudaStream_t stream);

// ---- convert.cu: dtype conversions and fills ----------------------------------------------
template <typename T>
void float_to(T* out, const float* inp, int64_t n, cudaStream_t stream);  // round to nearest-even
template <typename T>
void to_float(float* out, const T* inp, int64_t n, cudaStream_t stream);
template <typename T>
void fill(T* out, float value, int64_t n, cudaStream_t stream);

// ---- rng.cu: the counter-based RNG of core/rng.h on the GPU --------------------------------
// out[i] = mean + std * philox_normal(key, base, i): the same numbers as Rng::fill_normal on the
// CPU (a generator with that key whose counter is at base), rounded to T.
template <typename T>
void fill_normal(T* out, int64_t n, uint64_t key, uint64_t base, float mean, float std, cudaStream_t stream);

// ---- flash_attention.cu (flash_attention_fwd.cu, flash_attention_bwd.cu): causal attention on
// tensor cores, never materialising T x T. bf16 only, head dims 64 and 128, any T >= 1.
// qkv (B, T, 3C) packed as for attention_forward; 16-byte-aligned bf16 pointers. ops::attention
// runs it on a GPU when ops::attention_kernel() (config key `attention`) picks it: by default for
// bf16 with a supported head dim, else the interim version above (core/ops/attention.cpp,
// docs/attention.md).
// True for the head dims (C / NH) the kernels are compiled for: 64 and 128.
bool flash_attention_supported(int head_dim);
// out (B, T, C); lse (B, NH, T) fp32 = ln sum_{j<=t} exp(q_t . k_j / sqrt(hs)), saved for the backward.
void flash_attention_forward(bf16* out, float* lse, const bf16* qkv, int B, int T_, int C, int NH,
                             cudaStream_t stream);
// Scratch of flash_attention_backward: D = rowsum(dout * out) (B, NH, T) fp32.
size_t flash_attention_backward_scratch_bytes(int B, int T_, int C, int NH);
// dqkv (B, T, 3C) += the gradient, from dout (B, T, C) and the forward's qkv, out and lse (P is
// recomputed). Deterministic: no atomics (one pass over key tiles for dK, dV, one over query
// tiles for dQ).
void flash_attention_backward(bf16* dqkv, void* scratch, const bf16* dout, const bf16* qkv, const bf16* out,
                              const float* lse, int B, int T_, int C, int NH, cudaStream_t stream);

}  // namespace gptcu::cuda
