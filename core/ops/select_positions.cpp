// core/ops/select_positions.cpp: one time step per batch row, x[b, idx[b]] (see
// kernels/cpu/select_positions.cpp); the reward model reads its scalar head at each
// sequence's last token with it.
#include "core/ops.h"
#include "core/ops/dispatch.h"

namespace gptcu::ops {

Tensor select_positions(const Tensor& x, const Tensor& idx) {
  detail::op_device("select_positions", {&x, &idx});
  GPTCU_CHECK(x.dim() >= 2, "select_positions: x must be (B, T, ...), got ", x.str());
  const int B = (int)x.size(0), T = (int)x.size(1);
  check_shape(idx, {B}, "select_positions idx");
  const int32_t* pos = idx.data<int32_t>();
  for (int b = 0; b < B; b++)
    GPTCU_CHECK(pos[b] >= 0 && pos[b] < T, "select_positions: idx[", b, "] = ", pos[b], " outside [0, ", T, ")");
  Shape out_shape = x.shape();
  out_shape.erase(out_shape.begin() + 1);
  const int64_t D = shape_numel(out_shape) / B;
  Tensor out = Tensor::empty(out_shape);
  cpu::select_positions_forward(out.data<float>(), x.data<float>(), pos, B, T, D);
  if (autograd::needs_grad({&x})) {
    autograd::record(out, [=]() {
      cpu::select_positions_backward(detail::grad_ptr(x), out.grad().data<float>(), idx.data<int32_t>(), B, T, D);
    });
  }
  return out;
}

}  // namespace gptcu::ops
