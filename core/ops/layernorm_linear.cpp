// core/ops/layernorm_linear.cpp: out = linear(layernorm(x, ln_w, ln_b), w, bias) that keeps x and
// the per-row statistics for the backward, not the normalised rows (activation recompute of the
// LayerNorms in front of c_attn and c_fc, train.recompute: layernorm | all).
//
//   x (..., C), ln_w, ln_b (C), w (C, OC) in_out, bias (OC) or undefined -> out (..., OC);
//   N = rows of x; mean, rstd (N) fp32, kept
//   forward:  h = layernorm(x) into a temporary (saving mean, rstd); out = h @ w + bias; h freed
//   backward: h = layernorm(x) again (the forward kernel, statistics not written again);
//             dh = dout @ w^T (into a zeroed temporary), dw += h^T dout, dbias += sums of dout;
//             h freed; then the LayerNorm backward from dh, x and the saved mean, rstd
//
// x is the residual stream, which the tape keeps anyway, so the (N, C) output of the LayerNorm is
// all that is saved. The kernels and their order are those of the unfused pair, and the
// LayerNorm forward is deterministic, so outputs and gradients are the same bits. Recomputing h
// through the forward kernel re-derives mean and rstd on the way (one more read of x, which is
// what a separate "normalise from saved statistics" kernel would read anyway).
#include "core/ops.h"
#include "core/ops/dispatch.h"

namespace gptcu::ops {

Tensor layernorm_linear(const Tensor& x, const Tensor& ln_w, const Tensor& ln_b, const Tensor& w,
                        const Tensor& bias, float eps) {
  const Device dev = detail::op_device("layernorm_linear", {&x, &ln_w, &ln_b, &w, &bias}, true);
  const int OC = detail::check_linear("layernorm_linear", x, w, bias);
  const int C = (int)x.size(-1);
  const int N = (int)(x.numel() / C);
  check_shape(ln_w, {C}, "layernorm_linear: layernorm weight");
  check_shape(ln_b, {C}, "layernorm_linear: layernorm bias");
  constexpr WeightLayout layout = WeightLayout::in_out;
  Shape out_shape = x.shape();
  out_shape.back() = OC;
#ifdef GPTCU_HAVE_CUDA
  if (detail::on_cuda(dev)) {
    return detail::with_storage_type(x, [&](auto t) {
      using T = decltype(t);
      Tensor out = Tensor::empty(out_shape, x.dtype(), dev);
      Tensor mean = Tensor::empty({N}, DType::f32, dev), rstd = Tensor::empty({N}, DType::f32, dev);  // fp32
      {
        Tensor h = Tensor::empty(x.shape(), x.dtype(), dev);
        cuda::layernorm_forward(h.data<T>(), mean.data<float>(), rstd.data<float>(), x.data<T>(), ln_w.data<T>(),
                                ln_b.data<T>(), N, C, eps, cuda_stream(dev));
        cuda::linear_forward(out.data<T>(), h.data<T>(), w.data<T>(), detail::opt_ptr<T>(bias), N, C, OC, layout,
                             static_cast<T*>(nullptr), cuda_stream(dev));
      }
      if (autograd::needs_grad({&x, &ln_w, &ln_b, &w, &bias})) {
        autograd::record(out, [=]() {
          const bool need_dh = x.requires_grad() || ln_w.requires_grad() || ln_b.requires_grad();
          Tensor dh = need_dh ? Tensor::zeros(x.shape(), x.dtype(), dev) : Tensor();
          {
            Tensor h = Tensor::empty(x.shape(), x.dtype(), dev);
            cuda::layernorm_forward(h.data<T>(), static_cast<float*>(nullptr), static_cast<float*>(nullptr),
                                    x.data<T>(), ln_w.data<T>(), ln_b.data<T>(), N, C, eps, cuda_stream(dev));
            Tensor scratch = detail::scratch(dev, cuda::linear_backward_scratch_bytes(N, OC));
            cuda::linear_backward(need_dh ? dh.data<T>() : nullptr, detail::grad_ptr<T>(w), detail::grad_ptr<T>(bias),
                                  scratch.raw(), out.grad().data<T>(), h.data<T>(), w.data<T>(), N, C, OC, layout,
                                  cuda_stream(dev));
          }
          if (need_dh) {
            Tensor scratch = detail::scratch(dev, cuda::layernorm_backward_scratch_bytes(N, C));
            cuda::layernorm_backward(detail::grad_ptr<T>(x), detail::grad_ptr<T>(ln_w), detail::grad_ptr<T>(ln_b),
                                     scratch.raw(), dh.data<T>(), x.data<T>(), ln_w.data<T>(), mean.data<float>(),
                                     rstd.data<float>(), N, C, cuda_stream(dev));
          }
        });
      }
      return out;
    });
  }
#endif
  Tensor out = Tensor::empty(out_shape);
  Tensor mean = Tensor::empty({N}), rstd = Tensor::empty({N});  // fp32 statistics
  {
    Tensor h = Tensor::empty(x.shape());
    cpu::layernorm_forward(h.data<float>(), mean.data<float>(), rstd.data<float>(), x.data<float>(),
                           ln_w.data<float>(), ln_b.data<float>(), N, C, eps);
    cpu::linear_forward(out.data<float>(), h.data<float>(), w.data<float>(), detail::opt_ptr<float>(bias), N, C, OC,
                        layout);
  }
  if (autograd::needs_grad({&x, &ln_w, &ln_b, &w, &bias})) {
    autograd::record(out, [=]() {
      const bool need_dh = x.requires_grad() || ln_w.requires_grad() || ln_b.requires_grad();
      Tensor dh = need_dh ? Tensor::zeros(x.shape()) : Tensor();
      {
        Tensor h = Tensor::empty(x.shape());
        cpu::layernorm_forward(h.data<float>(), static_cast<float*>(nullptr), static_cast<float*>(nullptr),
                               x.data<float>(), ln_w.data<float>(), ln_b.data<float>(), N, C, eps);
        cpu::linear_backward(need_dh ? dh.data<float>() : nullptr, detail::grad_ptr(w), detail::grad_ptr(bias),
                             out.grad().data<float>(), h.data<float>(), w.data<float>(), N, C, OC, layout);
      }
      if (need_dh)
        cpu::layernorm_backward(detail::grad_ptr(x), detail::grad_ptr(ln_w), detail::grad_ptr(ln_b),
                                dh.data<float>(), x.data<float>(), ln_w.data<float>(), mean.data<float>(),
                                rstd.data<float>(), N, C);
    });
  }
  return out;
}

}  // namespace gptcu::ops
