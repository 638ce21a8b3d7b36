// kernels/cpu/attention.cpp: causal multi-head self-attention, one fused op, CPU reference.
//
//   qkv (B, T, 3C) = [q | k | v] along the last dimension (GPT-2 c_attn output);
//   head h of q at (b, t) is qkv[b, t, h*hs : (h+1)*hs], of k at offset C, of v at offset 2C,
//   hs = C / NH. So for one (b, h), Q, K and V are (T, hs) matrices with row stride 3C, and
//   the matmuls below read them in place through BLAS leading dimensions.
//
// Forward, per (b, h), with P = att[b, h] (T, T) saved for the backward:
//   S = Q K^T / sqrt(hs);  P[t, :] = softmax(S[t, 0..t]), zero above the diagonal
//   O = P V                 -> out[b, :, h*hs : (h+1)*hs]   (out (B, T, C))
// Backward (+= into dqkv (B, T, 3C)), per (b, h):
//   dV += P^T dO;  dP = dO V^T;  dS = P * (dP - rowsum(P * dP)) / sqrt(hs)   (softmax backward)
//   dQ += dS K;    dK += dS^T Q
// The full T x T products are computed (twice the causal FLOPs, but BLAS-fast; the masked
// half of P is zero, so it contributes nothing). Each (b, h) is one OpenMP task writing its own
// slices of out/dqkv, and BLAS runs single-threaded inside it: deterministic.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels/cpu/blas.h"
#include "kernels/cpu/cpu_kernels.h"
#include "kernels/cpu/softmax_row.h"

namespace gptcu::cpu {

template <typename T>
void attention_forward(T* out, T* att, const T* qkv, int B, int T_, int C, int NH) {
  const int hs = C / NH, ld = 3 * C;
  const T scale = T(1) / std::sqrt(T(hs));
#pragma omp parallel for collapse(2) schedule(static)
  for (int b = 0; b < B; b++) {
    for (int h = 0; h < NH; h++) {
      const T* q = qkv + (int64_t)b * T_ * ld + h * hs;
      const T* k = q + C;
      const T* v = q + 2 * C;
      T* p = att + ((int64_t)b * NH + h) * T_ * T_;
      gemm(false, true, T_, T_, hs, q, ld, k, ld, T(0), p, T_);  // S = Q K^T (T, T)
      for (int t = 0; t < T_; t++) {  // scaled, causal softmax of row t: keys 0..t
        T* row = p + (int64_t)t * T_;
        for (int j = 0; j <= t; j++) row[j] *= scale;
        softmax_row(row, row, t + 1);
        std::fill(row + t + 1, row + T_, T(0));
      }
      T* o = out + (int64_t)b * T_ * C + h * hs;
      gemm(false, false, T_, hs, T_, p, T_, v, ld, T(0), o, C);  // O = P V (T, hs)
    }
  }
}

template <typename T>
void attention_backward(T* dqkv, const T* dout, const T* qkv, const T* att, int B, int T_, int C,
                        int NH) {
  if (!dqkv) return;
  const int hs = C / NH, ld = 3 * C;
  const T scale = T(1) / std::sqrt(T(hs));
#pragma omp parallel
  {
    std::vector<T> ds((size_t)T_ * T_);  // per-thread dP, then dS in place
#pragma omp for collapse(2) schedule(static)
    for (int b = 0; b < B; b++) {
      for (int h = 0; h < NH; h++) {
        const int64_t off = (int64_t)b * T_ * ld + h * hs;
        const T *q = qkv + off, *k = q + C, *v = q + 2 * C;
        T *dq = dqkv + off, *dk = dq + C, *dv = dq + 2 * C;
        const T* p = att + ((int64_t)b * NH + h) * T_ * T_;
        const T* dy = dout + (int64_t)b * T_ * C + h * hs;
        gemm(true, false, T_, hs, T_, p, T_, dy, C, T(1), dv, ld);          // dV += P^T dO
        gemm(false, true, T_, T_, hs, dy, C, v, ld, T(0), ds.data(), T_);  // dP = dO V^T
        for (int t = 0; t < T_; t++) {
          const T* prow = p + (int64_t)t * T_;
          T* row = ds.data() + (int64_t)t * T_;
          T dot = 0;
          for (int j = 0; j <= t; j++) dot += prow[j] * row[j];
          for (int j = 0; j < T_; j++) row[j] = prow[j] * (row[j] - dot) * scale;  // 0 above the diagonal
        }
        gemm(false, false, T_, hs, T_, ds.data(), T_, k, ld, T(1), dq, ld);  // dQ += dS K
        gemm(true, false, T_, hs, T_, ds.data(), T_, q, ld, T(1), dk, ld);   // dK += dS^T Q
      }
    }
  }
}

template void attention_forward<float>(float*, float*, const float*, int, int, int, int);
template void attention_forward<double>(double*, double*, const double*, int, int, int, int);
template void attention_backward<float>(float*, const float*, const float*, const float*, int, int,
                                        int, int);
template void attention_backward<double>(double*, const double*, const double*, const double*, int,
                                         int, int, int);

}  // namespace gptcu::cpu
