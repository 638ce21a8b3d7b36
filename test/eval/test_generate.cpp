// test/eval/test_generate.cpp: token sampling (temperature, top-k, top-p) and batched generation
// through the KV cache, against a full forward per token.
#include <catch2/catch.hpp>
#include <cmath>
#include <map>
#include <vector>

#include "core/autograd.h"
#include "core/rng.h"
#include "eval/generate.h"

using namespace gptcu;

namespace {
// logits = log p, so that softmax gives back p exactly enough for the checks below
std::vector<float> log_probs(const std::vector<double>& p) {
  std::vector<float> l;
  for (double x : p) l.push_back((float)std::log(x));
  return l;
}
// How often each id comes out of sample_token over n evenly spread uniforms.
std::map<int, double> frequencies(const std::vector<float>& logits, float temperature, int top_k, float top_p, int n = 20000) {
  std::map<int, double> f;
  for (int j = 0; j < n; j++)
    f[sample_token(logits.data(), (int)logits.size(), temperature, top_k, top_p, (j + 0.5f) / n)] += 1.0 / n;
  return f;
}
GPT& small_model() {  // 2 layers, 4 heads, 32 wide, context 24, 13 tokens (pads to 128)
  static GPT* m = [] {
    GPT* g = new GPT(GPTConfig{2, 4, 32, 24, 13});
    g->init_weights(11);
    return g;
  }();
  return *m;
}
// The old generation loop: a full forward over the whole sequence per new token, greedy.
std::vector<int32_t> greedy_by_full_forward(GPT& m, std::vector<int32_t> ids, int n) {
  autograd::NoGradGuard no_grad;
  const int Vp = m.config().padded_vocab_size(), V = m.config().vocab_size;
  std::vector<int32_t> out;
  for (int i = 0; i < n; i++) {
    const Tensor logits = m.forward(Tensor::from_vector(ids, {1, (int64_t)ids.size()}));
    const float* last = logits.data<float>() + (ids.size() - 1) * (size_t)Vp;
    out.push_back(sample_token(last, V, 0.0f, 0, 1.0f, 0.5f));
    ids.push_back(out.back());
  }
  return out;
}
}  // namespace

TEST_CASE("sample_token: greedy, top-k and the sampling distribution", "[generate]") {
  const std::vector<float> logits = {1.0f, 3.0f, 2.0f, 100.0f};  // the last is padding (V = 3)
  CHECK(sample_token(logits.data(), 3, 0.0f, 0, 1.0f, 0.5f) == 1);  // greedy ignores padding
  // top-1 always returns the argmax, whatever the uniform draw
  for (float u : {0.0f, 0.3f, 0.999f}) CHECK(sample_token(logits.data(), 3, 1.0f, 1, 1.0f, u) == 1);
  // the draw u picks by cumulative probability: p = softmax([1,3,2])
  const double z = std::exp(1.0) + std::exp(3.0) + std::exp(2.0);
  const double p0 = std::exp(1.0) / z, p1 = std::exp(3.0) / z;
  CHECK(sample_token(logits.data(), 3, 1.0f, 0, 1.0f, (float)(p0 * 0.5)) == 0);
  CHECK(sample_token(logits.data(), 3, 1.0f, 0, 1.0f, (float)(p0 + p1 * 0.5)) == 1);
  CHECK(sample_token(logits.data(), 3, 1.0f, 0, 1.0f, (float)(p0 + p1 + 0.01)) == 2);
  // top-2 removes token 0
  CHECK(sample_token(logits.data(), 3, 1.0f, 2, 1.0f, 0.0f) == 1);
  // ties: greedy, top-1 and a tiny top-p all take the first of the tied maxima
  const std::vector<float> tied = {0.5f, 2.0f, -1.0f, 2.0f};
  for (float u : {0.0f, 0.7f}) {
    CHECK(sample_token(tied.data(), 4, 0.0f, 0, 1.0f, u) == 1);
    CHECK(sample_token(tied.data(), 4, 1.0f, 1, 1.0f, u) == 1);
    CHECK(sample_token(tied.data(), 4, 1.0f, 0, 1e-6f, u) == 1);
  }
}

TEST_CASE("sample_token: top-k 1 and a tiny top-p are greedy on random logits", "[generate]") {
  Rng rng(3);
  for (int trial = 0; trial < 50; trial++) {
    std::vector<float> logits(300);
    for (float& x : logits) x = 4.0f * rng.next_float();
    const int32_t greedy = sample_token(logits.data(), 300, 0.0f, 0, 1.0f, 0.0f);
    CHECK(greedy == std::max_element(logits.begin(), logits.end()) - logits.begin());
    for (float u : {0.0f, 0.5f, 0.9999f}) {
      CHECK(sample_token(logits.data(), 300, 0.7f, 1, 1.0f, u) == greedy);
      CHECK(sample_token(logits.data(), 300, 1.3f, 0, 1e-4f, u) == greedy);
    }
  }
}

