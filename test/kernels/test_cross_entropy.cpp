// test/kernels/test_cross_entropy.cpp: the CPU fused softmax + cross-entropy kernel.
#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels/cpu/cpu_kernels.h"
#include "test/kernels/gradcheck.h"

using namespace gptcu::cpu;
using namespace gptcu::test;

TEST_CASE("cross entropy forward and backward by hand", "[kernels][cross_entropy]") {
  // V = 3 real columns, Vp = 5; the padding holds 100 and must not enter the softmax.
  // row 0: logits [0, ln 2, ln 3]: exp = [1, 2, 3], sum 6, target 2: loss = -ln(3/6) = ln 2
  // row 1: uniform logits [7, 7, 7], target 0: loss = ln 3
  // row 2: target -1 (ignored): loss 0
  // row 3: [1000, 1000, 990] target 1: subtract the max 1000: exp = [1, 1, e^-10],
  //   e^-10 = 4.539993e-5, loss = ln(2 + e^-10) = ln 2 + ln(1 + 2.2699965e-5) = 0.6931698803
  const int N = 4, V = 3, Vp = 5;
  const double l2 = std::log(2.0), l3 = std::log(3.0);
  const std::vector<double> logits = {0,    l2,   l3,  100, 100,  //
                                      7,    7,    7,   100, 100,  //
                                      1,    2,    3,   100, 100,  //
                                      1000, 1000, 990, 100, 100};
  const std::vector<int32_t> targets = {2, 0, -1, 1};
  std::vector<double> losses(N, -999);
  cross_entropy_forward(losses.data(), logits.data(), targets.data(), N, V, Vp);
  check_close("losses", losses, {l2, l3, 0, 0.6931698803}, 1e-9, 0);

  // dlogits with dlosses = [1, 2, 5, 1]:
  //   row 0: softmax - onehot(2) = [1/6, 2/6, 3/6 - 1] = [1/6, 1/3, -1/2]
  //   row 1: 2 * ([1/3, 1/3, 1/3] - [1, 0, 0]) = [-4/3, 2/3, 2/3]
  //   row 2: ignored, stays as it was (here 0)
  //   row 3: p = [1, 1, e^-10] / (2 + e^-10) = [0.4999886503, 0.4999886503, 0.0000226994]
  //          minus onehot(1): [0.4999886503, -0.5000113497, 0.0000226994]
  //   padded columns: 0 in every row
  const std::vector<double> dlosses = {1, 2, 5, 1};
  std::vector<double> dlogits(N * Vp, 0);
  cross_entropy_backward(dlogits.data(), dlosses.data(), logits.data(), targets.data(), N, V, Vp);
  check_close("dlogits", dlogits,
              {1.0 / 6, 1.0 / 3, -0.5, 0, 0,             //
               -4.0 / 3, 2.0 / 3, 2.0 / 3, 0, 0,         //
               0, 0, 0, 0, 0,                            //
               0.4999886503, -0.5000113497, 0.0000226994, 0, 0},
              1e-9, 0);

  // float: uniform logits of 1000 over V = 4 (exp(1000) overflows without the max
  // subtraction), padding at 3.4e38 that would dominate if it entered: loss ln 4
  const std::vector<float> big = {1000, 1000, 1000, 1000, 3.4e38f, 3.4e38f, 3.4e38f, 3.4e38f};
  const std::vector<int32_t> t0 = {3};
  float loss = -999;
  cross_entropy_forward(&loss, big.data(), t0.data(), 1, 4, 8);
  CHECK(std::abs(loss - std::log(4.0)) < 1e-6);
}

TEST_CASE("cross entropy gradient matches fp64 central differences",
          "[kernels][cross_entropy][grad]") {
  const int N = 6, V = 11, Vp = 16;
  auto logits = randn(N * Vp, 1, 2.0);
  const std::vector<int32_t> targets = {3, -1, 0, 10, -1, 7};
  const auto probe = randn(N, 2);
  std::vector<double> losses(N);
  auto f = [&] {
    cross_entropy_forward(losses.data(), logits.data(), targets.data(), N, V, Vp);
    return dot(losses, probe);
  };
  std::vector<double> dlogits(N * Vp, 0);
  cross_entropy_backward(dlogits.data(), probe.data(), logits.data(), targets.data(), N, V, Vp);
  grad_check("logits", logits, f, dlogits);  // padded columns: numeric gradient is exactly 0
}

