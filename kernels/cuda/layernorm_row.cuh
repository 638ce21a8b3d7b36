// kernels/cuda/layernorm_row.cuh: the LayerNorm forward kernel shared by layernorm.cu
// (layernorm_forward) and residual_layernorm.cu (residual_layernorm_forward, the residual add
// fused in front of it). Included by those two .cu files only.
//
//   x (N, C) = inp                      (plain)
//   x (N, C) = round_to_T(a + b), res = x written      (fused residual: the LayerNorm sees
//                                        exactly the res the backward will be given)
//   out = (x - mean) * rstd * w + bias,  mean, rstd (N) fp32 (each may be nullptr)
//
// One warp per row, rows_per_block warps per block. Two passes over the row for the statistics
// (mean, then the biased variance of x - mean: no cancellation as in E[x^2] - mean^2) and one
// for the output. The first pass reads the row from global memory once and keeps it in shared
// memory as fp32 (`cache`); the later passes read it from there. Each lane only ever reads back
// the elements it wrote itself (index layout below), so no synchronisation is needed, not even
// within the warp. For very long rows (more than kLnMaxCacheBytes of fp32 per warp) there is no
// cache and the later passes re-read global memory (inp; for the fused op the res this thread
// has written, so res may be the same buffer as a or b).
//
// Loads are 16-byte vectors (W = Vec<D>::size) when C is a multiple of the vector width and
// the pointers are aligned; else W = 1. Lane L handles the W columns starting at
// c0 = it * 32W + L W in iteration it; in the cache that element k sits at it * 32W + k * 32 + L
// (consecutive lanes in consecutive banks), so a warp's cache slot holds round_up(C, 32W) floats.
#pragma once
#include <algorithm>

#include "kernels/cuda/cuda_common.cuh"

