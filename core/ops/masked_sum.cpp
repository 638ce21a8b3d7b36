// core/ops/masked_sum.cpp: per-row masked sums, e.g. a sequence's log-probability as the sum
// of its response tokens' log-probabilities (see kernels/cpu/masked_sum.cpp).
#include "core/ops.h"
#include "core/ops/dispatch.h"

namespace gptcu::ops {

Tensor masked_sum(const Tensor& x, const Tensor& mask) {
  detail::op_device("masked_sum", {&x, &mask});
  GPTCU_CHECK(x.dim() == 2, "masked_sum: x must be (B, T), got ", x.str());
  check_shape(mask, x.shape(), "masked_sum mask");
  const int B = (int)x.size(0), T = (int)x.size(1);
  Tensor out = Tensor::empty({B});
  cpu::masked_sum_forward(out.data<float>(), x.data<float>(), mask.data<float>(), B, T);
  if (autograd::needs_grad({&x})) {
    autograd::record(out, [=]() {
      cpu::masked_sum_backward(detail::grad_ptr(x), out.grad().data<float>(), mask.data<float>(), B, T);
    });
  }
  return out;
}

}  // namespace gptcu::ops
