// core/ops/token_logprobs.cpp: log-probabilities of target tokens and per-row entropies under
// a tempered softmax (see kernels/cpu/token_logprobs.cpp), the scoring ops of PPO, GRPO and DPO.
#include <cmath>

#include "core/ops.h"
#include "core/ops/dispatch.h"

namespace gptcu::ops {
namespace {
void check_temperature(const char* op, float temperature) {
  GPTCU_CHECK(std::isfinite(temperature) && temperature > 0, op, ": temperature must be > 0, got ", temperature);
}
}  // namespace

Tensor token_logprobs(const Tensor& logits, const Tensor& targets, int vocab_size, float temperature) {
  detail::op_device("token_logprobs", {&logits, &targets});
  check_temperature("token_logprobs", temperature);
  const int N = detail::check_logit_targets("token_logprobs", logits, targets, vocab_size);
  const int Vp = (int)logits.size(-1);
  Tensor logp = Tensor::empty(targets.shape());
  cpu::token_logprobs_forward(logp.data<float>(), logits.data<float>(), targets.data<int32_t>(), N, vocab_size,
                              Vp, temperature);
  if (autograd::needs_grad({&logits})) {
    autograd::record(logp, [=]() {
      cpu::token_logprobs_backward(detail::grad_ptr(logits), logp.grad().data<float>(), logits.data<float>(),
                                   targets.data<int32_t>(), N, vocab_size, Vp, temperature);
    });
  }
  return logp;
}

Tensor token_entropy(const Tensor& logits, int vocab_size, float temperature) {
  detail::op_device("token_entropy", {&logits});
  check_temperature("token_entropy", temperature);
  const int Vp = (int)logits.size(-1);
  GPTCU_CHECK(vocab_size > 0 && vocab_size <= Vp, "token_entropy: vocab_size ", vocab_size, " vs logits ", logits.str());
  Shape rows(logits.shape().begin(), logits.shape().end() - 1);
  Tensor entropy = Tensor::empty(rows);
  cpu::token_entropy_forward(entropy.data<float>(), logits.data<float>(), (int)entropy.numel(), vocab_size, Vp,
                             temperature);
  return entropy;  // a metric: never recorded
}

}  // namespace gptcu::ops
