// eval/perplexity.h: perplexity of a GPT on a token stream (a tokenized text file, or token
// shards from `gptcu data prepare`).
//
//   TokenStream s = token_stream(tokens);                   // or shard_stream(files)
//   PerplexityResult r = perplexity(model, s, {.batch_size = 8, .log = &std::cout});
//   // r.mean_nll (nats per token), r.perplexity = exp(mean_nll), r.tokens_per_second
//
// The stream is cut into consecutive windows of block_size + 1 tokens that overlap by one
// (window k reads tokens kT .. kT+T, T = block_size), so every token but the first is
// predicted exactly once, from the tokens of its window before it (at most T - 1 of them). The
// last window may be shorter. mean_nll = the sum of the per-token cross-entropies / the tokens
// predicted. With a log, a progress line (tokens done, rate, ETA) at most once a second.
#pragma once
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "model/gpt.h"

namespace gptcu {

struct TokenStream {
  int64_t size = 0;
  std::function<void(int64_t begin, int64_t n, int32_t* out)> copy;  // tokens [begin, begin+n)
};
// A stream over tokens in memory (which must outlive it).
TokenStream token_stream(const std::vector<int32_t>& tokens);
// The token shards (data/shard.h), concatenated in the given order. UserError: an invalid shard.
TokenStream shard_stream(const std::vector<std::string>& files);

struct PerplexityOptions {
  int batch_size = 8;       // windows per forward pass
  int64_t max_tokens = 0;   // score at most this many tokens (0: all)
  std::ostream* log = nullptr;
};

struct PerplexityResult {
  int64_t tokens = 0;   // tokens predicted
  int64_t windows = 0;
  double nll_sum = 0;   // nats
  double mean_nll = 0;
  double perplexity = 0;
  double seconds = 0;
  double tokens_per_second = 0;
};

// UserError: fewer than 2 tokens, a token id outside the model's vocabulary.
PerplexityResult perplexity(GPT& model, const TokenStream& stream, const PerplexityOptions& opt);

}  // namespace gptcu
