// kernels/cuda/embedding.cu: token + position embedding on the GPU (twin of kernels/cpu/embedding.cpp).
//
//   tokens (B, T), wte (Vp, C), wpe (maxT, C), positions (B, T) or nullptr
//   forward:  out (B, T, C) = wte[tokens[b, t]] + wpe[pos],  pos = positions[b, t] or t
//             a grid-stride loop over (row, column vector).
//   backward (+= into each gradient given, nullptr = skip), deterministic, no atomics:
//     dwpe[t] += sum_b dout[b, t]: one thread per (t, column vector) sums the B rows in order.
//     dwte[v] += sum of dout[b, t] over the (b, t) with tokens[b, t] = v:
//       1. the positions 0 .. B*T-1 are sorted by token with CUB's (stable) radix sort, so the
//          positions of one token form a run, in increasing order;
//       2. one block per sorted position; the block at the first position of a run owns that
//          token (every other block leaves at once), measures the run length (a block-wide count
//          of equal keys, window by window), and sums the run's dout rows in fp32: warp w takes
//          rows w, w + 8, w + 16, ... of the run, lane L a column vector; the 8 warps' sums are
//          then added in warp order, and the total is added once to dwte[v]. The order of every
//          addition is fixed by the data alone: the same bits on every run.
//     Scratch: the position indices, the sorted keys and positions (B*T int32 each), and CUB's
//     temporary storage, each 256-byte aligned (embedding_backward_scratch_bytes).
// 16-byte vectors when C is a multiple of the vector width and the pointers are aligned, else
// scalar. 64-bit row offsets.
#include <cub/device/device_radix_sort.cuh>

#include "kernels/cuda/cuda_common.cuh"

namespace gptcu::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kRunWarps = 8;  // dwte: warps per run block (row groups)

template <int W, typename D>
__global__ void embedding_forward_kernel(D* out, const int32_t* tokens, const D* wte, const D* wpe, int T_, int C,
                                         int64_t n_pieces, const int32_t* positions) {
  const int pieces_per_row = C / W;
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n_pieces; i += (int64_t)gridDim.x * blockDim.x) {
    const int64_t row = i / pieces_per_row;  // b * T + t
    const int c0 = (int)(i % pieces_per_row) * W;
    const int64_t pos = positions ? positions[row] : row % T_;
    float e[W], p[W];
    load_fw<W>(e, wte + (int64_t)tokens[row] * C + c0);
    load_fw<W>(p, wpe + pos * C + c0);
#pragma unroll
    for (int k = 0; k < W; k++) e[k] += p[k];
    store_fw<W>(out + row * C + c0, e);
  }
}

// one thread per (t, column vector): dwpe[t] += sum over b, in order
template <int W, typename D>
__global__ void embedding_dwpe_kernel(D* dwpe, const D* dout, int B, int T_, int C) {
  const int pieces_per_row = C / W;
  const int64_t n_pieces = (int64_t)T_ * pieces_per_row;
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n_pieces; i += (int64_t)gridDim.x * blockDim.x) {
    const int64_t t = i / pieces_per_row;
    const int c0 = (int)(i % pieces_per_row) * W;
    float acc[W];
#pragma unroll
    for (int k = 0; k < W; k++) acc[k] = 0.0f;
    for (int b = 0; b < B; b++) {
      float g[W];
      load_fw<W>(g, dout + ((int64_t)b * T_ + t) * C + c0);
#pragma unroll
      for (int k = 0; k < W; k++) acc[k] += g[k];
    }
    float d[W];
    load_fw<W>(d, dwpe + t * C + c0);
#pragma unroll
    for (int k = 0; k < W; k++) d[k] += acc[k];
    store_fw<W>(dwpe + t * C + c0, d);
  }
}

__global__ void iota_kernel(int32_t* p, int n) {
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) p[i] = i;
}

// grid (n), block (32 * kRunWarps): see step 2 at the top of the file. keys (n) sorted, pos (n)
// the original row of each sorted key.
template <int W, typename D>
__global__ void __launch_bounds__(32 * kRunWarps)
    embedding_dwte_kernel(D* dwte, const D* dout, const int32_t* keys, const int32_t* pos, int n, int C) {
  __shared__ float part[W][kRunWarps][32];
  const int i = blockIdx.x;
  const int32_t key = keys[i];
  if (i > 0 && keys[i - 1] == key) return;  // not the start of a run: the same for the whole block

  // run length: equal keys are contiguous, so a window's count of equal keys is its prefix
  int len = 0;
  for (;;) {
    const int64_t j = (int64_t)i + len + threadIdx.x;
    const int count = __syncthreads_count(j < n && keys[j] == key);
    len += count;
    if (count < (int)blockDim.x) break;
  }

  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  D* dst = dwte + (int64_t)key * C;
  for (int tile = 0; tile < C; tile += 32 * W) {  // the same trip count for every thread
    const int c0 = tile + lane * W;
    float acc[W];
#pragma unroll
    for (int k = 0; k < W; k++) acc[k] = 0.0f;
    if (c0 < C) {
#pragma unroll 4
      for (int j = i + warp; j < i + len; j += kRunWarps) {
        float g[W];
        load_fw<W>(g, dout + (int64_t)pos[j] * C + c0);
#pragma unroll
        for (int k = 0; k < W; k++) acc[k] += g[k];
      }
    }
#pragma unroll
    for (int k = 0; k < W; k++) part[k][warp][lane] = acc[k];
    __syncthreads();
    if (warp == 0 && c0 < C) {
      float d[W];
      load_fw<W>(d, dst + c0);
#pragma unroll
      for (int k = 0; k < W; k++) {
        float s = 0.0f;
        for (int w = 0; w < kRunWarps; w++) s += part[k][w][lane];
        d[k] += s;
      }
      store_fw<W>(dst + c0, d);
    }
    __syncthreads();  // part is reused by the next tile
  }
}

