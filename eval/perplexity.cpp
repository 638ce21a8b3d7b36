// eval/perplexity.cpp
#include "eval/perplexity.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>

#include "core/autograd.h"
#include "core/check.h"
#include "core/ops.h"
#include "data/progress.h"
#include "data/shard.h"

namespace gptcu {

TokenStream token_stream(const std::vector<int32_t>& tokens) {
  return {(int64_t)tokens.size(),
          [&tokens](int64_t begin, int64_t n, int32_t* out) { std::copy_n(tokens.begin() + begin, n, out); }};
}

TokenStream shard_stream(const std::vector<std::string>& files) {
  auto shards = std::make_shared<std::vector<TokenShard>>();
  auto starts = std::make_shared<std::vector<int64_t>>(1, 0);
  for (const std::string& f : files) {
    shards->emplace_back(f);
    starts->push_back(starts->back() + shards->back().size());
  }
  TokenStream s;
  s.size = starts->back();
  s.copy = [shards, starts](int64_t begin, int64_t n, int32_t* out) {
    // the shard holding `begin`, then onwards
    size_t k = (size_t)(std::upper_bound(starts->begin(), starts->end(), begin) - starts->begin()) - 1;
    while (n > 0) {
      const int64_t off = begin - (*starts)[k];
      const int64_t take = std::min(n, (*shards)[k].size() - off);
      (*shards)[k].copy(off, take, out);
      out += take;
      begin += take;
      n -= take;
      k++;
    }
  };
  return s;
}

PerplexityResult perplexity(GPT& model, const TokenStream& stream, const PerplexityOptions& opt) {
  GPTCU_USER_CHECK(stream.size >= 2, "perplexity needs at least 2 tokens, got ", stream.size);
  GPTCU_USER_CHECK(opt.batch_size > 0, "batch size must be positive, got ", opt.batch_size);
  autograd::NoGradGuard no_grad;
  const int T = model.config().block_size;
  const int vocab = model.config().vocab_size;
  int64_t predict = stream.size - 1;  // tokens 1 .. size-1
  if (opt.max_tokens > 0) predict = std::min(predict, opt.max_tokens);
  std::unique_ptr<Progress> progress;
  if (opt.log) progress = std::make_unique<Progress>(*opt.log, "perplexity", (double)predict, "tokens");
  const auto t0 = std::chrono::steady_clock::now();
  PerplexityResult r;
  std::vector<int32_t> window(T + 1);
  for (int64_t start = 0; start < predict;) {
    // up to batch_size windows: window k predicts tokens start+1 .. start+len
    std::vector<int32_t> x, y;
    int B = 0;
    for (; B < opt.batch_size && start < predict; B++) {
      const int len = (int)std::min<int64_t>(T, predict - start);
      stream.copy(start, len + 1, window.data());
      for (int t = 0; t <= len; t++)
        GPTCU_USER_CHECK(window[t] >= 0 && window[t] < vocab, "token ", window[t], " at position ", start + t,
                         " is outside the model's vocabulary of ", vocab);
      for (int t = 0; t < T; t++) {
        x.push_back(t < len ? window[t] : 0);
        y.push_back(t < len ? window[t + 1] : -1);
      }
      start += len;
      r.tokens += len;
    }
    const Tensor logits = model.forward(Tensor::from_vector(x, {B, T}));
    for (float l : ops::cross_entropy_per_token(logits, Tensor::from_vector(y, {B, T}), vocab).to_vector())
      r.nll_sum += l;
    r.windows += B;
    if (progress) progress->update((double)r.tokens);
  }
  if (progress) progress->finish();
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.mean_nll = r.nll_sum / (double)r.tokens;
  r.perplexity = std::exp(r.mean_nll);
  r.tokens_per_second = r.seconds > 0 ? (double)r.tokens / r.seconds : 0;
  return r;
}

}  // namespace gptcu
