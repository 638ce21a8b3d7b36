// kernels/cpu/softmax_row.h: the stable softmax of one row, shared by the softmax kernel and
// the causal attention kernel (whose rows have different lengths). No threading here: the
// callers parallelise over rows.
#pragma once
#include <algorithm>
#include <cmath>

namespace gptcu::cpu {

// y (C) = exp(x - max x) / sum(exp(x - max x)); y may alias x.
template <typename T>
inline void softmax_row(T* y, const T* x, int C) {
  const T maxv = *std::max_element(x, x + C);
  T sum = 0;
  for (int c = 0; c < C; c++) {
    y[c] = std::exp(x[c] - maxv);
    sum += y[c];
  }
  const T inv = T(1) / sum;
  for (int c = 0; c < C; c++) y[c] *= inv;
}

}  // namespace gptcu::cpu
