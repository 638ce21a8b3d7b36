// core/ops/dispatch.h: shared checks for the op files (internal to core/ops/).
//
// A CUDA branch of an op looks like
//   if (on_cuda(dev)) return with_storage_type(x, [&](auto t) { using T = decltype(t); ...cuda::kernel<T>(...); });
// where T is float or gptcu::bf16, the dtype of the op's activations.
#pragma once
#include "core/allocator.h"
#include "core/autograd.h"
#include "core/cuda.h"
#include "core/tensor.h"
#include "kernels/cpu/cpu_kernels.h"
#include "kernels/cuda/cuda_kernels.h"

namespace gptcu::ops::detail {

// The op's device: all defined inputs must be on it. A CUDA tensor reaching an op that has no
// CUDA kernel (cuda_ok false) is an error naming the op.
inline Device op_device(const char* op, std::initializer_list<const Tensor*> inputs, bool cuda_ok = false) {
  Device dev;
  bool first = true;
  for (const Tensor* t : inputs) {
    if (!t || !t->defined()) continue;
    if (first) dev = t->device(), first = false;
    GPTCU_CHECK(t->device() == dev, op, ": inputs on ", dev.str(), " and ", t->device().str());
  }
  GPTCU_CHECK(dev.is_cpu() || cuda_ok, op, ": no kernel for device ", dev.str(), " yet");
  return dev;
}

// True for a CUDA device (the op then runs its CUDA branch, compiled only with GPTCU_HAVE_CUDA).
inline bool on_cuda(Device dev) { return !dev.is_cpu(); }

// Calls f(T{}) with T the storage type of x's dtype: float or gptcu::bf16.
template <typename F>
decltype(auto) with_storage_type(const Tensor& x, F&& f) {
  if (x.dtype() == DType::bf16) return f(bf16{});
  GPTCU_CHECK(x.dtype() == DType::f32, "expected f32 or bf16, got ", x.str());
  return f(float{});
}

// Temporary device memory of `bytes` for a kernel (held by the returned tensor).
inline Tensor scratch(Device dev, size_t bytes) { return Tensor::empty({(int64_t)(bytes + 3) / 4}, DType::i32, dev); }

// A T* to the gradient buffer of t (same dtype and device as t) if t needs one, else nullptr.
template <typename T = float>
inline T* grad_ptr(const Tensor& t) {
  if (!t.defined() || !t.requires_grad()) return nullptr;
  return Tensor(t).grad_or_zeros().data<T>();
}

// A const T* to t's data, or nullptr when t is undefined (optional inputs such as a bias).
template <typename T>
inline const T* opt_ptr(const Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}

// A linear layer's weight w ((C, OC) in_out, (OC, C) out_in) and optional bias (OC) against its
// input x (..., C): checks the shapes, returns OC.
inline int check_linear(const char* op, const Tensor& x, const Tensor& w, const Tensor& bias,
                        WeightLayout layout = WeightLayout::in_out) {
  const bool in_out = layout == WeightLayout::in_out;
  GPTCU_CHECK(w.dim() == 2 && w.size(in_out ? 0 : 1) == x.size(-1), op, ": input ", x.str(), " does not match weight ",
              w.str(), in_out ? " (C, OC)" : " (OC, C)");
  const int OC = (int)w.size(in_out ? 1 : 0);
  if (bias.defined()) check_shape(bias, {OC}, op);
  return OC;
}

// Rows of logits (..., Vp) scored against targets (...) i32: checks the row count, that
// 0 < vocab_size <= Vp and that every target is < vocab_size (< 0 means ignored). Returns N.
inline int check_logit_targets(const char* op, const Tensor& logits, const Tensor& targets, int vocab_size) {
  const int Vp = (int)logits.size(-1);
  const int N = (int)(logits.numel() / Vp);
  GPTCU_CHECK(targets.numel() == N, op, ": ", N, " rows of logits ", logits.str(), " vs targets ", targets.str());
  GPTCU_CHECK(vocab_size > 0 && vocab_size <= Vp, op, ": vocab_size ", vocab_size, " vs logits ", logits.str());
  if (!targets.device().is_cpu()) return N;  // GPU targets were checked on the host before upload (GPT::loss)
  const int32_t* tgt = targets.data<int32_t>();
  for (int i = 0; i < N; i++)
    GPTCU_CHECK(tgt[i] < vocab_size, op, ": target id ", tgt[i], " >= vocab size ", vocab_size);
  return N;
}

// The total of a loss mask (f32), which must be positive: the denominator of a masked mean.
inline double mask_count(const char* op, const Tensor& mask) {
  const double total = cpu::mask_total(mask.data<float>(), mask.numel());
  GPTCU_CHECK(total > 0, op, ": the mask selects no token (its total is ", total, ")");
  return total;
}

}  // namespace gptcu::ops::detail
