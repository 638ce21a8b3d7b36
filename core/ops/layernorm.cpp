// core/ops/layernorm.cpp: LayerNorm over the last dimension (see kernels/cpu/layernorm.cpp).
#include "core/ops.h"
#include "core/ops/dispatch.h"

namespace gptcu::ops {

Tensor layernorm(const Tensor& x, const Tensor& w, const Tensor& b, float eps) {
  detail::op_device("layernorm", {&x, &w, &b});
  const int C = (int)x.size(-1);
  const int N = (int)(x.numel() / C);
  check_shape(w, {C}, "layernorm weight");
  check_shape(b, {C}, "layernorm bias");
  Tensor out = Tensor::empty(x.shape());
  Tensor mean = Tensor::empty({N}), rstd = Tensor::empty({N});  // fp32 statistics
  cpu::layernorm_forward(out.data<float>(), mean.data<float>(), rstd.data<float>(), x.data<float>(),
                         w.data<float>(), b.data<float>(), N, C, eps);
  if (autograd::needs_grad({&x, &w, &b})) {
    autograd::record(out, [=]() {
      cpu::layernorm_backward(detail::grad_ptr(x), detail::grad_ptr(w), detail::grad_ptr(b),
                              out.grad().data<float>(), x.data<float>(), w.data<float>(),
                              mean.data<float>(), rstd.data<float>(), N, C);
    });
  }
  return out;
}

}  // namespace gptcu::ops
