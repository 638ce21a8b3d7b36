// test/core/test_rl_losses.cpp: the one-element post-training losses: pairwise_loss (reward
// model), dpo_loss, policy_loss (PPO/GRPO) and value_loss. Hand-computed values, exact clip
// behaviour, and every kernel gradient against fp64 central differences.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <vector>

#include "test/core/op_check.h"

using namespace gptcu;
using namespace gptcu::test;

namespace {
double sigmoid(double z) { return 1 / (1 + std::exp(-z)); }
}  // namespace

TEST_CASE("pairwise_loss by hand, margin, and a chosen-only gradient", "[ops][pairwise_loss]") {
  // chosen 2, rejected 1: -log sigmoid(1) = log(1 + e^-1); d/dchosen = -sigmoid(-1) = -d/drejected
  Tensor c = param({2}, {1}), r = param({1}, {1});
  const Tensor loss = ops::pairwise_loss(c, r);
  CHECK(loss.shape() == Shape{1});
  CHECK(loss.item() == Approx(std::log1p(std::exp(-1.0))).epsilon(1e-6));
  autograd::backward(loss);
  CHECK(c.grad().item() == Approx(-sigmoid(-1)).epsilon(1e-6));
  CHECK(r.grad().item() == Approx(sigmoid(-1)).epsilon(1e-6));

  // margin 0.5 shifts the difference: log(1 + e^-0.5); a mean over pairs: (log(1+e^-0.5) + log(1+e^2.5)) / 2
  CHECK(ops::pairwise_loss(fixed({2}, {1}), fixed({1}, {1}), 0.5f).item() ==
        Approx(std::log1p(std::exp(-0.5))).epsilon(1e-6));
  Tensor c2 = param({2, 0}, {2});
  const Tensor r2 = fixed({1, 2}, {2});  // no gradient wanted
  const Tensor l2 = ops::pairwise_loss(c2, r2, 0.5f);
  CHECK(l2.item() == Approx((std::log1p(std::exp(-0.5)) + std::log1p(std::exp(2.5))) / 2).epsilon(1e-6));
  autograd::backward(l2);
  check_close("dchosen", grad_of(c2), {-sigmoid(-0.5) / 2, -sigmoid(2.5) / 2}, 1e-7, 1e-6);
  CHECK_FALSE(r2.grad().defined());

  // stable for large differences in f32: softplus(1000) = 1000, softplus(-1000) = 0
  CHECK(ops::pairwise_loss(fixed({-500}, {1}), fixed({500}, {1})).item() == Approx(1000.0f));
  CHECK(ops::pairwise_loss(fixed({500}, {1}), fixed({-500}, {1})).item() == 0.0f);
  CHECK_THROWS_AS(ops::pairwise_loss(c2, fixed({1, 2, 3}, {3})), Error);
}

TEST_CASE("dpo_loss equals the closed form on hand log-probs", "[ops][dpo_loss]") {
  // beta 0.1; pair 0: pc -10, pr -12, rc -11, rr -11.5: z = 0.1 * ((-10 + 11) - (-12 + 11.5)) = 0.15
  //           pair 1: pc -20, pr -18, rc -19, rr -19:   z = 0.1 * ((-1) - (1)) = -0.2
  // loss = (log(1 + e^-0.15) + log(1 + e^0.2)) / 2; d/dpc_i = -beta sigmoid(-z_i) / 2 = -d/dpr_i
  Tensor pc = param({-10, -20}, {2}), pr = param({-12, -18}, {2});
  const Tensor rc = fixed({-11, -19}, {2}), rr = fixed({-11.5, -19}, {2});
  const Tensor loss = ops::dpo_loss(pc, pr, rc, rr, 0.1f);
  CHECK(loss.item() == Approx((std::log1p(std::exp(-0.15)) + std::log1p(std::exp(0.2))) / 2).epsilon(1e-6));
  autograd::backward(loss);
  const std::vector<double> g = {-0.1 * sigmoid(-0.15) / 2, -0.1 * sigmoid(0.2) / 2};
  check_close("dpc", grad_of(pc), g, 1e-7, 1e-5);
  check_close("dpr", grad_of(pr), scaled(g, -1), 1e-7, 1e-5);
  CHECK_FALSE(rc.grad().defined());
  // policy == reference: z = 0, loss log 2 whatever beta
  CHECK(ops::dpo_loss(rc, rr, rc, rr, 0.5f).item() == Approx(std::log(2.0)).epsilon(1e-6));
  CHECK_THROWS_AS(ops::dpo_loss(pc, pr, Tensor(), rr, 0.1f), Error);
}

