// kernels/cpu/masked_sum.cpp: per-row masked sums, CPU reference (sequence log-probabilities
// for DPO), and the total of a mask (the denominator of every masked mean).
//
//   x (B, T), mask (B, T)
//   out (B) = sum_t mask[b, t] * x[b, t]      accumulated in double
//   dx (B, T) += dout[b] * mask[b, t]         (no gradient into the mask)
//   mask_total = sum_i mask[i]                accumulated in double
#include <cstdint>

#include "kernels/cpu/cpu_kernels.h"

namespace gptcu::cpu {

template <typename T>
void masked_sum_forward(T* out, const T* x, const T* mask, int B, int T_) {
  for (int b = 0; b < B; b++) {
    double acc = 0;
    for (int t = 0; t < T_; t++) {
      const int64_t i = (int64_t)b * T_ + t;
      if (mask[i] != 0) acc += (double)mask[i] * x[i];  // a masked-out NaN/inf stays out
    }
    out[b] = (T)acc;
  }
}

template <typename T>
void masked_sum_backward(T* dx, const T* dout, const T* mask, int B, int T_) {
  if (!dx) return;
  for (int b = 0; b < B; b++)
    for (int t = 0; t < T_; t++) dx[(int64_t)b * T_ + t] += dout[b] * mask[(int64_t)b * T_ + t];
}

template <typename T>
double mask_total(const T* mask, int64_t n) {
  double total = 0;
  for (int64_t i = 0; i < n; i++) total += mask[i];
  return total;
}

template void masked_sum_forward<float>(float*, const float*, const float*, int, int);
template void masked_sum_forward<double>(double*, const double*, const double*, int, int);
template void masked_sum_backward<float>(float*, const float*, const float*, int, int);
template void masked_sum_backward<double>(double*, const double*, const double*, int, int);
template double mask_total<float>(const float*, int64_t);
template double mask_total<double>(const double*, int64_t);

}  // namespace gptcu::cpu
