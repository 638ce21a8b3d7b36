// test/eval/test_generate.cpp: token sampling and generation.
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "eval/generate.h"

using namespace gptcu;

TEST_CASE("sample_token: greedy, top-k and the sampling distribution", "[generate]") {
  const std::vector<float> logits = {1.0f, 3.0f, 2.0f, 100.0f};  // the last is padding (V = 3)
  CHECK(sample_token(logits.data(), 3, 0.0f, 0, 0.5f) == 1);  // greedy ignores padding
  // top-1 always returns the argmax, whatever the uniform draw
  for (float u : {0.0f, 0.3f, 0.999f}) CHECK(sample_token(logits.data(), 3, 1.0f, 1, u) == 1);
  // the draw u picks by cumulative probability: p = softmax([1,3,2])
  const double z = std::exp(1.0) + std::exp(3.0) + std::exp(2.0);
  const double p0 = std::exp(1.0) / z, p1 = std::exp(3.0) / z;
  CHECK(sample_token(logits.data(), 3, 1.0f, 0, (float)(p0 * 0.5)) == 0);
  CHECK(sample_token(logits.data(), 3, 1.0f, 0, (float)(p0 + p1 * 0.5)) == 1);
  CHECK(sample_token(logits.data(), 3, 1.0f, 0, (float)(p0 + p1 + 0.01)) == 2);
  // top-2 removes token 0
  CHECK(sample_token(logits.data(), 3, 1.0f, 2, 0.0f) == 1);
}

TEST_CASE("generate: reproducible with a seed, respects the context and stop token", "[generate]") {
  GPT m(GPTConfig{1, 2, 8, 4, 11});
  m.init_weights(1);
  SampleOptions o;
  o.max_new_tokens = 10;
  o.seed = 5;
  const auto a = generate(m, {1, 2, 3}, o);
  const auto b = generate(m, {1, 2, 3}, o);
  CHECK(a == b);
  CHECK(a.size() == 13);  // 3 prompt + 10 new, the context cropped to the last 4 tokens
  CHECK(std::vector<int32_t>(a.begin(), a.begin() + 3) == std::vector<int32_t>{1, 2, 3});
  for (int32_t id : a) CHECK((id >= 0 && id < 11));
  o.stop_token = a[3];
  CHECK(generate(m, {1, 2, 3}, o).size() == 4);
  // a model with more rows than the tokenizer knows samples only the tokenizer's ids
  o.stop_token = -1;
  o.vocab_limit = 3;
  o.temperature = 5.0f;  // flat: every id would show up without the limit
  for (int32_t id : generate(m, {1}, o)) CHECK(id < 3);
  o.temperature = NAN;
  CHECK_THROWS_AS(generate(m, {1}, o), UserError);
}
