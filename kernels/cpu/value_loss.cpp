// kernels/cpu/value_loss.cpp: the PPO clipped value loss, CPU reference.
//
//   per token i with mask_i != 0 (v = values, R = returns):
//     v_clip = v_old + clip(v - v_old, -eps, eps)          (eps <= 0: v_clip = v, unclipped)
//     l = 0.5 * max((v - R)^2, (v_clip - R)^2)
//   loss (1) = inv_count * sum_i mask_i l_i                  accumulated in double
//   dvalues_i += dloss * inv_count * mask_i * (v - R) where the unclipped term is the max
//     (ties included), else 0 (the clipped term wins only when v_clip != v, i.e. where the
//     clip is active and v_clip does not depend on v).
// Tokens with mask 0 are skipped entirely.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "kernels/cpu/cpu_kernels.h"

namespace gptcu::cpu {
namespace {
// The loss of one token and its derivative wrt v.
template <typename T>
void clipped_value(T v, T v_old, T ret, T clip_eps, T& value, T& dvalue) {
  const T unclipped = T(0.5) * (v - ret) * (v - ret);
  if (clip_eps <= 0) {
    value = unclipped, dvalue = v - ret;
    return;
  }
  // inside the range v_clip is v itself (v_old + (v - v_old) may round away from v)
  const T d = v - v_old;
  const T vc = d > clip_eps ? v_old + clip_eps : (d < -clip_eps ? v_old - clip_eps : v);
  const T clipped = T(0.5) * (vc - ret) * (vc - ret);
  value = std::max(unclipped, clipped);
  dvalue = unclipped >= clipped ? v - ret : T(0);
}
}  // namespace

template <typename T>
void value_loss_forward(T* loss, const T* values, const T* old_values, const T* returns,
                        const T* mask, int64_t n, T clip_eps, T inv_count) {
  double acc = 0;
  for (int64_t i = 0; i < n; i++) {
    if (mask[i] == 0) continue;
    T l, dl;
    clipped_value(values[i], old_values[i], returns[i], clip_eps, l, dl);
    acc += (double)mask[i] * l;
  }
  loss[0] = (T)(acc * inv_count);
}

template <typename T>
void value_loss_backward(T* dvalues, const T* dloss, const T* values, const T* old_values,
                         const T* returns, const T* mask, int64_t n, T clip_eps, T inv_count) {
  if (!dvalues) return;
  const T scale = dloss[0] * inv_count;
  for (int64_t i = 0; i < n; i++) {
    if (mask[i] == 0) continue;
    T l, dl;
    clipped_value(values[i], old_values[i], returns[i], clip_eps, l, dl);
    dvalues[i] += scale * mask[i] * dl;
  }
}

template void value_loss_forward<float>(float*, const float*, const float*, const float*, const float*,
                                        int64_t, float, float);
template void value_loss_forward<double>(double*, const double*, const double*, const double*,
                                         const double*, int64_t, double, double);
template void value_loss_backward<float>(float*, const float*, const float*, const float*, const float*,
                                         const float*, int64_t, float, float);
template void value_loss_backward<double>(double*, const double*, const double*, const double*,
                                          const double*, const double*, int64_t, double, double);

}  // namespace gptcu::cpu
