// core/ops/gelu.cpp: tanh-approximate GELU (see kernels/cpu/gelu.cpp).
#include "core/ops.h"
#include "core/ops/dispatch.h"

namespace gptcu::ops {

Tensor gelu(const Tensor& x) {
  detail::op_device("gelu", {&x});
  Tensor out = Tensor::empty(x.shape());
  cpu::gelu_forward(out.data<float>(), x.data<float>(), x.numel());
  if (autograd::needs_grad({&x})) {
    autograd::record(out, [=]() {
      cpu::gelu_backward(detail::grad_ptr(x), out.grad().data<float>(), x.data<float>(), x.numel());
    });
  }
  return out;
}

}  // namespace gptcu::ops
