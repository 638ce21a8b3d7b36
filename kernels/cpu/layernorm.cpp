// kernels/cpu/layernorm.cpp: LayerNorm over the last dimension, CPU reference.
//
//   inp (N, C), w (C), b (C) -> out (N, C), mean (N), rstd (N)
//   out = (inp - mean) * rstd * w + b,  rstd = 1 / sqrt(var + eps), var biased (divide by C,
//   like PyTorch). mean and rstd are saved for the backward (either may be nullptr).
//
// Backward (+= into every gradient given, nullptr = skip), with norm = (x - mean) * rstd and
// dnorm = dout * w:
//   dinp += rstd * (dnorm - mean_c(dnorm) - norm * mean_c(dnorm * norm))
//   dw += sum_rows dout * norm,  db += sum_rows dout   (rows summed in order: deterministic)
#include <algorithm>
#include <cmath>

#include "kernels/cpu/cpu_kernels.h"

namespace gptcu::cpu {
namespace {
constexpr int kColumnBlock = 64;  // columns per OpenMP task in the dw/db row sums
}

template <typename T>
void layernorm_forward(T* out, T* mean, T* rstd, const T* inp, const T* w, const T* b, int N, int C,
                       T eps) {
#pragma omp parallel for schedule(static)
  for (int i = 0; i < N; i++) {
    const T* x = inp + (int64_t)i * C;
    T* y = out + (int64_t)i * C;
    T m = 0;
    for (int c = 0; c < C; c++) m += x[c];
    m /= C;
    T var = 0;
    for (int c = 0; c < C; c++) var += (x[c] - m) * (x[c] - m);
    var /= C;
    const T s = T(1) / std::sqrt(var + eps);
    for (int c = 0; c < C; c++) y[c] = (x[c] - m) * s * w[c] + b[c];
    if (mean) mean[i] = m;
    if (rstd) rstd[i] = s;
  }
}

template <typename T>
void layernorm_backward(T* dinp, T* dw, T* db, const T* dout, const T* inp, const T* w,
                        const T* mean, const T* rstd, int N, int C) {
  if (dinp) {  // rows are independent
#pragma omp parallel for schedule(static)
    for (int i = 0; i < N; i++) {
      const T* x = inp + (int64_t)i * C;
      const T* dy = dout + (int64_t)i * C;
      T* dx = dinp + (int64_t)i * C;
      const T m = mean[i], s = rstd[i];
      T dnorm_mean = 0, dnorm_norm_mean = 0;
      for (int c = 0; c < C; c++) {
        const T dnorm = dy[c] * w[c];
        dnorm_mean += dnorm;
        dnorm_norm_mean += dnorm * (x[c] - m) * s;
      }
      dnorm_mean /= C;
      dnorm_norm_mean /= C;
      for (int c = 0; c < C; c++) {
        const T norm = (x[c] - m) * s;
        dx[c] += s * (dy[c] * w[c] - dnorm_mean - norm * dnorm_norm_mean);
      }
    }
  }
  if (dw || db) {  // each block of columns sums the rows in order: same bits on any thread count
    const int nblocks = (C + kColumnBlock - 1) / kColumnBlock;
#pragma omp parallel for schedule(static)
    for (int blk = 0; blk < nblocks; blk++) {
      const int c0 = blk * kColumnBlock, c1 = std::min(C, c0 + kColumnBlock);
      T sum_w[kColumnBlock] = {}, sum_b[kColumnBlock] = {};
      for (int i = 0; i < N; i++) {
        const T* x = inp + (int64_t)i * C;
        const T* dy = dout + (int64_t)i * C;
        const T m = mean[i], s = rstd[i];
        for (int c = c0; c < c1; c++) {
          sum_w[c - c0] += dy[c] * (x[c] - m) * s;
          sum_b[c - c0] += dy[c];
        }
      }
      for (int c = c0; c < c1; c++) {
        if (dw) dw[c] += sum_w[c - c0];
        if (db) db[c] += sum_b[c - c0];
      }
    }
  }
}

template void layernorm_forward<float>(float*, float*, float*, const float*, const float*,
                                       const float*, int, int, float);
template void layernorm_forward<double>(double*, double*, double*, const double*, const double*,
                                        const double*, int, int, double);
template void layernorm_backward<float>(float*, float*, float*, const float*, const float*,
                                        const float*, const float*, const float*, int, int);
template void layernorm_backward<double>(double*, double*, double*, const double*, const double*,
                                         const double*, const double*, const double*, int, int);

}  // namespace gptcu::cpu
