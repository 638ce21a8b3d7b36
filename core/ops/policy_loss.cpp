// core/ops/policy_loss.cpp: the PPO/GRPO clipped policy surrogate with an optional k3 KL
// penalty to a reference (see kernels/cpu/policy_loss.cpp): a masked mean over tokens, with a
// gradient into logp only.
#include "core/ops.h"
#include "core/ops/dispatch.h"

namespace gptcu::ops {

Tensor policy_loss(const Tensor& logp, const Tensor& old_logp, const Tensor& advantages, const Tensor& mask,
                   float clip_eps, const Tensor& ref_logp, float kl_coef) {
  detail::op_device("policy_loss", {&logp, &old_logp, &advantages, &mask, &ref_logp});
  for (const Tensor* t : {&old_logp, &advantages, &mask}) check_shape(*t, logp.shape(), "policy_loss");
  GPTCU_CHECK(clip_eps >= 0, "policy_loss: clip_eps must be >= 0, got ", clip_eps);
  GPTCU_CHECK(kl_coef >= 0, "policy_loss: kl_coef must be >= 0, got ", kl_coef);
  GPTCU_CHECK(kl_coef == 0 || ref_logp.defined(), "policy_loss: kl_coef ", kl_coef, " > 0 needs ref_logp");
  const bool use_kl = kl_coef > 0;
  if (use_kl) check_shape(ref_logp, logp.shape(), "policy_loss ref_logp");
  const float inv_count = (float)(1.0 / detail::mask_count("policy_loss", mask));
  const int64_t n = logp.numel();
  const float* ref = use_kl ? ref_logp.data<float>() : nullptr;
  Tensor loss = Tensor::empty({1});
  cpu::policy_loss_forward(loss.data<float>(), logp.data<float>(), old_logp.data<float>(), advantages.data<float>(),
                           mask.data<float>(), ref, n, clip_eps, kl_coef, inv_count);
  if (autograd::needs_grad({&logp})) {
    autograd::record(loss, [=]() {
      cpu::policy_loss_backward(detail::grad_ptr(logp), loss.grad().data<float>(), logp.data<float>(),
                                old_logp.data<float>(), advantages.data<float>(), mask.data<float>(),
                                use_kl ? ref_logp.data<float>() : nullptr, n, clip_eps, kl_coef, inv_count);
    });
  }
  return loss;
}

}  // namespace gptcu::ops
