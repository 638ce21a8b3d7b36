// kernels/cpu/token_logprobs.cpp: log-probabilities of targets and entropies under a tempered
// softmax, CPU reference (the PPO/GRPO/DPO scoring ops).
//
//   logits (N, Vp), only the first V columns real; z_j = logits_j / temperature, j < V.
//   logp (N) = z_target - logsumexp(z)   (a target < 0: 0; otherwise target < V)
//   dlogits (N, Vp) += dlogp[i] * (onehot(target) - softmax(z)) / temperature
//   over the first V columns; padded columns and ignored rows are left untouched.
//   entropy (N) = -sum_j p_j log p_j = logsumexp(z) - sum_j p_j z_j,  p = softmax(z)
// The probabilities are recomputed, never stored. cross_entropy.cpp is these kernels negated.
#include <cmath>
#include <cstdint>

#include "kernels/cpu/cpu_kernels.h"

namespace gptcu::cpu {
namespace {
// For one row: maxz = max_j z_j and sum = sum_j exp(z_j - maxz), z = x / temperature, j < V.
template <typename T>
void tempered_row_stats(const T* x, int V, T inv_temp, T& maxz, T& sum) {
  T maxv = x[0];
  for (int j = 1; j < V; j++) maxv = x[j] > maxv ? x[j] : maxv;
  maxz = maxv * inv_temp;  // temperature > 0: the max of z is the max of x, scaled
  sum = 0;
  for (int j = 0; j < V; j++) sum += std::exp(x[j] * inv_temp - maxz);
}
}  // namespace

template <typename T>
void token_logprobs_forward(T* logp, const T* logits, const int32_t* targets, int N, int V, int Vp,
                            T temperature) {
  const T inv_temp = T(1) / temperature;
#pragma omp parallel for schedule(static)
  for (int i = 0; i < N; i++) {
    const int target = targets[i];
    if (target < 0) {
      logp[i] = 0;
      continue;
    }
    const T* x = logits + (int64_t)i * Vp;
    T maxz, sum;
    tempered_row_stats(x, V, inv_temp, maxz, sum);
    logp[i] = (x[target] * inv_temp - maxz) - std::log(sum);
  }
}

template <typename T>
void token_logprobs_backward(T* dlogits, const T* dlogp, const T* logits, const int32_t* targets,
                             int N, int V, int Vp, T temperature) {
  if (!dlogits) return;
  const T inv_temp = T(1) / temperature;
#pragma omp parallel for schedule(static)
  for (int i = 0; i < N; i++) {
    const int target = targets[i];
    if (target < 0) continue;
    const T* x = logits + (int64_t)i * Vp;
    T* dx = dlogits + (int64_t)i * Vp;
    T maxz, sum;
    tempered_row_stats(x, V, inv_temp, maxz, sum);
    const T g = dlogp[i] * inv_temp;
    const T scale = g / sum;  // g * p_j = scale * exp(z_j - maxz)
    for (int j = 0; j < V; j++)
      dx[j] += (j == target ? g : T(0)) - scale * std::exp(x[j] * inv_temp - maxz);
  }
}

template <typename T>
void token_entropy_forward(T* entropy, const T* logits, int N, int V, int Vp, T temperature) {
  const T inv_temp = T(1) / temperature;
#pragma omp parallel for schedule(static)
  for (int i = 0; i < N; i++) {
    const T* x = logits + (int64_t)i * Vp;
    T maxz, sum;
    tempered_row_stats(x, V, inv_temp, maxz, sum);
    // H = log(sum) - sum_j p_j (z_j - maxz), with p_j = exp(z_j - maxz) / sum
    T weighted = 0;
    for (int j = 0; j < V; j++) {
      const T d = x[j] * inv_temp - maxz;
      weighted += std::exp(d) * d;
    }
    entropy[i] = std::log(sum) - weighted / sum;
  }
}

template void token_logprobs_forward<float>(float*, const float*, const int32_t*, int, int, int, float);
template void token_logprobs_forward<double>(double*, const double*, const int32_t*, int, int, int, double);
template void token_logprobs_backward<float>(float*, const float*, const float*, const int32_t*, int, int,
                                             int, float);
template void token_logprobs_backward<double>(double*, const double*, const double*, const int32_t*, int,
                                              int, int, double);
template void token_entropy_forward<float>(float*, const float*, int, int, int, float);
template void token_entropy_forward<double>(double*, const double*, int, int, int, double);

}  // namespace gptcu::cpu
