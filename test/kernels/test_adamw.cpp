// test/kernels/test_adamw.cpp: the CPU AdamW step and the squared-norm reduction.
#include <cmath>
#include <vector>

#include "kernels/cpu/cpu_kernels.h"
#include "test/kernels/gradcheck.h"

using namespace gptcu::cpu;
using namespace gptcu::test;

TEST_CASE("sum_squares by hand", "[kernels][adamw]") {
  const std::vector<float> x = {1, -2, 3};
  CHECK(sum_squares(x.data(), 3) == 14.0);  // 1 + 4 + 9
  CHECK(sum_squares(x.data(), 0) == 0.0);
  // 100003 copies of 0.5 (several chunks, a ragged last one): 100003 / 4 = 25000.75 exactly
  const std::vector<float> y(100003, 0.5f);
  CHECK(sum_squares(y.data(), (int64_t)y.size()) == 25000.75);
  // accumulated in double: 4096^2 = 2^24, then 999 ones; in a float accumulator each
  // 2^24 + 1 rounds back to 2^24 (ties to even), in double the sum is exact: 2^24 + 999
  std::vector<float> z(1000, 1.0f);
  z[0] = 4096;
  CHECK(sum_squares(z.data(), (int64_t)z.size()) == double((1 << 24) + 999));
}

TEST_CASE("adamw one step by hand", "[kernels][adamw]") {
  // element 0, first step from zero moments: lr 0.1, b1 0.9, b2 0.999, eps 1e-8, wd 0,
  //   g = 0.5: m = 0.1 * 0.5 = 0.05, v = 0.001 * 0.25 = 0.00025,
  //   m_hat = 0.05 / (1 - 0.9) = 0.5, v_hat = 0.00025 / (1 - 0.999) = 0.25, sqrt = 0.5,
  //   p = 1 - 0.1 * 0.5 / (0.5 + 1e-8) = 1 - 0.1 * 0.99999998 = 0.900000002
  {
    float p = 1, g = 0.5f, m = 0, v = 0;
    adamw_update(&p, &g, &m, &v, 1, 0.1f, 0.9f, 0.999f, 1e-8f, 0.0f, 1, 1.0f);
    CHECK(m == Approx(0.05).epsilon(1e-6));
    // 1 - 0.999f = 0.00099998713 in float, so v is 1.3e-5 relative below 0.00025
    CHECK(v == Approx(0.00025).epsilon(3e-5));
    CHECK(p == Approx(0.900000002).epsilon(1e-6));
  }
  // step 2 from m = 0.1, v = 0.01, grad 0.4 with grad_scale 0.5, b1 0.9, b2 0.99, lr 0.01,
  // wd 0.1, eps 1e-8, p = 1:
  //   g = 0.4 * 0.5 = 0.2
  //   m = 0.9 * 0.1 + 0.1 * 0.2 = 0.11,  v = 0.99 * 0.01 + 0.01 * 0.04 = 0.0103
  //   m_hat = 0.11 / (1 - 0.81) = 0.5789473684, v_hat = 0.0103 / (1 - 0.9801) = 0.5175879397
  //   sqrt(v_hat) = 0.7194358482; ratio = 0.5789473684 / 0.7194358482 = 0.8047241041
  //   p = 1 - 0.01 * (0.8047241041 + 0.1 * 1) = 0.9909527590
  // (ignoring grad_scale, g = 0.4: m = 0.13, v = 0.0115, m_hat = 0.6842105263,
  //  v_hat = 0.5778894472, ratio = 0.9000515194 -> p = 0.9899994848, outside the tolerance)
  {
    float p = 1, g = 0.4f, m = 0.1f, v = 0.01f;
    adamw_update(&p, &g, &m, &v, 1, 0.01f, 0.9f, 0.99f, 1e-8f, 0.1f, 2, 0.5f);
    CHECK(m == Approx(0.11).epsilon(1e-6));
    CHECK(v == Approx(0.0103).epsilon(1e-6));
    CHECK(p == Approx(0.9909527590).epsilon(1e-6));
  }
}

TEST_CASE("adamw weight decay is decoupled", "[kernels][adamw]") {
  // zero gradient, zero moments: the adaptive term is 0 / (0 + eps) = 0, only decay acts:
  //   p = 4 - lr * wd * p = 4 - 0.1 * 0.5 * 4 = 3.8
  // (L2 decay coupled into the gradient, g = wd * p = 2, would instead move p by lr * 1 after
  //  Adam's normalisation: 3.9)
  float p = 4, g = 0, m = 0, v = 0;
  adamw_update(&p, &g, &m, &v, 1, 0.1f, 0.9f, 0.999f, 1e-8f, 0.5f, 1, 1.0f);
  CHECK(p == Approx(3.8).epsilon(1e-7));
  CHECK(m == 0);
  CHECK(v == 0);
}

TEST_CASE("adamw over many elements matches the scalar update", "[kernels][adamw]") {
  // the vector update (OpenMP) equals element-by-element single-element calls, bitwise
  const int n = 70001;
  auto p = to_float(randn(n, 1)), g = to_float(randn(n, 2));
  auto m = to_float(randn(n, 3, 0.1)), v = to_float(randn(n, 4, 0.1));
  for (auto& x : v) x = x * x;
  auto p1 = p, m1 = m, v1 = v;
  adamw_update(p1.data(), g.data(), m1.data(), v1.data(), n, 3e-4f, 0.9f, 0.95f, 1e-8f, 0.1f, 7,
               0.8f);
  bool same = true;
  for (int i = 0; i < n; i++) {
    adamw_update(&p[i], &g[i], &m[i], &v[i], 1, 3e-4f, 0.9f, 0.95f, 1e-8f, 0.1f, 7, 0.8f);
    same &= p[i] == p1[i] && m[i] == m1[i] && v[i] == v1[i];
  }
  CHECK(same);
}
