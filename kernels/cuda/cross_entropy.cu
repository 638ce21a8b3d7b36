// kernels/cuda/cross_entropy.cu: softmax + cross-entropy over the first V of Vp logits on the GPU
// (twin of kernels/cpu/cross_entropy.cpp), and the weighted mean of the per-token losses.
//
//   logits (N, Vp), targets (N) (< 0: ignored), losses (N), lse (N) fp32.
//   cross_entropy_forward:  one block per row; each thread keeps an online (max, sum of exp) over
//     its columns, the block combines them (block_max, then each thread's sum rescaled to the
//     block max, block_sum): lse = max + log(sum), loss = lse - logits[target].
//   cross_entropy_backward: one block per row, one read of the row:
//     dlogits[j] += dloss * (exp(logits[j] - lse) - [j == target]) for j < V; padding untouched.
//   cross_entropy_fused: one read and one write of the logits. A block holds its row in registers
//     (NV 16-byte vectors per thread, NV in {1, 2, 4, 8}: rows up to 8192 vectors = 65536 bf16 /
//     32768 floats), computes max and sum from them, then writes
//     dlogits = scale * weight * (p - onehot) (padding 0). Longer rows, or rows that cannot be read
//     as vectors, take a two-read version (stats pass, then a read-and-write pass). In place
//     (dlogits == logits) is safe: every read of the row by the block happens before the
//     __syncthreads inside the reductions, every write after; in the two-read version each element
//     of the second pass is read and then written by the same thread. Loads of logits there are
//     coherent (__ldcs / plain), never the read-only __ldg path, because the row may be written.
//   weighted_mean_forward/backward: one block of 1024 threads, fixed strided partial sums then a
//     block tree: the same bits on every run.
// Row offsets are 64-bit (N * Vp passes 2^31 for N = 65536, Vp = 50304). Arithmetic is fp32 with
// expf/logf (not the fast intrinsics): the losses are compared with the reference at fp32
// tolerance even for bf16 logits.
#include "kernels/cuda/cuda_common.cuh"

