// kernels/cpu/linear.cpp: linear layer, out = inp @ W (+ bias), CPU reference via OpenBLAS.
//
//   inp (N, C), out (N, OC), bias (OC) or nullptr
//   W (C, OC) for WeightLayout::in_out  (out = inp @ W,   Hugging Face Conv1D)
//   W (OC, C) for WeightLayout::out_in  (out = inp @ W^T, nn.Linear / tied LM head)
//
// Backward (+= into every gradient given, nullptr = skip):
//   dinp += dout @ W^T (in_out) or dout @ W (out_in)
//   dW   += inp^T @ dout (in_out) or dout^T @ inp (out_in)
//   dbias += column sums of dout, each column summed over rows in order (deterministic).
#include <algorithm>

#include "kernels/cpu/blas.h"
#include "kernels/cpu/cpu_kernels.h"

namespace gptcu::cpu {
namespace {

constexpr int kColumnBlock = 64;  // columns per OpenMP task in the bias-gradient sum

}  // namespace

template <typename T>
void linear_forward(T* out, const T* inp, const T* w, const T* bias, int N, int C, int OC,
                    WeightLayout layout) {
  if (N <= 0 || OC <= 0) return;
  T beta = T(0);
  if (bias) {  // out starts as the bias broadcast over rows, then the GEMM adds onto it
#pragma omp parallel for schedule(static)
    for (int i = 0; i < N; i++) std::copy(bias, bias + OC, out + (int64_t)i * OC);
    beta = T(1);
  }
  if (layout == WeightLayout::in_out)  // (N, C) @ (C, OC)
    gemm(false, false, N, OC, C, inp, C, w, OC, beta, out, OC);
  else  // (N, C) @ (OC, C)^T
    gemm(false, true, N, OC, C, inp, C, w, C, beta, out, OC);
}

template <typename T>
void linear_backward(T* dinp, T* dw, T* dbias, const T* dout, const T* inp, const T* w, int N,
                     int C, int OC, WeightLayout layout) {
  if (N <= 0) return;
  const bool in_out = layout == WeightLayout::in_out;
  if (dinp) {  // dinp (N, C) += dout (N, OC) @ W^T
    if (in_out)
      gemm(false, true, N, C, OC, dout, OC, w, OC, T(1), dinp, C);  // W (C, OC)
    else
      gemm(false, false, N, C, OC, dout, OC, w, C, T(1), dinp, C);  // W (OC, C)
  }
  if (dw) {
    if (in_out)  // dW (C, OC) += inp^T (C, N) @ dout (N, OC)
      gemm(true, false, C, OC, N, inp, C, dout, OC, T(1), dw, OC);
    else  // dW (OC, C) += dout^T (OC, N) @ inp (N, C)
      gemm(true, false, OC, C, N, dout, OC, inp, C, T(1), dw, C);
  }
  if (dbias) {  // each block of columns sums the rows in order: same bits on any thread count
    const int nblocks = (OC + kColumnBlock - 1) / kColumnBlock;
#pragma omp parallel for schedule(static)
    for (int blk = 0; blk < nblocks; blk++) {
      const int o0 = blk * kColumnBlock, o1 = std::min(OC, o0 + kColumnBlock);
      T sum[kColumnBlock] = {};
      for (int i = 0; i < N; i++) {
        const T* row = dout + (int64_t)i * OC;
        for (int o = o0; o < o1; o++) sum[o - o0] += row[o];
      }
      for (int o = o0; o < o1; o++) dbias[o] += sum[o - o0];
    }
  }
}

template void linear_forward<float>(float*, const float*, const float*, const float*, int, int, int,
                                    WeightLayout);
template void linear_forward<double>(double*, const double*, const double*, const double*, int, int,
                                     int, WeightLayout);
template void linear_backward<float>(float*, float*, float*, const float*, const float*,
                                     const float*, int, int, int, WeightLayout);
template void linear_backward<double>(double*, double*, double*, const double*, const double*,
                                      const double*, int, int, int, WeightLayout);

}  // namespace gptcu::cpu