TEST_CASE("preference loss gradient matches fp64 central differences", "[ops][dpo_loss][pairwise_loss][grad]") {
  const int N = 7;
  auto c = randn(N, 31, 2.0), r = randn(N, 32, 2.0), rc = randn(N, 33, 2.0), rr = randn(N, 34, 2.0);
  const double dloss = 1.7, beta = 0.3, margin = 0.25;
  auto f = [&] {
    double loss;
    cpu::preference_loss_forward(&loss, c.data(), r.data(), rc.data(), rr.data(), N, beta, margin);
    return loss * dloss;
  };
  std::vector<double> dc(N, 0), dr(N, 0), drc(N, 0), drr(N, 0);
  cpu::preference_loss_backward(dc.data(), dr.data(), drc.data(), drr.data(), &dloss, c.data(), r.data(),
                                rc.data(), rr.data(), N, beta, margin);
  grad_check("chosen", c, f, dc);
  grad_check("rejected", r, f, dr);
  grad_check("ref_chosen", rc, f, drc);
  grad_check("ref_rejected", rr, f, drr);

  // the ops in f32: dpo (beta 0.3, all four with grad) and pairwise (no reference)
  Tensor tc = param(c, {N}), tr = param(r, {N}), trc = param(rc, {N}), trr = param(rr, {N});
  autograd::backward(ops::dpo_loss(tc, tr, trc, trr, (float)beta), (float)dloss);
  std::vector<double> ec(N, 0), er(N, 0), erc(N, 0), err(N, 0);
  cpu::preference_loss_backward(ec.data(), er.data(), erc.data(), err.data(), &dloss, c.data(), r.data(),
                                rc.data(), rr.data(), N, beta, 0.0);
  check_close("op dchosen", grad_of(tc), ec, kF32Atol, kF32Rtol);
  check_close("op drejected", grad_of(tr), er, kF32Atol, kF32Rtol);
  check_close("op dref_chosen", grad_of(trc), erc, kF32Atol, kF32Rtol);
  check_close("op dref_rejected", grad_of(trr), err, kF32Atol, kF32Rtol);
}

TEST_CASE("policy_loss: clipped tokens get exactly zero gradient, the others -A r / n", "[ops][policy_loss]") {
  // eps 0.2, logp - old_logp = d, r = e^d. Six tokens, the first masked out (with NaN inputs):
  //   A  1, d  0.5 (r 1.649 > 1.2):  max(-1.649, -1.2) = -1.2 clipped   -> grad 0
  //   A -1, d -0.5 (r 0.607 < 0.8):  max(0.607, 0.8) = 0.8 clipped       -> grad 0
  //   A  1, d -0.5:                   max(-0.607, -0.8) = -0.607          -> grad -A r = -0.607
  //   A -1, d  0.5:                   max(1.649, 1.2) = 1.649             -> grad  1.649
  //   A  0.5, d 0.1 (inside):         -0.5 * 1.105                        -> grad -0.5 * 1.105
  // (The masked token comes first: GCC 12.2 with AVX-512 miscompiles the literal
  // std::vector<double>{1, 1, 1, 1, 1, 0} into all ones; see the report of this branch.)
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<double> d = {0, 0.5, -0.5, -0.5, 0.5, 0.1}, A = {nan, 1, -1, 1, -1, 0.5};
  const std::vector<double> mask = {0, 1, 1, 1, 1, 1};
  std::vector<double> logp(6), old(6);
  for (int i = 0; i < 6; i++) logp[i] = -1.0 - 0.1 * i, old[i] = logp[i] - d[i];
  old[0] = nan;
  const double e5 = std::exp(0.5), em5 = std::exp(-0.5), e1 = std::exp(0.1);
  Tensor lp = param(logp, {2, 3});
  const Tensor loss = ops::policy_loss(lp, fixed(old, {2, 3}), fixed(A, {2, 3}), fixed(mask, {2, 3}), 0.2f);
  CHECK(loss.item() == Approx((-1.2 + 0.8 - em5 + e5 - 0.5 * e1) / 5).margin(1e-6));
  autograd::backward(loss);
  const auto g = lp.grad().to_vector();
  CHECK(g[0] == 0.0f);
  CHECK(g[1] == 0.0f);
  CHECK(g[2] == 0.0f);
  CHECK(g[3] == Approx(-em5 / 5).epsilon(1e-6));
  CHECK(g[4] == Approx(e5 / 5).epsilon(1e-6));
  CHECK(g[5] == Approx(-0.5 * e1 / 5).epsilon(1e-6));

  // eps 0.7 (range [0.3, 1.7]): nothing is clipped any more: every counted token's gradient is -A r / 5
  Tensor lp2 = param(logp, {2, 3});
  autograd::backward(ops::policy_loss(lp2, fixed(old, {2, 3}), fixed(A, {2, 3}), fixed(mask, {2, 3}), 0.7f));
  check_close("unclipped", grad_of(lp2), {0, -e5 / 5, em5 / 5, -em5 / 5, e5 / 5, -0.5 * e1 / 5}, 1e-7, 1e-6);
}

