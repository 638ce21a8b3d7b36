// test/kernels/test_gelu.cpp: the CPU GELU kernel (tanh approximation).
#include <vector>

#include "kernels/cpu/cpu_kernels.h"
#include "test/kernels/gradcheck.h"

using namespace gptcu::cpu;
using namespace gptcu::test;

TEST_CASE("gelu forward and backward by hand", "[kernels][gelu]") {
  // gelu(0) = 0
  // gelu(1): u = sqrt(2/pi) * (1 + 0.044715) = 0.7978845608 * 1.044715 = 0.8335619689,
  //          tanh(u) = 0.6823839813, 0.5 * 1 * 1.6823839813 = 0.8411919906
  // gelu(-1) = gelu(1) - 1 = -0.1588080094   (gelu(x) - gelu(-x) = x; tanh is odd)
  const std::vector<double> x = {0, 1, -1};
  std::vector<double> y(3, -999);
  gelu_forward(y.data(), x.data(), 3);
  check_close("gelu", y, {0, 0.8411919906, -0.1588080094}, 1e-10, 0);
  // gelu'(0) = 0.5 (1 + tanh 0) + 0 = 0.5
  // gelu'(1) = 0.5 (1 + 0.6823839813) + 0.5 (1 - 0.6823839813^2) * 0.7978845608 * (1 + 3*0.044715)
  //          = 0.8411919906 + 0.5 * 0.5343520992 * 0.7978845608 * 1.134145 = 1.0829640838
  // gelu'(-1) = 1 - gelu'(1) = -0.0829640838        (gelu'(x) + gelu'(-x) = 1)
  std::vector<double> dx(3, 0);
  const std::vector<double> dy = {2, 1, 1};
  gelu_backward(dx.data(), dy.data(), x.data(), 3);
  check_close("dgelu", dx, {2 * 0.5, 1.0829640838, -0.0829640838}, 1e-9, 0);
}

TEST_CASE("gelu at extreme inputs, float", "[kernels][gelu]") {
  // far in the tails gelu(x) -> x * 1 (x >> 0) or x * 0 (x << 0), gelu' -> 1 or 0; no inf/NaN
  // even where exp(-2u) overflows float (x = -100: -2u = 1.6 * (100 + 44715) > 88)
  const std::vector<float> x = {-100, 100, -1e4f, 1e4f};
  std::vector<float> y(4, -999), dx(4, 0);
  const std::vector<float> dy(4, 1);
  gelu_forward(y.data(), x.data(), 4);
  gelu_backward(dx.data(), dy.data(), x.data(), 4);
  check_close("gelu tails", to_double(y), {0, 100, 0, 1e4}, 1e-6, 1e-6);
  check_close("dgelu tails", to_double(dx), {0, 1, 0, 1}, 1e-6, 1e-6);
}

TEST_CASE("gelu gradient matches fp64 central differences", "[kernels][gelu][grad]") {
  const int n = 23;
  auto x = randn(n, 1, 2.0);
  const auto probe = randn(n, 2);
  std::vector<double> out(n);
  auto f = [&] {
    gelu_forward(out.data(), x.data(), n);
    return dot(out, probe);
  };
  std::vector<double> dx(n, 0);
  gelu_backward(dx.data(), probe.data(), x.data(), n);
  grad_check("inp", x, f, dx);
}

TEST_CASE("gelu float agrees with double", "[kernels][gelu]") {
  const int n = 1000;
  const auto x = randn(n, 3, 3.0), dy = randn(n, 4);
  std::vector<double> y(n), dx(n, 0);
  gelu_forward(y.data(), x.data(), n);
  gelu_backward(dx.data(), dy.data(), x.data(), n);
  const auto xf = to_float(x), dyf = to_float(dy);
  std::vector<float> yf(n), dxf(n, 0);
  gelu_forward(yf.data(), xf.data(), n);
  gelu_backward(dxf.data(), dyf.data(), xf.data(), n);
  check_close("out", to_double(yf), y, kF32Atol, kF32Rtol);
  check_close("dinp", to_double(dxf), dx, kF32Atol, kF32Rtol);
}

TEST_CASE("gelu backward accumulates", "[kernels][gelu]") {
  const int n = 17;
  const auto x = randn(n, 5), dy = randn(n, 6);
  std::vector<double> once(n, 0), twice(n, 0);
  gelu_backward(once.data(), dy.data(), x.data(), n);
  gelu_backward(twice.data(), dy.data(), x.data(), n);
  gelu_backward(twice.data(), dy.data(), x.data(), n);
  check_close("dinp twice", twice, scaled(once, 2), kF64Atol, kF64Rtol);
}
