// train/adamw.cpp
#include "train/adamw.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "core/cuda.h"
#include "kernels/cpu/cpu_kernels.h"
#include "kernels/cuda/cuda_kernels.h"

namespace gptcu {

AdamW::AdamW(GPT& model, const AdamWConfig& config, int64_t begin, int64_t end)
    : model_(model), config_(config), begin_(begin) {
  const int64_t total = model.flat_parameters().numel();
  end_ = end < 0 ? total : end;
  GPTCU_CHECK(0 <= begin_ && begin_ <= end_ && end_ <= total, "AdamW range [", begin_, ", ", end_, ") of ", total);
  m_ = Tensor::zeros({end_ - begin_});
  v_ = Tensor::zeros({end_ - begin_});
}

void AdamW::to_device(const Tensor& master) {
#ifndef GPTCU_HAVE_CUDA
  (void)master;
  throw Error("AdamW::to_device in a build without CUDA");
#else
  const Device dev = model_.device();
  GPTCU_CHECK(!dev.is_cpu() && master.numel() == model_.flat_parameters().numel(),
              "AdamW::to_device: a GPU model and its whole fp32 parameters");
  m_ = m_.to(dev);
  v_ = v_.to(dev);
  if (model_.dtype() == DType::bf16) master_ = master.slice0(begin_, end_).to(dev, DType::f32);
  // one chunk list for the fused kernel: pieces of at most adamw_chunk_elems inside one parameter
  // and inside the range, as offsets from `begin` (the kernel gets the range's pointers)
  std::vector<cuda::AdamWChunk> chunks;
  const Tensor flat = model_.flat_parameters();
  const size_t esize = dtype_size(flat.dtype());
  for (const Parameter& p : model_.parameters()) {
    const int64_t p0 = ((const char*)p.value.raw() - (const char*)flat.raw()) / (int64_t)esize;
    const int64_t lo = std::max(p0, begin_), hi = std::min(p0 + p.value.numel(), end_);
    const float wd = p.weight_decay ? (float)config_.weight_decay : 0.0f;
    for (int64_t b = lo; b < hi; b += cuda::adamw_chunk_elems)
      chunks.push_back({b - begin_, (int32_t)std::min<int64_t>(cuda::adamw_chunk_elems, hi - b), wd});
  }
  n_chunks_ = (int)chunks.size();
  const size_t bytes = chunks.size() * sizeof(cuda::AdamWChunk);
  Tensor host = Tensor::empty({(int64_t)std::max<size_t>(bytes + 3, 4) / 4}, DType::i32);
  std::memcpy(host.raw(), chunks.data(), bytes);
  chunks_ = host.to(dev);
  norm_sq_ = Tensor::zeros({1}, DType::f32, dev);
  norm_scratch_ =
      Tensor::empty({(int64_t)(cuda::grad_norm_scratch_bytes(std::max<int64_t>(end_ - begin_, 1)) + 3) / 4}, DType::i32, dev);
#endif
}

Tensor AdamW::master_weights() const { return master_.defined() ? master_ : model_.flat_parameters(); }

Tensor AdamW::queue_norm_sq(const void* range_grads) {
#ifdef GPTCU_HAVE_CUDA
  GPTCU_CHECK(norm_sq_.defined(), "AdamW::queue_norm_sq before to_device");
  cudaStream_t s = cuda_stream(model_.device());
  if (model_.dtype() == DType::bf16)
    cuda::sum_squares(norm_sq_.data<float>(), norm_scratch_.raw(), static_cast<const bf16*>(range_grads), end_ - begin_, s);
  else
    cuda::sum_squares(norm_sq_.data<float>(), norm_scratch_.raw(), static_cast<const float*>(range_grads), end_ - begin_, s);
  return norm_sq_;
#else
  (void)range_grads;
  throw Error("AdamW on a GPU in a build without CUDA");
#endif
}

void AdamW::queue_update(double lr, const void* range_grads) {
#ifdef GPTCU_HAVE_CUDA
  cudaStream_t s = cuda_stream(model_.device());
  t_++;
  auto run = [&](auto tag) {
    using T = decltype(tag);
    cuda::adamw_update(model_.flat_parameters().data<T>() + begin_, master_.defined() ? master_.data<float>() : nullptr,
                       static_cast<const T*>(range_grads), m_.data<float>(), v_.data<float>(),
                       static_cast<const cuda::AdamWChunk*>(chunks_.raw()), n_chunks_, (float)lr, (float)config_.beta1,
                       (float)config_.beta2, (float)config_.eps, (int)t_, (float)config_.grad_clip,
                       norm_sq_.data<float>(), s);
  };
  if (model_.dtype() == DType::bf16) run(bf16{});
  else run(float{});
#else
  (void)lr;
  (void)range_grads;
  throw Error("AdamW on a GPU in a build without CUDA");
#endif
}

void AdamW::queue_device(double lr) {
  const Tensor grads = model_.flat_gradients();
  const void* range = static_cast<const char*>(grads.raw()) + begin_ * (int64_t)dtype_size(grads.dtype());
  queue_norm_sq(range);
  queue_update(lr, range);
}

Tensor AdamW::queue_step(double lr) {
  if (model_.device().is_cpu()) {  // as the GPU kernel does: a non-finite norm skips the update
    const float* grads = model_.flat_gradients().data<float>() + begin_;
    const double norm_sq = cpu::sum_squares(grads, end_ - begin_);
    if (std::isfinite(norm_sq)) update(lr, grads, std::sqrt(norm_sq));
    return Tensor::full({1}, (float)norm_sq);
  }
  queue_device(lr);
  return norm_sq_.clone();  // the next step overwrites norm_sq_
}

double AdamW::step(double lr) {
  if (!model_.device().is_cpu()) {
    queue_device(lr);
    const double norm = std::sqrt((double)norm_sq_.item());  // read back after the update is queued
    if (!std::isfinite(norm)) undo_step();  // the kernel skipped the update
    GPTCU_USER_CHECK(std::isfinite(norm), "gradient norm is ", norm, " (NaN or Inf): the update was not applied");
    return norm;
  }
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
