// train/adamw.h: AdamW over all parameters of a model, with global-norm gradient clipping.
//
// Moments live in two flat buffers parallel to GPT's flat parameter/gradient buffers.
// Weight decay applies to 2-D weights only (Parameter::weight_decay).
#pragma once
#include <cstdint>

#include "core/tensor.h"
#include "model/gpt.h"

namespace gptcu {

struct AdamWConfig {
  double beta1 = 0.9, beta2 = 0.95, eps = 1e-8, weight_decay = 0.1;
  double grad_clip = 1.0;  // max global L2 norm; 0: no clipping
};

class AdamW {
 public:
  AdamW(GPT& model, const AdamWConfig& config);

  // Clips (if configured) and applies one update with learning rate lr; returns the global
  // gradient norm before clipping. Does not zero the gradients.
  double step(double lr);

  int64_t steps_taken() const { return t_; }
  void set_steps_taken(int64_t t) { t_ = t; }
  Tensor exp_avg() const { return m_; }     // flat, like GPT::flat_parameters()
  Tensor exp_avg_sq() const { return v_; }

 private:
  GPT& model_;
  AdamWConfig config_;
  Tensor m_, v_;
  int64_t t_ = 0;
};

}  // namespace gptcu
