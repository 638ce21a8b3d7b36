// test/kernels/test_embedding.cpp: the CPU token + position embedding kernel.
#include <cstdint>
#include <vector>

#include "kernels/cpu/cpu_kernels.h"
#include "test/kernels/gradcheck.h"

using namespace gptcu::cpu;
using namespace gptcu::test;

TEST_CASE("embedding forward and backward by hand", "[kernels][embedding]") {
  // wte (Vp=3, C=2) = [[1, 2], [10, 20], [100, 200]], wpe (maxT=3, C=2) = [[0.5, 0], [0, 0.5],
  // [7, 7]]; tokens (B=2, T=2) = [[2, 0], [2, 2]]:
  //   out[0, 0] = wte[2] + wpe[0] = [100.5, 200], out[0, 1] = wte[0] + wpe[1] = [1, 2.5]
  //   out[1, 0] = wte[2] + wpe[0] = [100.5, 200], out[1, 1] = wte[2] + wpe[1] = [100, 200.5]
  const std::vector<double> wte = {1, 2, 10, 20, 100, 200}, wpe = {0.5, 0, 0, 0.5, 7, 7};
  const std::vector<int32_t> tokens = {2, 0, 2, 2};
  std::vector<double> out(8, -999);
  embedding_forward(out.data(), tokens.data(), wte.data(), wpe.data(), 2, 2, 2);
  check_close("out", out, {100.5, 200, 1, 2.5, 100.5, 200, 100, 200.5}, kF64Atol, kF64Rtol);

  // dout rows [1, 2], [3, 4], [5, 6], [7, 8] for (b, t) = (0,0), (0,1), (1,0), (1,1):
  //   dwte[0] = [3, 4] (once), dwte[1] = 0 (unused),
  //   dwte[2] = [1, 2] + [5, 6] + [7, 8] = [13, 16] (three times)
  //   dwpe[0] = [1, 2] + [5, 6] = [6, 8], dwpe[1] = [3, 4] + [7, 8] = [10, 12], dwpe[2] = 0
  const std::vector<double> dout = {1, 2, 3, 4, 5, 6, 7, 8};
  std::vector<double> dwte(6, 0), dwpe(6, 0);
  embedding_backward(dwte.data(), dwpe.data(), dout.data(), tokens.data(), 2, 2, 2);
  check_close("dwte", dwte, {3, 4, 0, 0, 13, 16}, kF64Atol, kF64Rtol);
  check_close("dwpe", dwpe, {6, 8, 10, 12, 0, 0}, kF64Atol, kF64Rtol);
}

TEST_CASE("embedding gradients match fp64 central differences", "[kernels][embedding][grad]") {
  // C = 7, and C = 130 to span several 64-column blocks of the dwte scatter
  const int B = 2, T = 5, Vp = 11, maxT = 6;
  for (int C : {7, 130}) {
    INFO("C " << C);
    auto wte = randn(Vp * C, 1), wpe = randn(maxT * C, 2);
    const std::vector<int32_t> tokens = {3, 0, 10, 3, 3, 7, 10, 1, 0, 5};  // repeats, some unused
    const auto probe = randn(B * T * C, 3);
    std::vector<double> out(B * T * C);
    auto f = [&] {
      embedding_forward(out.data(), tokens.data(), wte.data(), wpe.data(), B, T, C);
      return dot(out, probe);
    };
    std::vector<double> dwte(Vp * C, 0), dwpe(maxT * C, 0);
    embedding_backward(dwte.data(), dwpe.data(), probe.data(), tokens.data(), B, T, C);
    grad_check("wte", wte, f, dwte);
    grad_check("wpe", wpe, f, dwpe);
  }
}

TEST_CASE("embedding float agrees with double", "[kernels][embedding]") {
  const int B = 3, T = 9, C = 130, Vp = 17;  // C > 64: several column blocks in the scatter
  const auto wte = randn(Vp * C, 4), wpe = randn(T * C, 5), dout = randn(B * T * C, 6);
  std::vector<int32_t> tokens(B * T);
  for (int i = 0; i < B * T; i++) tokens[i] = (i * 7) % 5;  // heavily repeated
  std::vector<double> out(B * T * C), dwte(Vp * C, 0), dwpe(T * C, 0);
  embedding_forward(out.data(), tokens.data(), wte.data(), wpe.data(), B, T, C);
  embedding_backward(dwte.data(), dwpe.data(), dout.data(), tokens.data(), B, T, C);
  const auto wtef = to_float(wte), wpef = to_float(wpe), doutf = to_float(dout);
  std::vector<float> outf(B * T * C), dwtef(Vp * C, 0), dwpef(T * C, 0);
  embedding_forward(outf.data(), tokens.data(), wtef.data(), wpef.data(), B, T, C);
  embedding_backward(dwtef.data(), dwpef.data(), doutf.data(), tokens.data(), B, T, C);
  check_close("out", to_double(outf), out, kF32Atol, kF32Rtol);
  check_close("dwte", to_double(dwtef), dwte, kF32Atol, kF32Rtol);
  check_close("dwpe", to_double(dwpef), dwpe, kF32Atol, kF32Rtol);
}

TEST_CASE("embedding backward accumulates and skips nullptr", "[kernels][embedding]") {
  const int B = 2, T = 3, C = 5, Vp = 4;
  const std::vector<int32_t> tokens = {1, 1, 3, 0, 1, 3};
  const auto dout = randn(B * T * C, 7);
  std::vector<double> dwte1(Vp * C, 0), dwpe1(T * C, 0);
  embedding_backward(dwte1.data(), dwpe1.data(), dout.data(), tokens.data(), B, T, C);
  std::vector<double> dwte2(Vp * C, 0), dwpe2(T * C, 0);
  for (int rep = 0; rep < 2; rep++)
    embedding_backward(dwte2.data(), dwpe2.data(), dout.data(), tokens.data(), B, T, C);
  check_close("dwte twice", dwte2, scaled(dwte1, 2), kF64Atol, kF64Rtol);
  check_close("dwpe twice", dwpe2, scaled(dwpe1, 2), kF64Atol, kF64Rtol);
  std::vector<double> only(Vp * C, 0);
  embedding_backward(only.data(), (double*)nullptr, dout.data(), tokens.data(), B, T, C);
  check_close("dwte alone", only, dwte1, kF64Atol, kF64Rtol);
  only.assign(T * C, 0);
  embedding_backward((double*)nullptr, only.data(), dout.data(), tokens.data(), B, T, C);
  check_close("dwpe alone", only, dwpe1, kF64Atol, kF64Rtol);
}

TEST_CASE("embedding backward is bitwise deterministic", "[kernels][embedding]") {
  // many repeats of few tokens, several column blocks: the scatter order must be fixed
  const int B = 8, T = 64, C = 200;
  std::vector<int32_t> tokens(B * T);
  for (int i = 0; i < B * T; i++) tokens[i] = (i * 13) % 3;
  const auto dout = to_float(randn(B * T * C, 8));
  std::vector<float> first(3 * C, 0), second(3 * C, 0);
  embedding_backward(first.data(), (float*)nullptr, dout.data(), tokens.data(), B, T, C);
  embedding_backward(second.data(), (float*)nullptr, dout.data(), tokens.data(), B, T, C);
  CHECK(first == second);
}
