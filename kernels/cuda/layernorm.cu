// kernels/cuda/layernorm.cu: LayerNorm over the last dimension on the GPU (twin of
// kernels/cpu/layernorm.cpp).
//
//   forward:  inp (N, C), w (C), b (C) -> out (N, C), mean (N), rstd (N) fp32
//             out = (inp - mean) * rstd * w + b, rstd = 1 / sqrt(var + eps), var biased.
//             One warp per row, the row cached in shared memory: see layernorm_row.cuh (the
//             kernel is shared with residual_layernorm.cu).
//   backward: with norm = (x - mean) * rstd, dnorm = dout * w (every gradient +=, nullptr = skip):
//             dinp += rstd * (dnorm - mean_c(dnorm) - norm * mean_c(dnorm * norm))
//               one warp per row: one pass for the two row means, one to write dinp.
//             dw += sum_rows dout * norm,  db += sum_rows dout
//               deterministic two-stage column sums: the rows are cut into fixed ranges
//               (row_chunks(N), a function of N only); block (column tile, chunk) sums its rows
//               with 8 row lanes (lane y takes rows y, y + 8, ...), adds the 8 lanes in order and
//               writes one fp32 partial per column into scratch (2 x chunks x C floats); a second
//               kernel adds the chunks' partials in order, one thread per column, and adds the
//               result to dw, db.
#include <algorithm>

#include "kernels/cuda/cuda_common.cuh"
#include "kernels/cuda/layernorm_row.cuh"

namespace gptcu::cuda {
namespace {

constexpr int kRowsPerBlock = 8;  // dinp: warps (rows) per block
constexpr int kRowLanes = 8;      // dw/db partials: row lanes per block (blockDim.y)

template <int W, typename D>
__global__ void __launch_bounds__(32 * kRowsPerBlock)
    layernorm_dinp_kernel(D* dinp, const D* dout, const D* inp, const D* w, const float* mean, const float* rstd,
                          int N, int C) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  const int row = blockIdx.x * kRowsPerBlock + warp;
  if (row >= N) return;  // whole warp; no block-level synchronisation below
  const int64_t off = (int64_t)row * C;
  const float m = mean[row], s = rstd[row];

  float sum_dn = 0.0f, sum_dn_norm = 0.0f;
  for (int c0 = lane * W; c0 < C; c0 += 32 * W) {
    float dy[W], x[W], wv[W];
    load_fw<W>(dy, dout + off + c0);
    load_fw<W>(x, inp + off + c0);
    load_fw<W>(wv, w + c0);
#pragma unroll
    for (int k = 0; k < W; k++) {
      const float dn = dy[k] * wv[k];
      sum_dn += dn;
      sum_dn_norm += dn * (x[k] - m) * s;
    }
  }
  const float mean_dn = warp_sum(sum_dn) / (float)C, mean_dn_norm = warp_sum(sum_dn_norm) / (float)C;

  for (int c0 = lane * W; c0 < C; c0 += 32 * W) {  // the row again (from L1/L2)
    float dy[W], x[W], wv[W], dx[W];
    load_fw<W>(dy, dout + off + c0);
    load_fw<W>(x, inp + off + c0);
    load_fw<W>(wv, w + c0);
    load_fw<W>(dx, dinp + off + c0);
#pragma unroll
    for (int k = 0; k < W; k++) dx[k] += s * (dy[k] * wv[k] - mean_dn - (x[k] - m) * s * mean_dn_norm);
    store_fw<W>(dinp + off + c0, dx);
  }
}

// block (32, kRowLanes), grid (ceil(C / 32W), chunks): thread (x, y) owns columns
// [c0, c0 + W) with c0 = (blockIdx.x * 32 + x) W and rows chunk_begin + y + i kRowLanes of the chunk
template <int W, typename D>
__global__ void __launch_bounds__(32 * kRowLanes)
    layernorm_param_partials(float* part_w, float* part_b, const D* dout, const D* inp, const float* mean,
                             const float* rstd, int N, int C, int chunk_rows) {
  __shared__ float red[2][W][kRowLanes][32];
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int c0 = (blockIdx.x * 32 + tx) * W;
  const int r_begin = blockIdx.y * chunk_rows, r_end = min(N, r_begin + chunk_rows);
  float sw[W], sb[W];
#pragma unroll
  for (int k = 0; k < W; k++) sw[k] = sb[k] = 0.0f;
  if (c0 < C) {
    for (int r = r_begin + ty; r < r_end; r += kRowLanes) {
      const int64_t off = (int64_t)r * C + c0;
      const float m = mean[r], s = rstd[r];
      float dy[W], x[W];
      load_fw<W>(dy, dout + off);
      load_fw<W>(x, inp + off);
#pragma unroll
      for (int k = 0; k < W; k++) {
        sw[k] += dy[k] * (x[k] - m) * s;
        sb[k] += dy[k];
      }
    }
  }
#pragma unroll
  for (int k = 0; k < W; k++) {
    red[0][k][ty][tx] = sw[k];
    red[1][k][ty][tx] = sb[k];
  }
  __syncthreads();
  if (ty == 0 && c0 < C) {
    const int64_t out = (int64_t)blockIdx.y * C + c0;
#pragma unroll
    for (int k = 0; k < W; k++) {
      float a = 0.0f, b = 0.0f;
      for (int y = 0; y < kRowLanes; y++) {
        a += red[0][k][y][tx];
        b += red[1][k][y][tx];
      }
      part_w[out + k] = a;
      part_b[out + k] = b;
    }
  }
}

// one thread per column: the chunks' partials in order, then added once to dw and db
template <typename D>
__global__ void layernorm_param_finish(D* dw, D* db, const float* part_w, const float* part_b, int C, int chunks) {
  const int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c >= C) return;
  float a = 0.0f, b = 0.0f;
  for (int q = 0; q < chunks; q++) {
    a += part_w[(int64_t)q * C + c];
    b += part_b[(int64_t)q * C + c];
  }
  if (dw) dw[c] = store_f<D>(load_f(dw[c]) + a);
  if (db) db[c] = store_f<D>(load_f(db[c]) + b);
}

}  // namespace

