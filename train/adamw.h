// train/adamw.h: AdamW over all parameters of a model, with global-norm gradient clipping.
//
// Moments live in two flat buffers parallel to GPT's flat parameter/gradient buffers, or to a
// range [begin, end) of them: with ZeRO-1 each data-parallel rank's optimizer owns one shard of
// the flat parameters (its moments are that shard's, and it updates only those parameters; see
// train/data_parallel.h). Weight decay applies to 2-D weights only (Parameter::weight_decay),
// also where a shard boundary cuts a parameter in two.
//
// On a GPU (to_device()), the moments and fp32 master weights live on the device and one fused
// kernel updates every parameter (kernels/cuda/adamw.cu): the gradient norm is computed and applied
// on the GPU, and only read back afterwards, for the log. A bf16 model gets its parameters
// rewritten from the master weights after each step; an f32 model's parameters are the master.
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
  // Updates flat parameters [begin, end) (end < 0: to the end, i.e. the whole model).
  AdamW(GPT& model, const AdamWConfig& config, int64_t begin = 0, int64_t end = -1);

  // Clips (if configured) and applies one update with learning rate lr from the model's own
  // gradients of the range; returns their L2 norm before clipping (the global norm when the
  // range is the whole model). Does not zero the gradients.
  double step(double lr);
  // The same without waiting for the GPU: queues the update and returns the squared norm as a
  // one-element f32 tensor on the model's device, to be read later (the trainer reads it when it
  // logs). A non-finite norm means the update was skipped (the CPU does the same): the caller must
  // then stop, as the step counter may have moved on. step() and queue_step() treat the range's
  // norm as the global one: the whole model, or a caller that has no other ranks.
  Tensor queue_step(double lr);
  // The same from given gradients of the range (end - begin floats) and a gradient norm computed
  // elsewhere (ZeRO-1: over every rank's shard). UserError when the norm is not finite.
  void update(double lr, const float* range_grads, double global_norm);

  // Moves the optimizer next to a model already moved to a GPU (GPT::to): moments go to the
  // device, and `master` (the fp32 flat parameters GPT::to returned, the whole model) becomes the
  // master weights of the range when the model keeps bf16.
  void to_device(const Tensor& master);
  // The fp32 values of the range's parameters: the master weights on a bf16 GPU model (a shard's
  // only, with ZeRO-1: DataParallel::master_weights gathers the whole), else the model's own
  // whole flat parameters (what a checkpoint saves).
  Tensor master_weights() const;

  // GPU, in two halves for ZeRO-1 (DataParallel all-reduces the norm in between), without a wait:
  // queue_norm_sq queues the squared L2 norm of `range_grads` (end - begin elements of the model's
  // dtype, on the device) into a one-element f32 device tensor and returns it; queue_update then
  // queues the update of the range from range_grads, clipped by the square root of what that
  // tensor holds by then. A non-finite norm leaves everything unchanged (undo_step() then puts the
  // step counter back).
  Tensor queue_norm_sq(const void* range_grads);
  void queue_update(double lr, const void* range_grads);
  void undo_step() { t_--; }

  int64_t begin() const { return begin_; }
  int64_t end() const { return end_; }
  int64_t steps_taken() const { return t_; }
  void set_steps_taken(int64_t t) { t_ = t; }
  Tensor exp_avg() const { return m_; }     // flat over [begin, end), like GPT::flat_parameters()
  Tensor exp_avg_sq() const { return v_; }

 private:
  GPT& model_;
  AdamWConfig config_;
  int64_t begin_, end_;
  Tensor m_, v_;
  int64_t t_ = 0;
  // GPU only: fp32 master weights of the range (undefined for an f32 model), the chunk list of
  // the fused kernel (AdamWChunk array as bytes, offsets from `begin`), the squared gradient norm
  // and its reduction scratch
  Tensor master_, chunks_, norm_sq_, norm_scratch_;
  int n_chunks_ = 0;
  void queue_device(double lr);
};

}  // namespace gptcu
