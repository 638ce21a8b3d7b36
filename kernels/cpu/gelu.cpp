// kernels/cpu/gelu.cpp: GELU with the tanh approximation (GPT-2), elementwise, CPU reference.
//
//   out (n) = gelu(inp (n)),  gelu(x) = 0.5 x (1 + tanh(u)),  u = sqrt(2/pi) (x + 0.044715 x^3)
//   dinp (n) += dout * gelu'(x),
//   gelu'(x) = 0.5 (1 + tanh(u)) + 0.5 x (1 - tanh(u)^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2)
#include <cmath>
#include <cstdint>

#include "kernels/cpu/cpu_kernels.h"

namespace gptcu::cpu {
namespace {
constexpr double kSqrt2OverPi = 0.79788456080286535588;  // sqrt(2/pi)
constexpr double kCubic = 0.044715;
constexpr int64_t kMinParallel = 1 << 14;  // below this, threads cost more than they save
}  // namespace

template <typename T>
void gelu_forward(T* out, const T* inp, int64_t n) {
  const T s = T(kSqrt2OverPi), a = T(kCubic);
#pragma omp parallel for schedule(static) if (n >= kMinParallel)
  for (int64_t i = 0; i < n; i++) {
    const T x = inp[i];
    const T u = s * (x + a * x * x * x);
    out[i] = T(0.5) * x * (T(1) + std::tanh(u));
  }
}

template <typename T>
void gelu_backward(T* dinp, const T* dout, const T* inp, int64_t n) {
  const T s = T(kSqrt2OverPi), a = T(kCubic);
#pragma omp parallel for schedule(static) if (n >= kMinParallel)
  for (int64_t i = 0; i < n; i++) {
    const T x = inp[i];
    const T th = std::tanh(s * (x + a * x * x * x));
    const T du_dx = s * (T(1) + T(3) * a * x * x);
    const T grad = T(0.5) * (T(1) + th) + T(0.5) * x * (T(1) - th * th) * du_dx;
    dinp[i] += dout[i] * grad;
  }
}

template void gelu_forward<float>(float*, const float*, int64_t);
template void gelu_forward<double>(double*, const double*, int64_t);
template void gelu_backward<float>(float*, const float*, const float*, int64_t);
template void gelu_backward<double>(double*, const double*, const double*, int64_t);

}  // namespace gptcu::cpu
