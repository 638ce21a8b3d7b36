// kernels/cpu/cross_entropy.cpp: fused softmax + cross-entropy, CPU reference.
//
//   logits (N, Vp), only the first V columns real; targets (N), a target < 0 is ignored
//   (and a target must otherwise be < V).
//   losses (N) = -log softmax(logits[i, :V])[targets[i]]
//              = log(sum_{j<V} exp(logits[i, j] - max)) - (logits[i, target] - max),
//   max over the first V columns only; ignored rows get loss 0.
//   dlogits (N, Vp) += dlosses[i] * (softmax(logits[i, :V]) - onehot(targets[i]))
//   over the first V columns; padded columns V..Vp-1 and ignored rows are left untouched.
// Cross-entropy is the negated log-probability of the target at temperature 1, so both
// directions are token_logprobs.cpp's kernels with the sign flipped (one definition of the
// fused log-softmax; the probabilities are recomputed in the backward, never stored).
#include <cstdint>
#include <vector>

#include "kernels/cpu/cpu_kernels.h"

namespace gptcu::cpu {

template <typename T>
void cross_entropy_forward(T* losses, const T* logits, const int32_t* targets, int N, int V,
                           int Vp) {
  token_logprobs_forward(losses, logits, targets, N, V, Vp, T(1));
  for (int i = 0; i < N; i++) losses[i] = T(0) - losses[i];  // ignored rows stay +0
}

template <typename T>
void cross_entropy_backward(T* dlogits, const T* dlosses, const T* logits, const int32_t* targets,
                            int N, int V, int Vp) {
  if (!dlogits) return;
  std::vector<T> dlogp(dlosses, dlosses + N);  // d loss = -d logp
  for (T& g : dlogp) g = -g;
  token_logprobs_backward(dlogits, dlogp.data(), logits, targets, N, V, Vp, T(1));
}

template void cross_entropy_forward<float>(float*, const float*, const int32_t*, int, int, int);
template void cross_entropy_forward<double>(double*, const double*, const int32_t*, int, int, int);
template void cross_entropy_backward<float>(float*, const float*, const float*, const int32_t*, int,
                                            int, int);
template void cross_entropy_backward<double>(double*, const double*, const double*, const int32_t*,
                                             int, int, int);

}  // namespace gptcu::cpu
