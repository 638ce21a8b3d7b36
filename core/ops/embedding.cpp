// core/ops/embedding.cpp: token + position embedding (see kernels/cpu/embedding.cpp).
#include "core/ops.h"
#include "core/ops/dispatch.h"

namespace gptcu::ops {

Tensor embedding(const Tensor& tokens, const Tensor& wte, const Tensor& wpe) {
  detail::op_device("embedding", {&tokens, &wte, &wpe});
  GPTCU_CHECK(tokens.dim() == 2, "embedding: tokens must be (B, T), got ", tokens.str());
  const int B = (int)tokens.size(0), T = (int)tokens.size(1), C = (int)wte.size(1);
  GPTCU_CHECK(wpe.size(1) == C, "embedding: wte ", wte.str(), " vs wpe ", wpe.str());
  GPTCU_CHECK(T <= wpe.size(0), "embedding: sequence of ", T, " tokens is longer than the context (", wpe.size(0), ")");
  const int32_t* tok = tokens.data<int32_t>();
  for (int64_t i = 0, n = tokens.numel(); i < n; i++)
    GPTCU_CHECK(tok[i] >= 0 && tok[i] < wte.size(0), "embedding: token id ", tok[i], " outside [0, ", wte.size(0), ")");
  Tensor out = Tensor::empty({B, T, C});
  cpu::embedding_forward(out.data<float>(), tok, wte.data<float>(), wpe.data<float>(), B, T, C);
  if (autograd::needs_grad({&wte, &wpe})) {
    autograd::record(out, [=]() {
      cpu::embedding_backward(detail::grad_ptr(wte), detail::grad_ptr(wpe), out.grad().data<float>(),
                              tokens.data<int32_t>(), B, T, C);
    });
  }
  return out;
}

}  // namespace gptcu::ops
