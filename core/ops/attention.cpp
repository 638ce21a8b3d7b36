// core/ops/attention.cpp: causal multi-head self-attention from packed qkv
// (see kernels/cpu/attention.cpp).
#include "core/ops.h"
#include "core/ops/dispatch.h"

namespace gptcu::ops {

Tensor attention(const Tensor& qkv, int n_head) {
  detail::op_device("attention", {&qkv});
  GPTCU_CHECK(qkv.dim() == 3 && qkv.size(2) % 3 == 0, "attention: qkv must be (B, T, 3C), got ", qkv.str());
  const int B = (int)qkv.size(0), T = (int)qkv.size(1), C = (int)qkv.size(2) / 3;
  GPTCU_CHECK(n_head > 0 && C % n_head == 0, "attention: C=", C, " not divisible by n_head=", n_head);
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
