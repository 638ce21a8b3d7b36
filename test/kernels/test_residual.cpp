// test/kernels/test_residual.cpp: the CPU residual add kernel.
#include <vector>

#include "kernels/cpu/cpu_kernels.h"
#include "test/kernels/gradcheck.h"

using namespace gptcu::cpu;
using namespace gptcu::test;

TEST_CASE("residual forward and backward by hand", "[kernels][residual]") {
  // [1, 2, 0.5] + [3, -5, 0.25] = [4, -3, 0.75]
  const std::vector<double> a = {1, 2, 0.5}, b = {3, -5, 0.25};
  std::vector<double> out(3, -999);
  residual_forward(out.data(), a.data(), b.data(), 3);
  check_close("out", out, {4, -3, 0.75}, kF64Atol, kF64Rtol);
  // d(a + b)/da = d(a + b)/db = 1: both get dout; da starts at [1, 1, 1] and accumulates
  const std::vector<double> dout = {0.5, -2, 7};
  std::vector<double> da = {1, 1, 1}, db(3, 0);
  residual_backward(da.data(), db.data(), dout.data(), 3);
  check_close("da", da, {1.5, -1, 8}, kF64Atol, kF64Rtol);
  check_close("db", db, {0.5, -2, 7}, kF64Atol, kF64Rtol);
}

TEST_CASE("residual add with a weight alpha by hand", "[kernels][residual]") {
  // [1, 2] + 0.5 * [4, -6] = [3, -1];  db += 0.5 * dout
  const std::vector<double> a = {1, 2}, b = {4, -6}, dout = {2, -4};
  std::vector<double> out(2, -999), da(2, 0), db(2, 0);
  residual_forward(out.data(), a.data(), b.data(), 2, 0.5);
  check_close("out", out, {3, -1}, kF64Atol, kF64Rtol);
  residual_backward(da.data(), db.data(), dout.data(), 2, 0.5);
  check_close("da", da, {2, -4}, kF64Atol, kF64Rtol);
  check_close("db", db, {1, -2}, kF64Atol, kF64Rtol);
}

TEST_CASE("residual gradients match fp64 central differences", "[kernels][residual][grad]") {
  const int n = 19;
  auto a = randn(n, 1), b = randn(n, 2);
  const auto probe = randn(n, 3);
  std::vector<double> out(n);
  auto f = [&] {
    residual_forward(out.data(), a.data(), b.data(), n);
    return dot(out, probe);
  };
  std::vector<double> da(n, 0), db(n, 0);
  residual_backward(da.data(), db.data(), probe.data(), n);
  grad_check("a", a, f, da);
  grad_check("b", b, f, db);
}

TEST_CASE("residual float agrees with double", "[kernels][residual]") {
  const int n = 100003;  // large enough to take the OpenMP path, odd
  const auto a = randn(n, 4), b = randn(n, 5);
  std::vector<double> out(n);
  residual_forward(out.data(), a.data(), b.data(), n);
  const auto af = to_float(a), bf = to_float(b);
  std::vector<float> outf(n);
  residual_forward(outf.data(), af.data(), bf.data(), n);
  check_close("out", to_double(outf), out, kF32Atol, kF32Rtol);
}

TEST_CASE("residual backward accumulates and skips nullptr", "[kernels][residual]") {
  const int n = 11;
  const auto dout = randn(n, 6);
  std::vector<double> da(n, 0), db(n, 0);
  residual_backward(da.data(), db.data(), dout.data(), n);
  residual_backward(da.data(), db.data(), dout.data(), n);
  check_close("da twice", da, scaled(dout, 2), kF64Atol, kF64Rtol);
  check_close("db twice", db, scaled(dout, 2), kF64Atol, kF64Rtol);
  std::vector<double> only(n, 0);
  residual_backward((double*)nullptr, only.data(), dout.data(), n);
  check_close("db alone", only, dout, kF64Atol, kF64Rtol);
  only.assign(n, 0);
  residual_backward(only.data(), (double*)nullptr, dout.data(), n);
  check_close("da alone", only, dout, kF64Atol, kF64Rtol);
}
