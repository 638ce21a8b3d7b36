// test/core/test_autograd.cpp: the tape, gradient accumulation, the no-grad guard, and a
// composed graph checked against finite differences through the public ops.
#include <catch2/catch.hpp>
#include <cmath>

#include "core/autograd.h"
#include "core/ops.h"

using namespace gptcu;

namespace {
Tensor param(std::vector<float> v, Shape s) { return Tensor::from_vector(v, s).set_requires_grad(true); }
}  // namespace

TEST_CASE("a value used twice gets both gradients", "[autograd]") {
  Tensor x = param({1, 2, 3}, {3});
  Tensor y = ops::add(x, x);  // y = 2x
  Tensor logits = ops::reshape(y, {1, 3});
  Tensor loss = ops::cross_entropy(logits, Tensor::from_vector(std::vector<int32_t>{0}, {1}), 3);
  autograd::backward(loss);
  // d loss / d logits = softmax(2x) - onehot(0); d/dx = 2 * that
  const std::vector<float> g = x.grad().to_vector();
  const double z = std::exp(2.0) + std::exp(4.0) + std::exp(6.0);
  CHECK(g[0] == Approx(2 * (std::exp(2.0) / z - 1)).epsilon(1e-5));
  CHECK(g[1] == Approx(2 * std::exp(4.0) / z).epsilon(1e-5));
  CHECK(g[2] == Approx(2 * std::exp(6.0) / z).epsilon(1e-5));
  CHECK(autograd::tape_size() == 0);
  CHECK_FALSE(y.grad().defined());  // intermediate gradients are freed once consumed
}

TEST_CASE("leaf gradients accumulate across backward calls", "[autograd]") {
  Tensor x = param({0.5f, -1.0f}, {1, 2});
  Tensor t = Tensor::from_vector(std::vector<int32_t>{1}, {1});
  autograd::backward(ops::cross_entropy(x, t, 2));
  const auto g1 = x.grad().to_vector();
  autograd::backward(ops::cross_entropy(x, t, 2));
  const auto g2 = x.grad().to_vector();
  CHECK(g2[0] == Approx(2 * g1[0]));
  CHECK(g2[1] == Approx(2 * g1[1]));
  CHECK(g1[0] + g1[1] == Approx(0).margin(1e-6));  // softmax gradient rows sum to zero
}

TEST_CASE("NoGradGuard records nothing", "[autograd]") {
  Tensor x = param({1, 2}, {2});
  {
    autograd::NoGradGuard guard;
    Tensor y = ops::gelu(x);
    CHECK_FALSE(y.requires_grad());
    CHECK(autograd::tape_size() == 0);
  }
  Tensor y = ops::gelu(x);
  CHECK(y.requires_grad());
  CHECK(autograd::tape_size() == 1);
  autograd::clear_tape();
}

TEST_CASE("a small MLP graph matches finite differences", "[autograd]") {
  // loss = CE(linear(gelu(layernorm(linear(x, W1, b1))), W2, b2), targets), gradient wrt W1
  std::vector<float> w1v(4 * 6), xv(3 * 4), w2v(6 * 5);
  for (size_t i = 0; i < w1v.size(); i++) w1v[i] = 0.3f * std::sin(1.0f + i);
  for (size_t i = 0; i < xv.size(); i++) xv[i] = std::cos(0.5f * i);
  for (size_t i = 0; i < w2v.size(); i++) w2v[i] = 0.4f * std::sin(0.3f * i + 2);
  Tensor x = Tensor::from_vector(xv, {3, 4});
  Tensor W2 = Tensor::from_vector(w2v, {6, 5});
  Tensor b1 = Tensor::full({6}, 0.1f), b2 = Tensor::full({5}, -0.1f);
  Tensor lnw = Tensor::full({6}, 1.0f), lnb = Tensor::full({6}, 0.0f);
  Tensor tgt = Tensor::from_vector(std::vector<int32_t>{1, -1, 4}, {3});
  auto loss_at = [&](const Tensor& W1) {
    Tensor h = ops::gelu(ops::layernorm(ops::linear(x, W1, b1), lnw, lnb));
    return ops::cross_entropy(ops::linear(h, W2, b2), tgt, 5);
  };
  Tensor W1 = param(w1v, {4, 6});
  autograd::backward(loss_at(W1));
  const auto analytic = W1.grad().to_vector();
  autograd::NoGradGuard guard;
  const float eps = 1e-2f;  // fp32 forward: a large step, and a tolerance to match
  for (size_t i = 0; i < w1v.size(); i += 5) {
    auto wp = w1v, wm = w1v;
    wp[i] += eps;
    wm[i] -= eps;
    const double num = (loss_at(Tensor::from_vector(wp, {4, 6})).item() -
                        loss_at(Tensor::from_vector(wm, {4, 6})).item()) / (2 * eps);
    CHECK(analytic[i] == Approx(num).margin(2e-4).epsilon(2e-2));
  }
}

TEST_CASE("a backward that throws leaves no tape to replay", "[autograd]") {
  Tensor x = param({1, 2}, {1, 2});
  Tensor y = ops::gelu(x);
  autograd::record(y, []() { throw Error("boom"); });  // a failing node between gelu and the loss
  Tensor loss = ops::cross_entropy(y, Tensor::from_vector(std::vector<int32_t>{0}, {1}), 2);
  CHECK_THROWS_WITH(autograd::backward(loss), "boom");
  CHECK(autograd::tape_size() == 0);
  CHECK_FALSE(x.grad().defined());  // gelu's node never ran
}

TEST_CASE("softmax op: rows sum to one, gradient matches finite differences", "[autograd]") {
  const std::vector<float> v = {0.1f, -0.4f, 1.2f, 0.3f, 2.0f, -1.0f};
  const std::vector<float> probe = {0.5f, -1.0f, 0.25f, 2.0f, -0.5f, 1.0f};
  // f(x) = sum(softmax(x) * probe), as ops: (1, 6) @ (6, 1)
  auto f = [&](const Tensor& x) {
    return ops::linear(ops::reshape(ops::softmax(x), {1, 6}), Tensor::from_vector(probe, {6, 1}), Tensor());
  };
  Tensor x = param(v, {2, 3});
  {
    autograd::NoGradGuard guard;
    const auto sv = ops::softmax(x).to_vector();
    CHECK(sv[0] + sv[1] + sv[2] == Approx(1.0f));
    CHECK(sv[3] + sv[4] + sv[5] == Approx(1.0f));
  }
  autograd::backward(ops::reshape(f(x), {1}));
  const auto g = x.grad().to_vector();
  autograd::NoGradGuard guard;
  for (int i = 0; i < 6; i++) {
    auto vp = v, vm = v;
    vp[i] += 1e-2f;
    vm[i] -= 1e-2f;
    const double num = (f(Tensor::from_vector(vp, {2, 3})).item() - f(Tensor::from_vector(vm, {2, 3})).item()) / 2e-2;
    CHECK(g[i] == Approx(num).margin(1e-4).epsilon(1e-2));
  }
}
