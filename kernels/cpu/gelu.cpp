// kernels/cpu/gelu.cpp: GELU with the tanh approximation (GPT-2), elementwise, CPU reference.
//
//   out (n) = gelu(inp (n)),  gelu(x) = 0.5 x (1 + tanh(u)),  u = sqrt(2/pi) (x + 0.044715 x^3)
//   dinp (n) += dout * gelu'(x)                                  (+=; nullptr = skip)
//
// Computed through the identity 0.5 (1 + tanh(u)) = sigmoid(2u) = 1 / (1 + exp(-2u)), because
// glibc's scalar tanhf costs about 7x an expf (measured: 19 ns vs 2.7 ns per element); the
// float path uses the vectorisable exp of fast_exp.h (GELU was ~15% of a CPU training step):
//   gelu(x)  = x s,                       s = sigmoid(2u)
//   gelu'(x) = s + 2 x s (1 - s) du/dx,   du/dx = sqrt(2/pi) (1 + 3 * 0.044715 x^2)
//   (from 1 - tanh(u)^2 = 4 s (1 - s)). For very negative x, exp overflows to inf and s = 0:
//   no NaN.
#include <cmath>
#include <cstdint>

#include "kernels/cpu/cpu_kernels.h"
#include "kernels/cpu/fast_exp.h"

namespace gptcu::cpu {
namespace {
constexpr double kSqrt2OverPi = 0.79788456080286535588;  // sqrt(2/pi)
constexpr double kCubic = 0.044715;
constexpr int64_t kMinParallel = 1 << 14;  // below this, threads cost more than they save
}  // namespace

template <typename T>
void gelu_forward(T* out, const T* inp, int64_t n) {
  const T s2 = T(2 * kSqrt2OverPi), a = T(kCubic);
#pragma omp parallel for simd schedule(static) if (n >= kMinParallel)
  for (int64_t i = 0; i < n; i++) {
    const T x = inp[i];
    const T two_u = s2 * (x + a * x * x * x);
    out[i] = x / (T(1) + vec_exp(-two_u));  // x sigmoid(2u)
  }
}

template <typename T>
void gelu_backward(T* dinp, const T* dout, const T* inp, int64_t n) {
  if (!dinp) return;
  const T s2 = T(2 * kSqrt2OverPi), a = T(kCubic);
#pragma omp parallel for simd schedule(static) if (n >= kMinParallel)
  for (int64_t i = 0; i < n; i++) {
    const T x = inp[i];
    const T s = T(1) / (T(1) + vec_exp(-s2 * (x + a * x * x * x)));  // sigmoid(2u)
    const T two_du_dx = s2 * (T(1) + T(3) * a * x * x);
    dinp[i] += dout[i] * (s + x * s * (T(1) - s) * two_du_dx);
  }
}

template void gelu_forward<float>(float*, const float*, int64_t);
template void gelu_forward<double>(double*, const double*, int64_t);
template void gelu_backward<float>(float*, const float*, const float*, int64_t);
template void gelu_backward<double>(double*, const double*, const double*, int64_t);

}  // namespace gptcu::cpu
