// kernels/cpu/softmax.cpp: softmax over the last dimension, CPU reference.
//
//   out (N, C) = exp(inp - rowmax) / sum(exp(inp - rowmax))
//   dinp (N, C) += out * (dout - sum_c(dout * out))     (+=; nullptr = skip)
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "kernels/cpu/cpu_kernels.h"
#include "kernels/cpu/softmax_row.h"

namespace gptcu::cpu {

template <typename T>
void softmax_forward(T* out, const T* inp, int N, int C) {
#pragma omp parallel for schedule(static)
  for (int i = 0; i < N; i++) softmax_row(out + (int64_t)i * C, inp + (int64_t)i * C, C);
}

template <typename T>
void softmax_backward(T* dinp, const T* dout, const T* out, int N, int C) {
  if (!dinp) return;
#pragma omp parallel for schedule(static)
  for (int i = 0; i < N; i++) {
    const T* dy = dout + (int64_t)i * C;
    const T* y = out + (int64_t)i * C;
    T* dx = dinp + (int64_t)i * C;
    T dot = 0;
    for (int c = 0; c < C; c++) dot += dy[c] * y[c];
    for (int c = 0; c < C; c++) dx[c] += y[c] * (dy[c] - dot);
  }
}

template void softmax_forward<float>(float*, const float*, int, int);
template void softmax_forward<double>(double*, const double*, int, int);
template void softmax_backward<float>(float*, const float*, const float*, int, int);
template void softmax_backward<double>(double*, const double*, const double*, int, int);

}  // namespace gptcu::cpu
