// test/kernels/test_layernorm.cpp: the CPU LayerNorm kernel.
#include <vector>

#include "kernels/cpu/cpu_kernels.h"
#include "test/kernels/gradcheck.h"

using namespace gptcu::cpu;
using namespace gptcu::test;

TEST_CASE("layernorm forward and backward by hand", "[kernels][layernorm]") {
  // [1, 2, 3]: mean 2, biased var ((-1)^2 + 0 + 1^2) / 3 = 2/3, rstd = sqrt(3/2) = 1.2247448714
  //   w = 1, b = 0:            [-1.2247448714, 0, 1.2247448714]
  //   w = [2, 1, 1], b = [0, 0, 1]: [-2.4494897428, 0, 2.2247448714]
  // row 2: [4, 4, 4] (zero variance): with eps = 0.25, rstd = 1/sqrt(0 + 0.25) = 2, out = b
  const std::vector<double> x = {1, 2, 3, 4, 4, 4};
  const std::vector<double> ones = {1, 1, 1}, zeros = {0, 0, 0};
  std::vector<double> out(6, -999), mean(2, -999), rstd(2, -999);
  layernorm_forward(out.data(), mean.data(), rstd.data(), x.data(), ones.data(), zeros.data(), 1, 3,
                    0.0);
  check_close("out, w=1 b=0", {out[0], out[1], out[2]}, {-1.2247448714, 0, 1.2247448714}, 1e-10, 0);
  check_close("mean, rstd", {mean[0], rstd[0]}, {2, 1.2247448714}, 1e-10, 0);

  const std::vector<double> w = {2, 1, 1}, b = {0, 0, 1};
  layernorm_forward(out.data(), mean.data(), rstd.data(), x.data(), w.data(), b.data(), 2, 3, 0.25);
  // row 0 with eps 0.25: rstd = 1/sqrt(2/3 + 1/4) = 1/sqrt(11/12) = 1.0444659357
  //   out = [-1.0444659357*2, 0, 1.0444659357 + 1] = [-2.0889318714, 0, 2.0444659357]
  check_close("out, eps 0.25", out, {-2.0889318714, 0, 2.0444659357, 0, 0, 1}, 1e-10, 0);
  check_close("mean, rstd, eps 0.25", {mean[0], rstd[0], mean[1], rstd[1]}, {2, 1.0444659357, 4, 2},
              1e-10, 0);

  // backward of row [1, 2, 3] (eps 0) with w = 1 and dout = ones: the output does not change
  // when every input shifts together and its sum is fixed, so dinp = 0;
  //   db = sum of dout = [1, 1, 1], dw = dout * norm = [-1.2247448714, 0, 1.2247448714]
  layernorm_forward(out.data(), mean.data(), rstd.data(), x.data(), ones.data(), zeros.data(), 1, 3,
                    0.0);
  std::vector<double> dx(3, 0), dw(3, 0), db(3, 0);
  layernorm_backward(dx.data(), dw.data(), db.data(), ones.data(), x.data(), ones.data(),
                     mean.data(), rstd.data(), 1, 3);
  check_close("dinp", dx, {0, 0, 0}, 1e-12, 0);
  check_close("dw", dw, {-1.2247448714, 0, 1.2247448714}, 1e-10, 0);
  check_close("db", db, {1, 1, 1}, 1e-12, 0);
}

TEST_CASE("layernorm gradients match fp64 central differences", "[kernels][layernorm][grad]") {
  // C = 7, and C = 67 to span two 64-column blocks of the dw/db sums
  const int N = 5;
  for (int C : {7, 67}) {
    INFO("C " << C);
    auto x = randn(N * C, 1, 2.0), w = randn(C, 2), b = randn(C, 3);
    const auto probe = randn(N * C, 4);
    std::vector<double> out(N * C), mean(N), rstd(N);
    auto f = [&] {
      layernorm_forward(out.data(), mean.data(), rstd.data(), x.data(), w.data(), b.data(), N, C,
                        1e-5);
      return dot(out, probe);
    };
    f();  // mean, rstd at the unperturbed point
    std::vector<double> dx(N * C, 0), dw(C, 0), db(C, 0);
    layernorm_backward(dx.data(), dw.data(), db.data(), probe.data(), x.data(), w.data(),
                       mean.data(), rstd.data(), N, C);
    grad_check("inp", x, f, dx);
    grad_check("w", w, f, dw);
    grad_check("b", b, f, db);
  }
}

