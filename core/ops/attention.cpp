// core/ops/attention.cpp: causal multi-head self-attention from packed qkv
// (see kernels/cpu/attention.cpp).
#include "core/ops.h"
#include "core/ops/dispatch.h"

namespace gptcu::ops {

Tensor attention(const Tensor& qkv, int n_head) {
  const Device dev = detail::op_device("attention", {&qkv}, true);
  GPTCU_CHECK(qkv.dim() == 3 && qkv.size(2) % 3 == 0, "attention: qkv must be (B, T, 3C), got ", qkv.str());
  const int B = (int)qkv.size(0), T = (int)qkv.size(1), C = (int)qkv.size(2) / 3;
  GPTCU_CHECK(n_head > 0 && C % n_head == 0, "attention: C=", C, " not divisible by n_head=", n_head);
#ifdef GPTCU_HAVE_CUDA
  if (detail::on_cuda(dev)) {
    // The interim GPU attention (cuBLAS batched GEMMs + softmax) also keeps (B, NH, T, T).
    return detail::with_storage_type(qkv, [&](auto t) {
      using T_ = decltype(t);
      Tensor out = Tensor::empty({B, T, C}, qkv.dtype(), dev);
      Tensor att = Tensor::empty({B, n_head, T, T}, qkv.dtype(), dev);
      {
        Tensor scratch = detail::scratch(dev, cuda::attention_scratch_bytes(B, T, C, n_head));
        cuda::attention_forward(out.data<T_>(), att.data<T_>(), scratch.raw(), qkv.data<T_>(), B, T, C, n_head,
                                cuda_stream(dev));
      }
      if (autograd::needs_grad({&qkv})) {
        autograd::record(out, [=]() {
          Tensor scratch = detail::scratch(dev, cuda::attention_scratch_bytes(B, T, C, n_head));
          cuda::attention_backward(detail::grad_ptr<T_>(qkv), scratch.raw(), out.grad().data<T_>(), qkv.data<T_>(),
                                   att.data<T_>(), B, T, C, n_head, cuda_stream(dev));
        });
      }
      return out;
    });
  }
#endif
  Tensor out = Tensor::empty({B, T, C});
  // The CPU reference keeps the (B, NH, T, T) probabilities for its backward; the flash
  // kernel on the GPU keeps only a per-row logsumexp.
  Tensor att = Tensor::empty({B, n_head, T, T});
  cpu::attention_forward(out.data<float>(), att.data<float>(), qkv.data<float>(), B, T, C, n_head);
  if (autograd::needs_grad({&qkv})) {
    autograd::record(out, [=]() {
      cpu::attention_backward(detail::grad_ptr(qkv), out.grad().data<float>(), qkv.data<float>(),
                              att.data<float>(), B, T, C, n_head);
    });
  }
  return out;
}

}  // namespace gptcu::ops