TEST_CASE("policy_loss: the k3 KL term, mask weights, and errors", "[ops][policy_loss]") {
  // one token, logp = old_logp (r = 1), A = 2: surrogate -2; ref - logp = 0.3: k3 = e^0.3 - 0.3 - 1
  // loss = -2 + 0.1 k3; d/dlogp = -2 + 0.1 (1 - e^0.3)
  Tensor lp = param({-1}, {1, 1});
  const Tensor old = fixed({-1}, {1, 1}), A = fixed({2}, {1, 1}), m = fixed({1}, {1, 1}), ref = fixed({-0.7}, {1, 1});
  const double k3 = std::exp(0.3) - 0.3 - 1;
  const Tensor loss = ops::policy_loss(lp, old, A, m, 0.2f, ref, 0.1f);
  CHECK(loss.item() == Approx(-2 + 0.1 * k3).epsilon(1e-6));
  autograd::backward(loss);
  CHECK(lp.grad().item() == Approx(-2 + 0.1 * (1 - std::exp(0.3))).epsilon(1e-6));
  // kl_coef 0: the reference is ignored
  CHECK(ops::policy_loss(lp, old, A, m, 0.2f, ref, 0.0f).item() == Approx(-2.0f));
  autograd::clear_tape();

  // mask weights: (1 * -1 + 3 * -2) / 4 with A = [1, 2], r = 1
  CHECK(ops::policy_loss(fixed({0, 0}, {1, 2}), fixed({0, 0}, {1, 2}), fixed({1, 2}, {1, 2}),
                         fixed({1, 3}, {1, 2}), 0.2f).item() == Approx(-7.0 / 4));
  // nothing requires grad: nothing recorded
  CHECK_FALSE(ops::policy_loss(old, old, A, m, 0.2f).requires_grad());
  CHECK(autograd::tape_size() == 0);

  CHECK_THROWS_WITH(ops::policy_loss(lp, old, A, fixed({0}, {1, 1}), 0.2f), Catch::Contains("mask selects no token"));
  CHECK_THROWS_AS(ops::policy_loss(lp, old, A, m, 0.2f, Tensor(), 0.1f), Error);
  CHECK_THROWS_AS(ops::policy_loss(lp, old, fixed({1, 2}, {1, 2}), m, 0.2f), Error);
}

TEST_CASE("policy_loss gradient matches fp64 central differences", "[ops][policy_loss][grad]") {
  const int B = 3, T = 5, n = B * T;
  auto logp = randn(n, 41);
  const auto shift = randn(n, 42, 0.3), adv = randn(n, 43), ref = randn(n, 44, 0.5);
  std::vector<double> old(n), refl(n), mask(n, 1.0);
  for (int i = 0; i < n; i++) old[i] = logp[i] - shift[i], refl[i] = logp[i] + ref[i];
  mask[3] = mask[9] = 0, mask[11] = 0.5;
  const double dloss = 1.3, eps = 0.2, kl = 0.05, inv = 1.0 / (n - 2 - 0.5);
  auto f = [&] {
    double loss;
    cpu::policy_loss_forward(&loss, logp.data(), old.data(), adv.data(), mask.data(), refl.data(), n, eps, kl, inv);
    return loss * dloss;
  };
  std::vector<double> dlogp(n, 0);
  cpu::policy_loss_backward(dlogp.data(), &dloss, logp.data(), old.data(), adv.data(), mask.data(), refl.data(), n,
                            eps, kl, inv);
  grad_check("logp", logp, f, dlogp);

  Tensor lp = param(logp, {B, T});
  autograd::backward(ops::policy_loss(lp, fixed(old, {B, T}), fixed(adv, {B, T}), fixed(mask, {B, T}), (float)eps,
                                      fixed(refl, {B, T}), (float)kl),
                     (float)dloss);
  check_close("op dlogp", grad_of(lp), dlogp, kF32Atol, 1e-4);  // r = exp(logp - old) in f32
}