TEST_CASE("sample_token: top-p keeps the smallest most-likely set holding p", "[generate]") {
  const std::vector<float> logits = log_probs({0.05, 0.5, 0.15, 0.3});  // sorted: 1, 3, 2, 0
  auto f = frequencies(logits, 1.0f, 0, 0.79f);  // {1, 3} hold 0.8 >= 0.79
  CHECK(f.size() == 2);
  CHECK(f[1] == Approx(0.5 / 0.8).margin(1e-3));
  CHECK(f[3] == Approx(0.3 / 0.8).margin(1e-3));
  f = frequencies(logits, 1.0f, 0, 0.81f);  // {1, 3} hold 0.8 < 0.81: add 2
  CHECK(f.size() == 3);
  CHECK(f[2] == Approx(0.15 / 0.95).margin(1e-3));
  CHECK(f.count(0) == 0);
  f = frequencies(logits, 1.0f, 0, 0.45f);  // {1} alone holds 0.5
  CHECK((f.size() == 1 && f.count(1) == 1));
  f = frequencies(logits, 1.0f, 0, 1.0f);  // off: all four, in proportion
  CHECK(f[0] == Approx(0.05).margin(1e-3));
  CHECK(f[2] == Approx(0.15).margin(1e-3));
  // top-k first, then top-p of what is left: top-2 = {1, 3}, renormalised 0.625/0.375; p 0.6 keeps {1}
  f = frequencies(logits, 1.0f, 2, 0.6f);
  CHECK((f.size() == 1 && f.count(1) == 1));
  f = frequencies(logits, 1.0f, 2, 0.7f);
  CHECK(f.size() == 2);
  // a large flat vocabulary (the nucleus grows past several sorted chunks): p 0.5 of 1000 equal
  // ids keeps exactly 500 of them, the lower ids on ties
  const std::vector<float> flat(1000, 0.25f);
  f = frequencies(flat, 1.0f, 0, 0.5f, 5000);
  CHECK(f.size() == 500);
  CHECK(f.rbegin()->first == 499);
}

TEST_CASE("generate_batch: greedy equals the full-forward loop, for every row of a ragged batch", "[generate]") {
  GPT& m = small_model();
  const std::vector<std::vector<int32_t>> prompts = {{1, 2, 3}, {4}, {5, 6, 7, 8, 9, 10, 11}, {12, 0}};
  SampleOptions o;
  o.temperature = 0.0f;
  o.max_new_tokens = 9;
  const std::vector<Generation> g = generate_batch(m, prompts, o);
  REQUIRE(g.size() == prompts.size());
  for (size_t i = 0; i < prompts.size(); i++) {
    INFO("prompt " << i);
    CHECK(g[i].tokens == greedy_by_full_forward(m, prompts[i], 9));
    CHECK_FALSE(g[i].stopped);
    CHECK(g[i].prompt_tokens_dropped == 0);
  }
  CHECK(autograd::tape_size() == 0);
}

TEST_CASE("generate_batch: seeds, rows independent of the batch, stop tokens", "[generate]") {
  GPT& m = small_model();
  std::vector<std::vector<int32_t>> prompts;
  for (int i = 0; i < 12; i++) prompts.push_back(std::vector<int32_t>(1 + (i * 5) % 9, (int32_t)(i % 13)));
  SampleOptions o;
  o.max_new_tokens = 16;
  o.seed = 21;
  o.temperature = 1.5f;  // near-uniform over 13 ids: rows stop at different steps
  o.stop_tokens = {3, 7};
  const std::vector<Generation> a = generate_batch(m, prompts, o);
  const std::vector<Generation> b = generate_batch(m, prompts, o);
  int stopped = 0, full = 0;
  for (size_t i = 0; i < prompts.size(); i++) {
    INFO("prompt " << i);
    CHECK(a[i].tokens == b[i].tokens);  // the same seed reproduces
    // a row alone (with its stream) gives what it gave in the batch
    SampleOptions alone = o;
    alone.stream_offset = i;
    CHECK(generate_batch(m, {prompts[i]}, alone)[0].tokens == a[i].tokens);
    // stop tokens end a row, and only they
    REQUIRE_FALSE(a[i].tokens.empty());
    for (size_t j = 0; j + 1 < a[i].tokens.size(); j++) CHECK((a[i].tokens[j] != 3 && a[i].tokens[j] != 7));
    const bool ends_on_stop = a[i].tokens.back() == 3 || a[i].tokens.back() == 7;
    CHECK(a[i].stopped == ends_on_stop);
    CHECK((a[i].stopped || a[i].tokens.size() == 16));
    stopped += a[i].stopped;
    full += a[i].tokens.size() == 16;
  }
  CHECK(stopped >= 2);  // the test covers rows leaving the batch mid-way...
  CHECK(full >= 1);     // ...and rows running to the end
  o.seed = 22;
  const std::vector<Generation> c = generate_batch(m, prompts, o);
  int differ = 0;
  for (size_t i = 0; i < prompts.size(); i++) differ += c[i].tokens != a[i].tokens;
  CHECK(differ >= 6);
  // rows draw from different streams: identical prompts give different samples
  o.stop_tokens.clear();
  const auto twins = generate_batch(m, {{1, 2}, {1, 2}}, o);
  CHECK(twins[0].tokens != twins[1].tokens);
}

