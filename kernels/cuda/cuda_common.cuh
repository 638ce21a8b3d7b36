// kernels/cuda/cuda_common.cuh: device-side helpers shared by the kernels in kernels/cuda/
// (included by .cu files only).
//
//   Dev<T>          the device type behind a storage type: float -> float, gptcu::bf16 -> __nv_bfloat16
//   dev(p)          the same pointer, cast to Dev<T>*
//   load_f / store_f  one element as fp32 (bf16 widened on load, rounded to nearest-even on store)
//   Vec<T>          16 bytes of T (8 bf16 or 4 floats), loaded and stored in one instruction
//   load_fw<W> / store_fw<W>   W consecutive elements as fp32: 16-byte vectors when W is a multiple
//                   of Vec<D>::size, else W scalar accesses (W = 1: a kernel's scalar path)
//   warp_sum, warp_max, block_sum, block_max   fp32 reductions (block_* need blockDim.x % 32 == 0)
//   grid_for(n, threads)   a 1-D grid for a grid-stride loop over n items
//   row_chunks(N)   the fixed row ranges of the deterministic two-stage column sums
#pragma once
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <type_traits>

#include "kernels/bf16.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/cuda_kernels.h"

namespace gptcu::cuda {

static_assert(sizeof(gptcu::bf16) == sizeof(__nv_bfloat16), "bf16 must be 2 bytes like __nv_bfloat16");

template <typename T>
struct DevType {
  using type = T;
};
template <>
struct DevType<gptcu::bf16> {
  using type = __nv_bfloat16;
};
template <typename T>
using Dev = typename DevType<T>::type;

template <typename T>
inline Dev<T>* dev(T* p) {
  return reinterpret_cast<Dev<T>*>(p);
}
template <typename T>
inline const Dev<T>* dev(const T* p) {
  return reinterpret_cast<const Dev<T>*>(p);
}

__device__ __forceinline__ float load_f(float x) { return x; }
__device__ __forceinline__ float load_f(__nv_bfloat16 x) { return __bfloat162float(x); }
template <typename D>
__device__ __forceinline__ D store_f(float x);
template <>
__device__ __forceinline__ float store_f<float>(float x) {
  return x;
}
template <>
__device__ __forceinline__ __nv_bfloat16 store_f<__nv_bfloat16>(float x) {
  return __float2bfloat16_rn(x);
}

// 16 bytes of D: one 128-bit load or store. The address must be 16-byte aligned.
template <typename D>
struct alignas(16) Vec {
  static constexpr int size = 16 / sizeof(D);
  D v[size];
  __device__ __forceinline__ static Vec load(const D* p) {
    Vec r;
    *reinterpret_cast<int4*>(&r) = __ldg(reinterpret_cast<const int4*>(p));
    return r;
  }
  // a load that skips the L1 and marks the line for early eviction (data read once)
  __device__ __forceinline__ static Vec load_stream(const D* p) {
    Vec r;
    *reinterpret_cast<int4*>(&r) = __ldcs(reinterpret_cast<const int4*>(p));
    return r;
  }
  __device__ __forceinline__ void store(D* p) const { *reinterpret_cast<int4*>(p) = *reinterpret_cast<const int4*>(this); }
  __device__ __forceinline__ float operator[](int i) const { return load_f(v[i]); }
  __device__ __forceinline__ void set(int i, float x) { v[i] = store_f<D>(x); }
};

// True when n elements from each pointer can be read as whole Vec<D>s.
template <typename D>
__host__ __device__ inline bool vec_ok(int64_t n, std::initializer_list<const void*> ptrs) {
  if (n % Vec<D>::size != 0) return false;
  for (const void* p : ptrs)
    if (p && reinterpret_cast<uintptr_t>(p) % 16 != 0) return false;
  return true;
}

// W consecutive elements from p as fp32 (and back, rounded to D): W / Vec<D>::size 16-byte
// accesses when W is a multiple of the vector width (p must then be 16-byte aligned), else W
// scalar ones. A kernel templated on W takes W = Vec<D>::size when vec_ok() allows it, else 1.
template <int W, typename D>
__device__ __forceinline__ void load_fw(float (&f)[W], const D* p) {
  if constexpr (W % Vec<D>::size == 0) {
#pragma unroll
    for (int k = 0; k < W; k += Vec<D>::size) {
      const auto v = Vec<D>::load(p + k);
#pragma unroll
      for (int j = 0; j < Vec<D>::size; j++) f[k + j] = v[j];
    }
  } else {
#pragma unroll
    for (int k = 0; k < W; k++) f[k] = load_f(p[k]);
  }
}
template <int W, typename D>
__device__ __forceinline__ void store_fw(D* p, const float (&f)[W]) {
  if constexpr (W % Vec<D>::size == 0) {
#pragma unroll
    for (int k = 0; k < W; k += Vec<D>::size) {
      Vec<D> v;
#pragma unroll
      for (int j = 0; j < Vec<D>::size; j++) v.set(j, f[k + j]);
      v.store(p + k);
    }
  } else {
#pragma unroll
    for (int k = 0; k < W; k++) p[k] = store_f<D>(f[k]);
  }
}

__device__ __forceinline__ float warp_sum(float x) {
  for (int o = 16; o > 0; o >>= 1) x += __shfl_xor_sync(0xffffffffu, x, o);
  return x;
}
__device__ __forceinline__ float warp_max(float x) {
  for (int o = 16; o > 0; o >>= 1) x = fmaxf(x, __shfl_xor_sync(0xffffffffu, x, o));
  return x;
}

// Sum (or max) over the block, returned to every thread. `shared` holds 32 floats. Contains
// __syncthreads(): every thread of the block must call it.
__device__ __forceinline__ float block_sum(float x, float* shared) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
  x = warp_sum(x);
  __syncthreads();  // shared may still be read by a previous call
  if (lane == 0) shared[warp] = x;
  __syncthreads();
  x = lane < warps ? shared[lane] : 0.0f;
  return warp_sum(x);
}
__device__ __forceinline__ float block_max(float x, float* shared) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
  x = warp_max(x);
  __syncthreads();
  if (lane == 0) shared[warp] = x;
  __syncthreads();
  x = lane < warps ? shared[lane] : -INFINITY;
  return warp_max(x);
}

