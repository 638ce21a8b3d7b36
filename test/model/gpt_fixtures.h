// test/model/gpt_fixtures.h: the small GPT and the random token batches that the model, recompute,
// memory-plan and CUDA training tests share (header-only; each test binary includes it).
#pragma once
#include <cstdint>
#include <random>
#include <vector>

#include "core/tensor.h"
#include "model/gpt.h"

namespace gptcu::test {

// 2 layers, 2 heads, 64 wide (head dim 32); the default context 33 is an odd T and the default
// vocabulary 100 is padded to 128.
inline GPTConfig small_gpt_config(int block_size = 33, int vocab_size = 100) {
  GPTConfig c;
  c.n_layer = 2;
  c.n_head = 2;
  c.n_embd = 64;
  c.block_size = block_size;
  c.vocab_size = vocab_size;
  return c;
}

struct TokenBatch {
  Tensor x, y;  // (B, T) i32 tokens and targets, on the host
};

// pattern: a learnable sequence (each row counts up mod 11 from a random offset, the target is the
// next number), so a model's loss falls on it. Otherwise uniform ids, and with `ignore` about one
// target in 13 is -1 (ignored by the loss).
inline TokenBatch random_token_batch(const GPTConfig& c, int B, int T, uint32_t seed, bool pattern = false,
                                     bool ignore = true) {
  std::mt19937 gen(seed);
  std::vector<int32_t> x(B * T), y(B * T);
  for (int b = 0; b < B; b++) {
    const int offset = (int)(gen() % 7);
    for (int t = 0; t < T; t++) {
      const int i = b * T + t;
      x[i] = pattern ? (offset + t) % 11 : (int)(gen() % c.vocab_size);
      y[i] = pattern ? (offset + t + 1) % 11 : (int)(gen() % c.vocab_size);
      if (!pattern && ignore && gen() % 13 == 0) y[i] = -1;
    }
  }
  return {Tensor::from_vector(x, {B, T}), Tensor::from_vector(y, {B, T})};
}

}  // namespace gptcu::test