template <typename T>
void layernorm_forward(T* out, float* mean, float* rstd, const T* inp, const T* w, const T* b, int N, int C,
                       float eps, cudaStream_t stream) {
  layernorm_detail::launch_layernorm_forward<false, T>(nullptr, out, mean, rstd, inp, nullptr, w, b, N, C, eps,
                                                       stream);
}

size_t layernorm_backward_scratch_bytes(int N, int C) {
  return (size_t)2 * row_chunks(N).count * (size_t)std::max(C, 0) * sizeof(float);
}

template <typename T>
void layernorm_backward(T* dinp, T* dw, T* db, void* scratch, const T* dout, const T* inp, const T* w,
                        const float* mean, const float* rstd, int N, int C, cudaStream_t stream) {
  using D = Dev<T>;
  constexpr int V = Vec<D>::size;
  if (N <= 0 || C <= 0) return;
  if (dinp) {
    const int blocks = (N + kRowsPerBlock - 1) / kRowsPerBlock;
    if (vec_ok<D>(C, {dinp, dout, inp, w}))
      layernorm_dinp_kernel<V><<<blocks, 32 * kRowsPerBlock, 0, stream>>>(dev(dinp), dev(dout), dev(inp), dev(w),
                                                                          mean, rstd, N, C);
    else
      layernorm_dinp_kernel<1><<<blocks, 32 * kRowsPerBlock, 0, stream>>>(dev(dinp), dev(dout), dev(inp), dev(w),
                                                                          mean, rstd, N, C);
    GPTCU_CUDA_CHECK_LAUNCH();
  }
  if (dw || db) {
    const RowChunks ch = row_chunks(N);
    const int chunks = ch.count, chunk_rows = ch.rows;
    float* part_w = static_cast<float*>(scratch);
    float* part_b = part_w + (size_t)chunks * C;
    const dim3 block(32, kRowLanes);
    if (vec_ok<D>(C, {dout, inp})) {
      const dim3 grid((C / V + 31) / 32, chunks);
      layernorm_param_partials<V><<<grid, block, 0, stream>>>(part_w, part_b, dev(dout), dev(inp), mean, rstd, N, C,
                                                              chunk_rows);
    } else {
      const dim3 grid((C + 31) / 32, chunks);
      layernorm_param_partials<1><<<grid, block, 0, stream>>>(part_w, part_b, dev(dout), dev(inp), mean, rstd, N, C,
                                                              chunk_rows);
    }
    GPTCU_CUDA_CHECK_LAUNCH();
    layernorm_param_finish<<<(C + 255) / 256, 256, 0, stream>>>(dev(dw), dev(db), part_w, part_b, C, chunks);
    GPTCU_CUDA_CHECK_LAUNCH();
  }
}

template void layernorm_forward<float>(float*, float*, float*, const float*, const float*, const float*, int, int,
                                       float, cudaStream_t);
template void layernorm_forward<bf16>(bf16*, float*, float*, const bf16*, const bf16*, const bf16*, int, int, float,
                                      cudaStream_t);
template void layernorm_backward<float>(float*, float*, float*, void*, const float*, const float*, const float*,
                                        const float*, const float*, int, int, cudaStream_t);
template void layernorm_backward<bf16>(bf16*, bf16*, bf16*, void*, const bf16*, const bf16*, const bf16*,
                                       const float*, const float*, int, int, cudaStream_t);

}  // namespace gptcu::cuda
