// kernels/cuda/matmul.cu: linear layers and the benchmark GEMM on the GPU through cuBLASLt (twin of
// kernels/cpu/linear.cpp; the cuBLASLt handle, workspace, algorithm cache and fallback are in
// matmul_cache.cu).
//
// Row-major on column-major: a row-major (R, C) matrix is the column-major (C, R) matrix with the
// same leading dimension, so a row-major product Y = X W is computed as the column-major Y^T = W^T X^T.
//   inp (N, C) row-major  = column-major (C, N), ld C          -> inp^T
//   out (N, OC) row-major = column-major (OC, N), ld OC        -> out^T
//   W in_out (C, OC) row-major = column-major (OC, C), ld OC   -> W^T
//   W out_in (OC, C) row-major = column-major (C, OC), ld C    -> W
// forward  out^T (OC, N) = op(W) (OC, C) @ inp^T (C, N):  in_out: op = N (ld OC); out_in: op = T (ld C).
//          Epilogue BIAS adds bias (OC) along D's rows = out's columns. With gelu_pre, GELU_AUX(_BIAS):
//          aux = pre-activation (OC, N) ld OC = gelu_pre (N, OC) row-major, D = gelu(aux) = out (bf16
//          only). cuBLASLt wants aux ld % 8 == 0 (and we ask a 16-byte aligned pointer); otherwise, and
//          always for fp32, or when cuBLASLt has no fused algorithm, the GEMM writes the pre-activation
//          with the BIAS epilogue and a small kernel here applies GELU (gelu_f of cuda_common.cuh, the
//          formula of cpu/gelu.cpp). A bias that is not 16-byte aligned stays out of the epilogues (their
//          algorithms may assume it is): it is broadcast into D first and the GEMM runs with beta = 1.
// backward, beta = 1 (+=):
//   dinp^T (C, N) = op(W) (C, OC) @ dout^T (OC, N):     in_out: op = T (ld OC); out_in: op = N (ld C)
//   in_out: dW^T (OC, C) = dout^T (OC, N) @ inp (N, C)   [A = dout ld OC, B = inp transposed, ld C]
//   out_in: dW^T (C, OC) = inp^T (C, N) @ dout (N, OC)   [A = inp ld C, B = dout transposed, ld OC]
//   dbias: bias_backward (bias_grad.cu), a deterministic column sum.
// gemm_bf16: C (M, N) = A (M, K) @ B (K, N) row-major  ->  C^T (N, M) = B^T (N, K) @ A^T (K, M).
// Any N, C, OC: cuBLASLt is told each pointer's real alignment (and the cache keys on it); where it
// has no algorithm (e.g. some odd bf16 leading dimensions) the fallback kernel of matmul_cache.cu
// computes the same thing.
#include "kernels/cuda/cuda_common.cuh"
#include "kernels/cuda/matmul_cache.h"

namespace gptcu::cuda {
namespace {

// GELU in the cuBLASLt epilogue for bf16 only. cuBLASLt documents its GELU as the tanh form but not
// its accuracy (a hardware tanh approximation would be ~5e-4 relative): fine at bf16 storage, not
// for the fp32 parity mode, which takes the BIAS epilogue and gelu_f (tanhf) below instead.
template <typename T>
constexpr bool kFuseGelu = std::is_same_v<T, bf16>;

template <typename D>
__global__ void gelu_apply_kernel(D* out, const D* pre, int64_t n) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
    out[i] = store_f<D>(gelu_f(load_f(pre[i])));
}

// out (N, OC): every row = bias (OC)
template <typename D>
__global__ void broadcast_rows_kernel(D* out, const D* bias, int64_t n, int OC) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
    out[i] = bias[i % OC];
}

}  // namespace

