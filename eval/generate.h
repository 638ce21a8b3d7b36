// eval/generate.h: batched autoregressive sampling from a GPT through a KV cache.
//
//   SampleOptions opt;  opt.max_new_tokens = 32;  opt.top_p = 0.9f;  opt.stop_tokens = {end_id};
//   std::vector<Generation> out = generate_batch(model, prompts, opt);   // one per prompt
//
// generate_batch right-pads the prompts into one batch and prefills a KVCache
// (model/kv_cache.h) with all but each prompt's last token; then every decode step feeds one
// token per unfinished row (the last prompt token first) and samples the next. Rows that end
// (a stop token) leave the decode batch, so a batch of mixed lengths costs what its live rows
// cost. Row i draws its uniforms from its own Philox stream (seed, stream_offset + i), one per
// new token, so its output does not depend on which other rows share the batch (up to float
// rounding of the batched matmuls, which moves a draw only when it lands within ~1e-7 of a
// boundary).
//
// Sampling a token: logits / temperature, then top-k (the k most likely ids), then top-p (the
// smallest set of the most likely ids holding at least p of the remaining probability), then
// one draw by cumulative probability in id order. Ties rank the lower id first; temperature 0
// is greedy (the first maximum), and so is top_k 1 or a tiny top_p.
//
// Streaming: opt.on_token(row, token) is called for every new token as soon as it is sampled
// (from the calling thread, rows in slot order within a step). Returning false ends that row
// there (Generation::cancelled; the token passed is its last); the other rows go on exactly as
// before. The server uses it to stream each request's text and to drop a row whose client left
// or whose stop string appeared. Each row may also have its own options (the overload taking
// one SampleOptions per prompt), since a server batch mixes requests with different settings.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "model/gpt.h"

namespace gptcu {

struct SampleOptions {
  int max_new_tokens = 200;
  float temperature = 1.0f;  // 0: greedy
  int top_k = 0;             // 0: off
  float top_p = 1.0f;        // nucleus, in (0, 1]; 1: off
  uint64_t seed = 1337;
  uint64_t stream_offset = 0;        // row i samples from Philox stream (seed, stream_offset + i)
  std::vector<int32_t> stop_tokens;  // a row ends after emitting one of these
  int vocab_limit = 0;  // sample only ids below this (the tokenizer's vocabulary); 0: the model's vocab_size
  // Called with (the row's index among the prompts, the new id) for each new token; false ends
  // the row. Empty: no calls. It must not call back into generation.
  std::function<bool(size_t row, int32_t token)> on_token;
};

struct Generation {
  std::vector<int32_t> tokens;    // the generated ids only (the stop token included when one ended the row)
  bool stopped = false;           // ended by a stop token (false: hit max_new_tokens or the context)
  bool cancelled = false;         // ended because on_token returned false
  int prompt_tokens_dropped = 0;  // prompt tokens cut from the left so that prompt + max_new_tokens fits the context
};

// One Generation per prompt, in order. A prompt longer than block_size - max_new_tokens keeps
// its last tokens (prompt_tokens_dropped counts the rest). UserError: an empty prompt, an id
// outside the model's vocabulary, max_new_tokens >= block_size, a bad temperature/top_k/top_p.
std::vector<Generation> generate_batch(GPT& model, const std::vector<std::vector<int32_t>>& prompts,
                                       const SampleOptions& opt);

// The same with options per prompt (opts.size() == prompts.size()): prompt i is sampled with
// opts[i] from stream (opts[i].seed, opts[i].stream_offset), with its own max_new_tokens,
// temperature, top-k/p, stop tokens, vocab_limit and on_token (called with row i). With equal
// options and stream_offset = i this is exactly the call above.
std::vector<Generation> generate_batch(GPT& model, const std::vector<std::vector<int32_t>>& prompts,
                                       const std::vector<SampleOptions>& opts);

// The single-prompt convenience used by `gptcu sample`: the prompt followed by the generated
// ids. When prompt + max_new_tokens fits the context this is exactly generate_batch({ids});
// otherwise it slides: whenever the context is full, the last block_size/2 tokens are
// prefilled into a fresh cache and sampling goes on (the same random stream throughout), so
// max_new_tokens may exceed block_size. on_token is called with row 0.
std::vector<int32_t> generate(GPT& model, std::vector<int32_t> ids, const SampleOptions& opt);

// Picks one id from one row of logits (only the first `vocab_size` are real), with the
// uniform draw uniform01 in [0, 1).
int32_t sample_token(const float* logits, int vocab_size, float temperature, int top_k, float top_p,
                     float uniform01);

}  // namespace gptcu
