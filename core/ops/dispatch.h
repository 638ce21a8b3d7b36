// core/ops/dispatch.h: shared checks for the op files (internal to core/ops/).
#pragma once
#include "core/autograd.h"
#include "core/tensor.h"

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

}  // namespace gptcu::ops::detail
