// kernels/cpu/preference_loss.cpp: the pairwise preference losses, CPU reference: the reward
// model's Bradley-Terry loss and DPO are both a mean of -log sigmoid(z_i) over N pairs.
//
//   z_i = beta * ((chosen_i - ref_chosen_i) - (rejected_i - ref_rejected_i)) - margin
//         (a null ref_* counts as 0: the reward model is beta = 1, no reference)
//   loss (1) = mean_i softplus(-z_i),  softplus(u) = max(u, 0) + log1p(exp(-|u|))   (stable)
//   with g_i = -dloss * sigmoid(-z_i) * beta / N:
//   dchosen += g, drejected -= g, dref_chosen -= g, dref_rejected += g   (nullptr = skip)
// The mean is accumulated in double.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "kernels/cpu/cpu_kernels.h"

namespace gptcu::cpu {
namespace {
template <typename T>
T pair_margin(const T* chosen, const T* rejected, const T* ref_chosen, const T* ref_rejected, int i,
              T beta, T margin) {
  const T c = chosen[i] - (ref_chosen ? ref_chosen[i] : T(0));
  const T r = rejected[i] - (ref_rejected ? ref_rejected[i] : T(0));
  return beta * (c - r) - margin;
}

// -log sigmoid(-u) = log(1 + e^u), without overflow for large |u|
template <typename T>
T softplus(T u) {
  return std::max(u, T(0)) + std::log1p(std::exp(-std::abs(u)));
}

template <typename T>
T sigmoid(T u) {
  if (u >= 0) return T(1) / (T(1) + std::exp(-u));
  const T e = std::exp(u);
  return e / (T(1) + e);
}
}  // namespace

template <typename T>
void preference_loss_forward(T* loss, const T* chosen, const T* rejected, const T* ref_chosen,
                             const T* ref_rejected, int N, T beta, T margin) {
  double acc = 0;
  for (int i = 0; i < N; i++)
    acc += softplus(-pair_margin(chosen, rejected, ref_chosen, ref_rejected, i, beta, margin));
  loss[0] = (T)(acc / N);
}

template <typename T>
void preference_loss_backward(T* dchosen, T* drejected, T* dref_chosen, T* dref_rejected,
                              const T* dloss, const T* chosen, const T* rejected,
                              const T* ref_chosen, const T* ref_rejected, int N, T beta, T margin) {
  const T scale = -dloss[0] * beta / T(N);
  for (int i = 0; i < N; i++) {
    const T g = scale * sigmoid(-pair_margin(chosen, rejected, ref_chosen, ref_rejected, i, beta, margin));
    if (dchosen) dchosen[i] += g;
    if (drejected) drejected[i] -= g;
    if (dref_chosen) dref_chosen[i] -= g;
    if (dref_rejected) dref_rejected[i] += g;
  }
}

template void preference_loss_forward<float>(float*, const float*, const float*, const float*, const float*,
                                             int, float, float);
template void preference_loss_forward<double>(double*, const double*, const double*, const double*,
                                              const double*, int, double, double);
template void preference_loss_backward<float>(float*, float*, float*, float*, const float*, const float*,
                                              const float*, const float*, const float*, int, float, float);
template void preference_loss_backward<double>(double*, double*, double*, double*, const double*,
                                               const double*, const double*, const double*, const double*,
                                               int, double, double);

}  // namespace gptcu::cpu