namespace gptcu::cuda {
namespace layernorm_detail {

constexpr int kLnMaxRowsPerBlock = 8;          // warps (rows) per block
constexpr int kLnMaxCacheBytes = 48 * 1024;    // the default dynamic shared-memory limit per block

template <int W, bool kResidual, typename D>
__global__ void __launch_bounds__(32 * kLnMaxRowsPerBlock)
    layernorm_forward_kernel(D* res, D* out, float* mean, float* rstd, const D* a, const D* b, const D* w,
                             const D* bias, int N, int C, float eps, int cache_stride) {
  extern __shared__ float ln_cache[];
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  const int row = blockIdx.x * (blockDim.x / 32) + warp;
  if (row >= N) return;  // the whole warp leaves; nothing below synchronises the block
  const int64_t off = (int64_t)row * C;
  float* cache = cache_stride > 0 ? ln_cache + (int64_t)warp * cache_stride : nullptr;

  // x[c0 .. c0 + W) of this row, fp32
  auto load_x = [&](int c0, float (&x)[W]) {
    load_fw<W>(x, a + off + c0);
    if constexpr (kResidual) {
      float y[W];
      load_fw<W>(y, b + off + c0);
#pragma unroll
      for (int k = 0; k < W; k++) x[k] = load_f(store_f<D>(x[k] + y[k]));  // as res is stored
    }
  };
  // cache position of element k of iteration `it` for this lane
  auto at = [&](int it, int k) { return it * 32 * W + k * 32 + lane; };

  // pass 1: load (write res), cache, sum
  float sum = 0.0f;
  for (int it = 0, c0 = lane * W; c0 < C; it++, c0 += 32 * W) {
    float x[W];
    load_x(c0, x);
    if constexpr (kResidual) store_fw<W>(res + off + c0, x);  // x is already rounded: stored exactly
#pragma unroll
    for (int k = 0; k < W; k++) {
      sum += x[k];
      if (cache) cache[at(it, k)] = x[k];
    }
  }
  const float m = warp_sum(sum) / (float)C;

  // the row again: from the cache, else from global memory: inp, or the res this thread wrote in
  // pass 1 (plain loads, not the read-only path of load_fw, which may not see this kernel's writes;
  // and res may be a or b)
  auto reload = [&](int it, int c0, float (&x)[W]) {
    if (cache) {
#pragma unroll
      for (int k = 0; k < W; k++) x[k] = cache[at(it, k)];
    } else if constexpr (kResidual) {
      const D* p = res + off + c0;
      if constexpr (W % Vec<D>::size == 0) {
#pragma unroll
        for (int k = 0; k < W; k += Vec<D>::size) {
          Vec<D> v;
          *reinterpret_cast<int4*>(&v) = *reinterpret_cast<const int4*>(p + k);
#pragma unroll
          for (int j = 0; j < Vec<D>::size; j++) x[k + j] = v[j];
        }
      } else {
#pragma unroll
        for (int k = 0; k < W; k++) x[k] = load_f(p[k]);
      }
    } else {
      load_x(c0, x);
    }
  };

  // pass 2: biased variance of x - mean
  float var = 0.0f;
  for (int it = 0, c0 = lane * W; c0 < C; it++, c0 += 32 * W) {
    float x[W];
    reload(it, c0, x);
#pragma unroll
    for (int k = 0; k < W; k++) {
      const float d = x[k] - m;
      var += d * d;
    }
  }
  const float s = rsqrtf(warp_sum(var) / (float)C + eps);

  // pass 3: normalise, scale, shift
  for (int it = 0, c0 = lane * W; c0 < C; it++, c0 += 32 * W) {
    float x[W], wv[W], bv[W];
    reload(it, c0, x);
    load_fw<W>(wv, w + c0);
    load_fw<W>(bv, bias + c0);
#pragma unroll
    for (int k = 0; k < W; k++) x[k] = (x[k] - m) * s * wv[k] + bv[k];
    store_fw<W>(out + off + c0, x);
  }
  if (lane == 0) {
    if (mean) mean[row] = m;
    if (rstd) rstd[row] = s;
  }
}

// res and b are nullptr for the plain LayerNorm (a is then the input).
template <bool kResidual, typename T>
void launch_layernorm_forward(T* res, T* out, float* mean, float* rstd, const T* a, const T* b, const T* w,
                              const T* bias, int N, int C, float eps, cudaStream_t stream) {
  using D = Dev<T>;
  if (N <= 0 || C <= 0) return;
  const bool vec = vec_ok<D>(C, {res, out, a, b, w, bias});
  const int W = vec ? Vec<D>::size : 1;
  // the fp32 row cache: as many rows per block as fit in kLnMaxCacheBytes (at least one), or none
  const int stride = (C + 32 * W - 1) / (32 * W) * (32 * W);
  const int64_t row_bytes = (int64_t)stride * sizeof(float);
  const bool cache = row_bytes <= kLnMaxCacheBytes;
  const int rows = cache ? (int)std::min<int64_t>(kLnMaxRowsPerBlock, kLnMaxCacheBytes / row_bytes)
                         : kLnMaxRowsPerBlock;
  const size_t smem = cache ? (size_t)rows * row_bytes : 0;
  const int blocks = (N + rows - 1) / rows;
  const int cache_stride = cache ? stride : 0;
  if (vec)
    layernorm_forward_kernel<Vec<D>::size, kResidual><<<blocks, 32 * rows, smem, stream>>>(
        dev(res), dev(out), mean, rstd, dev(a), dev(b), dev(w), dev(bias), N, C, eps, cache_stride);
  else
    layernorm_forward_kernel<1, kResidual><<<blocks, 32 * rows, smem, stream>>>(
        dev(res), dev(out), mean, rstd, dev(a), dev(b), dev(w), dev(bias), N, C, eps, cache_stride);
  GPTCU_CUDA_CHECK_LAUNCH();
}

}  // namespace layernorm_detail
}  // namespace gptcu::cuda
