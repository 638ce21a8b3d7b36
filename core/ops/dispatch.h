// core/ops/dispatch.h: shared checks for the op files (internal to core/ops/).
#pragma once
#include "core/autograd.h"
#include "core/tensor.h"
#include "kernels/cpu/cpu_kernels.h"

namespace gptcu::ops::detail {

// The op's device: all defined inputs must be on it. Only the CPU has kernels in this build;
// a CUDA tensor reaching an op without a CUDA kernel is an error naming the op.
inline Device op_device(const char* op, std::initializer_list<const Tensor*> inputs) {
  Device dev;
  bool first = true;
  for (const Tensor* t : inputs) {
    if (!t || !t->defined()) continue;
    if (first) dev = t->device(), first = false;
    GPTCU_CHECK(t->device() == dev, op, ": inputs on ", dev.str(), " and ", t->device().str());
  }
  GPTCU_CHECK(dev.is_cpu(), op, ": no kernel for device ", dev.str(), " in this build");
  return dev;
}

// A float* to the gradient buffer of t if t needs one, else nullptr.
inline float* grad_ptr(const Tensor& t) {
  if (!t.defined() || !t.requires_grad()) return nullptr;
  return Tensor(t).grad_or_zeros().data<float>();
}

// Rows of logits (..., Vp) scored against targets (...) i32: checks the row count, that
// 0 < vocab_size <= Vp and that every target is < vocab_size (< 0 means ignored). Returns N.
inline int check_logit_targets(const char* op, const Tensor& logits, const Tensor& targets, int vocab_size) {
  const int Vp = (int)logits.size(-1);
  const int N = (int)(logits.numel() / Vp);
  GPTCU_CHECK(targets.numel() == N, op, ": ", N, " rows of logits ", logits.str(), " vs targets ", targets.str());
  GPTCU_CHECK(vocab_size > 0 && vocab_size <= Vp, op, ": vocab_size ", vocab_size, " vs logits ", logits.str());
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
