// kernels/cpu/attention.cpp: causal multi-head self-attention, one fused op, CPU reference.
//
//   qkv (B, T, 3C) = [q | k | v] along the last dimension (GPT-2 c_attn output);
//   head h of q at (b, t) is qkv[b, t, h*hs : (h+1)*hs], of k at offset C, of v at offset 2C,
//   hs = C / NH.
//   att (B, NH, T, T): att[b, h, t, :] = softmax_{t2 <= t}(q_t . k_t2 / sqrt(hs)), zero above
//   the diagonal; saved for the backward.
//   out (B, T, C): out[b, t, h*hs : (h+1)*hs] = sum_{t2 <= t} att[b, h, t, t2] v_t2
//
// Backward (+= into dqkv (B, T, 3C)), per (b, h) and query row t, with a = att[b, h, t, :]:
//   datt[t2] = dout_t . v_t2                       dv_t2 += a[t2] dout_t
//   dpre[t2] = a[t2] (datt[t2] - sum_j a[j] datt[j])   (softmax backward)
//   dq_t += scale sum_t2 dpre[t2] k_t2             dk_t2 += scale dpre[t2] q_t
// Each (b, h) is handled by one thread (heads own disjoint slices of dqkv), so the result is
// deterministic.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "kernels/cpu/cpu_kernels.h"

namespace gptcu::cpu {

template <typename T>
void attention_forward(T* out, T* att, const T* qkv, int B, int T_, int C, int NH) {
  const int hs = C / NH;
  const int64_t C3 = 3 * (int64_t)C;
  const T scale = T(1) / std::sqrt(T(hs));
#pragma omp parallel for collapse(3) schedule(static)
  for (int b = 0; b < B; b++) {
    for (int h = 0; h < NH; h++) {
      for (int t = 0; t < T_; t++) {
        const T* q = qkv + ((int64_t)b * T_ + t) * C3 + h * hs;
        T* a = att + (((int64_t)b * NH + h) * T_ + t) * T_;
        // scores and their max over the visible keys t2 <= t
        T maxv = -std::numeric_limits<T>::infinity();
        for (int t2 = 0; t2 <= t; t2++) {
          const T* k = qkv + ((int64_t)b * T_ + t2) * C3 + C + h * hs;
          T s = 0;
#pragma omp simd reduction(+ : s)  // a fixed vector order: fast and still deterministic
          for (int i = 0; i < hs; i++) s += q[i] * k[i];
          a[t2] = s * scale;
          maxv = std::max(maxv, a[t2]);
        }
        // stable softmax over t2 <= t; zeros above the diagonal
        T sum = 0;
        for (int t2 = 0; t2 <= t; t2++) {
          a[t2] = std::exp(a[t2] - maxv);
          sum += a[t2];
        }
        const T inv = T(1) / sum;
        for (int t2 = 0; t2 <= t; t2++) a[t2] *= inv;
        for (int t2 = t + 1; t2 < T_; t2++) a[t2] = 0;
        // weighted sum of the values
        T* o = out + ((int64_t)b * T_ + t) * C + h * hs;
        std::fill(o, o + hs, T(0));
        for (int t2 = 0; t2 <= t; t2++) {
          const T* v = qkv + ((int64_t)b * T_ + t2) * C3 + 2 * C + h * hs;
          const T w = a[t2];
          for (int i = 0; i < hs; i++) o[i] += w * v[i];
        }
      }
    }
  }
}

template <typename T>
void attention_backward(T* dqkv, const T* dout, const T* qkv, const T* att, int B, int T_, int C,
                        int NH) {
  if (!dqkv) return;
  const int hs = C / NH;
  const int64_t C3 = 3 * (int64_t)C;
  const T scale = T(1) / std::sqrt(T(hs));
#pragma omp parallel
  {
    // per-thread scratch for one (b, h): dq, dk, dv (T, hs) each and datt (T)
    std::vector<T> scratch(3 * (size_t)T_ * hs + T_);
#pragma omp for collapse(2) schedule(static)
    for (int b = 0; b < B; b++) {
      for (int h = 0; h < NH; h++) {
        std::fill(scratch.begin(), scratch.end(), T(0));
        T* dq = scratch.data();
        T* dk = dq + (size_t)T_ * hs;
        T* dv = dk + (size_t)T_ * hs;
        T* datt = dv + (size_t)T_ * hs;
        for (int t = 0; t < T_; t++) {
          const T* a = att + (((int64_t)b * NH + h) * T_ + t) * T_;
          const T* q = qkv + ((int64_t)b * T_ + t) * C3 + h * hs;
          const T* dy = dout + ((int64_t)b * T_ + t) * C + h * hs;
          // through the weighted sum of values
          T a_dot_datt = 0;
          for (int t2 = 0; t2 <= t; t2++) {
            const T* v = qkv + ((int64_t)b * T_ + t2) * C3 + 2 * C + h * hs;
            T d = 0;
#pragma omp simd reduction(+ : d)
            for (int i = 0; i < hs; i++) {
              d += dy[i] * v[i];
              dv[t2 * hs + i] += a[t2] * dy[i];
            }
            datt[t2] = d;
            a_dot_datt += a[t2] * d;
          }
          // through the softmax and the scaled dot products
          for (int t2 = 0; t2 <= t; t2++) {
            const T* k = qkv + ((int64_t)b * T_ + t2) * C3 + C + h * hs;
            const T dpre = a[t2] * (datt[t2] - a_dot_datt) * scale;
            for (int i = 0; i < hs; i++) {
              dq[t * hs + i] += dpre * k[i];
              dk[t2 * hs + i] += dpre * q[i];
            }
          }
        }
        for (int t = 0; t < T_; t++) {  // += into this head's slices of dqkv
          T* d = dqkv + ((int64_t)b * T_ + t) * C3 + h * hs;
          for (int i = 0; i < hs; i++) {
            d[i] += dq[t * hs + i];
            d[C + i] += dk[t * hs + i];
            d[2 * C + i] += dv[t * hs + i];
          }
        }
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
