// kernels/cuda/convert.cu: dtype conversions and fills on the GPU (n elements each).
//
//   float_to<T>:  out (n, T) = inp (n, fp32), rounded to nearest-even (bf16); a copy for float
//   to_float<T>:  out (n, fp32) = inp (n, T), exact
//   fill<T>:      out (n, T) = value (rounded to T)
//
// Memory-bound grid-stride loops. When every pointer is 16-byte aligned, each thread moves
// W = Vec<T>::size elements per step (for bf16: 8, one 16-byte access on the bf16 side and two
// on the fp32 side) and the last n % W elements go one per thread; otherwise W = 1.
#include "kernels/cuda/cuda_common.cuh"

namespace gptcu::cuda {
namespace {

constexpr int kThreads = 256;

template <int W, typename Out, typename In>
__global__ void convert_kernel(Out* out, const In* inp, int64_t n) {
  const int64_t tid = blockIdx.x * (int64_t)blockDim.x + threadIdx.x, stride = (int64_t)gridDim.x * blockDim.x;
  const int64_t nv = n / W;
  for (int64_t v = tid; v < nv; v += stride) {
    float x[W];
    load_fw<W>(x, inp + v * W);
    store_fw<W>(out + v * W, x);
  }
  if (W > 1 && tid < n - nv * W) {
    const int64_t i = nv * W + tid;
    out[i] = store_f<Out>(load_f(inp[i]));
  }
}

template <int W, typename D>
__global__ void fill_kernel(D* out, float value, int64_t n) {
  const int64_t tid = blockIdx.x * (int64_t)blockDim.x + threadIdx.x, stride = (int64_t)gridDim.x * blockDim.x;
  const int64_t nv = n / W;
  float x[W];
#pragma unroll
  for (int k = 0; k < W; k++) x[k] = value;
  for (int64_t v = tid; v < nv; v += stride) store_fw<W>(out + v * W, x);
  if (W > 1 && tid < n - nv * W) out[nv * W + tid] = store_f<D>(value);
}

template <typename Out, typename In>
void convert(Out* out, const In* inp, int64_t n, cudaStream_t stream) {
  // W: the vector width of the narrower type (8 for bf16: one 16-byte bf16 access, two fp32 ones)
  constexpr int W = Vec<Out>::size > Vec<In>::size ? Vec<Out>::size : Vec<In>::size;
  if (n <= 0) return;
  if (vec_ok<Out>(0, {out, inp}))  // alignment only: the kernel handles the tail
    convert_kernel<W><<<grid_for(n / W + 1, kThreads), kThreads, 0, stream>>>(out, inp, n);
  else
    convert_kernel<1><<<grid_for(n, kThreads), kThreads, 0, stream>>>(out, inp, n);
  GPTCU_CUDA_CHECK_LAUNCH();
}

}  // namespace

template <typename T>
void float_to(T* out, const float* inp, int64_t n, cudaStream_t stream) {
  convert(dev(out), inp, n, stream);
}

template <typename T>
void to_float(float* out, const T* inp, int64_t n, cudaStream_t stream) {
  convert(out, dev(inp), n, stream);
}

template <typename T>
void fill(T* out, float value, int64_t n, cudaStream_t stream) {
  using D = Dev<T>;
  constexpr int V = Vec<D>::size;
  if (n <= 0) return;
  if (vec_ok<D>(0, {out}))
    fill_kernel<V><<<grid_for(n / V + 1, kThreads), kThreads, 0, stream>>>(dev(out), value, n);
  else
    fill_kernel<1><<<grid_for(n, kThreads), kThreads, 0, stream>>>(dev(out), value, n);
  GPTCU_CUDA_CHECK_LAUNCH();
}

template void float_to<float>(float*, const float*, int64_t, cudaStream_t);
template void float_to<bf16>(bf16*, const float*, int64_t, cudaStream_t);
template void to_float<float>(float*, const float*, int64_t, cudaStream_t);
template void to_float<bf16>(float*, const bf16*, int64_t, cudaStream_t);
template void fill<float>(float*, float, int64_t, cudaStream_t);
template void fill<bf16>(bf16*, float, int64_t, cudaStream_t);

}  // namespace gptcu::cuda
