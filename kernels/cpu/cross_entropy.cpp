// kernels/cpu/cross_entropy.cpp: fused softmax + cross-entropy, CPU reference.
//
//   logits (N, Vp), only the first V columns real; targets (N), a target < 0 is ignored
//   (and a target must otherwise be < V).
//   losses (N) = -log softmax(logits[i, :V])[targets[i]]
//              = log(sum_{j<V} exp(logits[i, j] - max)) - (logits[i, target] - max),
//   max over the first V columns only; ignored rows get loss 0.
//   dlogits (N, Vp) += dlosses[i] * (softmax(logits[i, :V]) - onehot(targets[i]))
//   over the first V columns; padded columns V..Vp-1 and ignored rows are left untouched.
// The probabilities are recomputed in the backward, never stored.
#include <cmath>
#include <cstdint>

#include "kernels/cpu/cpu_kernels.h"

namespace gptcu::cpu {
namespace {
// max over the first V logits of a row, and sum_j exp(logit_j - max)
template <typename T>
void row_max_sumexp(const T* x, int V, T& maxv, T& sum) {
  maxv = x[0];
  for (int j = 1; j < V; j++) maxv = x[j] > maxv ? x[j] : maxv;
  sum = 0;
  for (int j = 0; j < V; j++) sum += std::exp(x[j] - maxv);
}
}  // namespace

template <typename T>
void cross_entropy_forward(T* losses, const T* logits, const int32_t* targets, int N, int V,
                           int Vp) {
#pragma omp parallel for schedule(static)
  for (int i = 0; i < N; i++) {
    const int target = targets[i];
    if (target < 0) {
      losses[i] = 0;
      continue;
    }
    const T* x = logits + (int64_t)i * Vp;
    T maxv, sum;
    row_max_sumexp(x, V, maxv, sum);
    losses[i] = std::log(sum) - (x[target] - maxv);  // x - max first: exact for nearby logits
  }
}

template <typename T>
void cross_entropy_backward(T* dlogits, const T* dlosses, const T* logits, const int32_t* targets,
                            int N, int V, int Vp) {
  if (!dlogits) return;
#pragma omp parallel for schedule(static)
  for (int i = 0; i < N; i++) {
    const int target = targets[i];
    if (target < 0) continue;
    const T* x = logits + (int64_t)i * Vp;
    T* dx = dlogits + (int64_t)i * Vp;
    T maxv, sum;
    row_max_sumexp(x, V, maxv, sum);
    const T dloss = dlosses[i];
    const T scale = dloss / sum;  // dloss * softmax_j = scale * exp(x_j - max)
    for (int j = 0; j < V; j++)
      dx[j] += scale * std::exp(x[j] - maxv) - (j == target ? dloss : T(0));
  }
}

template void cross_entropy_forward<float>(float*, const float*, const int32_t*, int, int, int);
template void cross_entropy_forward<double>(double*, const double*, const int32_t*, int, int, int);
template void cross_entropy_backward<float>(float*, const float*, const float*, const int32_t*, int,
                                            int, int);
template void cross_entropy_backward<double>(double*, const double*, const double*, const int32_t*,
                                             int, int, int);

}  // namespace gptcu::cpu
