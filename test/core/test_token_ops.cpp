// test/core/test_token_ops.cpp: the post-training scoring ops: token_logprobs, token_entropy,
// select_positions, masked_sum. Each kernel's gradient against fp64 central differences, each
// op against hand computations and against its double kernel.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <vector>

#include "test/core/op_check.h"

using namespace gptcu;
using namespace gptcu::test;

namespace {
// log softmax(row[:V] / temp)[target] and the entropy of that softmax, by hand in double
double log_softmax_at(const double* row, int V, double temp, int target) {
  double maxz = row[0] / temp, sum = 0;
  for (int j = 1; j < V; j++) maxz = std::max(maxz, row[j] / temp);
  for (int j = 0; j < V; j++) sum += std::exp(row[j] / temp - maxz);
  return row[target] / temp - maxz - std::log(sum);
}
double entropy_by_hand(const double* row, int V, double temp) {
  double h = 0;
  for (int j = 0; j < V; j++) {
    const double lp = log_softmax_at(row, V, temp, j);
    h -= std::exp(lp) * lp;
  }
  return h;
}
}  // namespace

TEST_CASE("token_logprobs equals -cross_entropy_per_token at temperature 1", "[ops][token_logprobs]") {
  const int B = 3, T = 5, V = 11, Vp = 16;
  const auto x = randn(B * T * Vp, 11, 2.0), probe = randn(B * T, 12);
  const std::vector<int32_t> tgt = {0, 10, -1, 3, 7, 2, 2, -1, 9, 1, 5, 4, 10, 0, 6};
  const Tensor targets = Tensor::from_vector(tgt, {B, T});
  Tensor a = param(x, {B, T, Vp}), b = param(x, {B, T, Vp});
  const Tensor lp = ops::token_logprobs(a, targets, V);
  CHECK(lp.shape() == Shape{B, T});
  backward_probe(lp, probe);  // (backward clears the tape: one graph at a time)
  const Tensor ce = ops::cross_entropy_per_token(b, targets, V);
  check_close("logp vs -ce", to_double(lp.to_vector()), scaled(to_double(ce.to_vector()), -1), 1e-6, 1e-6);
  backward_probe(ce, scaled(probe, -1));
  check_close("dlogits vs -dce", grad_of(a), grad_of(b), 1e-6, 1e-6);
}

TEST_CASE("token_logprobs at temperature 0.7 is log_softmax(logits / 0.7); padding ignored",
          "[ops][token_logprobs]") {
  const int N = 5, V = 7, Vp = 9;
  auto x = randn(N * Vp, 13, 3.0);
  for (int i = 0; i < N; i++) x[i * Vp + 7] = x[i * Vp + 8] = 1e30;  // would dominate if it entered
  const std::vector<int32_t> tgt = {6, 0, -5, 3, 1};
  const Tensor lp = ops::token_logprobs(fixed(x, {N, Vp}), Tensor::from_vector(tgt, {N}), V, 0.7f);
  std::vector<double> expect(N, 0.0);
  for (int i = 0; i < N; i++)
    if (tgt[i] >= 0) expect[i] = log_softmax_at(&x[i * Vp], V, 0.7, tgt[i]);
  check_close("logp", to_double(lp.to_vector()), expect, 1e-5, 1e-5);
  CHECK(lp.to_vector()[2] == 0.0f);
  CHECK_FALSE(lp.requires_grad());
}

TEST_CASE("token_logprobs gradient matches fp64 central differences", "[ops][token_logprobs][grad]") {
  const int N = 5, V = 13, Vp = 16;
  const double temp = 0.7;
  auto x = randn(N * Vp, 14, 2.0);
  const std::vector<int32_t> tgt = {12, -1, 0, 5, 5};
  const auto probe = randn(N, 15);
  std::vector<double> out(N), dx(N * Vp, 0);
  auto f = [&] {
    cpu::token_logprobs_forward(out.data(), x.data(), tgt.data(), N, V, Vp, temp);
    return dot(out, probe);
  };
  cpu::token_logprobs_backward(dx.data(), probe.data(), x.data(), tgt.data(), N, V, Vp, temp);
  grad_check("logits", x, f, dx);  // padding and the ignored row: exactly 0 both ways

  // the op (f32, through autograd) gives the same gradient, accumulated onto an existing one
  Tensor logits = param(x, {N, Vp});
  backward_probe(ops::token_logprobs(logits, Tensor::from_vector(tgt, {N}), V, (float)temp), probe);
  backward_probe(ops::token_logprobs(logits, Tensor::from_vector(tgt, {N}), V, (float)temp), probe);
  check_close("op dlogits (twice)", grad_of(logits), scaled(dx, 2), kF32Atol, kF32Rtol);
}

TEST_CASE("token_logprobs checks targets and temperature", "[ops][token_logprobs]") {
  const Tensor x = Tensor::zeros({2, 8});
  CHECK_THROWS_AS(ops::token_logprobs(x, Tensor::from_vector(std::vector<int32_t>{0, 5}, {2}), 5), Error);
  CHECK_THROWS_AS(ops::token_logprobs(x, Tensor::from_vector(std::vector<int32_t>{0}, {1}), 5), Error);
  CHECK_THROWS_AS(ops::token_logprobs(x, Tensor::from_vector(std::vector<int32_t>{0, 1}, {2}), 5, 0.0f), Error);
  CHECK_THROWS_AS(ops::token_entropy(x, 9), Error);
}

