// model/kv_cache.h: the key/value cache of generation, and GPT::forward_cached's home.
//
// Per layer, the keys and values of every token a row has seen so far, so that a new token
// costs one position's worth of compute instead of a forward over the whole sequence:
//
//   KVCache cache(model.config(), /*batch=*/B, /*capacity=*/P + N);
//   Tensor logits = model.forward_cached(prompts /*(B, P), right-padded*/, cache);  // prefill
//   for (int b = 0; b < B; b++) cache.length[b] = prompt_len[b];  // forget the padding
//   logits = model.forward_cached(next /*(B, 1)*/, cache);          // one decode step
//
// Row b holds cache.length[b] tokens at positions 0..length-1; a forward_cached call appends
// at length[b] and raises it. Entries past length are ignored and get overwritten, so lowering
// length[b] (after a right-padded prefill, or to rewind a row) is always allowed.
// eval/generate.h drives this for batched sampling.
#pragma once
#include <vector>

#include "core/tensor.h"
#include "model/gpt.h"

namespace gptcu {

struct KVCache {
  // capacity: positions per row, 1..config.block_size. Zero-filled, lengths 0.
  KVCache(const GPTConfig& config, int batch, int capacity, Device device = {});

  std::vector<Tensor> k, v;  // per layer (B, NH, capacity, hs) f32
  std::vector<int> length;   // (B) tokens cached per row

  int batch() const { return (int)length.size(); }
  int capacity() const { return (int)k.front().size(2); }

  // Keeps only the given rows, in the given order: new row i is old row rows[i] (distinct
  // indices). The batch shrinks to rows.size() without reallocating; only rows that change
  // slot are copied. Generation uses it to drop finished rows from the decode batch.
  void keep_rows(const std::vector<int>& rows);
};

}  // namespace gptcu
