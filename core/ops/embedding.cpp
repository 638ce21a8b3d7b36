// core/ops/embedding.cpp: token + position embedding (see kernels/cpu/embedding.cpp), with
// positions 0..T-1 (training) or given per token (generation with a KV cache).
#include "core/ops.h"
#include "core/ops/dispatch.h"

namespace gptcu::ops {
namespace {
// Checks tokens (B, T) against wte/wpe; returns C.
int check_embedding(const char* op, const Tensor& tokens, const Tensor& wte, const Tensor& wpe) {
  GPTCU_CHECK(tokens.dim() == 2, op, ": tokens must be (B, T), got ", tokens.str());
  const int C = (int)wte.size(1);
  GPTCU_CHECK(wpe.size(1) == C, op, ": wte ", wte.str(), " vs wpe ", wpe.str());
  if (!tokens.device().is_cpu()) return C;  // GPU token ids were checked on the host before upload (GPT::forward)
  const int32_t* tok = tokens.data<int32_t>();
  for (int64_t i = 0, n = tokens.numel(); i < n; i++)
    GPTCU_CHECK(tok[i] >= 0 && tok[i] < wte.size(0), op, ": token id ", tok[i], " outside [0, ", wte.size(0), ")");
  return C;
}
}  // namespace

Tensor embedding(const Tensor& tokens, const Tensor& wte, const Tensor& wpe) {
  const Device dev = detail::op_device("embedding", {&tokens, &wte, &wpe}, true);
  const int C = check_embedding("embedding", tokens, wte, wpe);
  const int B = (int)tokens.size(0), T = (int)tokens.size(1);
  GPTCU_CHECK(T <= wpe.size(0), "embedding: sequence of ", T, " tokens is longer than the context (", wpe.size(0), ")");
#ifdef GPTCU_HAVE_CUDA
  if (detail::on_cuda(dev)) {
    return detail::with_storage_type(wte, [&](auto t) {
      using T_ = decltype(t);
      Tensor out = Tensor::empty({B, T, C}, wte.dtype(), dev);
      cuda::embedding_forward(out.data<T_>(), tokens.data<int32_t>(), wte.data<T_>(), wpe.data<T_>(), B, T, C,
                              static_cast<const int32_t*>(nullptr), cuda_stream(dev));
      if (autograd::needs_grad({&wte, &wpe})) {
        autograd::record(out, [=]() {
          Tensor scratch = detail::scratch(dev, cuda::embedding_backward_scratch_bytes(B, T, C));
          cuda::embedding_backward(detail::grad_ptr<T_>(wte), detail::grad_ptr<T_>(wpe), scratch.raw(),
                                   out.grad().data<T_>(), tokens.data<int32_t>(), B, T, C, cuda_stream(dev));
        });
      }
      return out;
    });
  }
#endif
  Tensor out = Tensor::empty({B, T, C});
  cpu::embedding_forward(out.data<float>(), tokens.data<int32_t>(), wte.data<float>(), wpe.data<float>(), B, T, C);
  if (autograd::needs_grad({&wte, &wpe})) {
    autograd::record(out, [=]() {
      cpu::embedding_backward(detail::grad_ptr(wte), detail::grad_ptr(wpe), out.grad().data<float>(),
                              tokens.data<int32_t>(), B, T, C);
    });
  }
  return out;
}

Tensor embedding_at(const Tensor& tokens, const Tensor& positions, const Tensor& wte, const Tensor& wpe) {
  detail::op_device("embedding_at", {&tokens, &positions, &wte, &wpe});
  GPTCU_CHECK(!autograd::needs_grad({&wte, &wpe}), "embedding_at has no backward: run it under autograd::NoGradGuard");
  const int C = check_embedding("embedding_at", tokens, wte, wpe);
  check_shape(positions, tokens.shape(), "embedding_at: positions");
  const int B = (int)tokens.size(0), T = (int)tokens.size(1);
  const int32_t* pos = positions.data<int32_t>();
  for (int64_t i = 0, n = positions.numel(); i < n; i++)
    GPTCU_CHECK(pos[i] >= 0 && pos[i] < wpe.size(0), "embedding_at: position ", pos[i], " outside the context [0, ", wpe.size(0), ")");
  Tensor out = Tensor::empty({B, T, C});
  cpu::embedding_forward(out.data<float>(), tokens.data<int32_t>(), wte.data<float>(), wpe.data<float>(), B, T, C, pos);
  return out;
}

}  // namespace gptcu::ops
