// core/ops/attention.cpp: causal multi-head self-attention from packed qkv (B, T, 3C) -> (B, T, C),
// and the process-wide choice of its GPU kernel (ops::set_attention_kernel, core/ops.h).
//
// Three paths, one result (the CPU reference is the definition of correct):
//   CPU      cpu::attention_forward/backward (kernels/cpu/attention.cpp): saves the (B, NH, T, T)
//            probabilities for the backward. Always taken for CPU tensors, whatever the setting.
//   flash    cuda::flash_attention_forward/backward (kernels/cuda/flash_attention_*.cu, docs/attention.md):
//            bf16, head dims 64 and 128; saves only out (B, T, C) bf16 and the per-row logsumexp
//            lse (B, NH, T) fp32, and the backward recomputes the probabilities from them.
//   interim  cuda::attention_forward/backward (kernels/cuda/attention.cu): cuBLAS batched GEMMs and
//            the softmax kernel, any dtype and head dim; saves (B, NH, T, T) like the CPU.
// Which GPU path runs: attention_kernel() (auto: flash where it applies, else interim).
#include <atomic>
#include <cstdint>

#include "core/ops.h"
#include "core/ops/dispatch.h"

namespace gptcu::ops {

namespace {
std::atomic<AttentionKernel> g_attention_kernel{AttentionKernel::automatic};
}  // namespace

void set_attention_kernel(AttentionKernel kernel) { g_attention_kernel.store(kernel); }
AttentionKernel attention_kernel() { return g_attention_kernel.load(); }

AttentionKernel parse_attention_kernel(const std::string& name) {
  if (name == "auto") return AttentionKernel::automatic;
  if (name == "flash") return AttentionKernel::flash;
  if (name == "interim") return AttentionKernel::interim;
  user_error("attention: expected auto, flash or interim, got '", name, "'");
}

const char* attention_kernel_name(AttentionKernel kernel) {
  switch (kernel) {
    case AttentionKernel::automatic: return "auto";
    case AttentionKernel::flash: return "flash";
    case AttentionKernel::interim: return "interim";
  }
  return "?";
}

#ifdef GPTCU_HAVE_CUDA
namespace {

// Whether the GPU attention of qkv runs the flash kernel, from the setting: auto takes it where it
// applies (bf16, a supported head dim, 16-byte-aligned qkv), flash demands it (else a one-line
// UserError), interim never takes it.
bool use_flash(const Tensor& qkv, int C, int n_head) {
  const AttentionKernel setting = attention_kernel();
  if (setting == AttentionKernel::interim) return false;
  const int hs = C / n_head;
  const bool bf16_ok = qkv.dtype() == DType::bf16;
  const bool hs_ok = cuda::flash_attention_supported(hs);
  const bool aligned = reinterpret_cast<uintptr_t>(qkv.raw()) % 16 == 0;
  const bool applies = bf16_ok && hs_ok && aligned;
  if (setting == AttentionKernel::flash)
    GPTCU_USER_CHECK(applies, "attention: flash needs bf16 activations and head dim 64 or 128, got ",
                     dtype_name(qkv.dtype()), " and head dim ", hs, " (C=", C, ", n_head=", n_head,
                     aligned ? "" : ", qkv not 16-byte aligned", "); use attention: auto or interim");
  return applies;
}

// The flash path: saves out and lse; the backward recomputes P from them.
Tensor flash_attention(const Tensor& qkv, Device dev, int B, int T, int C, int n_head) {
  Tensor out = Tensor::empty({B, T, C}, DType::bf16, dev);
  Tensor lse = Tensor::empty({B, n_head, T}, DType::f32, dev);
  cuda::flash_attention_forward(out.data<bf16>(), lse.data<float>(), qkv.data<bf16>(), B, T, C, n_head,
                                cuda_stream(dev));
  if (autograd::needs_grad({&qkv})) {
    // out is captured by value (a shared handle): the closure keeps the forward's output alive,
    // as the interim path keeps att. grad_ptr allocates the zeroed gradient on first use; the
    // kernel adds into it (dqkv +=), like every backward here.
    autograd::record(out, [=]() {
      Tensor scratch = detail::scratch(dev, cuda::flash_attention_backward_scratch_bytes(B, T, C, n_head));
      cuda::flash_attention_backward(detail::grad_ptr<bf16>(qkv), scratch.raw(), out.grad().data<bf16>(),
                                     qkv.data<bf16>(), out.data<bf16>(), lse.data<float>(), B, T, C, n_head,
                                     cuda_stream(dev));
    });
  }
  return out;
}

}  // namespace
#endif

Tensor attention(const Tensor& qkv, int n_head) {
  const Device dev = detail::op_device("attention", {&qkv}, true);
  GPTCU_CHECK(qkv.dim() == 3 && qkv.size(2) % 3 == 0, "attention: qkv must be (B, T, 3C), got ", qkv.str());
  const int B = (int)qkv.size(0), T = (int)qkv.size(1), C = (int)qkv.size(2) / 3;
  GPTCU_CHECK(n_head > 0 && C % n_head == 0, "attention: C=", C, " not divisible by n_head=", n_head);
#ifdef GPTCU_HAVE_CUDA
  if (detail::on_cuda(dev)) {
    if (use_flash(qkv, C, n_head)) return flash_attention(qkv, dev, B, T, C, n_head);
    // The interim GPU attention (cuBLAS batched GEMMs + softmax) keeps (B, NH, T, T), like the CPU.
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
  // The CPU reference keeps the (B, NH, T, T) probabilities for its backward (the interim GPU
  // path too); the flash path keeps only a per-row logsumexp.
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