TEST_CASE("generate_batch: left truncation, vocab limit and errors", "[generate]") {
  GPT& m = small_model();  // block_size 24
  SampleOptions o;
  o.max_new_tokens = 10;
  o.temperature = 0.8f;
  std::vector<int32_t> p(20);
  for (int i = 0; i < 20; i++) p[i] = (i * 3) % 13;
  const auto g = generate_batch(m, {p, {1}}, o);
  CHECK(g[0].prompt_tokens_dropped == 6);  // 20 + 10 > 24: keep the last 14
  CHECK(g[1].prompt_tokens_dropped == 0);
  CHECK(g[0].tokens.size() == 10);
  const auto kept = generate_batch(m, {std::vector<int32_t>(p.begin() + 6, p.end()), {1}}, o);
  CHECK(kept[0].tokens == g[0].tokens);
  CHECK(kept[0].prompt_tokens_dropped == 0);
  // a model with more rows than the tokenizer knows samples only the tokenizer's ids
  o.vocab_limit = 3;
  o.temperature = 5.0f;  // flat: every id would show up without the limit
  const auto limited = generate_batch(m, {{1}, {2, 2}}, o);
  for (int32_t id : limited[1].tokens) CHECK(id < 3);
  o = SampleOptions();
  o.max_new_tokens = 0;
  CHECK(generate_batch(m, {{1}}, o)[0].tokens.empty());
  o.max_new_tokens = 24;
  CHECK_THROWS_AS(generate_batch(m, {{1}}, o), UserError);  // nothing fits
  o.max_new_tokens = 4;
  CHECK(generate_batch(m, {}, o).empty());
  CHECK_THROWS_AS(generate_batch(m, {{1}, {}}, o), UserError);
  CHECK_THROWS_AS(generate_batch(m, {{1, 13}}, o), UserError);  // id outside the vocabulary
  for (float top_p : {0.0f, 1.5f, NAN}) {
    o.top_p = top_p;
    CHECK_THROWS_AS(generate_batch(m, {{1}}, o), UserError);
  }
  o.top_p = 1.0f;
  o.temperature = NAN;
  CHECK_THROWS_AS(generate_batch(m, {{1}}, o), UserError);
}

TEST_CASE("generate: the prompt plus generate_batch's tokens; slides past the context", "[generate]") {
  GPT& m = small_model();
  SampleOptions o;
  o.max_new_tokens = 10;
  o.seed = 5;
  const std::vector<int32_t> prompt = {1, 2, 3};
  const auto a = generate(m, prompt, o);
  REQUIRE(a.size() == 13);
  CHECK(std::vector<int32_t>(a.begin(), a.begin() + 3) == prompt);
  CHECK(std::vector<int32_t>(a.begin() + 3, a.end()) == generate_batch(m, {prompt}, o)[0].tokens);
  o.stop_tokens = {a[3]};
  CHECK(generate(m, prompt, o).size() == 4);
  // beyond the context of 24: 60 new tokens, reproducible; greedy sliding agrees with the
  // full-forward loop up to the first slide
  o.stop_tokens.clear();
  o.max_new_tokens = 60;
  const auto longer = generate(m, prompt, o);
  CHECK(longer.size() == 63);
  CHECK(generate(m, prompt, o) == longer);
  o.temperature = 0.0f;
  const auto greedy = generate(m, prompt, o);
  const auto ref = greedy_by_full_forward(m, prompt, 24 + 1 - 3);  // the first window: 3 + 22 new fill 24
  CHECK(std::vector<int32_t>(greedy.begin() + 3, greedy.begin() + 3 + (long)ref.size()) == ref);
  CHECK_THROWS_AS(generate(m, {}, o), UserError);
}
