// kernels/cuda/adamw.cu: the optimizer step and the squared gradient norm on the GPU (twin of
// kernels/cpu/adamw.cpp).
//
//   sum_squares (n elements of T): two launches, deterministic. Stage 1: a grid of
//     nblocks = min(kMaxPartials, ceil(n / (threads * kPerThread))) blocks (a function of n only),
//     each thread summing x^2 in fp32 over a grid-stride loop (16-byte vectors when n and the
//     pointer allow), the block summing its threads (block_sum), one partial per block in scratch.
//     Stage 2: one block sums the partials (thread i takes partials i, i + blockDim, ...) into out[0].
//   adamw_update: one block per AdamWChunk (contiguous, inside one parameter, <= 65536 elements).
//     Every thread reads norm_sq[0] from device memory: norm = sqrt(norm_sq), clip scale
//     grad_clip / norm when grad_clip > 0 and norm > grad_clip; a non-finite norm returns without
//     touching anything. Bias corrections c1 = 1 - b1^step, c2 = 1 - b2^step in double (rounded to
//     float, as the CPU does), then per element exactly cpu::adamw_update:
//       g = grad * scale; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2
//       p = w - lr * ((m / c1) / (sqrt(v / c2) + eps) + wd * w),  w = master (or params when master is null)
//     master = p (fp32), params = p rounded to T. Elementwise and coalesced (scalar: chunks start
//     at arbitrary offsets and mix 2- and 4-byte arrays).
#include <cmath>

#include "kernels/cuda/cuda_common.cuh"

namespace gptcu::cuda {
namespace {

constexpr int kNormThreads = 256;
constexpr int kPerThread = 64;      // elements per thread before another block is worth it
constexpr int kMaxPartials = 1024;  // stage-1 blocks at most (= stage-2 threads)
constexpr int kAdamThreads = 256;

int norm_blocks(int64_t n) {
  const int64_t per_block = (int64_t)kNormThreads * kPerThread;
  const int64_t b = (n + per_block - 1) / per_block;
  return (int)(b < 1 ? 1 : b > kMaxPartials ? kMaxPartials : b);
}

template <typename D, bool VEC>
__global__ void __launch_bounds__(kNormThreads) sum_squares_partial(float* partials, const D* x, int64_t n) {
  __shared__ float shared[32];
  float s = 0.0f;
  const int64_t stride = (int64_t)gridDim.x * blockDim.x;
  const int64_t tid = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  if constexpr (VEC) {
    const int64_t nvec = n / Vec<D>::size;
    for (int64_t i = tid; i < nvec; i += stride) {
      const auto v = Vec<D>::load_stream(x + i * Vec<D>::size);
#pragma unroll
      for (int e = 0; e < Vec<D>::size; e++) s += v[e] * v[e];
    }
  } else {
    for (int64_t i = tid; i < n; i += stride) {
      const float xi = load_f(x[i]);
      s += xi * xi;
    }
  }
  s = block_sum(s, shared);
  if (threadIdx.x == 0) partials[blockIdx.x] = s;
}

__global__ void __launch_bounds__(kMaxPartials) sum_partials(float* out, const float* partials, int nparts) {
  __shared__ float shared[32];
  float s = 0.0f;
  for (int i = threadIdx.x; i < nparts; i += blockDim.x) s += partials[i];
  s = block_sum(s, shared);
  if (threadIdx.x == 0) out[0] = s;
}

template <typename D>
__global__ void __launch_bounds__(kAdamThreads)
    adamw_kernel(D* params, float* master, const D* grads, float* m, float* v, const AdamWChunk* chunks, float lr,
                 float beta1, float beta2, float eps, int step, float grad_clip, const float* norm_sq) {
  const float norm = sqrtf(norm_sq[0]);
  if (!isfinite(norm)) return;  // the whole grid returns: nothing changes
  const float scale = (grad_clip > 0.0f && norm > grad_clip) ? grad_clip / norm : 1.0f;
  const float c1 = 1.0f - (float)pow((double)beta1, (double)step);
  const float c2 = 1.0f - (float)pow((double)beta2, (double)step);
  const AdamWChunk chunk = chunks[blockIdx.x];
  const float wd = chunk.weight_decay;
  for (int j = threadIdx.x; j < chunk.size; j += blockDim.x) {
    const int64_t i = chunk.begin + j;
    const float g = load_f(grads[i]) * scale;
    const float mi = beta1 * m[i] + (1.0f - beta1) * g;
    const float vi = beta2 * v[i] + (1.0f - beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    const float m_hat = mi / c1, v_hat = vi / c2;
    const float w = master ? master[i] : load_f(params[i]);
    const float p = w - lr * (m_hat / (sqrtf(v_hat) + eps) + wd * w);
    if (master) master[i] = p;
    params[i] = store_f<D>(p);
  }
}

}  // namespace

size_t grad_norm_scratch_bytes(int64_t n) {
  (void)n;
  return kMaxPartials * sizeof(float);
}

template <typename T>
void sum_squares(float* out, void* scratch, const T* grads, int64_t n, cudaStream_t stream) {
  using D = Dev<T>;
  float* partials = static_cast<float*>(scratch);
  const int blocks = norm_blocks(n);
  if (vec_ok<D>(n, {grads}))
    sum_squares_partial<D, true><<<blocks, kNormThreads, 0, stream>>>(partials, dev(grads), n);
  else
    sum_squares_partial<D, false><<<blocks, kNormThreads, 0, stream>>>(partials, dev(grads), n);
  GPTCU_CUDA_CHECK_LAUNCH();
  sum_partials<<<1, kMaxPartials, 0, stream>>>(out, partials, blocks);
  GPTCU_CUDA_CHECK_LAUNCH();
}

template <typename T>
void adamw_update(T* params, float* master, const T* grads, float* m, float* v, const AdamWChunk* chunks,
                  int n_chunks, float lr, float beta1, float beta2, float eps, int step, float grad_clip,
                  const float* norm_sq, cudaStream_t stream) {
  if (n_chunks <= 0) return;
  adamw_kernel<Dev<T>><<<n_chunks, kAdamThreads, 0, stream>>>(dev(params), master, dev(grads), m, v, chunks, lr,
                                                              beta1, beta2, eps, step, grad_clip, norm_sq);
  GPTCU_CUDA_CHECK_LAUNCH();
}

template void sum_squares<float>(float*, void*, const float*, int64_t, cudaStream_t);
template void sum_squares<bf16>(float*, void*, const bf16*, int64_t, cudaStream_t);
template void adamw_update<float>(float*, float*, const float*, float*, float*, const AdamWChunk*, int, float, float,
                                  float, float, int, float, const float*, cudaStream_t);
template void adamw_update<bf16>(bf16*, float*, const bf16*, float*, float*, const AdamWChunk*, int, float, float,
                                 float, float, int, float, const float*, cudaStream_t);

}  // namespace gptcu::cuda