namespace gptcu::cuda {
namespace {

constexpr int kRowThreads = 512;   // forward, backward, two-read fused
constexpr int kRegThreads = 1024;  // most threads of the register-resident fused kernel
constexpr int kMeanThreads = 1024;

// Running max m and sum s of exp(x - m) over the values one thread has seen.
struct OnlineStats {
  float m = -INFINITY, s = 0.0f;
  // raise the running max to at least mx (before adding values <= mx)
  __device__ __forceinline__ void raise(float mx) {
    if (mx > m) {
      s *= expf(m - mx);  // m = -inf: s is 0 and stays 0
      m = mx;
    }
  }
  __device__ __forceinline__ void add(float x) {  // x <= m
    if (m != -INFINITY) s += expf(x - m);
  }
};

// Each thread's online stats over the first V columns of row x (vectorised when VEC: whole
// vectors up to V / size, then the tail scalar).
template <typename D, bool VEC>
__device__ __forceinline__ OnlineStats thread_row_stats(const D* x, int V) {
  OnlineStats st;
  int tail0 = 0;
  if constexpr (VEC) {
    constexpr int VS = Vec<D>::size;
    const int nvec = V / VS;
    for (int vi = threadIdx.x; vi < nvec; vi += blockDim.x) {
      const auto v = Vec<D>::load_stream(x + (int64_t)vi * VS);
      float mx = v[0];
#pragma unroll
      for (int e = 1; e < VS; e++) mx = fmaxf(mx, v[e]);
      st.raise(mx);
#pragma unroll
      for (int e = 0; e < VS; e++) st.add(v[e]);
    }
    tail0 = nvec * VS;
  }
  for (int j = tail0 + threadIdx.x; j < V; j += blockDim.x) {
    const float xj = load_f(x[j]);
    st.raise(xj);
    st.add(xj);
  }
  return st;
}

// lse of the row from every thread's stats (every thread must call: two block reductions)
__device__ __forceinline__ float block_lse(const OnlineStats& st, float* shared) {
  const float M = block_max(st.m, shared);
  const float s = st.s > 0.0f ? st.s * expf(st.m - M) : 0.0f;
  const float S = block_sum(s, shared);
  return M + logf(S);
}

template <typename D, bool VEC>
__global__ void __launch_bounds__(kRowThreads)
    ce_forward_kernel(float* losses, float* lse_out, const D* logits, const int32_t* targets, int V, int Vp) {
  __shared__ float shared[32];
  const int64_t row = blockIdx.x;
  const D* x = logits + row * Vp;
  const float lse = block_lse(thread_row_stats<D, VEC>(x, V), shared);
  if (threadIdx.x == 0) {
    const int t = targets[row];
    lse_out[row] = lse;
    losses[row] = t < 0 ? 0.0f : lse - load_f(x[t]);
  }
}

template <typename D, bool VEC>
__global__ void __launch_bounds__(kRowThreads)
    ce_backward_kernel(D* dlogits, const float* dlosses, const D* logits, const float* lse_in,
                       const int32_t* targets, int V, int Vp) {
  const int64_t row = blockIdx.x;
  const int t = targets[row];
  if (t < 0) return;  // ignored row: no gradient (whole block returns; no barrier in this kernel)
  const float g = dlosses[row], lse = lse_in[row];
  const D* x = logits + row * Vp;
  D* dx = dlogits + row * Vp;
  int tail0 = 0;
  if constexpr (VEC) {
    constexpr int VS = Vec<D>::size;
    const int nvec = V / VS;  // whole vectors inside the first V columns
    for (int vi = threadIdx.x; vi < nvec; vi += blockDim.x) {
      const int64_t off = (int64_t)vi * VS;
      const auto xv = Vec<D>::load_stream(x + off);
      auto dv = Vec<D>::load_stream(dx + off);  // coherent load: this kernel writes dx
#pragma unroll
      for (int e = 0; e < VS; e++) {
        const int j = vi * VS + e;
        dv.set(e, dv[e] + g * (expf(xv[e] - lse) - (j == t ? 1.0f : 0.0f)));
      }
      dv.store(dx + off);
    }
    tail0 = nvec * VS;
  }
  for (int j = tail0 + threadIdx.x; j < V; j += blockDim.x)
    dx[j] = store_f<D>(load_f(dx[j]) + g * (expf(load_f(x[j]) - lse) - (j == t ? 1.0f : 0.0f)));
}

// Fused, row held in registers: NV vectors of 16 bytes per thread, vector vi = threadIdx.x + k * blockDim.x.
// Requires Vp % Vec<D>::size == 0 and 16-byte aligned logits/dlogits, Vp / size <= NV * blockDim.x.
template <typename D, int NV>
__global__ void __launch_bounds__(kRegThreads)
    ce_fused_regs_kernel(float* losses, D* dlogits, const D* logits, const int32_t* targets, const float* weights,
                         float scale, int V, int Vp) {
  constexpr int VS = Vec<D>::size;
  __shared__ float shared[32];
  const int64_t row = blockIdx.x;
  const D* x = logits + row * Vp;
  D* dx = dlogits + row * Vp;
  const int nvec = Vp / VS;
  const int t = targets[row];
  // the target logit, read before the first barrier (so before any write of the row)
  const float xt = (threadIdx.x == 0 && t >= 0) ? load_f(x[t]) : 0.0f;

  Vec<D> r[NV];
  OnlineStats st;
#pragma unroll
  for (int k = 0; k < NV; k++) {
    const int vi = threadIdx.x + k * blockDim.x;
    if (vi < nvec) {
      r[k] = Vec<D>::load_stream(x + (int64_t)vi * VS);
      float mx = -INFINITY;
#pragma unroll
      for (int e = 0; e < VS; e++)
        if (vi * VS + e < V) mx = fmaxf(mx, r[k][e]);
      st.raise(mx);
#pragma unroll
      for (int e = 0; e < VS; e++)
        if (vi * VS + e < V) st.add(r[k][e]);
    }
  }
  const float lse = block_lse(st, shared);  // barriers: all reads of the row are done past here

  const bool ignored = t < 0;
  const float coef = ignored ? 0.0f : scale * (weights ? weights[row] : 1.0f);
#pragma unroll
  for (int k = 0; k < NV; k++) {
    const int vi = threadIdx.x + k * blockDim.x;
    if (vi < nvec) {
      Vec<D> o;
#pragma unroll
      for (int e = 0; e < VS; e++) {
        const int j = vi * VS + e;
        const float p = (j < V && !ignored) ? expf(r[k][e] - lse) - (j == t ? 1.0f : 0.0f) : 0.0f;
        o.set(e, coef * p);
      }
      o.store(dx + (int64_t)vi * VS);
    }
  }
  if (threadIdx.x == 0) losses[row] = ignored ? 0.0f : lse - xt;
}

// Fused, two reads: stats pass over the row, then each element (vector) read and written by one thread.
template <typename D, bool VEC>
__global__ void __launch_bounds__(kRowThreads)
    ce_fused_tworead_kernel(float* losses, D* dlogits, const D* logits, const int32_t* targets,
                            const float* weights, float scale, int V, int Vp) {
  __shared__ float shared[32];
  const int64_t row = blockIdx.x;
  const D* x = logits + row * Vp;
  D* dx = dlogits + row * Vp;
  const int t = targets[row];
  const float xt = (threadIdx.x == 0 && t >= 0) ? load_f(x[t]) : 0.0f;
  const float lse = block_lse(thread_row_stats<D, VEC>(x, V), shared);  // barriers: stats reads done

  const bool ignored = t < 0;
  const float coef = ignored ? 0.0f : scale * (weights ? weights[row] : 1.0f);
  int tail0 = 0;
  if constexpr (VEC) {
    constexpr int VS = Vec<D>::size;
    const int nvec = Vp / VS;  // Vp % VS == 0 on this path: the whole row, padding included
    for (int vi = threadIdx.x; vi < nvec; vi += blockDim.x) {
      const int64_t off = (int64_t)vi * VS;
      const auto xv = Vec<D>::load_stream(x + off);
      Vec<D> o;
#pragma unroll
      for (int e = 0; e < VS; e++) {
        const int j = vi * VS + e;
        o.set(e, (j < V && !ignored) ? coef * (expf(xv[e] - lse) - (j == t ? 1.0f : 0.0f)) : 0.0f);
      }
      o.store(dx + off);
    }
    tail0 = nvec * VS;
  }
  for (int j = tail0 + threadIdx.x; j < Vp; j += blockDim.x) {
    const float p = (j < V && !ignored) ? expf(load_f(x[j]) - lse) - (j == t ? 1.0f : 0.0f) : 0.0f;
    dx[j] = store_f<D>(coef * p);
  }
  if (threadIdx.x == 0) losses[row] = ignored ? 0.0f : lse - xt;
}

template <typename D, int NV>
void launch_fused_regs(float* losses, D* dlogits, const D* logits, const int32_t* targets, const float* weights,
                       float scale, int N, int V, int Vp, cudaStream_t stream) {
  const int nvec = Vp / Vec<D>::size;
  // enough threads (a multiple of 32, for the block reductions) that NV vectors each cover the row
  int threads = ((nvec + NV - 1) / NV + 31) / 32 * 32;
  threads = threads < 32 ? 32 : threads > kRegThreads ? kRegThreads : threads;
  ce_fused_regs_kernel<D, NV><<<N, threads, 0, stream>>>(losses, dlogits, logits, targets, weights, scale, V, Vp);
  GPTCU_CUDA_CHECK_LAUNCH();
}

__global__ void __launch_bounds__(kMeanThreads)
    weighted_mean_forward_kernel(float* out, float* weights, float* count, const float* losses,
                                 const int32_t* targets, const float* mask, int N) {
  __shared__ float shared[32];
  float sw = 0.0f, swl = 0.0f;
  for (int i = threadIdx.x; i < N; i += blockDim.x) {
    const float w = targets[i] < 0 ? 0.0f : (mask ? mask[i] : 1.0f);
    weights[i] = w;
    sw += w;
    swl += w * losses[i];
  }
  const float total_w = block_sum(sw, shared);
  const float total = block_sum(swl, shared);
  if (threadIdx.x == 0) {
    count[0] = total_w;
    out[0] = total_w != 0.0f ? total / total_w : 0.0f;
  }
}

__global__ void weighted_mean_backward_kernel(float* dlosses, const float* dout, const float* weights,
                                              const float* count, int N) {
  const float c = count[0];
  const float g = c != 0.0f ? dout[0] / c : 0.0f;
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < N; i += (int64_t)gridDim.x * blockDim.x)
    dlosses[i] += g * weights[i];
}

}  // namespace

