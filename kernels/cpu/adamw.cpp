// kernels/cpu/adamw.cpp: the AdamW step and the squared gradient norm, CPU reference (fp32).
//
//   sum_squares: sum_i x_i^2 over x (n), accumulated in double, in fixed-size chunks summed
//   in order (the same bits on any thread count).
//   adamw_update on param, grad, m, v (n), step 1-based, weight decay decoupled:
//     g = grad * grad_scale
//     m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
//     param -= lr * ( (m / (1 - b1^step)) / (sqrt(v / (1 - b2^step)) + eps) + wd * param )
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels/cpu/cpu_kernels.h"

namespace gptcu::cpu {
namespace {
constexpr int64_t kChunk = 1 << 14;  // elements per partial sum in sum_squares
}

double sum_squares(const float* x, int64_t n) {
  const int64_t nchunks = (n + kChunk - 1) / kChunk;
  std::vector<double> partial(nchunks, 0.0);
#pragma omp parallel for schedule(static)
  for (int64_t k = 0; k < nchunks; k++) {
    const int64_t i1 = std::min(n, (k + 1) * kChunk);
    double s = 0;
    for (int64_t i = k * kChunk; i < i1; i++) s += (double)x[i] * x[i];
    partial[k] = s;
  }
  double total = 0;
  for (double s : partial) total += s;
  return total;
}

void adamw_update(float* param, const float* grad, float* m, float* v, int64_t n, float lr,
                  float beta1, float beta2, float eps, float weight_decay, int step,
                  float grad_scale) {
  // bias corrections, once per call
  const float c1 = 1.0f - (float)std::pow((double)beta1, step);
  const float c2 = 1.0f - (float)std::pow((double)beta2, step);
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; i++) {
    const float g = grad[i] * grad_scale;
    const float mi = beta1 * m[i] + (1.0f - beta1) * g;
    const float vi = beta2 * v[i] + (1.0f - beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    const float m_hat = mi / c1, v_hat = vi / c2;
    param[i] -= lr * (m_hat / (std::sqrt(v_hat) + eps) + weight_decay * param[i]);
  }
}

}  // namespace gptcu::cpu
