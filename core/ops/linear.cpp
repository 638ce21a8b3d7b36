// core/ops/linear.cpp: y = x @ W + b (see kernels/cpu/linear.cpp).
#include "core/ops.h"
#include "core/ops/dispatch.h"

namespace gptcu::ops {

Tensor linear(const Tensor& x, const Tensor& w, const Tensor& bias, WeightLayout layout) {
  detail::op_device("linear", {&x, &w, &bias});
  GPTCU_CHECK(w.dim() == 2, "linear: weight must be 2-D, got ", w.str());
  const int C = (int)x.size(-1);
  const int OC = (int)(layout == WeightLayout::in_out ? w.size(1) : w.size(0));
  const int wC = (int)(layout == WeightLayout::in_out ? w.size(0) : w.size(1));
  GPTCU_CHECK(wC == C, "linear: input ", x.str(), " does not match weight ", w.str());
  if (bias.defined()) check_shape(bias, {OC}, "linear bias");
  const int N = (int)(x.numel() / C);
  Shape out_shape = x.shape();
  out_shape.back() = OC;
  Tensor out = Tensor::empty(out_shape);
  cpu::linear_forward(out.data<float>(), x.data<float>(), w.data<float>(),
                      bias.defined() ? bias.data<float>() : nullptr, N, C, OC, layout);
  if (autograd::needs_grad({&x, &w, &bias})) {
    autograd::record(out, [=]() {
      cpu::linear_backward(detail::grad_ptr(x), detail::grad_ptr(w), detail::grad_ptr(bias),
                           out.grad().data<float>(), x.data<float>(), w.data<float>(), N, C, OC,
                           layout);
    });
  }
  return out;
}

}  // namespace gptcu::ops
