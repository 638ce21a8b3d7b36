// test/kernels/gradcheck.h: helpers for the kernel tests.
//
// grad_check(): compares an analytic gradient (computed in double by a kernel's backward)
// with fp64 central differences of a scalar function f(x) = sum(out(x) * probe), where
// probe is a fixed random tensor. Call it once per input of the op.
#pragma once
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <functional>
#include <random>
#include <vector>

namespace gptcu::test {

inline std::vector<double> randn(size_t n, uint32_t seed, double scale = 1.0) {
  std::mt19937 gen(seed);
  std::normal_distribution<double> dist(0.0, scale);
  std::vector<double> v(n);
  for (auto& x : v) x = dist(gen);
  return v;
}

inline std::vector<float> to_float(const std::vector<double>& v) {
  return std::vector<float>(v.begin(), v.end());
}

// Max over i of |a_i - b_i| / (atol + rtol*|b_i|); <= 1 means "within tolerance".
inline double tolerance_ratio(const std::vector<double>& a, const std::vector<double>& b,
                              double atol, double rtol) {
  REQUIRE(a.size() == b.size());
  double worst = 0;
  for (size_t i = 0; i < a.size(); i++)
    worst = std::max(worst, std::abs(a[i] - b[i]) / (atol + rtol * std::abs(b[i])));
  return worst;
}

// f: evaluates the scalar objective at the current contents of x (which the checker
// perturbs in place). analytic: d f / d x as computed by the backward kernel.
inline void grad_check(const char* what, std::vector<double>& x,
                       const std::function<double()>& f, const std::vector<double>& analytic,
                       double eps = 1e-6, double atol = 1e-7, double rtol = 1e-5) {
  REQUIRE(analytic.size() == x.size());
  std::vector<double> numeric(x.size());
  for (size_t i = 0; i < x.size(); i++) {
    const double saved = x[i];
    x[i] = saved + eps;
    const double fp = f();
    x[i] = saved - eps;
    const double fm = f();
    x[i] = saved;
    numeric[i] = (fp - fm) / (2 * eps);
  }
  INFO("gradient of " << what);
  CHECK(tolerance_ratio(analytic, numeric, atol, rtol) <= 1.0);
}

inline double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); i++) s += a[i] * b[i];
  return s;
}

inline std::vector<double> to_double(const std::vector<float>& v) {
  return std::vector<double>(v.begin(), v.end());
}

inline std::vector<double> scaled(const std::vector<double>& v, double s) {
  std::vector<double> r(v);
  for (auto& x : r) x *= s;
  return r;
}

// CHECK that a is within |a - b| <= atol + rtol*|b| of b, elementwise, naming what failed.
inline void check_close(const char* what, const std::vector<double>& a,
                        const std::vector<double>& b, double atol, double rtol) {
  INFO(what);
  CHECK(tolerance_ratio(a, b, atol, rtol) <= 1.0);
}

// Tolerances, one per purpose (DESIGN.md: one formula per dtype):
// fp32 kernel vs the same kernel in fp64, on O(1) random inputs.
constexpr double kF32Atol = 1e-5, kF32Rtol = 1e-5;
// fp64 results that should agree up to rounding (a second accumulation, a literal worked out
// by hand to 10 digits).
constexpr double kF64Atol = 1e-9, kF64Rtol = 1e-9;

}  // namespace gptcu::test
