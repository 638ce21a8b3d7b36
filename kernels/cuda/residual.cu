// kernels/cuda/residual.cu: elementwise residual add on the GPU (twin of kernels/cpu/residual.cpp).
//   out = a + alpha * b;   da += dout, db += alpha * dout
// Memory-bound: 16-byte vector loads/stores in a grid-stride loop when n and the pointers allow
// it, else one element per thread per iteration.
#include "kernels/cuda/cuda_common.cuh"

namespace gptcu::cuda {
namespace {

template <typename D>
__global__ void residual_forward_vec(D* out, const D* a, const D* b, int64_t nvec, float alpha) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < nvec; i += (int64_t)gridDim.x * blockDim.x) {
    const auto va = Vec<D>::load_stream(a + i * Vec<D>::size), vb = Vec<D>::load_stream(b + i * Vec<D>::size);
    Vec<D> vo;
    for (int k = 0; k < Vec<D>::size; k++) vo.set(k, va[k] + alpha * vb[k]);
    vo.store(out + i * Vec<D>::size);
  }
}

template <typename D>
__global__ void residual_forward_scalar(D* out, const D* a, const D* b, int64_t n, float alpha) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
    out[i] = store_f<D>(load_f(a[i]) + alpha * load_f(b[i]));
}

// g += scale * dout for one gradient (g may be null: then the kernel is not launched)
template <typename D>
__global__ void accumulate_vec(D* g, const D* dout, int64_t nvec, float scale) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < nvec; i += (int64_t)gridDim.x * blockDim.x) {
    auto vg = Vec<D>::load(g + i * Vec<D>::size);
    const auto vd = Vec<D>::load(dout + i * Vec<D>::size);
    for (int k = 0; k < Vec<D>::size; k++) vg.set(k, vg[k] + scale * vd[k]);
    vg.store(g + i * Vec<D>::size);
  }
}

template <typename D>
__global__ void accumulate_scalar(D* g, const D* dout, int64_t n, float scale) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
    g[i] = store_f<D>(load_f(g[i]) + scale * load_f(dout[i]));
}

template <typename T>
void accumulate(T* g, const T* dout, int64_t n, float scale, cudaStream_t stream) {
  using D = Dev<T>;
  if (!g || n == 0) return;
  if (vec_ok<D>(n, {g, dout}))
    accumulate_vec<<<grid_for(n / Vec<D>::size, 256), 256, 0, stream>>>(dev(g), dev(dout), n / Vec<D>::size, scale);
  else
    accumulate_scalar<<<grid_for(n, 256), 256, 0, stream>>>(dev(g), dev(dout), n, scale);
  GPTCU_CUDA_CHECK_LAUNCH();
}

}  // namespace

template <typename T>
void residual_forward(T* out, const T* a, const T* b, int64_t n, float alpha, cudaStream_t stream) {
  using D = Dev<T>;
  if (n == 0) return;
  if (vec_ok<D>(n, {out, a, b}))
    residual_forward_vec<<<grid_for(n / Vec<D>::size, 256), 256, 0, stream>>>(dev(out), dev(a), dev(b),
                                                                             n / Vec<D>::size, alpha);
  else
    residual_forward_scalar<<<grid_for(n, 256), 256, 0, stream>>>(dev(out), dev(a), dev(b), n, alpha);
  GPTCU_CUDA_CHECK_LAUNCH();
}

template <typename T>
void residual_backward(T* da, T* db, const T* dout, int64_t n, float alpha, cudaStream_t stream) {
  accumulate(da, dout, n, 1.0f, stream);
  accumulate(db, dout, n, alpha, stream);
}

template void residual_forward<float>(float*, const float*, const float*, int64_t, float, cudaStream_t);
template void residual_forward<bf16>(bf16*, const bf16*, const bf16*, int64_t, float, cudaStream_t);
template void residual_backward<float>(float*, float*, const float*, int64_t, float, cudaStream_t);
template void residual_backward<bf16>(bf16*, bf16*, const bf16*, int64_t, float, cudaStream_t);

}  // namespace gptcu::cuda
