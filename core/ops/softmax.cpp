// core/ops/softmax.cpp: softmax over the last dimension (see kernels/cpu/softmax.cpp).
#include "core/ops.h"
#include "core/ops/dispatch.h"

namespace gptcu::ops {

Tensor softmax(const Tensor& x) {
  detail::op_device("softmax", {&x});
  const int C = (int)x.size(-1);
  const int N = (int)(x.numel() / C);
  Tensor out = Tensor::empty(x.shape());
  cpu::softmax_forward(out.data<float>(), x.data<float>(), N, C);
  if (autograd::needs_grad({&x})) {
    autograd::record(out, [=]() {
      cpu::softmax_backward(detail::grad_ptr(x), out.grad().data<float>(), out.data<float>(), N, C);
    });
  }
  return out;
}

}  // namespace gptcu::ops