TEST_CASE("token_entropy by hand, padding ignored, no gradient", "[ops][token_entropy]") {
  // row 0: logits [0, ln 2, ln 3]: p = [1/6, 1/3, 1/2], H = (1/6) ln 6 + (1/3) ln 3 + (1/2) ln 2
  // row 1: uniform: H = ln 3 (the maximum)
  // row 2: one logit far above the rest: H ~ 0
  const int V = 3, Vp = 4;
  const double l2 = std::log(2.0), l3 = std::log(3.0);
  const std::vector<double> x = {0, l2, l3, 1e30, 5, 5, 5, -1e30, 0, 100, 0, 1e30};
  Tensor logits = param(x, {3, Vp});
  const Tensor h = ops::token_entropy(logits, V);
  CHECK(h.shape() == Shape{3});
  check_close("entropy", to_double(h.to_vector()), {std::log(6.0) / 6 + l3 / 3 + l2 / 2, l3, 0}, 1e-6, 1e-6);
  CHECK_FALSE(h.requires_grad());
  CHECK(autograd::tape_size() == 0);

  // temperature 0.7 on random rows (..., Vp) with three leading dims, against the hand sum
  const int N = 2 * 3, V2 = 10, Vp2 = 13;
  const auto y = randn(N * Vp2, 16, 2.0);
  const Tensor h2 = ops::token_entropy(fixed(y, {2, 3, Vp2}), V2, 0.7f);
  CHECK(h2.shape() == Shape{2, 3});
  std::vector<double> expect(N);
  for (int i = 0; i < N; i++) expect[i] = entropy_by_hand(&y[i * Vp2], V2, 0.7);
  check_close("entropy at 0.7", to_double(h2.to_vector()), expect, 1e-5, 1e-5);
}

TEST_CASE("select_positions picks x[b, idx[b]] and scatters the gradient back", "[ops][select_positions]") {
  // x (2, 3, 2) = 0..11; idx {2, 0} -> rows [4, 5] and [6, 7]
  std::vector<double> x(12);
  for (int i = 0; i < 12; i++) x[i] = i;
  Tensor xt = param(x, {2, 3, 2});
  const Tensor idx = Tensor::from_vector(std::vector<int32_t>{2, 0}, {2});
  const Tensor out = ops::select_positions(xt, idx);
  CHECK(out.shape() == Shape{2, 2});
  check_close("out", to_double(out.to_vector()), {4, 5, 6, 7}, 0, 0);
  backward_probe(out, {1, 2, 3, 4});
  check_close("dx", grad_of(xt), {0, 0, 0, 0, 1, 2, 3, 4, 0, 0, 0, 0}, 0, 0);

  // (B, T) -> (B): the reward model's scalar head
  const Tensor s = ops::select_positions(fixed({1, 2, 3, 4, 5, 6}, {2, 3}), idx);
  CHECK(s.shape() == Shape{2});
  check_close("scalar", to_double(s.to_vector()), {3, 4}, 0, 0);

  CHECK_THROWS_AS(ops::select_positions(xt, Tensor::from_vector(std::vector<int32_t>{3, 0}, {2})), Error);
  CHECK_THROWS_AS(ops::select_positions(xt, Tensor::from_vector(std::vector<int32_t>{-1, 0}, {2})), Error);
  CHECK_THROWS_AS(ops::select_positions(xt, Tensor::from_vector(std::vector<int32_t>{0}, {1})), Error);
}

TEST_CASE("select_positions gradient matches fp64 central differences", "[ops][select_positions][grad]") {
  const int B = 3, T = 5, D = 7;
  auto x = randn(B * T * D, 17);
  const std::vector<int32_t> idx = {4, 0, 2};
  const auto probe = randn(B * D, 18);
  std::vector<double> out(B * D), dx(B * T * D, 0);
  auto f = [&] {
    cpu::select_positions_forward(out.data(), x.data(), idx.data(), B, T, D);
    return dot(out, probe);
  };
  cpu::select_positions_backward(dx.data(), probe.data(), idx.data(), B, T, D);
  grad_check("x", x, f, dx);
  Tensor xt = param(x, {B, T, D});
  backward_probe(ops::select_positions(xt, Tensor::from_vector(idx, {B})), probe);
  check_close("op dx", grad_of(xt), dx, kF32Atol, kF32Rtol);
}

TEST_CASE("masked_sum by hand and its gradient", "[ops][masked_sum][grad]") {
  // rows [1, 2, 3] mask [1, 1, 0] -> 3; [4, 5, 6] mask [0, 0.5, 1] -> 8.5 (weights allowed)
  Tensor x = param({1, 2, 3, 4, 5, 6}, {2, 3});
  const std::vector<double> m = {1, 1, 0, 0, 0.5, 1};
  const Tensor s = ops::masked_sum(x, fixed(m, {2, 3}));
  check_close("sums", to_double(s.to_vector()), {3, 8.5}, 0, 0);
  backward_probe(s, {2, -1});
  check_close("dx", grad_of(x), {2, 2, 0, 0, -0.5, -1}, 0, 0);
  CHECK_THROWS_AS(ops::masked_sum(x, Tensor::zeros({2, 2})), Error);

  const int B = 3, T = 7;
  auto xv = randn(B * T, 19);
  auto mask = randn(B * T, 20);
  for (auto& v : mask) v = v > 0 ? 1 : 0;
  const auto probe = randn(B, 21);
  std::vector<double> out(B), dx(B * T, 0);
  auto f = [&] {
    cpu::masked_sum_forward(out.data(), xv.data(), mask.data(), B, T);
    return dot(out, probe);
  };
  cpu::masked_sum_backward(dx.data(), probe.data(), mask.data(), B, T);
  grad_check("x", xv, f, dx);
}