template <typename T>
void linear_forward(T* out, const T* inp, const T* w, const T* bias, int N, int C, int OC, WeightLayout layout,
                    T* gelu_pre, cudaStream_t stream) {
  if (N <= 0 || OC <= 0) return;
  const bool in_out = layout == WeightLayout::in_out;
  lt::Gemm g;
  g.m = OC;
  g.n = N;
  g.k = C;
  g.ab_type = g.d_type = lt::data_type<T>();
  g.a = {w, !in_out, in_out ? OC : C, 0};
  g.b = {inp, false, C, 0};
  g.ldd = OC;
  const bool bias_epilogue = bias && lt::bias_ok(bias);
  if (gelu_pre && kFuseGelu<T> && lt::gelu_aux_ok(gelu_pre, OC) && (!bias || bias_epilogue)) {
    g.d = out;
    g.epilogue = bias ? lt::Epilogue::gelu_aux_bias : lt::Epilogue::gelu_aux;
    g.bias = bias;
    g.aux = gelu_pre;
    g.aux_ld = OC;
    if (lt::try_gemm(g, stream)) return;
    g.aux = nullptr;  // no fused algorithm: the unfused path below
    g.aux_ld = 0;
  }
  // inp @ W (+ bias) into the pre-activation (or straight into out), then GELU when asked
  T* pre = gelu_pre ? gelu_pre : out;
  g.d = pre;
  if (bias_epilogue) {
    g.epilogue = lt::Epilogue::bias;
    g.bias = bias;
  } else {
    g.epilogue = lt::Epilogue::none;
    g.bias = nullptr;
    if (bias) {  // an unaligned bias: rows of D start as the bias, the GEMM adds onto them
      const int64_t n = (int64_t)N * OC;
      broadcast_rows_kernel<<<grid_for(n, 256), 256, 0, stream>>>(dev(pre), dev(bias), n, OC);
      GPTCU_CUDA_CHECK_LAUNCH();
      g.beta = 1.0f;
    }
  }
  lt::gemm(g, stream);
  if (gelu_pre) {
    const int64_t n = (int64_t)N * OC;
    gelu_apply_kernel<<<grid_for(n, 256), 256, 0, stream>>>(dev(out), dev(static_cast<const T*>(gelu_pre)), n);
    GPTCU_CUDA_CHECK_LAUNCH();
  }
}

size_t linear_backward_scratch_bytes(int N, int OC) { return bias_backward_scratch_bytes(N, OC); }

template <typename T>
void linear_backward(T* dinp, T* dw, T* dbias, void* scratch, const T* dout, const T* inp, const T* w, int N, int C,
                     int OC, WeightLayout layout, cudaStream_t stream) {
  if (N <= 0 || OC <= 0) return;  // nothing to add
  const bool in_out = layout == WeightLayout::in_out;
  const cudaDataType_t type = lt::data_type<T>();
  if (dinp && C > 0) {
    lt::Gemm g;
    g.m = C;
    g.n = N;
    g.k = OC;
    g.ab_type = g.d_type = type;
    g.a = {w, in_out, in_out ? OC : C, 0};
    g.b = {dout, false, OC, 0};
    g.d = dinp;
    g.ldd = C;
    g.beta = 1.0f;
    lt::gemm(g, stream);
  }
  if (dw && C > 0) {
    lt::Gemm g;
    g.k = N;
    g.ab_type = g.d_type = type;
    g.d = dw;
    g.beta = 1.0f;
    if (in_out) {  // dW^T (OC, C) = dout^T (OC, N) @ inp (N, C)
      g.m = OC;
      g.n = C;
      g.a = {dout, false, OC, 0};
      g.b = {inp, true, C, 0};
      g.ldd = OC;
    } else {  // dW^T (C, OC) = inp^T (C, N) @ dout (N, OC)
      g.m = C;
      g.n = OC;
      g.a = {inp, false, C, 0};
      g.b = {dout, true, OC, 0};
      g.ldd = C;
    }
    lt::gemm(g, stream);
  }
  if (dbias) bias_backward(dbias, scratch, dout, N, OC, stream);
}

void set_deterministic_matmul(bool on) { lt::set_deterministic(on); }

void gemm_bf16(bf16* c, const bf16* a, const bf16* b, int M, int N, int K, cudaStream_t stream) {
  lt::Gemm g;
  g.m = N;
  g.n = M;
  g.k = K;
  g.ab_type = g.d_type = CUDA_R_16BF;
  g.a = {b, false, N, 0};
  g.b = {a, false, K, 0};
  g.d = c;
  g.ldd = N;
  lt::gemm(g, stream);
}

template void linear_forward<float>(float*, const float*, const float*, const float*, int, int, int, WeightLayout,
                                    float*, cudaStream_t);
template void linear_forward<bf16>(bf16*, const bf16*, const bf16*, const bf16*, int, int, int, WeightLayout, bf16*,
                                   cudaStream_t);
template void linear_backward<float>(float*, float*, float*, void*, const float*, const float*, const float*, int,
                                     int, int, WeightLayout, cudaStream_t);
template void linear_backward<bf16>(bf16*, bf16*, bf16*, void*, const bf16*, const bf16*, const bf16*, int, int, int,
                                    WeightLayout, cudaStream_t);

}  // namespace gptcu::cuda
