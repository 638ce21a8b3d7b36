// kernels/cuda/attention.cu: causal multi-head self-attention on the GPU, the interim (non-flash)
// version: correctness over speed (twin of kernels/cpu/attention.cpp).
//
//   qkv (B, T, 3C) packed [q | k | v]; head h of q at qkv[b, t, h*hs : (h+1)*hs], hs = C / NH.
//   out (B, T, C); att (B, NH, T, T) the probabilities (zero above the diagonal).
// Forward:
//   1. permute qkv -> q, k, v (B, NH, T, hs) each, in scratch
//   2. S = q k^T / sqrt(hs) (B*NH, T, T) fp32 in scratch: one strided-batched cuBLASLt GEMM
//   3. att = causal softmax of each row of S (a kernel here, one block per row; keys 0..t)
//   4. y = att v (B, NH, T, hs): a strided-batched GEMM;  5. un-permute y -> out (B, T, C)
// Backward (dqkv += the gradient):
//   q, k, v and dy = dout re-laid out per head; datt = dy v^T (fp32); dv = att^T dy;
//   ds = att * (datt - rowsum(datt * att)) / sqrt(hs) (kernel here, stored as T for the GEMMs);
//   dq = ds k; dk = ds^T q; then dqkv (B, T, 3C) += [dq | dk | dv] un-permuted.
// The full T x T products are computed (the masked half of att and ds is zero).
//
// Each per-head matrix is row-major; matmul_cache.h states GEMMs column-major, where a row-major
// (R, C) matrix with ld C is the column-major (C, R) one. With X (T, hs) row-major = X^T column-major
// (hs, T), ld hs, batch stride T*hs, and a (T, T) matrix with ld T, batch stride T*T:
//   S^T  (T, T)  = k (T, hs) [stored (hs, T), transposed] @ q^T (hs, T)       m = T,  n = T, k = hs
//   y^T  (hs, T) = v^T (hs, T) @ att^T (T, T) [att stored as is]                m = hs, n = T, k = T
//   dP^T (T, T)  = v [transposed] @ dy^T                                        (as S)
//   dv^T (hs, T) = dy^T (hs, T) @ att (T, T) [att stored, transposed]          m = hs, n = T, k = T
//   dq^T (hs, T) = k^T @ ds^T [as stored];  dk^T (hs, T) = q^T @ ds [transposed]
//
// Scratch (attention_scratch_bytes; sized with 4-byte elements so that one size serves both dtypes,
// each region 256-byte aligned): q|k|v and dq|dk|dv (3 B T C each), y / dy (B T C), S / datt
// (B NH T T fp32), ds (B NH T T of T).
#include <cmath>

#include "kernels/cuda/cuda_common.cuh"
#include "kernels/cuda/matmul_cache.h"

