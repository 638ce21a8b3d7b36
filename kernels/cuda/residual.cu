// kernels/cuda/residual.cu: elementwise residual add on the GPU (twin of kernels/cpu/residual.cpp).
// Grid-stride loops, one float per thread per iteration; the vectorised bf16 version comes
// with the CUDA backend.
#include <cuda_runtime.h>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/cuda_kernels.h"

namespace gptcu::cuda {
namespace {

__global__ void residual_forward_kernel(float* out, const float* a, const float* b, int64_t n, float alpha) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
    out[i] = a[i] + alpha * b[i];
}

__global__ void residual_backward_kernel(float* da, float* db, const float* dout, int64_t n, float alpha) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    if (da) da[i] += dout[i];
    if (db) db[i] += alpha * dout[i];
  }
}

int blocks_for(int64_t n, int threads) { return (int)std::min<int64_t>((n + threads - 1) / threads, 65535); }

}  // namespace

int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no driver" error
    return 0;
  }
  return n;
}

void residual_forward(float* out, const float* a, const float* b, int64_t n, cudaStream_t stream, float alpha) {
  if (n == 0) return;
  residual_forward_kernel<<<blocks_for(n, 256), 256, 0, stream>>>(out, a, b, n, alpha);
  GPTCU_CUDA_CHECK_LAUNCH();
}

void residual_backward(float* da, float* db, const float* dout, int64_t n, cudaStream_t stream, float alpha) {
  if (n == 0) return;
  residual_backward_kernel<<<blocks_for(n, 256), 256, 0, stream>>>(da, db, dout, n, alpha);
  GPTCU_CUDA_CHECK_LAUNCH();
}

}  // namespace gptcu::cuda