TEST_CASE("layernorm float agrees with double", "[kernels][layernorm]") {
  const int N = 13, C = 67;  // C > 64: two column blocks in the dw/db sums
  const auto x = randn(N * C, 5), w = randn(C, 6), b = randn(C, 7), dy = randn(N * C, 8);
  std::vector<double> out(N * C), mean(N), rstd(N), dx(N * C, 0), dw(C, 0), db(C, 0);
  layernorm_forward(out.data(), mean.data(), rstd.data(), x.data(), w.data(), b.data(), N, C, 1e-5);
  layernorm_backward(dx.data(), dw.data(), db.data(), dy.data(), x.data(), w.data(), mean.data(),
                     rstd.data(), N, C);
  const auto xf = to_float(x), wf = to_float(w), bf = to_float(b), dyf = to_float(dy);
  std::vector<float> outf(N * C), meanf(N), rstdf(N), dxf(N * C, 0), dwf(C, 0), dbf(C, 0);
  layernorm_forward(outf.data(), meanf.data(), rstdf.data(), xf.data(), wf.data(), bf.data(), N, C,
                    1e-5f);
  layernorm_backward(dxf.data(), dwf.data(), dbf.data(), dyf.data(), xf.data(), wf.data(),
                     meanf.data(), rstdf.data(), N, C);
  check_close("out", to_double(outf), out, kF32Atol, kF32Rtol);
  check_close("mean", to_double(meanf), mean, kF32Atol, kF32Rtol);
  check_close("rstd", to_double(rstdf), rstd, kF32Atol, kF32Rtol);
  check_close("dinp", to_double(dxf), dx, kF32Atol, kF32Rtol);
  check_close("dw", to_double(dwf), dw, kF32Atol, kF32Rtol);
  check_close("db", to_double(dbf), db, kF32Atol, kF32Rtol);
}

TEST_CASE("layernorm backward accumulates and skips nullptr", "[kernels][layernorm]") {
  const int N = 4, C = 9;
  const auto x = randn(N * C, 9), w = randn(C, 10), b = randn(C, 11), dy = randn(N * C, 12);
  std::vector<double> out(N * C), mean(N), rstd(N);
  layernorm_forward(out.data(), mean.data(), rstd.data(), x.data(), w.data(), b.data(), N, C, 1e-5);
  std::vector<double> dx1(N * C, 0), dw1(C, 0), db1(C, 0);
  layernorm_backward(dx1.data(), dw1.data(), db1.data(), dy.data(), x.data(), w.data(), mean.data(),
                     rstd.data(), N, C);
  std::vector<double> dx2(N * C, 0), dw2(C, 0), db2(C, 0);
  for (int rep = 0; rep < 2; rep++)
    layernorm_backward(dx2.data(), dw2.data(), db2.data(), dy.data(), x.data(), w.data(),
                       mean.data(), rstd.data(), N, C);
  check_close("dinp twice", dx2, scaled(dx1, 2), kF64Atol, kF64Rtol);
  check_close("dw twice", dw2, scaled(dw1, 2), kF64Atol, kF64Rtol);
  check_close("db twice", db2, scaled(db1, 2), kF64Atol, kF64Rtol);

  std::vector<double> only(N * C, 0);
  layernorm_backward(only.data(), (double*)nullptr, (double*)nullptr, dy.data(), x.data(), w.data(),
                     mean.data(), rstd.data(), N, C);
  check_close("dinp alone", only, dx1, kF64Atol, kF64Rtol);
  only.assign(C, 0);
  layernorm_backward((double*)nullptr, only.data(), (double*)nullptr, dy.data(), x.data(), w.data(),
                     mean.data(), rstd.data(), N, C);
  check_close("dw alone", only, dw1, kF64Atol, kF64Rtol);
  only.assign(C, 0);
  layernorm_backward((double*)nullptr, (double*)nullptr, only.data(), dy.data(), x.data(), w.data(),
                     mean.data(), rstd.data(), N, C);
  check_close("db alone", only, db1, kF64Atol, kF64Rtol);
}