// tanh-approximate GELU and its derivative, fp32 (the formulas of kernels/cpu/gelu.cpp)
__device__ __forceinline__ float gelu_f(float x) {
  const float k = 0.7978845608028654f;  // sqrt(2/pi)
  return 0.5f * x * (1.0f + tanhf(k * (x + 0.044715f * x * x * x)));
}
__device__ __forceinline__ float gelu_grad_f(float x) {
  const float k = 0.7978845608028654f;
  const float u = k * (x + 0.044715f * x * x * x);
  const float t = tanhf(u);
  const float du = k * (1.0f + 3.0f * 0.044715f * x * x);
  return 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * du;
}

inline int grid_for(int64_t n, int threads) {
  const int64_t blocks = (n + threads - 1) / threads;
  return (int)(blocks < 1 ? 1 : blocks > 65535 * 16 ? 65535 * 16 : blocks);
}

// The row ranges of a deterministic two-stage column sum over N rows (LayerNorm dw/db, bias
// gradient): `count` chunks of `rows` consecutive rows (the last one shorter), at least 32 rows
// each and at most 256 chunks. A function of N only, so the scratch size (count partial sums per
// column) and the order of every addition are too.
struct RowChunks {
  int rows, count;
};
inline RowChunks row_chunks(int N) {
  if (N <= 0) return {1, 0};
  const int64_t rows = std::max<int64_t>(32, ((int64_t)N + 255) / 256);
  return {(int)rows, (int)(((int64_t)N + rows - 1) / rows)};
}

}  // namespace gptcu::cuda
