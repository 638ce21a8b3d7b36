// eval/generate.cpp
#include "eval/generate.h"

#include <algorithm>
#include <cmath>

#include "core/autograd.h"
#include "core/rng.h"

namespace gptcu {

int32_t sample_token(const float* logits, int V, float temperature, int top_k, float u) {
  if (temperature <= 0.0f) return (int32_t)(std::max_element(logits, logits + V) - logits);
  std::vector<float> z(logits, logits + V);
  float cutoff = -INFINITY;
  if (top_k > 0 && top_k < V) {
    std::vector<float> sorted = z;
    std::nth_element(sorted.begin(), sorted.begin() + (top_k - 1), sorted.end(), std::greater<float>());
    cutoff = sorted[top_k - 1];
  }
  const float mx = *std::max_element(z.begin(), z.end());
  double total = 0;
  for (float& v : z) {
    v = v < cutoff ? 0.0f : std::exp((v - mx) / temperature);
    total += v;
  }
  double acc = 0;
  const double target = u * total;
  for (int i = 0; i < V; i++) {
    acc += z[i];
    if (acc > target && z[i] > 0) return i;
  }
  for (int i = V; i-- > 0;)
    if (z[i] > 0) return i;
  return 0;
}

std::vector<int32_t> generate(GPT& model, std::vector<int32_t> ids, const SampleOptions& opt) {
  autograd::NoGradGuard no_grad;
  const GPTConfig& c = model.config();
  GPTCU_USER_CHECK(!ids.empty(), "generate: the prompt is empty");
  GPTCU_USER_CHECK(std::isfinite(opt.temperature) && opt.temperature >= 0, "temperature must be a finite number >= 0");
  const int V = opt.vocab_limit > 0 ? std::min(opt.vocab_limit, c.vocab_size) : c.vocab_size;
  Rng rng(opt.seed, /*stream=*/3);
  for (int n = 0; n < opt.max_new_tokens; n++) {
    const size_t ctx = std::min(ids.size(), (size_t)c.block_size);  // crop to the context
    std::vector<int32_t> window(ids.end() - (ptrdiff_t)ctx, ids.end());
    Tensor x = Tensor::from_vector(window, {1, (int64_t)ctx});
    Tensor logits = model.forward(x);  // (1, ctx, Vp)
    const float* last = logits.data<float>() + (ctx - 1) * (size_t)c.padded_vocab_size();
    const int32_t next = sample_token(last, V, opt.temperature, opt.top_k, rng.next_float());
    ids.push_back(next);
    if (next == opt.stop_token) break;
  }
  return ids;
}

}  // namespace gptcu
