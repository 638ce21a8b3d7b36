// eval/generate.cpp: token sampling (temperature, top-k, top-p) and batched generation through
// a KV cache (see eval/generate.h).
#include "eval/generate.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/autograd.h"
#include "core/rng.h"
#include "model/kv_cache.h"

namespace gptcu {

int32_t sample_token(const float* logits, int V, float temperature, int top_k, float top_p, float u) {
  if (temperature <= 0.0f) return (int32_t)(std::max_element(logits, logits + V) - logits);
  const float mx = *std::max_element(logits, logits + V);
  std::vector<float> z(V);  // unnormalised probabilities
  for (int i = 0; i < V; i++) z[i] = std::exp((logits[i] - mx) / temperature);
  int keep = (top_k > 0 && top_k < V) ? top_k : V;
  if (keep < V || top_p < 1.0f) {
    // idx[0..keep): the `keep` most likely ids (ties: the lower id first)
    std::vector<int32_t> idx(V);
    std::iota(idx.begin(), idx.end(), 0);
    const auto before = [&](int32_t a, int32_t b) { return z[a] > z[b] || (z[a] == z[b] && a < b); };
    if (keep < V) std::nth_element(idx.begin(), idx.begin() + (keep - 1), idx.end(), before);
    if (top_p < 1.0f) {  // sort a growing prefix of them until it holds top_p of their mass
      double total = 0;
      for (int j = 0; j < keep; j++) total += z[idx[j]];
      const double target = (double)top_p * total;
      double acc = 0;
      int m = 0;
      for (int sorted = 0, chunk = 64; m < keep; sorted = std::min(keep, chunk), chunk *= 2) {
        const int end = std::min(keep, chunk);
        std::partial_sort(idx.begin() + sorted, idx.begin() + end, idx.begin() + keep, before);
        while (m < end && acc < target) acc += z[idx[m++]];
        if (acc >= target) break;
      }
      keep = std::max(m, 1);
    }
    std::vector<float> kept(V, 0.0f);
    for (int j = 0; j < keep; j++) kept[idx[j]] = z[idx[j]];
    z.swap(kept);
  }
  double total = 0;
  for (float p : z) total += p;
  const double target = u * total;
  double acc = 0;
  for (int i = 0; i < V; i++) {
    acc += z[i];
    if (acc > target && z[i] > 0) return i;
  }
  for (int i = V; i-- > 0;)  // u * total rounded up to the total
    if (z[i] > 0) return i;
  return 0;
}

namespace {

// Checks the options against the model (for_batch: max_new_tokens must leave room for a
// prompt token); returns the number of ids that may be sampled.
int check_options(const GPTConfig& c, const SampleOptions& opt, bool for_batch) {
  GPTCU_USER_CHECK(opt.max_new_tokens >= 0, "max_new_tokens must be >= 0, got ", opt.max_new_tokens);
  GPTCU_USER_CHECK(std::isfinite(opt.temperature) && opt.temperature >= 0, "temperature must be a finite number >= 0");
  GPTCU_USER_CHECK(opt.top_k >= 0, "top_k must be >= 0, got ", opt.top_k);
  GPTCU_USER_CHECK(opt.top_p > 0 && opt.top_p <= 1, "top_p must be in (0, 1], got ", opt.top_p);
  GPTCU_USER_CHECK(opt.vocab_limit >= 0, "vocab_limit must be >= 0, got ", opt.vocab_limit);
  GPTCU_USER_CHECK(opt.max_new_tokens < c.block_size || !for_batch, "max_new_tokens (", opt.max_new_tokens,
                   ") must be smaller than the model's context (block_size ", c.block_size, ")");
  return opt.vocab_limit > 0 ? std::min(opt.vocab_limit, c.vocab_size) : c.vocab_size;
}

void check_prompt(const GPTConfig& c, const std::vector<int32_t>& prompt, size_t i) {
  GPTCU_USER_CHECK(!prompt.empty(), "generate: prompt ", i, " is empty");
  for (int32_t id : prompt)
    GPTCU_USER_CHECK(id >= 0 && id < c.vocab_size, "generate: prompt ", i, " has token id ", id,
                     " outside the model's vocabulary [0, ", c.vocab_size, ")");
}

struct Row {
  std::vector<int32_t> context;  // the tokens to condition on (non-empty, fits the cache)
  Rng rng;                       // one uniform per new token
  Generation* out;               // new tokens are appended here
  const SampleOptions* opt;      // temperature, top-k/p, stop tokens, on_token
  int V;                         // ids below this may be sampled
  size_t index;                  // the row number on_token is given
  int max_new = 0;               // tokens to sample in this decode() call (> 0)
};

// Samples up to row.max_new tokens for every row through one KV cache: a prefill of all but
// each context's last token (right-padded), then one decode step per token for the live rows.
// The last new token is never fed back, so row i needs context + max_new - 1 positions.
void decode(GPT& model, std::vector<Row>& rows) {
  const int n = (int)rows.size();
  if (n == 0) return;
  autograd::NoGradGuard no_grad;
  const int Vp = model.config().padded_vocab_size();
  int maxlen = 0, capacity = 1;
  for (const Row& r : rows) {
    GPTCU_CHECK(r.max_new > 0 && !r.context.empty());
    maxlen = std::max(maxlen, (int)r.context.size());
    capacity = std::max(capacity, (int)r.context.size() + r.max_new - 1);
  }
  KVCache cache(model.config(), n, capacity);
  if (const int P = maxlen - 1; P > 0) {
    std::vector<int32_t> prefill((size_t)n * P, 0);  // padding id 0: cached, then forgotten
    for (int i = 0; i < n; i++) std::copy(rows[i].context.begin(), rows[i].context.end() - 1, prefill.begin() + (size_t)i * P);
    model.forward_cached(Tensor::from_vector(prefill, {n, P}), cache);  // the logits are not needed
    for (int i = 0; i < n; i++) cache.length[i] = (int)rows[i].context.size() - 1;
  }
  std::vector<int> live(n);  // cache slot -> row
  std::iota(live.begin(), live.end(), 0);
  std::vector<int32_t> next(n);  // the token each slot feeds next
  for (int i = 0; i < n; i++) next[i] = rows[i].context.back();
  for (int step = 1;; step++) {
    const int m = (int)live.size();
    const Tensor logits = model.forward_cached(Tensor::from_vector(next, {m, 1}), cache);  // (m, 1, Vp)
    const float* lg = logits.data<float>();
    std::vector<char> done(m, 0);
#pragma omp parallel for schedule(static)
    for (int s = 0; s < m; s++) {
      Row& r = rows[live[s]];
      const SampleOptions& o = *r.opt;
      next[s] = sample_token(lg + (size_t)s * Vp, r.V, o.temperature, o.top_k, o.top_p, r.rng.next_float());
      r.out->tokens.push_back(next[s]);
      r.out->stopped = std::find(o.stop_tokens.begin(), o.stop_tokens.end(), next[s]) != o.stop_tokens.end();
      done[s] = r.out->stopped || step == r.max_new;
    }
    for (int s = 0; s < m; s++) {  // the callbacks, in slot order, on this thread
      Row& r = rows[live[s]];
      if (r.opt->on_token && !r.opt->on_token(r.index, next[s]) && !done[s]) done[s] = r.out->cancelled = true;
    }
    // Finished rows leave the batch: each hole takes a live slot from the end (one copy per hole).
    std::vector<int> order(m);
    std::iota(order.begin(), order.end(), 0);
    int k = m;
    for (int s = 0; s < k;) {
      if (done[order[s]]) order[s] = order[--k];
      else s++;
    }
    if (k == 0) break;
    if (k < m) {
      order.resize(k);
      cache.keep_rows(order);
      std::vector<int> live2(k);
      std::vector<int32_t> next2(k);
      for (int i = 0; i < k; i++) live2[i] = live[order[i]], next2[i] = next[order[i]];
      live.swap(live2);
      next.swap(next2);
    }
  }
}

}  // namespace

std::vector<Generation> generate_batch(GPT& model, const std::vector<std::vector<int32_t>>& prompts,
                                       const std::vector<SampleOptions>& opts) {
  const GPTConfig& c = model.config();
  GPTCU_CHECK(opts.size() == prompts.size(), "generate_batch: ", opts.size(), " options for ", prompts.size(), " prompts");
  std::vector<Generation> out(prompts.size());
  std::vector<Row> rows;
  for (size_t i = 0; i < prompts.size(); i++) {
    const SampleOptions& o = opts[i];
    const int V = check_options(c, o, true);
    const std::vector<int32_t>& p = prompts[i];
    check_prompt(c, p, i);
    const size_t len = std::min(p.size(), (size_t)(c.block_size - o.max_new_tokens));  // what fits
    out[i].prompt_tokens_dropped = (int)(p.size() - len);
    if (o.max_new_tokens == 0) continue;
    rows.push_back({std::vector<int32_t>(p.end() - (ptrdiff_t)len, p.end()), Rng(o.seed, o.stream_offset), &out[i], &o, V, i,
                    o.max_new_tokens});
  }
  decode(model, rows);
  return out;
}

std::vector<Generation> generate_batch(GPT& model, const std::vector<std::vector<int32_t>>& prompts,
                                       const SampleOptions& opt) {
  check_options(model.config(), opt, true);  // even with no prompts
  std::vector<SampleOptions> opts(prompts.size(), opt);
  for (size_t i = 0; i < opts.size(); i++) opts[i].stream_offset = opt.stream_offset + i;
  return generate_batch(model, prompts, opts);
}

std::vector<int32_t> generate(GPT& model, std::vector<int32_t> ids, const SampleOptions& opt) {
  const GPTConfig& c = model.config();
  const int V = check_options(c, opt, false);
  check_prompt(c, ids, 0);
  const int block = c.block_size, half = std::max(1, block / 2), len = (int)ids.size();
  // the first window: the whole prompt when it fits with all new tokens (as generate_batch),
  // else enough of its end to leave room for the new tokens or half the context
  int window = len + opt.max_new_tokens <= block ? len : std::min(len, std::max(half, block - opt.max_new_tokens));
  Generation gen;
  std::vector<Row> row{{{}, Rng(opt.seed, opt.stream_offset), &gen, &opt, V, 0}};
  for (int remaining = opt.max_new_tokens; remaining > 0; window = half) {
    row[0].context.assign(ids.end() - window, ids.end());
    row[0].max_new = std::min(remaining, block + 1 - window);  // fills the context
    const size_t before = gen.tokens.size();
    decode(model, row);
    ids.insert(ids.end(), gen.tokens.begin() + (ptrdiff_t)before, gen.tokens.end());
    remaining -= (int)(gen.tokens.size() - before);
    if (gen.stopped || gen.cancelled) break;
  }
  return ids;
}

}  // namespace gptcu
