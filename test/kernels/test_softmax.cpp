// test/kernels/test_softmax.cpp: the CPU softmax kernel.
#include <cmath>
#include <vector>

#include "kernels/cpu/cpu_kernels.h"
#include "test/kernels/gradcheck.h"

using namespace gptcu::cpu;
using namespace gptcu::test;

TEST_CASE("softmax forward and backward by hand", "[kernels][softmax]") {
  // softmax([0, ln 2]) = [1, 2] / 3 = [1/3, 2/3]
  // softmax([1000, 1000 + ln 2]) = the same (shift invariance; no overflow)
  // softmax([5, 5, 5, 5]) = [1/4, 1/4, 1/4, 1/4]  (as two rows of C = 2: [1/2, 1/2])
  const std::vector<double> x = {0, std::log(2.0), 1000, 1000 + std::log(2.0), 5, 5};
  std::vector<double> y(6, -999);
  softmax_forward(y.data(), x.data(), 3, 2);
  check_close("softmax", y, {1.0 / 3, 2.0 / 3, 1.0 / 3, 2.0 / 3, 0.5, 0.5}, 1e-10, 0);
  // float: exp(1000) overflows without the max subtraction.
  //   softmax([1000, 1001]) = [1, e] / (1 + e) = [0.2689414214, 0.7310585786]
  const std::vector<float> xf = {1000, 1001};
  std::vector<float> yf(2);
  softmax_forward(yf.data(), xf.data(), 1, 2);
  check_close("softmax, float, large logits", to_double(yf), {0.2689414214, 0.7310585786}, 1e-6, 0);

  // backward at y = [1/3, 2/3] with dout = [1, 0]: dinp = y * (dout - dout.y)
  //   dout.y = 1/3; dinp = [1/3 * (1 - 1/3), 2/3 * (0 - 1/3)] = [2/9, -2/9]
  const std::vector<double> dy = {1, 0};
  std::vector<double> dx(2, 0);
  softmax_backward(dx.data(), dy.data(), y.data(), 1, 2);
  check_close("dinp", dx, {2.0 / 9, -2.0 / 9}, 1e-10, 0);
}

TEST_CASE("softmax gradient matches fp64 central differences", "[kernels][softmax][grad]") {
  const int N = 5, C = 7;
  auto x = randn(N * C, 1, 2.0);
  const auto probe = randn(N * C, 2);
  std::vector<double> y(N * C);
  auto f = [&] {
    softmax_forward(y.data(), x.data(), N, C);
    return dot(y, probe);
  };
  f();
  std::vector<double> dx(N * C, 0);
  softmax_backward(dx.data(), probe.data(), y.data(), N, C);
  grad_check("inp", x, f, dx);
}

TEST_CASE("softmax float agrees with double", "[kernels][softmax]") {
  const int N = 9, C = 131;
  const auto x = randn(N * C, 3, 3.0), dy = randn(N * C, 4);
  std::vector<double> y(N * C), dx(N * C, 0);
  softmax_forward(y.data(), x.data(), N, C);
  softmax_backward(dx.data(), dy.data(), y.data(), N, C);
  const auto xf = to_float(x), dyf = to_float(dy);
  std::vector<float> yf(N * C), dxf(N * C, 0);
  softmax_forward(yf.data(), xf.data(), N, C);
  softmax_backward(dxf.data(), dyf.data(), yf.data(), N, C);
  check_close("out", to_double(yf), y, kF32Atol, kF32Rtol);
  check_close("dinp", to_double(dxf), dx, kF32Atol, kF32Rtol);
}

TEST_CASE("softmax backward accumulates and skips nullptr", "[kernels][softmax]") {
  const int N = 3, C = 5;
  const auto x = randn(N * C, 5), dy = randn(N * C, 6);
  std::vector<double> y(N * C), once(N * C, 0), twice(N * C, 0);
  softmax_forward(y.data(), x.data(), N, C);
  softmax_backward(once.data(), dy.data(), y.data(), N, C);
  softmax_backward(twice.data(), dy.data(), y.data(), N, C);
  softmax_backward(twice.data(), dy.data(), y.data(), N, C);
  check_close("dinp twice", twice, scaled(once, 2), kF64Atol, kF64Rtol);
  softmax_backward((double*)nullptr, dy.data(), y.data(), N, C);
}
