// core/ops/layernorm.cpp: LayerNorm over the last dimension (see kernels/cpu/layernorm.cpp).
#include "core/ops.h"
#include "core/ops/dispatch.h"

namespace gptcu::ops {

Tensor layernorm(const Tensor& x, const Tensor& w, const Tensor& b, float eps) {
  const Device dev = detail::op_device("layernorm", {&x, &w, &b}, true);
  const int C = (int)x.size(-1);
  const int N = (int)(x.numel() / C);
  check_shape(w, {C}, "layernorm weight");
  check_shape(b, {C}, "layernorm bias");
#ifdef GPTCU_HAVE_CUDA
  if (detail::on_cuda(dev)) {
    return detail::with_storage_type(x, [&](auto t) {
      using T = decltype(t);
      Tensor out = Tensor::empty(x.shape(), x.dtype(), dev);
      Tensor mean = Tensor::empty({N}, DType::f32, dev), rstd = Tensor::empty({N}, DType::f32, dev);  // fp32 statistics
      cuda::layernorm_forward(out.data<T>(), mean.data<float>(), rstd.data<float>(), x.data<T>(), w.data<T>(),
                              b.data<T>(), N, C, eps, cuda_stream(dev));
      if (autograd::needs_grad({&x, &w, &b})) {
        autograd::record(out, [=]() {
          Tensor scratch = detail::scratch(dev, cuda::layernorm_backward_scratch_bytes(N, C));
          cuda::layernorm_backward(detail::grad_ptr<T>(x), detail::grad_ptr<T>(w), detail::grad_ptr<T>(b), scratch.raw(),
                                   out.grad().data<T>(), x.data<T>(), w.data<T>(), mean.data<float>(),
                                   rstd.data<float>(), N, C, cuda_stream(dev));
        });
      }
      return out;
    });
  }
#endif
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
