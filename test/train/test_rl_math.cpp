// test/train/test_rl_math.cpp: GAE, whitening, GRPO group advantages and the adaptive KL
// controller (train/rl_math.h) against numbers worked out by hand.
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "core/check.h"
#include "train/rl_math.h"

using namespace gptcu;

namespace {
void check_values(const std::vector<float>& got, const std::vector<double>& want, double margin = 1e-6) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); i++) {
    INFO("entry " << i);
    CHECK(got[i] == Approx(want[i]).margin(margin));
  }
}
}  // namespace

TEST_CASE("gae by hand over ragged masks", "[rl_math][gae]") {
  // gamma 1, lambda 0.95. Row 0: three tokens, r = [0, 0, 1], V = [0.5, 0.6, 0.7], then padding
  // (whose reward 99 and value 99 must not leak in):
  //   t2: delta = 1 + 0 - 0.7 = 0.3                  A = 0.3
  //   t1: delta = 0 + 0.7 - 0.6 = 0.1                A = 0.1 + 0.95 * 0.3   = 0.385
  //   t0: delta = 0 + 0.6 - 0.5 = 0.1                A = 0.1 + 0.95 * 0.385 = 0.46575
  //   returns = A + V = [0.96575, 0.985, 1.0]
  // Row 1: one token, r 2, V 0.5: A = 1.5, return 2.
  // Row 2: mask [1, 0, 1, 0] (a gap: the masked tokens are taken in order), r = [0, 9, 1, 9],
  //   V = [0.5, 9, 0.7, 9]: t2: A = 0.3; t0: delta = 0 + 0.7 - 0.5 = 0.2, A = 0.2 + 0.95 * 0.3 = 0.485
  const int B = 3, T = 4;
  const std::vector<float> rewards = {0, 0, 1, 99, 2, 99, 99, 99, 0, 9, 1, 9};
  const std::vector<float> values = {0.5f, 0.6f, 0.7f, 99, 0.5f, 99, 99, 99, 0.5f, 9, 0.7f, 9};
  std::vector<float> mask(B * T, 1.0f);  // set in place, not a literal: see test/core/test_rl_losses.cpp (GCC 12.2)
  mask[3] = mask[5] = mask[6] = mask[7] = mask[9] = mask[11] = 0;
  std::vector<float> adv, ret;
  gae(rewards, values, mask, B, T, 1.0f, 0.95f, adv, ret);
  check_values(adv, {0.46575, 0.385, 0.3, 0, 1.5, 0, 0, 0, 0.485, 0, 0.3, 0});
  check_values(ret, {0.96575, 0.985, 1.0, 0, 2.0, 0, 0, 0, 0.985, 0, 1.0, 0});

  // gamma 0.9, lambda 1 (Monte Carlo): r = [0, 1], V = [0.2, 0.4]:
  //   t1: A = 1 - 0.4 = 0.6; t0: delta = 0.9 * 0.4 - 0.2 = 0.16, A = 0.16 + 0.9 * 0.6 = 0.7
  //   returns = [0.9, 1.0] = the discounted rewards-to-go
  gae({0, 1}, {0.2f, 0.4f}, {1, 1}, 1, 2, 0.9f, 1.0f, adv, ret);
  check_values(adv, {0.7, 0.6});
  check_values(ret, {0.9, 1.0});

  CHECK_THROWS_AS(gae({0, 1}, {0.2f}, {1, 1}, 1, 2, 0.9f, 1.0f, adv, ret), Error);
}

TEST_CASE("whiten: mean 0 and std 1 over the masked entries", "[rl_math][whiten]") {
  // [1, 2, 3] counted, 100 masked out: mean 2, sample std 1 -> [-1, 0, 1], the masked entry 0
  std::vector<float> x = {1, 2, 3, 100};
  std::vector<float> mask = {1, 1, 1, 1};
  mask[3] = 0;
  whiten(x, mask);
  check_values(x, {-1, 0, 1, 0});

  // random values: mean 0 and (sample) std 1 afterwards; shift_mean = false keeps the mean
  std::vector<float> y(37), m(37);
  for (int i = 0; i < 37; i++) y[i] = 3.0f * std::sin(1.7f * i) + 5.0f, m[i] = (i % 4 == 1) ? 0.0f : 1.0f;
  auto stats = [&](const std::vector<float>& v, double& mean, double& sd) {
    double s = 0, ss = 0, n = 0;
    for (int i = 0; i < 37; i++)
      if (m[i] != 0) s += v[i], n++;
    mean = s / n;
    for (int i = 0; i < 37; i++)
      if (m[i] != 0) ss += (v[i] - mean) * (v[i] - mean);
    sd = std::sqrt(ss / (n - 1));
  };
  double mean0, sd0, mean, sd;
  stats(y, mean0, sd0);
  std::vector<float> w = y;
  whiten(w, m);
  stats(w, mean, sd);
  CHECK(mean == Approx(0).margin(1e-6));
  CHECK(sd == Approx(1).epsilon(1e-5));
  for (int i = 1; i < 37; i += 4) CHECK(w[i] == 0);
  std::vector<float> k = y;
  whiten(k, m, false);
  stats(k, mean, sd);
  CHECK(mean == Approx(mean0).epsilon(1e-5));
  CHECK(sd == Approx(1).epsilon(1e-5));

  std::vector<float> none = {0, 0};
  CHECK_THROWS_AS(whiten(x, none), Error);
}

TEST_CASE("group_advantages by hand", "[rl_math][grpo]") {
  // G = 3: [1, 2, 3] has mean 2 and sample std 1 -> [-1, 0, 1] / (1 + 1e-4); [5, 5, 5] -> all 0
  const std::vector<float> r = {1, 2, 3, 5, 5, 5};
  const double s = 1 / (1 + 1e-4);
  check_values(group_advantages(r, 3), {-s, 0, s, 0, 0, 0});
  check_values(group_advantages(r, 3, false), {-1, 0, 1, 0, 0, 0});
  // G = 2: [0, 4] mean 2, sample std 2.828427 -> -/+ 2 / 2.828527
  check_values(group_advantages({0, 4}, 2), {-2 / (std::sqrt(8.0) + 1e-4), 2 / (std::sqrt(8.0) + 1e-4)});
  CHECK_THROWS_AS(group_advantages(r, 4), Error);
}

TEST_CASE("adaptive KL controller", "[rl_math][kl]") {
  // target 6, horizon 10000, 256 steps: error clip(kl/6 - 1, -0.2, 0.2)
  AdaptiveKl kl{0.2, 6, 10000};
  kl.update(6.0, 256);  // on target: unchanged
  CHECK(kl.coef == Approx(0.2));
  kl.update(6.6, 256);  // error 0.1: * (1 + 0.1 * 0.0256)
  CHECK(kl.coef == Approx(0.2 * 1.00256));
  kl = {0.2, 6, 10000};
  kl.update(60.0, 256);  // error 9 clipped to 0.2: * 1.00512
  CHECK(kl.coef == Approx(0.2 * 1.00512));
  kl = {0.2, 6, 10000};
  kl.update(0.0, 256);  // error -1 clipped to -0.2: * 0.99488
  CHECK(kl.coef == Approx(0.2 * 0.99488));
}
