// kernels/cuda/bias_grad.cu: the bias gradient of a linear layer on the GPU (the dbias part of
// kernels/cpu/linear.cpp's backward).
//
//   dout (N, OC) -> dbias (OC) += sum over the N rows, fp32 accumulation
//
// Deterministic two-stage column sums (no atomics):
//   1. the rows are cut into fixed ranges (row_chunks(N) of cuda_common.cuh: a function of N
//      only, at least 32 rows each, at most 256 ranges). Block (column tile, chunk), shape
//      (32, 8): thread (x, y) owns W consecutive columns (16-byte vectors when OC allows, else
//      W = 1) and the rows y, y + 8, y + 16, ... of the chunk; the 8 row lanes are added in order
//      through shared memory and each column's chunk sum goes to scratch (chunks x OC floats);
//   2. one thread per column adds the chunk sums in order and adds the total once to dbias.
#include <algorithm>

#include "kernels/cuda/cuda_common.cuh"

namespace gptcu::cuda {
namespace {

constexpr int kRowLanes = 8;

// block (32, kRowLanes), grid (ceil(OC / 32W), chunks)
template <int W, typename D>
__global__ void __launch_bounds__(32 * kRowLanes)
    bias_partials_kernel(float* part, const D* dout, int N, int OC, int chunk_rows) {
  __shared__ float red[W][kRowLanes][32];
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int c0 = (blockIdx.x * 32 + tx) * W;
  const int r_begin = blockIdx.y * chunk_rows, r_end = min(N, r_begin + chunk_rows);
  float acc[W];
#pragma unroll
  for (int k = 0; k < W; k++) acc[k] = 0.0f;
  if (c0 < OC) {
    for (int r = r_begin + ty; r < r_end; r += kRowLanes) {
      float g[W];
      load_fw<W>(g, dout + (int64_t)r * OC + c0);
#pragma unroll
      for (int k = 0; k < W; k++) acc[k] += g[k];
    }
  }
#pragma unroll
  for (int k = 0; k < W; k++) red[k][ty][tx] = acc[k];
  __syncthreads();
  if (ty == 0 && c0 < OC) {
#pragma unroll
    for (int k = 0; k < W; k++) {
      float s = 0.0f;
      for (int y = 0; y < kRowLanes; y++) s += red[k][y][tx];
      part[(int64_t)blockIdx.y * OC + c0 + k] = s;
    }
  }
}

template <typename D>
__global__ void bias_finish_kernel(D* dbias, const float* part, int OC, int chunks) {
  const int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c >= OC) return;
  float s = 0.0f;
  for (int q = 0; q < chunks; q++) s += part[(int64_t)q * OC + c];
  dbias[c] = store_f<D>(load_f(dbias[c]) + s);
}

}  // namespace

size_t bias_backward_scratch_bytes(int N, int OC) {
  return (size_t)row_chunks(N).count * (size_t)std::max(OC, 0) * sizeof(float);
}

template <typename T>
void bias_backward(T* dbias, void* scratch, const T* dout, int N, int OC, cudaStream_t stream) {
  using D = Dev<T>;
  constexpr int V = Vec<D>::size;
  if (!dbias || N <= 0 || OC <= 0) return;
  const RowChunks chunks = row_chunks(N);
  float* part = static_cast<float*>(scratch);
  const dim3 block(32, kRowLanes);
  if (vec_ok<D>(OC, {dout})) {
    const dim3 grid((OC / V + 31) / 32, chunks.count);
    bias_partials_kernel<V><<<grid, block, 0, stream>>>(part, dev(dout), N, OC, chunks.rows);
  } else {
    const dim3 grid((OC + 31) / 32, chunks.count);
    bias_partials_kernel<1><<<grid, block, 0, stream>>>(part, dev(dout), N, OC, chunks.rows);
  }
  GPTCU_CUDA_CHECK_LAUNCH();
  bias_finish_kernel<<<(OC + 255) / 256, 256, 0, stream>>>(dev(dbias), part, OC, chunks.count);
  GPTCU_CUDA_CHECK_LAUNCH();
}

template void bias_backward<float>(float*, void*, const float*, int, int, cudaStream_t);
template void bias_backward<bf16>(bf16*, void*, const bf16*, int, int, cudaStream_t);

}  // namespace gptcu::cuda
