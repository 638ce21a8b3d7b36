// kernels/cuda/residual_layernorm.cu: the residual add fused with the LayerNorm that follows it
// (no CPU twin: it is cpu::residual_forward then cpu::layernorm_forward).
//
//   a, b (N, C), w, bias (C) -> res (N, C) = a + b (rounded to T), out (N, C) = layernorm(res),
//   mean, rstd (N) fp32: exactly what layernorm_forward(res) gives, so the backward is
//   layernorm_backward(res, mean, rstd) + residual_backward.
//
// One read of a and b, one write of res and out: one warp per row adds a + b, writes res and
// keeps the row in shared memory for the statistics and the output (the kernel of
// layernorm_row.cuh, shared with layernorm.cu).
#include "kernels/cuda/cuda_common.cuh"
#include "kernels/cuda/layernorm_row.cuh"

namespace gptcu::cuda {

template <typename T>
void residual_layernorm_forward(T* res, T* out, float* mean, float* rstd, const T* a, const T* b, const T* w,
                                const T* bias, int N, int C, float eps, cudaStream_t stream) {
  layernorm_detail::launch_layernorm_forward<true, T>(res, out, mean, rstd, a, b, w, bias, N, C, eps, stream);
}

template void residual_layernorm_forward<float>(float*, float*, float*, float*, const float*, const float*,
                                                const float*, const float*, int, int, float, cudaStream_t);
template void residual_layernorm_forward<bf16>(bf16*, bf16*, float*, float*, const bf16*, const bf16*, const bf16*,
                                               const bf16*, int, int, float, cudaStream_t);

}  // namespace gptcu::cuda