template <typename T>
void cross_entropy_forward(float* losses, float* lse, const T* logits, const int32_t* targets, int N, int V, int Vp,
                           cudaStream_t stream) {
  using D = Dev<T>;
  if (N <= 0) return;
  if (vec_ok<D>(Vp, {logits}))
    ce_forward_kernel<D, true><<<N, kRowThreads, 0, stream>>>(losses, lse, dev(logits), targets, V, Vp);
  else
    ce_forward_kernel<D, false><<<N, kRowThreads, 0, stream>>>(losses, lse, dev(logits), targets, V, Vp);
  GPTCU_CUDA_CHECK_LAUNCH();
}

template <typename T>
void cross_entropy_backward(T* dlogits, const float* dlosses, const T* logits, const float* lse,
                            const int32_t* targets, int N, int V, int Vp, cudaStream_t stream) {
  using D = Dev<T>;
  if (N <= 0 || !dlogits) return;
  if (vec_ok<D>(Vp, {logits, dlogits}))
    ce_backward_kernel<D, true>
        <<<N, kRowThreads, 0, stream>>>(dev(dlogits), dlosses, dev(logits), lse, targets, V, Vp);
  else
    ce_backward_kernel<D, false>
        <<<N, kRowThreads, 0, stream>>>(dev(dlogits), dlosses, dev(logits), lse, targets, V, Vp);
  GPTCU_CUDA_CHECK_LAUNCH();
}