namespace gptcu::cuda {
namespace {

constexpr size_t kAlign = 256;
constexpr int kPermuteThreads = 256;

size_t round_up(size_t x) { return (x + kAlign - 1) / kAlign * kAlign; }

// Byte offsets of the scratch regions for elements of `elem` bytes (T) and fp32 scores.
struct ScratchLayout {
  size_t qkv, dqkv, y, s, ds, total;
  ScratchLayout(int B, int T_, int C, int NH, size_t elem) {
    const size_t btc = (size_t)B * T_ * C, tt = (size_t)B * NH * T_ * T_;
    qkv = 0;
    dqkv = qkv + round_up(3 * btc * elem);
    y = dqkv + round_up(3 * btc * elem);
    s = y + round_up(btc * elem);
    ds = s + round_up(tt * sizeof(float));
    total = ds + round_up(tt * elem);
  }
};

// Work item idx of a packed <-> heads copy (index order of the packed tensor): the element offset of
// its G values in the packed (B, T, P*C) tensor and in the heads (P, B, NH, T, hs) layout.
struct HeadOffsets {
  int64_t packed, heads;
};
__device__ __forceinline__ HeadOffsets head_offsets(int64_t idx, int B, int T_, int C, int NH, int P, int G) {
  const int hs = C / NH, gpr = hs / G;
  int64_t r = idx;
  const int g = (int)(r % gpr);
  r /= gpr;
  const int h = (int)(r % NH);
  r /= NH;
  const int p = (int)(r % P);
  r /= P;
  const int t = (int)(r % T_);
  const int64_t b = r / T_;
  const int64_t btc = (int64_t)B * T_ * C;
  return {(b * T_ + t) * P * C + (int64_t)p * C + h * hs + g * G, p * btc + ((b * NH + h) * T_ + t) * hs + g * G};
}

// packed (B, T, P*C) row-major  <->  heads: P blocks of (B, NH, T, hs); G consecutive elements of one
// head row per thread (G = a 16-byte vector when VEC). Index order follows the packed tensor.
template <typename D, bool VEC>
__global__ void to_heads_kernel(D* heads, const D* packed, int B, int T_, int C, int NH, int P) {
  constexpr int G = VEC ? Vec<D>::size : 1;
  const int64_t total = (int64_t)B * T_ * P * C / G;
  for (int64_t idx = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; idx < total;
       idx += (int64_t)gridDim.x * blockDim.x) {
    const HeadOffsets o = head_offsets(idx, B, T_, C, NH, P, G);
    const int64_t src = o.packed, dst = o.heads;
    if constexpr (VEC)
      Vec<D>::load(packed + src).store(heads + dst);
    else
      heads[dst] = packed[src];
  }
}

// packed = heads (ACCUMULATE false) or packed += heads (true); the inverse of to_heads_kernel
template <typename D, bool VEC, bool ACCUMULATE>
__global__ void from_heads_kernel(D* packed, const D* heads, int B, int T_, int C, int NH, int P) {
  constexpr int G = VEC ? Vec<D>::size : 1;
  const int64_t total = (int64_t)B * T_ * P * C / G;
  for (int64_t idx = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; idx < total;
       idx += (int64_t)gridDim.x * blockDim.x) {
    const HeadOffsets o = head_offsets(idx, B, T_, C, NH, P, G);
    const int64_t dst = o.packed, src = o.heads;
    if constexpr (VEC) {
      const auto hv = Vec<D>::load(heads + src);
      if constexpr (ACCUMULATE) {
        auto pv = Vec<D>::load(packed + dst);
#pragma unroll
        for (int e = 0; e < G; e++) pv.set(e, pv[e] + hv[e]);
        pv.store(packed + dst);
      } else {
        hv.store(packed + dst);
      }
    } else {
      if constexpr (ACCUMULATE)
        packed[dst] = store_f<D>(load_f(packed[dst]) + load_f(heads[src]));
      else
        packed[dst] = heads[src];
    }
  }
}

template <typename T>
void to_heads(T* heads, const T* packed, int B, int T_, int C, int NH, int P, cudaStream_t stream) {
  using D = Dev<T>;
  const int hs = C / NH;
  const int64_t n = (int64_t)B * T_ * P * C;
  if (hs % Vec<D>::size == 0 && vec_ok<D>(n, {heads, packed}))
    to_heads_kernel<D, true><<<grid_for(n / Vec<D>::size, kPermuteThreads), kPermuteThreads, 0, stream>>>(
        dev(heads), dev(packed), B, T_, C, NH, P);
  else
    to_heads_kernel<D, false>
        <<<grid_for(n, kPermuteThreads), kPermuteThreads, 0, stream>>>(dev(heads), dev(packed), B, T_, C, NH, P);
  GPTCU_CUDA_CHECK_LAUNCH();
}

template <bool ACCUMULATE, typename T>
void from_heads(T* packed, const T* heads, int B, int T_, int C, int NH, int P, cudaStream_t stream) {
  using D = Dev<T>;
  const int hs = C / NH;
  const int64_t n = (int64_t)B * T_ * P * C;
  if (hs % Vec<D>::size == 0 && vec_ok<D>(n, {heads, packed}))
    from_heads_kernel<D, true, ACCUMULATE><<<grid_for(n / Vec<D>::size, kPermuteThreads), kPermuteThreads, 0,
                                             stream>>>(dev(packed), dev(heads), B, T_, C, NH, P);
  else
    from_heads_kernel<D, false, ACCUMULATE>
        <<<grid_for(n, kPermuteThreads), kPermuteThreads, 0, stream>>>(dev(packed), dev(heads), B, T_, C, NH, P);
  GPTCU_CUDA_CHECK_LAUNCH();
}

// att row (b, h, t) = softmax(S row over keys 0..t), zeros after; S already scaled. One block per row.
template <typename D>
__global__ void causal_softmax_kernel(D* att, const float* scores, int T_) {
  __shared__ float shared[32];
  const int64_t row = blockIdx.x;
  const int t = (int)(row % T_);
  const float* s = scores + row * T_;
  D* p = att + row * T_;
  float m = -INFINITY;
  for (int j = threadIdx.x; j <= t; j += blockDim.x) m = fmaxf(m, s[j]);
  const float M = block_max(m, shared);
  float sum = 0.0f;
  for (int j = threadIdx.x; j <= t; j += blockDim.x) sum += expf(s[j] - M);
  const float inv = 1.0f / block_sum(sum, shared);
  for (int j = threadIdx.x; j < T_; j += blockDim.x) p[j] = store_f<D>(j <= t ? expf(s[j] - M) * inv : 0.0f);
}

// ds row = att * (datt - sum_j<=t att * datt) * scale over keys 0..t, zeros after. One block per row.
template <typename D>
__global__ void causal_softmax_backward_kernel(D* ds, const float* datt, const D* att, int T_, float scale) {
  __shared__ float shared[32];
  const int64_t row = blockIdx.x;
  const int t = (int)(row % T_);
  const float* dp = datt + row * T_;
  const D* p = att + row * T_;
  D* out = ds + row * T_;
  float dot = 0.0f;
  for (int j = threadIdx.x; j <= t; j += blockDim.x) dot += load_f(p[j]) * dp[j];
  dot = block_sum(dot, shared);
  for (int j = threadIdx.x; j < T_; j += blockDim.x)
    out[j] = store_f<D>(j <= t ? load_f(p[j]) * (dp[j] - dot) * scale : 0.0f);
}

int row_threads(int T_) {
  const int t = (T_ + 31) / 32 * 32;
  return t < 32 ? 32 : t > 256 ? 256 : t;
}

// One strided-batched GEMM over the B*NH heads (see the table at the top).
void head_gemm(int batch, int m, int n, int k, cudaDataType_t ab, cudaDataType_t dt, lt::Operand a, lt::Operand b,
               void* d, int64_t ldd, int64_t stride_d, float alpha, cudaStream_t stream) {
  lt::Gemm g;
  g.m = m;
  g.n = n;
  g.k = k;
  g.batch = batch;
  g.ab_type = ab;
  g.d_type = dt;
  g.a = a;
  g.b = b;
  g.d = d;
  g.ldd = ldd;
  g.stride_d = stride_d;
  g.alpha = alpha;
  lt::gemm(g, stream);
}

}  // namespace

size_t attention_scratch_bytes(int B, int T_, int C, int NH) {
  return ScratchLayout(B, T_, C, NH, sizeof(float)).total;
}

template <typename T>
void attention_forward(T* out, T* att, void* scratch, const T* qkv, int B, int T_, int C, int NH,
                       cudaStream_t stream) {
  if (B <= 0 || T_ <= 0 || C <= 0) return;
  const ScratchLayout L(B, T_, C, NH, sizeof(T));
  char* base = static_cast<char*>(scratch);
  T* q = reinterpret_cast<T*>(base + L.qkv);
  const int64_t btc = (int64_t)B * T_ * C, hsT = (int64_t)(C / NH) * T_, TT = (int64_t)T_ * T_;
  T* k = q + btc;
  T* v = k + btc;
  T* y = reinterpret_cast<T*>(base + L.y);
  float* s = reinterpret_cast<float*>(base + L.s);
  const int hs = C / NH, batch = B * NH;
  const cudaDataType_t type = lt::data_type<T>();
  const float scale = 1.0f / sqrtf((float)hs);

  to_heads(q, qkv, B, T_, C, NH, 3, stream);
  // S^T (T, T) = k [transposed] @ q^T, scaled
  head_gemm(batch, T_, T_, hs, type, CUDA_R_32F, {k, true, hs, hsT}, {q, false, hs, hsT}, s, T_, TT, scale, stream);
  causal_softmax_kernel<Dev<T>><<<(unsigned)(batch * (int64_t)T_), row_threads(T_), 0, stream>>>(dev(att), s, T_);
  GPTCU_CUDA_CHECK_LAUNCH();
  // y^T (hs, T) = v^T @ att^T
  head_gemm(batch, hs, T_, T_, type, type, {v, false, hs, hsT}, {att, false, T_, TT}, y, hs, hsT, 1.0f, stream);
  from_heads<false>(out, y, B, T_, C, NH, 1, stream);
}

template <typename T>
void attention_backward(T* dqkv, void* scratch, const T* dout, const T* qkv, const T* att, int B, int T_, int C,
                        int NH, cudaStream_t stream) {
  if (!dqkv || B <= 0 || T_ <= 0 || C <= 0) return;
  const ScratchLayout L(B, T_, C, NH, sizeof(T));
  char* base = static_cast<char*>(scratch);
  const int64_t btc = (int64_t)B * T_ * C, hsT = (int64_t)(C / NH) * T_, TT = (int64_t)T_ * T_;
  T* q = reinterpret_cast<T*>(base + L.qkv);
  T* k = q + btc;
  T* v = k + btc;
  T* dq = reinterpret_cast<T*>(base + L.dqkv);
  T* dk = dq + btc;
  T* dv = dk + btc;
  T* dy = reinterpret_cast<T*>(base + L.y);
  float* datt = reinterpret_cast<float*>(base + L.s);
  T* ds = reinterpret_cast<T*>(base + L.ds);
  const int hs = C / NH, batch = B * NH;
  const cudaDataType_t type = lt::data_type<T>();
  const float scale = 1.0f / sqrtf((float)hs);

  to_heads(q, qkv, B, T_, C, NH, 3, stream);
  to_heads(dy, dout, B, T_, C, NH, 1, stream);
  // datt^T (T, T) = v [transposed] @ dy^T   (fp32)
  head_gemm(batch, T_, T_, hs, type, CUDA_R_32F, {v, true, hs, hsT}, {dy, false, hs, hsT}, datt, T_, TT, 1.0f,
            stream);
  // dv^T (hs, T) = dy^T @ att [transposed]
  head_gemm(batch, hs, T_, T_, type, type, {dy, false, hs, hsT}, {att, true, T_, TT}, dv, hs, hsT, 1.0f, stream);
  causal_softmax_backward_kernel<Dev<T>>
      <<<(unsigned)(batch * (int64_t)T_), row_threads(T_), 0, stream>>>(dev(ds), datt, dev(att), T_, scale);
  GPTCU_CUDA_CHECK_LAUNCH();
  // dq^T (hs, T) = k^T @ ds^T [as stored];  dk^T (hs, T) = q^T @ ds [transposed]
  head_gemm(batch, hs, T_, T_, type, type, {k, false, hs, hsT}, {ds, false, T_, TT}, dq, hs, hsT, 1.0f, stream);
  head_gemm(batch, hs, T_, T_, type, type, {q, false, hs, hsT}, {ds, true, T_, TT}, dk, hs, hsT, 1.0f, stream);
  from_heads<true>(dqkv, dq, B, T_, C, NH, 3, stream);
}

template void attention_forward<float>(float*, float*, void*, const float*, int, int, int, int, cudaStream_t);
template void attention_forward<bf16>(bf16*, bf16*, void*, const bf16*, int, int, int, int, cudaStream_t);
template void attention_backward<float>(float*, void*, const float*, const float*, const float*, int, int, int, int,
                                        cudaStream_t);
template void attention_backward<bf16>(bf16*, void*, const bf16*, const bf16*, const bf16*, int, int, int, int,
                                       cudaStream_t);

}  // namespace gptcu::cuda
