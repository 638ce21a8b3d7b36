// train/adamw.cpp
#include "train/adamw.h"

#include <cmath>

#include "kernels/cpu/cpu_kernels.h"

namespace gptcu {

AdamW::AdamW(GPT& model, const AdamWConfig& config) : model_(model), config_(config) {
  const Shape s = model.flat_parameters().shape();
  m_ = Tensor::zeros(s);
  v_ = Tensor::zeros(s);
}

double AdamW::step(double lr) {
  Tensor grads = model_.flat_gradients();
  const double norm = std::sqrt(cpu::sum_squares(grads.data<float>(), grads.numel()));
  GPTCU_USER_CHECK(std::isfinite(norm), "gradient norm is ", norm, " (NaN or Inf): the update was not applied");
  float scale = 1.0f;
  if (config_.grad_clip > 0 && norm > config_.grad_clip) scale = (float)(config_.grad_clip / norm);
  t_++;
  const float* base = model_.flat_parameters().data<float>();
  for (const Parameter& p : model_.parameters()) {
    const int64_t off = p.value.data<float>() - base;  // offset into the flat buffers
    cpu::adamw_update(p.value.data<float>(), grads.data<float>() + off, m_.data<float>() + off,
                      v_.data<float>() + off, p.value.numel(), (float)lr, (float)config_.beta1,
                      (float)config_.beta2, (float)config_.eps,
                      p.weight_decay ? (float)config_.weight_decay : 0.0f, (int)t_, scale);
  }
  return norm;
}

}  // namespace gptcu
