// core/ops/cross_entropy.cpp: fused softmax + cross-entropy with an ignore index and a
// per-token loss mask (see kernels/cpu/cross_entropy.cpp).
#include "core/ops.h"
#include "core/ops/dispatch.h"

namespace gptcu::ops {

Tensor cross_entropy_per_token(const Tensor& logits, const Tensor& targets, int vocab_size) {
  const Device dev = detail::op_device("cross_entropy", {&logits, &targets}, true);
  const int N = detail::check_logit_targets("cross_entropy", logits, targets, vocab_size);
  const int Vp = (int)logits.size(-1);
#ifdef GPTCU_HAVE_CUDA
  if (detail::on_cuda(dev)) {
    return detail::with_storage_type(logits, [&](auto t) {
      using T = decltype(t);
      Tensor losses = Tensor::empty(targets.shape(), DType::f32, dev);
      Tensor lse = Tensor::empty({N}, DType::f32, dev);  // log-sum-exp per row, for the backward
      cuda::cross_entropy_forward(losses.data<float>(), lse.data<float>(), logits.data<T>(), targets.data<int32_t>(), N,
                                  vocab_size, Vp, cuda_stream(dev));
      if (autograd::needs_grad({&logits})) {
        autograd::record(losses, [=]() {
          cuda::cross_entropy_backward(detail::grad_ptr<T>(logits), losses.grad().data<float>(), logits.data<T>(),
                                       lse.data<float>(), targets.data<int32_t>(), N, vocab_size, Vp, cuda_stream(dev));
        });
      }
      return losses;
    });
  }
#endif
  const int32_t* tgt = targets.data<int32_t>();
  Tensor losses = Tensor::empty(targets.shape());
  cpu::cross_entropy_forward(losses.data<float>(), logits.data<float>(), tgt, N, vocab_size, Vp);
  if (autograd::needs_grad({&logits})) {
    autograd::record(losses, [=]() {
      cpu::cross_entropy_backward(detail::grad_ptr(logits), losses.grad().data<float>(),
                                  logits.data<float>(), targets.data<int32_t>(), N, vocab_size, Vp);
    });
  }
  return losses;
}

Tensor cross_entropy(const Tensor& logits, const Tensor& targets, int vocab_size, const Tensor& mask) {
  Tensor losses = cross_entropy_per_token(logits, targets, vocab_size);
  const int64_t N = losses.numel();
  if (mask.defined()) check_shape(mask, targets.shape(), "cross_entropy mask");
#ifdef GPTCU_HAVE_CUDA
  if (detail::on_cuda(losses.device())) {
    const Device dev = losses.device();
    GPTCU_CHECK(!mask.defined() || mask.device() == dev, "cross_entropy: mask ", mask.str(), " vs logits on ", dev.str());
    // Weighted mean on the GPU: the count stays on the device (no host sync). A batch with no
    // counted token gives 0 here (the CPU path reports it); the data loaders never produce one.
    Tensor out = Tensor::empty({1}, DType::f32, dev);
    Tensor weights = Tensor::empty({N}, DType::f32, dev), count = Tensor::empty({1}, DType::f32, dev);
    cuda::weighted_mean_forward(out.data<float>(), weights.data<float>(), count.data<float>(), losses.data<float>(),
                                targets.data<int32_t>(), detail::opt_ptr<float>(mask), (int)N, cuda_stream(dev));
    if (autograd::needs_grad({&losses})) {
      autograd::record(out, [=]() {
        cuda::weighted_mean_backward(detail::grad_ptr<float>(losses), out.grad().data<float>(), weights.data<float>(),
                                     count.data<float>(), (int)N, cuda_stream(dev));
      });
    }
    return out;
  }
#endif
  // Weighted mean over the counted tokens. The weights are fixed (no gradient into the mask).
  const int32_t* tgt = targets.data<int32_t>();
  const float* m = mask.defined() ? mask.data<float>() : nullptr;
  Tensor weights = Tensor::empty(targets.shape());
  float* w = weights.data<float>();
  double count = 0;
  for (int64_t i = 0; i < N; i++) {
    w[i] = tgt[i] < 0 ? 0.0f : (m ? m[i] : 1.0f);
    count += w[i];
  }
  GPTCU_CHECK(count > 0, "cross_entropy: no token is counted (all targets ignored or masked)");
  const float inv = (float)(1.0 / count);
  const float* l = losses.data<float>();
  double total = 0;
  for (int64_t i = 0; i < N; i++) total += (double)w[i] * l[i];
  Tensor out = Tensor::full({1}, (float)(total * inv));
  if (autograd::needs_grad({&losses})) {
    autograd::record(out, [=]() {
      const float g = out.grad().data<float>()[0] * inv;
      float* dl = detail::grad_ptr(losses);
      const float* ww = weights.data<float>();
      for (int64_t i = 0; i < N; i++) dl[i] += g * ww[i];
    });
  }
  return out;
}

}  // namespace gptcu::ops