template <typename T>
void cross_entropy_fused(float* losses, T* dlogits, const T* logits, const int32_t* targets, const float* weights,
                         float scale, int N, int V, int Vp, cudaStream_t stream) {
  using D = Dev<T>;
  if (N <= 0) return;
  D* dx = dev(dlogits);
  const D* x = dev(logits);
  if (vec_ok<D>(Vp, {logits, dlogits})) {
    const int64_t nvec = Vp / Vec<D>::size;
    if (nvec <= 1 * kRegThreads)
      return launch_fused_regs<D, 1>(losses, dx, x, targets, weights, scale, N, V, Vp, stream);
    if (nvec <= 2 * kRegThreads)
      return launch_fused_regs<D, 2>(losses, dx, x, targets, weights, scale, N, V, Vp, stream);
    if (nvec <= 4 * kRegThreads)
      return launch_fused_regs<D, 4>(losses, dx, x, targets, weights, scale, N, V, Vp, stream);
    if (nvec <= 8 * kRegThreads)
      return launch_fused_regs<D, 8>(losses, dx, x, targets, weights, scale, N, V, Vp, stream);
    ce_fused_tworead_kernel<D, true><<<N, kRowThreads, 0, stream>>>(losses, dx, x, targets, weights, scale, V, Vp);
  } else {
    ce_fused_tworead_kernel<D, false><<<N, kRowThreads, 0, stream>>>(losses, dx, x, targets, weights, scale, V, Vp);
  }
  GPTCU_CUDA_CHECK_LAUNCH();
}

void weighted_mean_forward(float* out, float* weights, float* count, const float* losses, const int32_t* targets,
                           const float* mask, int N, cudaStream_t stream) {
  weighted_mean_forward_kernel<<<1, kMeanThreads, 0, stream>>>(out, weights, count, losses, targets, mask, N);
  GPTCU_CUDA_CHECK_LAUNCH();
}

void weighted_mean_backward(float* dlosses, const float* dout, const float* weights, const float* count, int N,
                            cudaStream_t stream) {
  if (N <= 0 || !dlosses) return;
  weighted_mean_backward_kernel<<<grid_for(N, 256), 256, 0, stream>>>(dlosses, dout, weights, count, N);
  GPTCU_CUDA_CHECK_LAUNCH();
}

template void cross_entropy_forward<float>(float*, float*, const float*, const int32_t*, int, int, int, cudaStream_t);
template void cross_entropy_forward<bf16>(float*, float*, const bf16*, const int32_t*, int, int, int, cudaStream_t);
template void cross_entropy_backward<float>(float*, const float*, const float*, const float*, const int32_t*, int, int,
                                            int, cudaStream_t);
template void cross_entropy_backward<bf16>(bf16*, const float*, const bf16*, const float*, const int32_t*, int, int,
                                           int, cudaStream_t);
template void cross_entropy_fused<float>(float*, float*, const float*, const int32_t*, const float*, float, int, int,
                                         int, cudaStream_t);
template void cross_entropy_fused<bf16>(float*, bf16*, const bf16*, const int32_t*, const float*, float, int, int, int,
                                        cudaStream_t);

}  // namespace gptcu::cuda
