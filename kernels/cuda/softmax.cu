// kernels/cuda/softmax.cu: softmax over the last dimension on the GPU (twin of kernels/cpu/softmax.cpp).
//
//   forward:  out (N, C) = exp(inp - rowmax) / sum_c exp(inp - rowmax)
//   backward: dinp (N, C) += out * (dout - sum_c(dout * out))
//
// One block per row; rows may be tens of thousands wide. Forward: one pass keeps an online
// (running max m, running sum s of exp(x - m)) per thread, the block combines them (max, then the
// sums rescaled to the common max), and a second pass re-reads the row (L2) and writes
// exp(x - max) / sum. -inf entries (masked) give 0; a row that is all -inf gives NaN, like the
// CPU reference. Backward: one pass for the dot product, one for dinp.
// 16-byte vectors when C is a multiple of the vector width and the pointers are aligned; threads
// per block: enough for one vector (or element) per thread, between 32 and 512.
// Row offsets are 64-bit (N x C may pass 2^31).
#include <algorithm>

#include "kernels/cuda/cuda_common.cuh"

namespace gptcu::cuda {
namespace {

constexpr int kMaxThreads = 512;

template <int W, typename D>
__global__ void __launch_bounds__(kMaxThreads) softmax_forward_kernel(D* out, const D* inp, int C) {
  __shared__ float red[32];
  const int64_t off = (int64_t)blockIdx.x * C;

  float m = -INFINITY, s = 0.0f;  // this thread's running max and sum of exp(x - m)
  for (int c0 = threadIdx.x * W; c0 < C; c0 += blockDim.x * W) {
    float x[W];
    load_fw<W>(x, inp + off + c0);
#pragma unroll
    for (int k = 0; k < W; k++) {
      if (x[k] > m) {
        s = s * expf(m - x[k]) + 1.0f;  // m = -inf at first: expf(-inf) = 0
        m = x[k];
      } else if (m > -INFINITY) {
        s += expf(x[k] - m);  // x = -inf adds 0; NaN propagates
      }
    }
  }
  const float row_max = block_max(m, red);
  const float row_sum = block_sum(m > -INFINITY ? s * expf(m - row_max) : 0.0f, red);
  const float inv = 1.0f / row_sum;

  for (int c0 = threadIdx.x * W; c0 < C; c0 += blockDim.x * W) {
    float x[W];
    load_fw<W>(x, inp + off + c0);
#pragma unroll
    for (int k = 0; k < W; k++) x[k] = expf(x[k] - row_max) * inv;
    store_fw<W>(out + off + c0, x);
  }
}

template <int W, typename D>
__global__ void __launch_bounds__(kMaxThreads) softmax_backward_kernel(D* dinp, const D* dout, const D* out, int C) {
  __shared__ float red[32];
  const int64_t off = (int64_t)blockIdx.x * C;
  float dot = 0.0f;
  for (int c0 = threadIdx.x * W; c0 < C; c0 += blockDim.x * W) {
    float dy[W], y[W];
    load_fw<W>(dy, dout + off + c0);
    load_fw<W>(y, out + off + c0);
#pragma unroll
    for (int k = 0; k < W; k++) dot += dy[k] * y[k];
  }
  dot = block_sum(dot, red);
  for (int c0 = threadIdx.x * W; c0 < C; c0 += blockDim.x * W) {
    float dy[W], y[W], dx[W];
    load_fw<W>(dy, dout + off + c0);
    load_fw<W>(y, out + off + c0);
    load_fw<W>(dx, dinp + off + c0);
#pragma unroll
    for (int k = 0; k < W; k++) dx[k] += y[k] * (dy[k] - dot);
    store_fw<W>(dinp + off + c0, dx);
  }
}

// one vector (or element) per thread where the row allows, a multiple of 32 in [32, 512]
int threads_for(int pieces) { return std::clamp((pieces + 31) / 32 * 32, 32, kMaxThreads); }

}  // namespace

template <typename T>
void softmax_forward(T* out, const T* inp, int N, int C, cudaStream_t stream) {
  using D = Dev<T>;
  constexpr int V = Vec<D>::size;
  if (N <= 0 || C <= 0) return;
  if (vec_ok<D>(C, {out, inp}))
    softmax_forward_kernel<V><<<N, threads_for(C / V), 0, stream>>>(dev(out), dev(inp), C);
  else
    softmax_forward_kernel<1><<<N, threads_for(C), 0, stream>>>(dev(out), dev(inp), C);
  GPTCU_CUDA_CHECK_LAUNCH();
}

template <typename T>
void softmax_backward(T* dinp, const T* dout, const T* out, int N, int C, cudaStream_t stream) {
  using D = Dev<T>;
  constexpr int V = Vec<D>::size;
  if (!dinp || N <= 0 || C <= 0) return;
  if (vec_ok<D>(C, {dinp, dout, out}))
    softmax_backward_kernel<V><<<N, threads_for(C / V), 0, stream>>>(dev(dinp), dev(dout), dev(out), C);
  else
    softmax_backward_kernel<1><<<N, threads_for(C), 0, stream>>>(dev(dinp), dev(dout), dev(out), C);
  GPTCU_CUDA_CHECK_LAUNCH();
}

template void softmax_forward<float>(float*, const float*, int, int, cudaStream_t);
template void softmax_forward<bf16>(bf16*, const bf16*, int, int, cudaStream_t);
template void softmax_backward<float>(float*, const float*, const float*, int, int, cudaStream_t);
template void softmax_backward<bf16>(bf16*, const bf16*, const bf16*, int, int, cudaStream_t);

}  // namespace gptcu::cuda
