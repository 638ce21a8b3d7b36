// core/ops/residual.cpp: elementwise add (the residual stream), and reshape.
#include "core/ops.h"
#include "core/ops/dispatch.h"

namespace gptcu::ops {

Tensor add(const Tensor& a, const Tensor& b, float alpha) {
  const Device dev = detail::op_device("add", {&a, &b}, true);
  GPTCU_CHECK(a.shape() == b.shape() && a.dtype() == b.dtype(), "add: ", a.str(), " + ", b.str());
#ifdef GPTCU_HAVE_CUDA
  if (detail::on_cuda(dev)) {
    return detail::with_storage_type(a, [&](auto t) {
      using T = decltype(t);
      Tensor out = Tensor::empty(a.shape(), a.dtype(), dev);
      cuda::residual_forward(out.data<T>(), a.data<T>(), b.data<T>(), a.numel(), alpha, cuda_stream(dev));
      if (autograd::needs_grad({&a, &b})) {
        autograd::record(out, [=]() {
          cuda::residual_backward(detail::grad_ptr<T>(a), detail::grad_ptr<T>(b), out.grad().data<T>(), a.numel(),
                                  alpha, cuda_stream(dev));
        });
      }
      return out;
    });
  }
#endif
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
#ifdef GPTCU_HAVE_CUDA
      if (detail::on_cuda(x.device())) {
        detail::with_storage_type(x, [&](auto t) {
          using T = decltype(t);
          cuda::residual_backward(detail::grad_ptr<T>(x), static_cast<T*>(nullptr), out.grad().data<T>(), x.numel(),
                                  1.0f, cuda_stream(x.device()));
        });
        return;
      }
#endif
      cpu::residual_backward(detail::grad_ptr(x), static_cast<float*>(nullptr),
                             out.grad().data<float>(), x.numel());
    });
  }
  return out;
}

}  // namespace gptcu::ops
