// core/ops/gelu.cpp: tanh-approximate GELU (see kernels/cpu/gelu.cpp).
#include "core/ops.h"
#include "core/ops/dispatch.h"

namespace gptcu::ops {

Tensor gelu(const Tensor& x) {
  const Device dev = detail::op_device("gelu", {&x}, true);
#ifdef GPTCU_HAVE_CUDA
  if (detail::on_cuda(dev)) {
    return detail::with_storage_type(x, [&](auto t) {
      using T = decltype(t);
      Tensor out = Tensor::empty(x.shape(), x.dtype(), dev);
      cuda::gelu_forward(out.data<T>(), x.data<T>(), x.numel(), cuda_stream(dev));
      if (autograd::needs_grad({&x})) {
        autograd::record(out, [=]() {
          cuda::gelu_backward(detail::grad_ptr<T>(x), out.grad().data<T>(), x.data<T>(), x.numel(), cuda_stream(dev));
        });
      }
      return out;
    });
  }
#endif
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
