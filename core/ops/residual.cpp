// core/ops/residual.cpp: elementwise add (the residual stream), and reshape.
#include "core/ops.h"
#include "core/ops/dispatch.h"

namespace gptcu::ops {

Tensor add(const Tensor& a, const Tensor& b, float alpha) {
  detail::op_device("add", {&a, &b});
  GPTCU_CHECK(a.shape() == b.shape(), "add: ", a.str(), " + ", b.str());
  Tensor out = Tensor::empty(a.shape());
  cpu::residual_forward(out.data<float>(), a.data<float>(), b.data<float>(), a.numel(), alpha);
  if (autograd::needs_grad({&a, &b})) {
    autograd::record(out, [=]() {
      cpu::residual_backward(detail::grad_ptr(a), detail::grad_ptr(b), out.grad().data<float>(), a.numel(), alpha);
    });
  }
  return out;
}

Tensor reshape(const Tensor& x, const Shape& shape) {
  Tensor out = x.view(shape);
  if (autograd::needs_grad({&x})) {
    autograd::record(out, [=]() {
      // same element order: the gradient is the output's gradient seen with x's shape
      cpu::residual_backward(detail::grad_ptr(x), static_cast<float*>(nullptr),
                             out.grad().data<float>(), x.numel());
    });
  }
  return out;
}

}  // namespace gptcu::ops
