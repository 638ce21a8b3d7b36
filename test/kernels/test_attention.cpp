// test/kernels/test_attention.cpp: the CPU causal multi-head self-attention kernel.
#include <cmath>
#include <vector>

#include "kernels/cpu/cpu_kernels.h"
#include "test/kernels/gradcheck.h"

using namespace gptcu::cpu;
using namespace gptcu::test;

TEST_CASE("attention forward by hand, two heads", "[kernels][attention]") {
  // B = 1, T = 2, C = 2, NH = 2, so hs = 1 and the scale is 1/sqrt(1) = 1.
  // qkv[t] = [q_h0, q_h1 | k_h0, k_h1 | v_h0, v_h1]
  //   t = 0: q = [5, 5], k = [0, 0],    v = [2, 4]
  //   t = 1: q = [3, 1], k = [0, ln 3], v = [6, 0]
  // t = 0 sees only itself: out[0] = v[0] = [2, 4], att rows [1, 0]
  // t = 1, head 0: scores [3*0, 3*0] = [0, 0] -> att [1/2, 1/2], out = (2 + 6)/2 = 4
  // t = 1, head 1: scores [1*0, 1*ln 3] -> exp [1, 3] -> att [1/4, 3/4],
  //                out = 4/4 + 0 * 3/4 = 1
  const double l3 = std::log(3.0);
  const std::vector<double> qkv = {5, 5, 0, 0, 2, 4, 3, 1, 0, l3, 6, 0};
  std::vector<double> out(4, -999), att(8, -999);
  attention_forward(out.data(), att.data(), qkv.data(), 1, 2, 2, 2);
  check_close("out", out, {2, 4, 4, 1}, 1e-12, 0);
  // att (B, NH, T, T): head 0 [[1, 0], [1/2, 1/2]], head 1 [[1, 0], [1/4, 3/4]]
  check_close("att", att, {1, 0, 0.5, 0.5, 1, 0, 0.25, 0.75}, 1e-12, 0);
}

TEST_CASE("attention scales scores by 1/sqrt(hs)", "[kernels][attention]") {
  // B = 1, T = 2, C = 4, NH = 1 (hs = 4, scale 1/2); q1 = [ln 9, 0, 0, 0], k0 = 0, k1 = [2, 0,
  // 0, 0]: scores [0, 2 ln 9 / 2] = [0, ln 9] -> att [1/10, 9/10];
  // v0 = [10, 0, 0, 0], v1 = [0, 10, 0, 0] -> out[1] = [1, 9, 0, 0]; out[0] = v0
  const double l9 = std::log(9.0);
  std::vector<double> qkv(2 * 12, 0);
  qkv[0 * 12 + 8] = 10;  // v0
  qkv[1 * 12 + 0] = l9;  // q1
  qkv[1 * 12 + 4] = 2;   // k1
  qkv[1 * 12 + 9] = 10;  // v1
  std::vector<double> out(8, -999), att(4, -999);
  attention_forward(out.data(), att.data(), qkv.data(), 1, 2, 4, 1);
  check_close("out", out, {10, 0, 0, 0, 1, 9, 0, 0}, 1e-12, 0);
  check_close("att", att, {1, 0, 0.1, 0.9}, 1e-12, 0);
}

TEST_CASE("attention gradient matches fp64 central differences", "[kernels][attention][grad]") {
  const int B = 2, T = 5, C = 6, NH = 2;  // hs = 3
  auto qkv = randn(B * T * 3 * C, 1);
  const auto probe = randn(B * T * C, 2);
  std::vector<double> out(B * T * C), att(B * NH * T * T);
  auto f = [&] {
    attention_forward(out.data(), att.data(), qkv.data(), B, T, C, NH);
    return dot(out, probe);
  };
  f();
  std::vector<double> dqkv(qkv.size(), 0);
  attention_backward(dqkv.data(), probe.data(), qkv.data(), att.data(), B, T, C, NH);
  grad_check("qkv", qkv, f, dqkv);
}

