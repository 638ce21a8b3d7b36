// eval/logprob.cpp
#include "eval/logprob.h"

#include <algorithm>

#include "core/autograd.h"
#include "core/check.h"
#include "core/ops.h"

namespace gptcu {

std::vector<ContinuationScore> score_continuations(GPT& model, const std::vector<std::vector<int32_t>>& contexts,
                                                   const std::vector<std::vector<int32_t>>& continuations,
                                                   int batch_size) {
  GPTCU_CHECK(contexts.size() == continuations.size(), "score_continuations: sizes differ");
  GPTCU_USER_CHECK(batch_size > 0, "batch size must be positive, got ", batch_size);
  autograd::NoGradGuard no_grad;
  const int block = model.config().block_size;
  const int vocab = model.config().vocab_size;
  std::vector<ContinuationScore> out(contexts.size());
  for (size_t s = 0; s < contexts.size(); s += (size_t)batch_size) {
    const size_t e = std::min(contexts.size(), s + (size_t)batch_size);
    // each row: the kept context and the continuation, as one sequence
    std::vector<std::vector<int32_t>> seqs;
    std::vector<int> first_target;  // index in seq of the first continuation token
    int T = 1;
    for (size_t i = s; i < e; i++) {
      const auto& ctx = contexts[i];
      const auto& cont = continuations[i];
      GPTCU_USER_CHECK(!ctx.empty(), "score_continuations: an empty context");
      GPTCU_USER_CHECK((int)cont.size() <= block, "a continuation of ", cont.size(),
                       " tokens does not fit the model's context of ", block, " tokens");
      const size_t keep = std::min(ctx.size(), (size_t)(block + 1) - cont.size());
      out[i].truncated = keep < ctx.size();
      std::vector<int32_t> seq(ctx.end() - (ptrdiff_t)keep, ctx.end());
      seq.insert(seq.end(), cont.begin(), cont.end());
      first_target.push_back((int)keep);
      T = std::max(T, (int)seq.size() - 1);
      seqs.push_back(std::move(seq));
    }
    const int B = (int)seqs.size();
    std::vector<int32_t> tokens((size_t)B * T, 0), targets((size_t)B * T, -1);
    for (int b = 0; b < B; b++) {
      const auto& seq = seqs[b];
      for (int t = 0; t + 1 < (int)seq.size(); t++) {
        tokens[(size_t)b * T + t] = seq[t];
        if (t + 1 >= first_target[b]) targets[(size_t)b * T + t] = seq[t + 1];
      }
      for (int32_t id : seq) GPTCU_USER_CHECK(id >= 0 && id < vocab, "token id ", id, " is outside the model's vocabulary of ", vocab);
    }
    const Tensor x = Tensor::from_vector(tokens, {B, T});
    const Tensor y = Tensor::from_vector(targets, {B, T});
    const std::vector<float> lp = ops::token_logprobs(model.forward(x), y, vocab).to_vector();  // (B, T)
    for (int b = 0; b < B; b++) {
      ContinuationScore& c = out[s + b];
      for (int t = 0; t < T; t++) {
        if (targets[(size_t)b * T + t] < 0) continue;
        c.logprob += lp[(size_t)b * T + t];
        c.tokens++;
      }
    }
  }
  return out;
}

}  // namespace gptcu
