// kernels/cpu/select_positions.cpp: pick one time step per batch row, CPU reference (the
// reward model's scalar head read at each sequence's last token).
//
//   x (B, T, D), idx (B) with 0 <= idx[b] < T
//   out (B, D) = x[b, idx[b], :]
//   dx[b, idx[b], :] += dout[b, :]     (the other positions are left untouched)
#include <cstdint>

#include "kernels/cpu/cpu_kernels.h"

namespace gptcu::cpu {

template <typename T>
void select_positions_forward(T* out, const T* x, const int32_t* idx, int B, int T_, int64_t D) {
  for (int b = 0; b < B; b++) {
    const T* src = x + ((int64_t)b * T_ + idx[b]) * D;
    for (int64_t d = 0; d < D; d++) out[(int64_t)b * D + d] = src[d];
  }
}

template <typename T>
void select_positions_backward(T* dx, const T* dout, const int32_t* idx, int B, int T_, int64_t D) {
  if (!dx) return;
  for (int b = 0; b < B; b++) {
    T* dst = dx + ((int64_t)b * T_ + idx[b]) * D;
    for (int64_t d = 0; d < D; d++) dst[d] += dout[(int64_t)b * D + d];
  }
}

template void select_positions_forward<float>(float*, const float*, const int32_t*, int, int, int64_t);
template void select_positions_forward<double>(double*, const double*, const int32_t*, int, int, int64_t);
template void select_positions_backward<float>(float*, const float*, const int32_t*, int, int, int64_t);
template void select_positions_backward<double>(double*, const double*, const int32_t*, int, int, int64_t);

}  // namespace gptcu::cpu
