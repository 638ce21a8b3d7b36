// model/kv_cache.cpp: KVCache, and GPT::forward_cached (the forward pass of generation,
// the same blocks as GPT::hidden_states with attention over the cache).
#include "model/kv_cache.h"

#include "core/autograd.h"
#include "core/ops.h"

namespace gptcu {

KVCache::KVCache(const GPTConfig& config, int batch, int capacity, Device device) : length(batch, 0) {
  GPTCU_CHECK(batch > 0, "KVCache: batch ", batch);
  GPTCU_CHECK(capacity > 0 && capacity <= config.block_size, "KVCache: capacity ", capacity,
              " outside 1..block_size (", config.block_size, ")");
  const Shape shape = {batch, config.n_head, capacity, config.n_embd / config.n_head};
  for (int l = 0; l < config.n_layer; l++) {
    k.push_back(Tensor::zeros(shape, DType::f32, device));
    v.push_back(Tensor::zeros(shape, DType::f32, device));
  }
}

void KVCache::keep_rows(const std::vector<int>& rows) {
  const int n = (int)rows.size(), B = batch();
  GPTCU_CHECK(n > 0 && n <= B, "KVCache::keep_rows: ", n, " rows of ", B);
  std::vector<bool> seen(B, false);
  for (int r : rows) {
    GPTCU_CHECK(r >= 0 && r < B && !seen[r], "KVCache::keep_rows: bad or repeated row ", r);
    seen[r] = true;
  }
  std::vector<int> new_length(n);
  for (int i = 0; i < n; i++) new_length[i] = length[rows[i]];
  for (std::vector<Tensor>* cache : {&k, &v}) {
    for (Tensor& t : *cache) {
      // copy every moving row aside first, so that a source is never overwritten before it is read
      std::vector<std::pair<int, Tensor>> moved;
      for (int i = 0; i < n; i++)
        if (rows[i] != i) moved.emplace_back(i, t.slice0(rows[i], rows[i] + 1).clone());
      for (auto& [i, row] : moved) t.slice0(i, i + 1).copy_from(row);
      t = t.slice0(0, n);
    }
  }
  length = std::move(new_length);
}

Tensor GPT::forward_cached(const Tensor& tokens, KVCache& cache) {
  autograd::NoGradGuard no_grad;
  GPTCU_CHECK(tokens.dim() == 2, "forward_cached: tokens must be (B, Tn), got ", tokens.str());
  const int B = (int)tokens.size(0), Tn = (int)tokens.size(1);
  GPTCU_CHECK(B == cache.batch(), "forward_cached: ", B, " rows of tokens for a cache of ", cache.batch());
  GPTCU_CHECK((int)cache.k.size() == config_.n_layer && (int)cache.v.size() == config_.n_layer,
              "forward_cached: the cache has ", cache.k.size(), " layers, the model ", config_.n_layer);
  std::vector<int32_t> positions((size_t)B * Tn);
  for (int b = 0; b < B; b++) {
    GPTCU_CHECK(cache.length[b] >= 0 && cache.length[b] + Tn <= cache.capacity(), "forward_cached: row ", b,
                " holds ", cache.length[b], " tokens; ", Tn, " more exceed the cache capacity ", cache.capacity());
    for (int t = 0; t < Tn; t++) positions[(size_t)b * Tn + t] = cache.length[b] + t;
  }
  Tensor x = ops::embedding_at(tokens, Tensor::from_vector(positions, {B, Tn}), wte_, wpe_);  // (B, Tn, C)
  const std::vector<int> start = cache.length;
  for (int l = 0; l < config_.n_layer; l++)
    x = block(layers_[l], x, [&](const Tensor& qkv) {
      return ops::attention_cached(qkv, cache.k[l], cache.v[l], start, config_.n_head);
    });
  x = ops::layernorm(x, ln_f_w_, ln_f_b_);
  for (int b = 0; b < B; b++) cache.length[b] += Tn;
  return ops::linear(x, wte_, Tensor(), ops::WeightLayout::out_in);  // tied LM head (B, Tn, Vp)
}

}  // namespace gptcu
