// test/kernels/test_linear.cpp: the CPU linear kernel (out = inp @ W + bias, both layouts).
#include <vector>

#include "kernels/cpu/cpu_kernels.h"
#include "test/kernels/gradcheck.h"

using namespace gptcu::cpu;
using namespace gptcu::test;

namespace {
// W given as (C, OC); the same weights as (OC, C) for the out_in layout.
std::vector<double> transpose(const std::vector<double>& w, int rows, int cols) {
  std::vector<double> t(w.size());
  for (int r = 0; r < rows; r++)
    for (int c = 0; c < cols; c++) t[(size_t)c * rows + r] = w[(size_t)r * cols + c];
  return t;
}
const WeightLayout kLayouts[] = {WeightLayout::in_out, WeightLayout::out_in};
}  // namespace

TEST_CASE("linear forward and backward by hand, both layouts", "[kernels][linear]") {
  // inp (2, 2) = [[1, 2], [3, 4]], W (C=2, OC=3) = [[1, 0, 2], [0, 1, -1]], bias [0.5, -1, 0]
  //   row 0: [1*1 + 2*0, 1*0 + 2*1, 1*2 + 2*(-1)] + bias = [1, 2, 0] + bias = [1.5, 1, 0]
  //   row 1: [3*1 + 4*0, 3*0 + 4*1, 3*2 + 4*(-1)] + bias = [3, 4, 2] + bias = [3.5, 3, 2]
  const std::vector<double> inp = {1, 2, 3, 4};
  const std::vector<double> w_in_out = {1, 0, 2, 0, 1, -1};
  const std::vector<double> w_out_in = {1, 0, 0, 1, 2, -1};  // the same W as (OC, C)
  const std::vector<double> bias = {0.5, -1, 0};
  for (WeightLayout layout : kLayouts) {
    const auto& w = layout == WeightLayout::in_out ? w_in_out : w_out_in;
    std::vector<double> out(6, -999);
    linear_forward(out.data(), inp.data(), w.data(), bias.data(), 2, 2, 3, layout);
    check_close("out", out, {1.5, 1, 0, 3.5, 3, 2}, kF64Atol, kF64Rtol);
    // without bias: [1, 2, 0], [3, 4, 2]
    linear_forward(out.data(), inp.data(), w.data(), (const double*)nullptr, 2, 2, 3, layout);
    check_close("out, no bias", out, {1, 2, 0, 3, 4, 2}, kF64Atol, kF64Rtol);

    // dout = ones (2, 3):
    //   dbias = column sums = [2, 2, 2]
    //   dinp row = ones(3) @ W^T = [1 + 0 + 2, 0 + 1 - 1] = [3, 0] for both rows
    //   dW (C, OC) = inp^T @ ones = [[1 + 3] x3, [2 + 4] x3] = [[4, 4, 4], [6, 6, 6]]
    const std::vector<double> dout(6, 1.0);
    std::vector<double> dinp(4, 0), dw(6, 0), dbias(3, 0);
    linear_backward(dinp.data(), dw.data(), dbias.data(), dout.data(), inp.data(), w.data(), 2, 2,
                    3, layout);
    check_close("dinp", dinp, {3, 0, 3, 0}, kF64Atol, kF64Rtol);
    check_close("dbias", dbias, {2, 2, 2}, kF64Atol, kF64Rtol);
    const std::vector<double> dw_in_out = {4, 4, 4, 6, 6, 6};
    check_close("dw", dw, layout == WeightLayout::in_out ? dw_in_out : transpose(dw_in_out, 2, 3),
                kF64Atol, kF64Rtol);
  }
}

TEST_CASE("linear gradients match fp64 central differences", "[kernels][linear][grad]") {
  // OC = 3, and OC = 70 to span two 64-column blocks of the dbias sum
  const int N = 5, C = 7;
  for (int OC : {3, 70})
    for (WeightLayout layout : kLayouts) {
      INFO("layout " << (layout == WeightLayout::in_out ? "in_out" : "out_in") << " OC " << OC);
      auto inp = randn(N * C, 1), w = randn(C * OC, 2), bias = randn(OC, 3);
      const auto probe = randn(N * OC, 4);
      std::vector<double> out(N * OC);
      auto f = [&] {
        linear_forward(out.data(), inp.data(), w.data(), bias.data(), N, C, OC, layout);
        return dot(out, probe);
      };
      std::vector<double> dinp(N * C, 0), dw(C * OC, 0), dbias(OC, 0);
      linear_backward(dinp.data(), dw.data(), dbias.data(), probe.data(), inp.data(), w.data(), N,
                      C, OC, layout);
      grad_check("inp", inp, f, dinp);
      grad_check("w", w, f, dw);
      grad_check("bias", bias, f, dbias);
    }
}

