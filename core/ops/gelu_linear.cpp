// core/ops/gelu_linear.cpp: out = linear(gelu(pre), w, bias) that keeps only `pre` for the backward
// (activation recompute of the GPT-2 MLP, train.recompute: gelu | all).
//
//   pre (..., C), w (C, OC) in_out, bias (OC) or undefined -> out (..., OC); N = rows of pre
//   forward:  g = gelu(pre) into a temporary; out = g @ w + bias; g freed
//   backward: g = gelu(pre) again; dg = dout @ w^T (into a zeroed temporary), dw += g^T dout,
//             dbias += column sums of dout; g freed; dpre += gelu'(pre) * dg
//
// The unfused ops.gelu + ops.linear keep g (N, C) alive from the forward to the backward (the
// GELU node's output and the linear's saved input); here it lives only inside each pass. The
// kernels and their order are those of the unfused pair, so outputs and gradients are the same
// bits (gelu_forward is elementwise and deterministic, so g is recomputed exactly).
// Backward memory: g and dg at once, then dg and dpre (each N x C), never all three.
#include "core/ops.h"
#include "core/ops/dispatch.h"

namespace gptcu::ops {

Tensor gelu_linear(const Tensor& pre, const Tensor& w, const Tensor& bias) {
  const Device dev = detail::op_device("gelu_linear", {&pre, &w, &bias}, true);
  const int OC = detail::check_linear("gelu_linear", pre, w, bias);
  const int C = (int)pre.size(-1);
  const int N = (int)(pre.numel() / C);
  const int64_t n = pre.numel();
  constexpr WeightLayout layout = WeightLayout::in_out;
  Shape out_shape = pre.shape();
  out_shape.back() = OC;
#ifdef GPTCU_HAVE_CUDA
  if (detail::on_cuda(dev)) {
    return detail::with_storage_type(pre, [&](auto t) {
      using T = decltype(t);
      Tensor out = Tensor::empty(out_shape, pre.dtype(), dev);
      {
        Tensor g = Tensor::empty(pre.shape(), pre.dtype(), dev);
        cuda::gelu_forward(g.data<T>(), pre.data<T>(), n, cuda_stream(dev));
        cuda::linear_forward(out.data<T>(), g.data<T>(), w.data<T>(), detail::opt_ptr<T>(bias), N, C, OC, layout,
                             static_cast<T*>(nullptr), cuda_stream(dev));
      }  // g back to the caching allocator: later kernels on the stream queue behind this matmul
      if (autograd::needs_grad({&pre, &w, &bias})) {
        autograd::record(out, [=]() {
          const bool need_dpre = pre.requires_grad();
          Tensor dg = need_dpre ? Tensor::zeros(pre.shape(), pre.dtype(), dev) : Tensor();
          {
            Tensor g = Tensor::empty(pre.shape(), pre.dtype(), dev);
            cuda::gelu_forward(g.data<T>(), pre.data<T>(), n, cuda_stream(dev));
            Tensor scratch = detail::scratch(dev, cuda::linear_backward_scratch_bytes(N, OC));
            cuda::linear_backward(need_dpre ? dg.data<T>() : nullptr, detail::grad_ptr<T>(w), detail::grad_ptr<T>(bias),
                                  scratch.raw(), out.grad().data<T>(), g.data<T>(), w.data<T>(), N, C, OC, layout,
                                  cuda_stream(dev));
          }
          if (need_dpre)
            cuda::gelu_backward(detail::grad_ptr<T>(pre), dg.data<T>(), pre.data<T>(), n, cuda_stream(dev));
        });
      }
      return out;
    });
  }
#endif
  Tensor out = Tensor::empty(out_shape);
  {
    Tensor g = Tensor::empty(pre.shape());
    cpu::gelu_forward(g.data<float>(), pre.data<float>(), n);
    cpu::linear_forward(out.data<float>(), g.data<float>(), w.data<float>(), detail::opt_ptr<float>(bias), N, C, OC,
                        layout);
  }
  if (autograd::needs_grad({&pre, &w, &bias})) {
    autograd::record(out, [=]() {
      const bool need_dpre = pre.requires_grad();
      Tensor dg = need_dpre ? Tensor::zeros(pre.shape()) : Tensor();
      {
        Tensor g = Tensor::empty(pre.shape());
        cpu::gelu_forward(g.data<float>(), pre.data<float>(), n);
        cpu::linear_backward(need_dpre ? dg.data<float>() : nullptr, detail::grad_ptr(w), detail::grad_ptr(bias),
                             out.grad().data<float>(), g.data<float>(), w.data<float>(), N, C, OC, layout);
      }
      if (need_dpre) cpu::gelu_backward(detail::grad_ptr(pre), dg.data<float>(), pre.data<float>(), n);
    });
  }
  return out;
}

}  // namespace gptcu::ops
