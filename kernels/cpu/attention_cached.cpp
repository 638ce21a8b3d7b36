// kernels/cpu/attention_cached.cpp: causal attention of Tn new tokens over a KV cache, CPU
// reference (forward only: generation runs without gradients).
//
//   qkv (B, Tn, 3C) = [q | k | v] of the new tokens (as in kernels/cpu/attention.cpp)
//   k_cache, v_cache (B, NH, Tmax, hs): row b holds positions 0 .. start[b]-1 from earlier calls
//   out (B, Tn, C)
// Per row b, with s = start[b] and L = s + Tn <= Tmax:
//   1. k_cache[b, h, s + t] = k[b, t, h], v_cache likewise   (the new keys and values)
//   2. per head h, with K = k_cache[b, h, 0:L] and V = v_cache[b, h, 0:L] ((L, hs) each):
//        S = Q K^T / sqrt(hs)   (Tn, L);   P[t, :] = softmax(S[t, 0 .. s+t]), zero after
//        O = P V                -> out[b, :, h*hs : (h+1)*hs]
// which is exactly attention_forward's row s+t when the cache holds that row's earlier keys.
// Entries of the cache beyond s + Tn are neither read nor written. Each (b, h) is one OpenMP
// task with its own scratch for P, so a row's result does not depend on the other rows.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "kernels/cpu/blas.h"
#include "kernels/cpu/cpu_kernels.h"
#include "kernels/cpu/softmax_row.h"

namespace gptcu::cpu {

template <typename T>
void attention_cached_forward(T* out, T* k_cache, T* v_cache, const T* qkv, const int* start,
                              int B, int Tn, int C, int NH, int Tmax) {
  const int hs = C / NH, ld = 3 * C;
  const T scale = T(1) / std::sqrt(T(hs));
#pragma omp parallel
  {
    std::vector<T> p;  // per-thread scores/probabilities (Tn, L)
#pragma omp for collapse(2) schedule(static)
    for (int b = 0; b < B; b++) {
      for (int h = 0; h < NH; h++) {
        const int s = start[b], L = s + Tn;
        const T* q = qkv + (int64_t)b * Tn * ld + h * hs;
        T* kc = k_cache + ((int64_t)b * NH + h) * Tmax * hs;
        T* vc = v_cache + ((int64_t)b * NH + h) * Tmax * hs;
        for (int t = 0; t < Tn; t++) {  // 1. append the new keys and values
          std::memcpy(kc + (int64_t)(s + t) * hs, q + (int64_t)t * ld + C, hs * sizeof(T));
          std::memcpy(vc + (int64_t)(s + t) * hs, q + (int64_t)t * ld + 2 * C, hs * sizeof(T));
        }
        p.resize((size_t)Tn * L);
        gemm(false, true, Tn, L, hs, q, ld, kc, hs, T(0), p.data(), L);  // S = Q K^T (Tn, L)
        for (int t = 0; t < Tn; t++) {  // scaled, causal softmax of new token t: keys 0..s+t
          T* row = p.data() + (int64_t)t * L;
          const int n = s + t + 1;
          for (int j = 0; j < n; j++) row[j] *= scale;
          softmax_row(row, row, n);
          std::fill(row + n, row + L, T(0));
        }
        T* o = out + (int64_t)b * Tn * C + h * hs;
        gemm(false, false, Tn, hs, L, p.data(), L, vc, hs, T(0), o, C);  // O = P V (Tn, hs)
      }
    }
  }
}

template void attention_cached_forward<float>(float*, float*, float*, const float*, const int*,
                                              int, int, int, int, int);
template void attention_cached_forward<double>(double*, double*, double*, const double*,
                                               const int*, int, int, int, int, int);

}  // namespace gptcu::cpu
