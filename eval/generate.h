// eval/generate.h: autoregressive sampling from a GPT.
//
// For now each new token runs a full forward pass over the (cropped) context; the KV-cache
// sampler replaces this loop with the post-training work. Sampling: logits / temperature,
// optional top-k, then a draw from the counter-based RNG (seeded, reproducible);
// temperature 0 is greedy.
#pragma once
#include <cstdint>
#include <vector>

#include "model/gpt.h"

namespace gptcu {

struct SampleOptions {
  int max_new_tokens = 200;
  float temperature = 1.0f;
  int top_k = 0;  // 0: whole vocabulary
  uint64_t seed = 1337;
  int32_t stop_token = -1;  // stop after emitting this id (< 0: never)
  int vocab_limit = 0;      // sample only ids below this (the tokenizer's vocabulary); 0: the model's
};

// Returns the prompt followed by the generated ids.
std::vector<int32_t> generate(GPT& model, std::vector<int32_t> ids, const SampleOptions& opt);

// Picks one id from one row of logits (only the first `vocab_size` are real).
int32_t sample_token(const float* logits, int vocab_size, float temperature, int top_k, float uniform01);

}  // namespace gptcu