TEST_CASE("attention is causal", "[kernels][attention]") {
  const int B = 2, T = 7, C = 8, NH = 2, tc = 4;
  auto qkv = randn(B * T * 3 * C, 3);
  std::vector<double> out1(B * T * C), att(B * NH * T * T);
  attention_forward(out1.data(), att.data(), qkv.data(), B, T, C, NH);
  // probabilities: zero above the diagonal, each row sums to 1
  for (int bh = 0; bh < B * NH; bh++) {
    for (int t = 0; t < T; t++) {
      double s = 0;
      for (int t2 = 0; t2 < T; t2++) {
        const double a = att[(bh * T + t) * T + t2];
        if (t2 > t) CHECK(a == 0);
        s += a;
      }
      CHECK(std::abs(s - 1) < 1e-12);
    }
  }
  // change q, k and v of batch 0 at time tc: earlier outputs unchanged (bitwise), later differ
  for (int c = 0; c < 3 * C; c++) qkv[tc * 3 * C + c] += 1.0 + c;
  std::vector<double> out2(B * T * C);
  attention_forward(out2.data(), att.data(), qkv.data(), B, T, C, NH);
  for (int b = 0; b < B; b++) {
    for (int t = 0; t < T; t++) {
      bool same = true;
      for (int c = 0; c < C; c++) same &= out1[(b * T + t) * C + c] == out2[(b * T + t) * C + c];
      INFO("b " << b << " t " << t);
      CHECK(same == (b == 1 || t < tc));
    }
  }
  // and the gradient: a loss on outputs before tc gives no gradient to q, k, v at or after tc
  std::vector<double> dout(B * T * C, 0), dqkv(qkv.size(), 0);
  for (int b = 0; b < B; b++)
    for (int t = 0; t < tc; t++)
      for (int c = 0; c < C; c++) dout[(b * T + t) * C + c] = 1.0 + 0.1 * c;
  attention_backward(dqkv.data(), dout.data(), qkv.data(), att.data(), B, T, C, NH);
  for (int b = 0; b < B; b++)
    for (int t = tc; t < T; t++)
      for (int c = 0; c < 3 * C; c++) CHECK(dqkv[(b * T + t) * 3 * C + c] == 0);
}

TEST_CASE("attention float agrees with double", "[kernels][attention]") {
  const int B = 3, T = 11, C = 20, NH = 4;  // hs = 5
  const auto qkv = randn(B * T * 3 * C, 4), dout = randn(B * T * C, 5);
  std::vector<double> out(B * T * C), att(B * NH * T * T), dqkv(qkv.size(), 0);
  attention_forward(out.data(), att.data(), qkv.data(), B, T, C, NH);
  attention_backward(dqkv.data(), dout.data(), qkv.data(), att.data(), B, T, C, NH);
  const auto qkvf = to_float(qkv), doutf = to_float(dout);
  std::vector<float> outf(B * T * C), attf(B * NH * T * T), dqkvf(qkv.size(), 0);
  attention_forward(outf.data(), attf.data(), qkvf.data(), B, T, C, NH);
  attention_backward(dqkvf.data(), doutf.data(), qkvf.data(), attf.data(), B, T, C, NH);
  check_close("out", to_double(outf), out, kF32Atol, kF32Rtol);
  check_close("att", to_double(attf), att, kF32Atol, kF32Rtol);
  check_close("dqkv", to_double(dqkvf), dqkv, kF32Atol, kF32Rtol);
}

TEST_CASE("attention backward accumulates and skips nullptr", "[kernels][attention]") {
  const int B = 1, T = 4, C = 6, NH = 3;
  const auto qkv = randn(B * T * 3 * C, 6), dout = randn(B * T * C, 7);
  std::vector<double> out(B * T * C), att(B * NH * T * T);
  attention_forward(out.data(), att.data(), qkv.data(), B, T, C, NH);
  std::vector<double> once(qkv.size(), 0), twice(qkv.size(), 0);
  attention_backward(once.data(), dout.data(), qkv.data(), att.data(), B, T, C, NH);
  for (int rep = 0; rep < 2; rep++)
    attention_backward(twice.data(), dout.data(), qkv.data(), att.data(), B, T, C, NH);
  check_close("dqkv twice", twice, scaled(once, 2), kF64Atol, kF64Rtol);
  attention_backward((double*)nullptr, dout.data(), qkv.data(), att.data(), B, T, C, NH);
}
