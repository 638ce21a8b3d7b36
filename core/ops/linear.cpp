// core/ops/linear.cpp: y = x @ W + b (see kernels/cpu/linear.cpp).
#include "core/ops.h"
#include "core/ops/dispatch.h"

namespace gptcu::ops {

Tensor linear(const Tensor& x, const Tensor& w, const Tensor& bias, WeightLayout layout) {
  const Device dev = detail::op_device("linear", {&x, &w, &bias}, true);
  const int OC = detail::check_linear("linear", x, w, bias, layout);
  const int C = (int)x.size(-1);
  const int N = (int)(x.numel() / C);
  Shape out_shape = x.shape();
  out_shape.back() = OC;
#ifdef GPTCU_HAVE_CUDA
  if (detail::on_cuda(dev)) {
    return detail::with_storage_type(x, [&](auto t) {
      using T = decltype(t);
      Tensor out = Tensor::empty(out_shape, x.dtype(), dev);
      cuda::linear_forward(out.data<T>(), x.data<T>(), w.data<T>(), detail::opt_ptr<T>(bias), N, C, OC, layout,
                           static_cast<T*>(nullptr), cuda_stream(dev));
      if (autograd::needs_grad({&x, &w, &bias})) {
        autograd::record(out, [=]() {
          Tensor scratch = detail::scratch(dev, cuda::linear_backward_scratch_bytes(N, OC));
          cuda::linear_backward(detail::grad_ptr<T>(x), detail::grad_ptr<T>(w), detail::grad_ptr<T>(bias),
                                scratch.raw(), out.grad().data<T>(), x.data<T>(), w.data<T>(), N, C, OC, layout,
                                cuda_stream(dev));
        });
      }
      return out;
    });
  }
#endif
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
