// test/model/test_kv_cache.cpp: GPT::forward_cached through a KVCache gives the logits of a
// full forward, at every position, for a prefill + token-by-token decode and a ragged batch.
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "core/autograd.h"
#include "model/gpt.h"
#include "model/kv_cache.h"

using namespace gptcu;

namespace {
GPTConfig small() {
  GPTConfig c;
  c.n_layer = 2;
  c.n_head = 4;
  c.n_embd = 32;
  c.block_size = 24;
  c.vocab_size = 53;  // pads to 128
  return c;
}
std::vector<int32_t> sequence(int T, int salt) {
  std::vector<int32_t> ids(T);
  for (int t = 0; t < T; t++) ids[t] = (t * 11 + 5 + salt * 7) % 53;
  return ids;
}
// Row t of logits (B, T, Vp) for batch row b.
const float* row(const Tensor& logits, int b, int t) {
  return logits.data<float>() + ((int64_t)b * logits.size(1) + t) * logits.size(2);
}
// |a - b| <= 1e-5 (1 + |b|): fp32 agreement of two summation orders
void check_close(const float* a, const float* b, int n, const std::string& where) {
  for (int i = 0; i < n; i++) {
    INFO(where << ", logit " << i << ": " << a[i] << " vs " << b[i]);
    REQUIRE(std::abs(a[i] - b[i]) <= 1e-5 * (1 + std::abs(b[i])));
  }
}
}  // namespace

TEST_CASE("forward_cached: prefill then one token at a time equals the full forward", "[kv_cache]") {
  autograd::NoGradGuard no_grad;
  GPT m(small());
  m.init_weights(3);
  const int T = 19, P = 7, Vp = m.config().padded_vocab_size();
  const std::vector<int32_t> ids = sequence(T, 0);
  const Tensor full = m.forward(Tensor::from_vector(ids, {1, T}));  // (1, T, Vp)
  KVCache cache(m.config(), 1, T);
  const Tensor pre = m.forward_cached(Tensor::from_vector(std::vector<int32_t>(ids.begin(), ids.begin() + P), {1, P}), cache);
  REQUIRE(pre.shape() == Shape{1, P, Vp});
  CHECK(cache.length[0] == P);
  for (int t = 0; t < P; t++) check_close(row(pre, 0, t), row(full, 0, t), Vp, "prefill position " + std::to_string(t));
  for (int t = P; t < T; t++) {
    const Tensor one = m.forward_cached(Tensor::from_vector(std::vector<int32_t>{ids[t]}, {1, 1}), cache);
    check_close(row(one, 0, 0), row(full, 0, t), Vp, "decode position " + std::to_string(t));
  }
  CHECK(cache.length[0] == T);
  CHECK_THROWS_AS(m.forward_cached(Tensor::from_vector(std::vector<int32_t>{1}, {1, 1}), cache), Error);  // full
  CHECK(autograd::tape_size() == 0);
}

TEST_CASE("forward_cached: a ragged batch, right-padded then lowered, matches per-row forwards", "[kv_cache]") {
  GPT m(small());
  m.init_weights(5);
  const int Vp = m.config().padded_vocab_size();
  const std::vector<int> lens = {5, 1, 9};     // prompt lengths
  const int P = 9, N = 6, B = (int)lens.size();  // padded prefill, then N decode steps
  std::vector<std::vector<int32_t>> seqs;
  for (int b = 0; b < B; b++) seqs.push_back(sequence(lens[b] + N, b + 1));
  KVCache cache(m.config(), B, P + N);
  std::vector<int32_t> prefill(B * P, 52);  // padding: any id, forgotten afterwards
  for (int b = 0; b < B; b++) std::copy(seqs[b].begin(), seqs[b].begin() + lens[b], prefill.begin() + b * P);
  const Tensor pre = m.forward_cached(Tensor::from_vector(prefill, {B, P}), cache);
  CHECK(cache.length == std::vector<int>{P, P, P});
  cache.length = lens;
  std::vector<Tensor> steps;
  for (int n = 0; n < N; n++) {
    std::vector<int32_t> next(B);
    for (int b = 0; b < B; b++) next[b] = seqs[b][lens[b] + n];
    steps.push_back(m.forward_cached(Tensor::from_vector(next, {B, 1}), cache));
  }
  for (int b = 0; b < B; b++) {
    CHECK(cache.length[b] == lens[b] + N);
    const int T = lens[b] + N;
    const Tensor full = m.forward(Tensor::from_vector(seqs[b], {1, T}));
    for (int t = 0; t < lens[b]; t++)
      check_close(row(pre, b, t), row(full, 0, t), Vp, "row " + std::to_string(b) + " prefill " + std::to_string(t));
    for (int n = 0; n < N; n++)
      check_close(row(steps[n], b, 0), row(full, 0, lens[b] + n), Vp,
                  "row " + std::to_string(b) + " decode " + std::to_string(lens[b] + n));
  }
}

TEST_CASE("KVCache: shapes, keep_rows compacts rows and lengths, capacity checks", "[kv_cache]") {
  GPT m(small());
  m.init_weights(7);
  KVCache cache(m.config(), 4, 10);
  CHECK(cache.batch() == 4);
  CHECK(cache.capacity() == 10);
  REQUIRE(cache.k.size() == 2);
  CHECK(cache.k[1].shape() == Shape{4, 4, 10, 8});
  CHECK_THROWS_AS(KVCache(m.config(), 1, 25), Error);  // beyond block_size 24
  // rows 0..3 get different prompts; keep rows 3 and 1 (in that order), then decode on:
  // the kept rows' logits equal those of a cache that only ever held them
  std::vector<int32_t> prompts;
  for (int b = 0; b < 4; b++) {
    const auto s = sequence(4, 10 + b);
    prompts.insert(prompts.end(), s.begin(), s.end());
  }
  m.forward_cached(Tensor::from_vector(prompts, {4, 4}), cache);
  cache.length[1] = 3;
  cache.keep_rows({3, 1});
  CHECK(cache.batch() == 2);
  CHECK(cache.length == std::vector<int>{4, 3});
  CHECK(cache.k[0].shape() == Shape{2, 4, 10, 8});
  const Tensor got = m.forward_cached(Tensor::from_vector(std::vector<int32_t>{7, 8}, {2, 1}), cache);
  const int Vp = m.config().padded_vocab_size();
  for (int i = 0; i < 2; i++) {
    const int b = i == 0 ? 3 : 1, len = i == 0 ? 4 : 3;
    std::vector<int32_t> s = sequence(4, 10 + b);
    s.resize(len);
    s.push_back(i == 0 ? 7 : 8);
    const Tensor full = m.forward(Tensor::from_vector(s, {1, (int64_t)s.size()}));
    check_close(row(got, i, 0), row(full, 0, len), Vp, "kept row " + std::to_string(b));
  }
  CHECK_THROWS_AS(cache.keep_rows({0, 0}), Error);
  CHECK_THROWS_AS(cache.keep_rows({2}), Error);
}
