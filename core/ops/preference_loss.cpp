// core/ops/preference_loss.cpp: the reward model's pairwise (Bradley-Terry) loss and the DPO
// loss, both a mean of -log sigmoid over pairs (see kernels/cpu/preference_loss.cpp).
#include "core/ops.h"
#include "core/ops/dispatch.h"

namespace gptcu::ops {
namespace {
// loss = mean_i -log sigmoid(beta ((c - rc) - (r - rr)) - margin); rc, rr may be undefined (0).
Tensor preference_loss(const char* op, const Tensor& c, const Tensor& r, const Tensor& rc, const Tensor& rr,
                       float beta, float margin) {
  detail::op_device(op, {&c, &r, &rc, &rr});
  GPTCU_CHECK(c.numel() > 0, op, ": no pairs");
  for (const Tensor* t : {&r, &rc, &rr})
    if (t->defined()) check_shape(*t, c.shape(), op);
  const int N = (int)c.numel();
  auto ptr = [](const Tensor& t) { return t.defined() ? t.data<float>() : nullptr; };
  Tensor loss = Tensor::empty({1});
  cpu::preference_loss_forward(loss.data<float>(), c.data<float>(), r.data<float>(), ptr(rc), ptr(rr), N, beta,
                               margin);
  if (autograd::needs_grad({&c, &r, &rc, &rr})) {
    autograd::record(loss, [=]() {
      cpu::preference_loss_backward(detail::grad_ptr(c), detail::grad_ptr(r), detail::grad_ptr(rc),
                                    detail::grad_ptr(rr), loss.grad().data<float>(), c.data<float>(),
                                    r.data<float>(), ptr(rc), ptr(rr), N, beta, margin);
    });
  }
  return loss;
}
}  // namespace

Tensor pairwise_loss(const Tensor& chosen, const Tensor& rejected, float margin) {
  return preference_loss("pairwise_loss", chosen, rejected, Tensor(), Tensor(), 1.0f, margin);
}

Tensor dpo_loss(const Tensor& policy_chosen, const Tensor& policy_rejected, const Tensor& ref_chosen,
                const Tensor& ref_rejected, float beta) {
  GPTCU_CHECK(ref_chosen.defined() && ref_rejected.defined(), "dpo_loss: the reference log-probs are required");
  GPTCU_CHECK(beta > 0, "dpo_loss: beta must be > 0, got ", beta);
  return preference_loss("dpo_loss", policy_chosen, policy_rejected, ref_chosen, ref_rejected, beta, 0.0f);
}

}  // namespace gptcu::ops