TEST_CASE("linear float agrees with double", "[kernels][linear]") {
  const int N = 13, C = 37, OC = 29;
  for (WeightLayout layout : kLayouts) {
    const auto inp = randn(N * C, 11), w = randn(C * OC, 12, 0.2), bias = randn(OC, 13);
    const auto dout = randn(N * OC, 14);
    std::vector<double> out(N * OC), dinp(N * C, 0), dw(C * OC, 0), dbias(OC, 0);
    linear_forward(out.data(), inp.data(), w.data(), bias.data(), N, C, OC, layout);
    linear_backward(dinp.data(), dw.data(), dbias.data(), dout.data(), inp.data(), w.data(), N, C,
                    OC, layout);
    const auto inpf = to_float(inp), wf = to_float(w), biasf = to_float(bias),
               doutf = to_float(dout);
    std::vector<float> outf(N * OC), dinpf(N * C, 0), dwf(C * OC, 0), dbiasf(OC, 0);
    linear_forward(outf.data(), inpf.data(), wf.data(), biasf.data(), N, C, OC, layout);
    linear_backward(dinpf.data(), dwf.data(), dbiasf.data(), doutf.data(), inpf.data(), wf.data(),
                    N, C, OC, layout);
    check_close("out", to_double(outf), out, kF32Atol, kF32Rtol);
    check_close("dinp", to_double(dinpf), dinp, kF32Atol, kF32Rtol);
    check_close("dw", to_double(dwf), dw, kF32Atol, kF32Rtol);
    check_close("dbias", to_double(dbiasf), dbias, kF32Atol, kF32Rtol);
  }
}

TEST_CASE("linear backward accumulates and skips nullptr gradients", "[kernels][linear]") {
  const int N = 6, C = 5, OC = 4;
  for (WeightLayout layout : kLayouts) {
    const auto inp = randn(N * C, 21), w = randn(C * OC, 22), dout = randn(N * OC, 23);
    std::vector<double> dinp1(N * C, 0), dw1(C * OC, 0), dbias1(OC, 0);
    linear_backward(dinp1.data(), dw1.data(), dbias1.data(), dout.data(), inp.data(), w.data(), N,
                    C, OC, layout);
    std::vector<double> dinp2(N * C, 0), dw2(C * OC, 0), dbias2(OC, 0);
    for (int rep = 0; rep < 2; rep++)
      linear_backward(dinp2.data(), dw2.data(), dbias2.data(), dout.data(), inp.data(), w.data(), N,
                      C, OC, layout);
    check_close("dinp twice", dinp2, scaled(dinp1, 2), kF64Atol, kF64Rtol);
    check_close("dw twice", dw2, scaled(dw1, 2), kF64Atol, kF64Rtol);
    check_close("dbias twice", dbias2, scaled(dbias1, 2), kF64Atol, kF64Rtol);

    // one gradient at a time, the others nullptr: same values as the full call
    std::vector<double> only(N * C, 0);
    linear_backward(only.data(), (double*)nullptr, (double*)nullptr, dout.data(), inp.data(),
                    w.data(), N, C, OC, layout);
    check_close("dinp alone", only, dinp1, kF64Atol, kF64Rtol);
    only.assign(C * OC, 0);
    linear_backward((double*)nullptr, only.data(), (double*)nullptr, dout.data(), inp.data(),
                    w.data(), N, C, OC, layout);
    check_close("dw alone", only, dw1, kF64Atol, kF64Rtol);
    only.assign(OC, 0);
    linear_backward((double*)nullptr, (double*)nullptr, only.data(), dout.data(), inp.data(),
                    w.data(), N, C, OC, layout);
    check_close("dbias alone", only, dbias1, kF64Atol, kF64Rtol);
    linear_backward((double*)nullptr, (double*)nullptr, (double*)nullptr, dout.data(), inp.data(),
                    w.data(), N, C, OC, layout);
  }
}
