// kernels/cuda/rng.cu: normal random numbers on the GPU from the counter-based RNG of core/rng.h.
//
//   out[i] = mean + std * philox_normal(key, base, i),  i < n, rounded to T
//
// the numbers Rng::fill_normal gives on the CPU for a generator with that key whose counter is
// at base. philox_normal draws element i from Philox block base + i / 4 (Box-Muller on the
// block's two pairs of 32-bit words), so here one thread computes one block and writes its four
// elements 4q .. 4q + 3 (fewer at the end when n is not a multiple of 4). The Box-Muller step
// below is philox_normal's, written out once per block instead of once per element; the test
// checks it against the CPU. Accurate logf/sqrtf/sinf/cosf (this folder is compiled without
// --use_fast_math); CUDA's logf/sinf/cosf are not glibc's, so a result can differ from the CPU's
// in the last bits (a few ulps at most). Consecutive threads write consecutive 16-byte (float)
// or 8-byte (bf16) groups: coalesced without explicit vectors.
#include "kernels/philox.h"
#include "kernels/cuda/cuda_common.cuh"

namespace gptcu::cuda {
namespace {

constexpr int kThreads = 256;

template <typename D>
__global__ void fill_normal_kernel(D* out, int64_t n, uint64_t key, uint64_t base, float mean, float std) {
  const int64_t blocks = (n + 3) / 4;
  for (int64_t q = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; q < blocks; q += (int64_t)gridDim.x * blockDim.x) {
    const Philox4 r = philox4x32(key, base + (uint64_t)q);
    float z[4];
#pragma unroll
    for (int pair = 0; pair < 2; pair++) {  // as in philox_normal: elements 2 pair (cos) and 2 pair + 1 (sin)
      const float u1 = u32_to_unit(r.x[2 * pair]);
      const float u2 = u32_to_unit(r.x[2 * pair + 1]);
      const float radius = sqrtf(-2.0f * logf(u1));
      const float angle = 6.2831853071795864f * u2;
      z[2 * pair] = radius * cosf(angle);
      z[2 * pair + 1] = radius * sinf(angle);
    }
    const int64_t i0 = 4 * q;
#pragma unroll
    for (int k = 0; k < 4; k++)
      if (i0 + k < n) out[i0 + k] = store_f<D>(mean + std * z[k]);
  }
}

}  // namespace

template <typename T>
void fill_normal(T* out, int64_t n, uint64_t key, uint64_t base, float mean, float std, cudaStream_t stream) {
  if (n <= 0) return;
  fill_normal_kernel<<<grid_for((n + 3) / 4, kThreads), kThreads, 0, stream>>>(dev(out), n, key, base, mean, std);
  GPTCU_CUDA_CHECK_LAUNCH();
}

template void fill_normal<float>(float*, int64_t, uint64_t, uint64_t, float, float, cudaStream_t);
template void fill_normal<bf16>(bf16*, int64_t, uint64_t, uint64_t, float, float, cudaStream_t);

}  // namespace gptcu::cuda
