// kernels/cpu/policy_loss.cpp: the PPO/GRPO clipped surrogate with an optional k3 KL penalty,
// CPU reference.
//
//   per token i with mask_i != 0:
//     r = exp(logp - old_logp)
//     pg = max(-A r, -A clip(r, 1 - eps, 1 + eps))
//     kl = exp(ref - logp) - (ref - logp) - 1           (only when ref_logp is given)
//   loss (1) = inv_count * sum_i mask_i (pg_i + kl_coef kl_i)     accumulated in double
//   dlogp_i += dloss * inv_count * mask_i * (dpg_i + kl_coef (1 - exp(ref - logp)))
//     dpg = -A r where the unclipped term is the max (ties included), else 0: the clip
//     removes the gradient exactly on the side where it applies (A > 0 and r > 1 + eps,
//     A < 0 and r < 1 - eps).
// Tokens with mask 0 are skipped entirely (their inputs may be anything, even inf).
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "kernels/cpu/cpu_kernels.h"

namespace gptcu::cpu {
namespace {
// The surrogate of one token and its derivative wrt logp.
template <typename T>
void surrogate(T logp, T old_logp, T adv, T clip_eps, T& value, T& dvalue) {
  const T r = std::exp(logp - old_logp);
  const T unclipped = -adv * r;
  const T clipped = -adv * std::clamp(r, T(1) - clip_eps, T(1) + clip_eps);
  value = std::max(unclipped, clipped);
  dvalue = unclipped >= clipped ? unclipped : T(0);  // d(-A r)/dlogp = -A r
}
}  // namespace

template <typename T>
void policy_loss_forward(T* loss, const T* logp, const T* old_logp, const T* adv, const T* mask,
                         const T* ref_logp, int64_t n, T clip_eps, T kl_coef, T inv_count) {
  double acc = 0;
  for (int64_t i = 0; i < n; i++) {
    if (mask[i] == 0) continue;
    T pg, dpg;
    surrogate(logp[i], old_logp[i], adv[i], clip_eps, pg, dpg);
    double term = pg;
    if (ref_logp) {
      const T d = ref_logp[i] - logp[i];
      term += (double)kl_coef * (std::exp(d) - d - T(1));
    }
    acc += (double)mask[i] * term;
  }
  loss[0] = (T)(acc * inv_count);
}

template <typename T>
void policy_loss_backward(T* dlogp, const T* dloss, const T* logp, const T* old_logp, const T* adv,
                          const T* mask, const T* ref_logp, int64_t n, T clip_eps, T kl_coef,
                          T inv_count) {
  if (!dlogp) return;
  const T scale = dloss[0] * inv_count;
  for (int64_t i = 0; i < n; i++) {
    if (mask[i] == 0) continue;
    T pg, dpg;
    surrogate(logp[i], old_logp[i], adv[i], clip_eps, pg, dpg);
    T g = dpg;
    if (ref_logp) g += kl_coef * (T(1) - std::exp(ref_logp[i] - logp[i]));
    dlogp[i] += scale * mask[i] * g;
  }
}

template void policy_loss_forward<float>(float*, const float*, const float*, const float*, const float*,
                                         const float*, int64_t, float, float, float);
template void policy_loss_forward<double>(double*, const double*, const double*, const double*,
                                          const double*, const double*, int64_t, double, double, double);
template void policy_loss_backward<float>(float*, const float*, const float*, const float*, const float*,
                                          const float*, const float*, int64_t, float, float, float);
template void policy_loss_backward<double>(double*, const double*, const double*, const double*,
                                           const double*, const double*, const double*, int64_t, double,
                                           double, double);

}  // namespace gptcu::cpu
