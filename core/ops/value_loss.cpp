// core/ops/value_loss.cpp: the PPO clipped value loss (see kernels/cpu/value_loss.cpp): a
// masked mean over tokens, with a gradient into values only.
#include "core/ops.h"
#include "core/ops/dispatch.h"

namespace gptcu::ops {

Tensor value_loss(const Tensor& values, const Tensor& old_values, const Tensor& returns, const Tensor& mask,
                  float clip_eps) {
  detail::op_device("value_loss", {&values, &old_values, &returns, &mask});
  for (const Tensor* t : {&old_values, &returns, &mask}) check_shape(*t, values.shape(), "value_loss");
  const float inv_count = (float)(1.0 / detail::mask_count("value_loss", mask));
  const int64_t n = values.numel();
  Tensor loss = Tensor::empty({1});
  cpu::value_loss_forward(loss.data<float>(), values.data<float>(), old_values.data<float>(), returns.data<float>(),
                          mask.data<float>(), n, clip_eps, inv_count);
  if (autograd::needs_grad({&values})) {
    autograd::record(loss, [=]() {
      cpu::value_loss_backward(detail::grad_ptr(values), loss.grad().data<float>(), values.data<float>(),
                               old_values.data<float>(), returns.data<float>(), mask.data<float>(), n, clip_eps,
                               inv_count);
    });
  }
  return loss;
}

}  // namespace gptcu::ops
