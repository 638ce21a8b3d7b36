// kernels/cuda/gelu.cu: tanh-approximate GELU on the GPU (twin of kernels/cpu/gelu.cpp).
//   out (n) = gelu(inp (n)),  gelu(x) = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
//   dinp (n) += dout * gelu'(inp)
// Memory-bound and elementwise: a grid-stride loop over 16-byte vectors (W = 8 bf16 / 4 floats)
// when the pointers are 16-byte aligned, the last n % W elements one per thread; W = 1 (scalar)
// for unaligned pointers. fp32 math through gelu_f / gelu_grad_f (cuda_common.cuh).
#include "kernels/cuda/cuda_common.cuh"

namespace gptcu::cuda {
namespace {

constexpr int kThreads = 256;

template <int W, typename D>
__device__ __forceinline__ void gelu_forward_at(D* out, const D* inp, int64_t i) {
  float x[W];
  load_fw<W>(x, inp + i);
#pragma unroll
  for (int k = 0; k < W; k++) x[k] = gelu_f(x[k]);
  store_fw<W>(out + i, x);
}

template <int W, typename D>
__device__ __forceinline__ void gelu_backward_at(D* dinp, const D* dout, const D* inp, int64_t i) {
  float x[W], dy[W], dx[W];
  load_fw<W>(x, inp + i);
  load_fw<W>(dy, dout + i);
  load_fw<W>(dx, dinp + i);
#pragma unroll
  for (int k = 0; k < W; k++) dx[k] += dy[k] * gelu_grad_f(x[k]);
  store_fw<W>(dinp + i, dx);
}

// Elements [0, n / W * W) in W-wide pieces, then the tail (n % W elements) one per thread.
template <int W, typename D>
__global__ void gelu_forward_kernel(D* out, const D* inp, int64_t n) {
  const int64_t tid = blockIdx.x * (int64_t)blockDim.x + threadIdx.x, stride = (int64_t)gridDim.x * blockDim.x;
  const int64_t nv = n / W;
  for (int64_t v = tid; v < nv; v += stride) gelu_forward_at<W>(out, inp, v * W);
  if (W > 1 && tid < n - nv * W) gelu_forward_at<1>(out, inp, nv * W + tid);
}

template <int W, typename D>
__global__ void gelu_backward_kernel(D* dinp, const D* dout, const D* inp, int64_t n) {
  const int64_t tid = blockIdx.x * (int64_t)blockDim.x + threadIdx.x, stride = (int64_t)gridDim.x * blockDim.x;
  const int64_t nv = n / W;
  for (int64_t v = tid; v < nv; v += stride) gelu_backward_at<W>(dinp, dout, inp, v * W);
  if (W > 1 && tid < n - nv * W) gelu_backward_at<1>(dinp, dout, inp, nv * W + tid);
}

}  // namespace

template <typename T>
void gelu_forward(T* out, const T* inp, int64_t n, cudaStream_t stream) {
  using D = Dev<T>;
  constexpr int V = Vec<D>::size;
  if (n <= 0) return;
  if (vec_ok<D>(0, {out, inp}))  // alignment only: the tail is handled in the kernel
    gelu_forward_kernel<V><<<grid_for(n / V + 1, kThreads), kThreads, 0, stream>>>(dev(out), dev(inp), n);
  else
    gelu_forward_kernel<1><<<grid_for(n, kThreads), kThreads, 0, stream>>>(dev(out), dev(inp), n);
  GPTCU_CUDA_CHECK_LAUNCH();
}

template <typename T>
void gelu_backward(T* dinp, const T* dout, const T* inp, int64_t n, cudaStream_t stream) {
  using D = Dev<T>;
  constexpr int V = Vec<D>::size;
  if (!dinp || n <= 0) return;
  if (vec_ok<D>(0, {dinp, dout, inp}))
    gelu_backward_kernel<V><<<grid_for(n / V + 1, kThreads), kThreads, 0, stream>>>(dev(dinp), dev(dout), dev(inp), n);
  else
    gelu_backward_kernel<1><<<grid_for(n, kThreads), kThreads, 0, stream>>>(dev(dinp), dev(dout), dev(inp), n);
  GPTCU_CUDA_CHECK_LAUNCH();
}

template void gelu_forward<float>(float*, const float*, int64_t, cudaStream_t);
template void gelu_forward<bf16>(bf16*, const bf16*, int64_t, cudaStream_t);
template void gelu_backward<float>(float*, const float*, const float*, int64_t, cudaStream_t);
template void gelu_backward<bf16>(bf16*, const bf16*, const bf16*, int64_t, cudaStream_t);

}  // namespace gptcu::cuda