constexpr size_t kAlign = 256;
size_t align_up(size_t x) { return (x + kAlign - 1) / kAlign * kAlign; }

size_t sort_temp_bytes(int n) {
  size_t bytes = 0;
  GPTCU_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(nullptr, bytes, (const int32_t*)nullptr, (int32_t*)nullptr,
                                                   (const int32_t*)nullptr, (int32_t*)nullptr, n));
  return bytes;
}

}  // namespace

template <typename T>
void embedding_forward(T* out, const int32_t* tokens, const T* wte, const T* wpe, int B, int T_, int C,
                       const int32_t* positions, cudaStream_t stream) {
  using D = Dev<T>;
  constexpr int V = Vec<D>::size;
  const int64_t n = (int64_t)B * T_ * C;
  if (n <= 0) return;
  if (vec_ok<D>(C, {out, wte, wpe}))
    embedding_forward_kernel<V><<<grid_for(n / V, kThreads), kThreads, 0, stream>>>(
        dev(out), tokens, dev(wte), dev(wpe), T_, C, n / V, positions);
  else
    embedding_forward_kernel<1><<<grid_for(n, kThreads), kThreads, 0, stream>>>(dev(out), tokens, dev(wte), dev(wpe),
                                                                                T_, C, n, positions);
  GPTCU_CUDA_CHECK_LAUNCH();
}

size_t embedding_backward_scratch_bytes(int B, int T_, int /*C*/) {
  const int n = B * T_;
  if (n <= 0) return 0;
  return 3 * align_up((size_t)n * sizeof(int32_t)) + align_up(sort_temp_bytes(n));
}

template <typename T>
void embedding_backward(T* dwte, T* dwpe, void* scratch, const T* dout, const int32_t* tokens, int B, int T_, int C,
                        cudaStream_t stream) {
  using D = Dev<T>;
  constexpr int V = Vec<D>::size;
  const int n = B * T_;
  if (n <= 0 || C <= 0) return;
  if (dwpe) {
    const int64_t pieces = (int64_t)T_ * C;
    if (vec_ok<D>(C, {dwpe, dout}))
      embedding_dwpe_kernel<V><<<grid_for(pieces / V, kThreads), kThreads, 0, stream>>>(dev(dwpe), dev(dout), B, T_, C);
    else
      embedding_dwpe_kernel<1><<<grid_for(pieces, kThreads), kThreads, 0, stream>>>(dev(dwpe), dev(dout), B, T_, C);
    GPTCU_CUDA_CHECK_LAUNCH();
  }
  if (dwte) {
    char* p = static_cast<char*>(scratch);
    const size_t ints = align_up((size_t)n * sizeof(int32_t));
    int32_t* pos_in = reinterpret_cast<int32_t*>(p);
    int32_t* keys_sorted = reinterpret_cast<int32_t*>(p + ints);
    int32_t* pos_sorted = reinterpret_cast<int32_t*>(p + 2 * ints);
    void* temp = p + 3 * ints;
    size_t temp_bytes = sort_temp_bytes(n);

    iota_kernel<<<grid_for(n, kThreads), kThreads, 0, stream>>>(pos_in, n);
    GPTCU_CUDA_CHECK_LAUNCH();
    GPTCU_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(temp, temp_bytes, tokens, keys_sorted, pos_in, pos_sorted, n, 0,
                                                     32, stream));
    GPTCU_CUDA_CHECK_LAUNCH();
    if (vec_ok<D>(C, {dwte, dout}))
      embedding_dwte_kernel<V><<<n, 32 * kRunWarps, 0, stream>>>(dev(dwte), dev(dout), keys_sorted, pos_sorted, n, C);
    else
      embedding_dwte_kernel<1><<<n, 32 * kRunWarps, 0, stream>>>(dev(dwte), dev(dout), keys_sorted, pos_sorted, n, C);
    GPTCU_CUDA_CHECK_LAUNCH();
  }
}

template void embedding_forward<float>(float*, const int32_t*, const float*, const float*, int, int, int,
                                       const int32_t*, cudaStream_t);
template void embedding_forward<bf16>(bf16*, const int32_t*, const bf16*, const bf16*, int, int, int, const int32_t*,
                                      cudaStream_t);
template void embedding_backward<float>(float*, float*, void*, const float*, const int32_t*, int, int, int,
                                        cudaStream_t);
template void embedding_backward<bf16>(bf16*, bf16*, void*, const bf16*, const int32_t*, int, int, int,
                                       cudaStream_t);

}  // namespace gptcu::cuda