TEST_CASE("cross entropy ignored targets and padded columns", "[kernels][cross_entropy]") {
  const int N = 5, V = 11, Vp = 16;
  const auto logits = randn(N * Vp, 3, 3.0);
  const std::vector<int32_t> targets = {-1, 4, -100, 10, 0};
  std::vector<double> losses(N, -999);
  cross_entropy_forward(losses.data(), logits.data(), targets.data(), N, V, Vp);
  CHECK(losses[0] == 0);
  CHECK(losses[2] == 0);
  for (int i : {1, 3, 4}) CHECK(losses[i] > 0);
  const std::vector<double> dlosses(N, 1.0);
  std::vector<double> dlogits(N * Vp, 0);
  cross_entropy_backward(dlogits.data(), dlosses.data(), logits.data(), targets.data(), N, V, Vp);
  for (int i = 0; i < N; i++) {
    for (int j = 0; j < Vp; j++) {
      INFO("row " << i << " column " << j);
      if (targets[i] < 0 || j >= V)
        CHECK(dlogits[i * Vp + j] == 0);
      else
        CHECK(dlogits[i * Vp + j] != 0);
    }
  }
  // a real row's gradient sums to 0 (softmax sums to 1, the one-hot to 1)
  for (int i : {1, 3, 4}) {
    double s = 0;
    for (int j = 0; j < V; j++) s += dlogits[i * Vp + j];
    CHECK(std::abs(s) < 1e-12);
  }
}

TEST_CASE("cross entropy float agrees with double", "[kernels][cross_entropy]") {
  const int N = 7, V = 300, Vp = 384;
  const auto logits = randn(N * Vp, 4, 3.0), dlosses = randn(N, 5);
  std::vector<int32_t> targets = {0, 299, -1, 17, 150, 3, 298};
  std::vector<double> losses(N), dlogits(N * Vp, 0);
  cross_entropy_forward(losses.data(), logits.data(), targets.data(), N, V, Vp);
  cross_entropy_backward(dlogits.data(), dlosses.data(), logits.data(), targets.data(), N, V, Vp);
  const auto logitsf = to_float(logits), dlossesf = to_float(dlosses);
  std::vector<float> lossesf(N), dlogitsf(N * Vp, 0);
  cross_entropy_forward(lossesf.data(), logitsf.data(), targets.data(), N, V, Vp);
  cross_entropy_backward(dlogitsf.data(), dlossesf.data(), logitsf.data(), targets.data(), N, V,
                         Vp);
  check_close("losses", to_double(lossesf), losses, kF32Atol, kF32Rtol);
  check_close("dlogits", to_double(dlogitsf), dlogits, kF32Atol, kF32Rtol);
}

TEST_CASE("cross entropy backward accumulates and skips nullptr", "[kernels][cross_entropy]") {
  const int N = 3, V = 5, Vp = 8;
  const auto logits = randn(N * Vp, 6), dlosses = randn(N, 7);
  const std::vector<int32_t> targets = {1, -1, 4};
  std::vector<double> once(N * Vp, 0), twice(N * Vp, 0);
  cross_entropy_backward(once.data(), dlosses.data(), logits.data(), targets.data(), N, V, Vp);
  for (int rep = 0; rep < 2; rep++)
    cross_entropy_backward(twice.data(), dlosses.data(), logits.data(), targets.data(), N, V, Vp);
  check_close("dlogits twice", twice, scaled(once, 2), kF64Atol, kF64Rtol);
  cross_entropy_backward((double*)nullptr, dlosses.data(), logits.data(), targets.data(), N, V,
                         Vp);
}
