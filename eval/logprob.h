// eval/logprob.h: log-likelihood of a continuation given a context under a GPT, batched, with
// one full forward pass per batch (no KV cache): what multiple-choice scoring reads.
//
//   std::vector<ContinuationScore> s = score_continuations(model, {ctx, ctx}, {opt_a, opt_b}, 16);
//   // s[i].logprob = sum over continuation tokens of log p(token | everything before it)
//
// Row i is context ++ continuation. Inputs are that sequence without its last token, targets
// the sequence shifted by one, counted only where they are continuation tokens
// (ops::token_logprobs over the model's real vocabulary). Rows are right-padded to the longest
// in the batch. A row longer than block_size + 1 loses its oldest context tokens (`truncated`);
// UserError when the context is empty or the continuation alone does not fit after one context
// token.
#pragma once
#include <cstdint>
#include <vector>

#include "model/gpt.h"

namespace gptcu {

struct ContinuationScore {
  double logprob = 0;  // natural log; 0 for an empty continuation
  int tokens = 0;      // continuation tokens scored
  bool truncated = false;
};

std::vector<ContinuationScore> score_continuations(GPT& model, const std::vector<std::vector<int32_t>>& contexts,
                                                   const std::vector<std::vector<int32_t>>& continuations,
                                                   int batch_size);

}  // namespace gptcu