TEST_CASE("value_loss clip behaviour by hand", "[ops][value_loss]") {
  // eps 0.2, a masked-out token first (see the policy_loss test above), then three tokens:
  //   v 1.0, v_old 0.5, R 0: v_clip 0.7; max(1, 0.49) = 1 unclipped       -> l 0.5,   grad v - R = 1
  //   v 1.0, v_old 0.5, R 2: max(1, 1.69) = 1.69 clipped                    -> l 0.845, grad 0
  //   v 0.6, v_old 0.5, R 3: inside the range, v_clip = v: (2.4)^2 = 5.76   -> l 2.88,  grad -2.4
  const std::vector<double> v = {9, 1.0, 1.0, 0.6}, vold = {0, 0.5, 0.5, 0.5}, R = {0, 0, 2, 3}, m = {0, 1, 1, 1};
  Tensor values = param(v, {1, 4});
  const Tensor loss = ops::value_loss(values, fixed(vold, {1, 4}), fixed(R, {1, 4}), fixed(m, {1, 4}), 0.2f);
  CHECK(loss.item() == Approx((0.5 + 0.845 + 2.88) / 3).epsilon(1e-6));
  autograd::backward(loss);
  const auto g = values.grad().to_vector();
  CHECK(g[0] == 0.0f);
  CHECK(g[1] == Approx(1.0 / 3).epsilon(1e-6));
  CHECK(g[2] == 0.0f);
  CHECK(g[3] == Approx(-2.4 / 3).epsilon(1e-6));

  // eps 0: unclipped, 0.5 mean (v - R)^2 = (0.5 + 0.5 + 2.88) / 3, the clipped token's grad is now -1 / 3
  Tensor values2 = param(v, {1, 4});
  const Tensor loss2 = ops::value_loss(values2, fixed(vold, {1, 4}), fixed(R, {1, 4}), fixed(m, {1, 4}), 0.0f);
  CHECK(loss2.item() == Approx((0.5 + 0.5 + 2.88) / 3).epsilon(1e-6));
  autograd::backward(loss2);
  check_close("unclipped grad", grad_of(values2), {0, 1.0 / 3, -1.0 / 3, -2.4 / 3}, 1e-7, 1e-6);

  CHECK_THROWS_WITH(ops::value_loss(values, values, values, fixed({0, 0, 0, 0}, {1, 4}), 0.2f),
                    Catch::Contains("mask selects no token"));
}

TEST_CASE("value_loss gradient matches fp64 central differences", "[ops][value_loss][grad]") {
  const int B = 3, T = 5, n = B * T;
  auto v = randn(n, 51);
  const auto vold = randn(n, 52), R = randn(n, 53);
  std::vector<double> mask(n, 1.0);
  mask[0] = mask[7] = 0, mask[8] = 2;
  const double dloss = 0.9, eps = 0.3, inv = 1.0 / (n - 1);
  for (double e : {eps, 0.0}) {
    auto f = [&] {
      double loss;
      cpu::value_loss_forward(&loss, v.data(), vold.data(), R.data(), mask.data(), n, e, inv);
      return loss * dloss;
    };
    std::vector<double> dv(n, 0);
    cpu::value_loss_backward(dv.data(), &dloss, v.data(), vold.data(), R.data(), mask.data(), n, e, inv);
    grad_check(e > 0 ? "values (clipped)" : "values (unclipped)", v, f, dv);

    Tensor values = param(v, {B, T});
    autograd::backward(ops::value_loss(values, fixed(vold, {B, T}), fixed(R, {B, T}), fixed(mask, {B, T}), (float)e),
                       (float)dloss);
    check_close("op dvalues", grad_of(values), dv, kF32Atol, kF32Rtol);
  }
}
