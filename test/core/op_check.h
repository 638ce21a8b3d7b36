// test/core/op_check.h: helpers for the op tests in test/core: f32 tensors from the double
// vectors the kernel tests use, and the gradient an op's autograd record produces for the
// objective sum(out * probe) (the same objective test/kernels/gradcheck.h differentiates).
#pragma once
#include <catch2/catch.hpp>
#include <vector>

#include "core/autograd.h"
#include "core/ops.h"
#include "test/kernels/gradcheck.h"

namespace gptcu::test {

inline Tensor fixed(const std::vector<double>& v, const Shape& s) { return Tensor::from_vector(to_float(v), s); }
inline Tensor param(const std::vector<double>& v, const Shape& s) { return fixed(v, s).set_requires_grad(true); }

// The accumulated gradient of t, which must exist.
inline std::vector<double> grad_of(const Tensor& t) {
  REQUIRE(t.grad().defined());
  return to_double(t.grad().to_vector());
}

// Backward from sum(out * probe), out any shape with probe.size() elements (through masked_sum,
// whose mask is a plain weight).
inline void backward_probe(const Tensor& out, const std::vector<double>& probe) {
  const int64_t n = out.numel();
  REQUIRE((int64_t)probe.size() == n);
  autograd::backward(ops::masked_sum(ops::reshape(out, {1, n}), fixed(probe, {1, n})));
}

}  // namespace gptcu::test
