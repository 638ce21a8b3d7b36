// kernels/cpu/fast_exp.h: an exp() that the compiler can vectorise.
//
// glibc's expf is a scalar call, so a loop over it never vectorises (without -ffast-math).
// This is the textbook method: exp(x) = 2^n * exp(r) with n = round(x / ln 2) and
// r = x - n ln 2 (in two parts, Cody-Waite, so r is exact), |r| <= ln2/2, then a degree-6
// Taylor polynomial for exp(r) (relative error below 2e-7, about 1-2 float ulps), and 2^n
// put straight into the float's exponent bits. Inputs are clamped to [-87, 88] (the result
// for x < -87 is ~1e-38 rather than a denormal or 0: harmless where it is used, 1 + exp(x)).
// Only float has this fast path; double (the gradient tests) uses std::exp.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace gptcu::cpu {

#pragma omp declare simd notinbranch
inline float fast_expf(float x) {
  x = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
  const float n = std::nearbyint(x * 1.44269504088896341f);  // x / ln 2
  const float r = (x - n * 0.693145751953125f) - n * 1.42860682030941723e-6f;  // ln 2 = hi + lo
  // exp(r) = 1 + r + r^2/2 + ... + r^6/720, Horner
  float p = 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const int32_t bits = ((int32_t)n + 127) << 23;  // 2^n as a float
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

template <typename T>
inline T vec_exp(T x) {
  if constexpr (std::is_same_v<T, float>)
    return fast_expf(x);
  else
    return std::exp(x);
}

}  // namespace gptcu::cpu
