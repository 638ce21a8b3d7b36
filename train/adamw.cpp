// train/adamw.cpp
#include "train/adamw.h"

#include <algorithm>
#include <cmath>

#include "kernels/cpu/cpu_kernels.h"

namespace gptcu {

AdamW::AdamW(GPT& model, const AdamWConfig& config, int64_t begin, int64_t end)
    : model_(model), config_(config), begin_(begin) {
  const int64_t total = model.flat_parameters().numel();
  end_ = end < 0 ? total : end;
  GPTCU_CHECK(0 <= begin_ && begin_ <= end_ && end_ <= total, "AdamW range [", begin_, ", ", end_, ") of ", total);
  m_ = Tensor::zeros({end_ - begin_});
  v_ = Tensor::zeros({end_ - begin_});
}

double AdamW::step(double lr) {
  const float* grads = model_.flat_gradients().data<float>() + begin_;
  const double norm = std::sqrt(cpu::sum_squares(grads, end_ - begin_));
  update(lr, grads, norm);
  return norm;
}

void AdamW::update(double lr, const float* range_grads, double norm) {
  GPTCU_USER_CHECK(std::isfinite(norm), "gradient norm is ", norm, " (NaN or Inf): the update was not applied");
  float scale = 1.0f;
  if (config_.grad_clip > 0 && norm > config_.grad_clip) scale = (float)(config_.grad_clip / norm);
  t_++;
  const float* base = model_.flat_parameters().data<float>();
  for (const Parameter& p : model_.parameters()) {
    // the part of this parameter inside [begin, end), as offsets into the flat buffers
    const int64_t p0 = p.value.data<float>() - base, p1 = p0 + p.value.numel();
    const int64_t lo = std::max(p0, begin_), hi = std::min(p1, end_);
    if (lo >= hi) continue;
    const int64_t off = lo - begin_;  // offset into the range's buffers
    cpu::adamw_update(p.value.data<float>() + (lo - p0), range_grads + off, m_.data<float>() + off,
                      v_.data<float>() + off, hi - lo, (float)lr, (float)config_.beta1, (float)config_.beta2,
                      (float)config_.eps, p.weight_decay ? (float)config_.weight_decay : 0.0f, (int)t_, scale);
  }
}

}  // namespace gptcu
