// core/ops/attention_cached.cpp: causal attention of new tokens over a KV cache, for
// generation (see kernels/cpu/attention_cached.cpp). No gradient.
#include "core/ops.h"
#include "core/ops/dispatch.h"

namespace gptcu::ops {

Tensor attention_cached(const Tensor& qkv, Tensor& k_cache, Tensor& v_cache, const std::vector<int>& start,
                        int n_head) {
  detail::op_device("attention_cached", {&qkv, &k_cache, &v_cache});
  GPTCU_CHECK(!autograd::needs_grad({&qkv}), "attention_cached has no backward: run it under autograd::NoGradGuard");
  GPTCU_CHECK(qkv.dim() == 3 && qkv.size(2) % 3 == 0, "attention_cached: qkv must be (B, Tn, 3C), got ", qkv.str());
  const int B = (int)qkv.size(0), Tn = (int)qkv.size(1), C = (int)qkv.size(2) / 3;
  GPTCU_CHECK(n_head > 0 && C % n_head == 0, "attention_cached: C=", C, " not divisible by n_head=", n_head);
  GPTCU_CHECK(k_cache.dim() == 4, "attention_cached: k_cache must be (B, NH, Tmax, hs), got ", k_cache.str());
  const int Tmax = (int)k_cache.size(2);
  const Shape cache_shape = {B, n_head, Tmax, C / n_head};
  check_shape(k_cache, cache_shape, "attention_cached: k_cache");
  check_shape(v_cache, cache_shape, "attention_cached: v_cache");
  GPTCU_CHECK((int)start.size() == B, "attention_cached: ", start.size(), " start positions for ", B, " rows");
  for (int b = 0; b < B; b++)
    GPTCU_CHECK(start[b] >= 0 && start[b] + Tn <= Tmax, "attention_cached: row ", b, " writes positions ", start[b],
                "..", start[b] + Tn - 1, " of a cache of ", Tmax);
  Tensor out = Tensor::empty({B, Tn, C}, DType::f32, qkv.device());
  cpu::attention_cached_forward(out.data<float>(), k_cache.data<float>(), v_cache.data<float>(), qkv.data<float>(),
                                start.data(), B, Tn, C, n_head, Tmax);
  return out;
}

}  // namespace gptcu::ops
