// test/eval/test_generate_stream.cpp: generate_batch's per-token callback (streaming and
// cancelling a row) and its per-row options.
#include <catch2/catch.hpp>
#include <map>
#include <vector>

#include "eval/generate.h"

using namespace gptcu;

namespace {
GPT& stream_model() {  // 2 layers, 4 heads, 32 wide, context 40, 13 tokens
  static GPT* m = [] {
    GPT* g = new GPT(GPTConfig{2, 4, 32, 40, 13});
    g->init_weights(5);
    return g;
  }();
  return *m;
}
std::vector<std::vector<int32_t>> some_prompts() { return {{1, 2, 3}, {4}, {5, 6, 7, 8, 9}, {12, 0}, {3, 3}}; }
SampleOptions sampled() {
  SampleOptions o;
  o.max_new_tokens = 20;
  o.seed = 9;
  o.temperature = 1.3f;
  o.stop_tokens = {3};  // some rows stop early
  return o;
}
}  // namespace

TEST_CASE("on_token sees exactly the returned tokens, in order, and changes nothing", "[generate][stream]") {
  GPT& m = stream_model();
  const SampleOptions plain = sampled();
  const std::vector<Generation> ref = generate_batch(m, some_prompts(), plain);
  SampleOptions o = plain;
  std::map<size_t, std::vector<int32_t>> seen;
  o.on_token = [&](size_t row, int32_t id) {
    seen[row].push_back(id);
    return true;
  };
  const std::vector<Generation> got = generate_batch(m, some_prompts(), o);
  int stopped = 0;
  for (size_t i = 0; i < ref.size(); i++) {
    INFO("row " << i);
    CHECK(got[i].tokens == ref[i].tokens);
    CHECK(seen[i] == got[i].tokens);
    CHECK_FALSE(got[i].cancelled);
    stopped += got[i].stopped;
  }
  CHECK(stopped >= 1);  // the rows that stopped early were seen to their stop token
  CHECK(seen.size() == ref.size());
}

TEST_CASE("on_token returning false cancels its row only", "[generate][stream]") {
  GPT& m = stream_model();
  SampleOptions o = sampled();
  o.stop_tokens.clear();  // every row would run the full 20 tokens
  const std::vector<Generation> ref = generate_batch(m, some_prompts(), o);
  std::map<size_t, int> calls;
  o.on_token = [&](size_t row, int32_t) { return !(row == 2 && ++calls[row] == 4); };  // row 2: stop after 4
  const std::vector<Generation> got = generate_batch(m, some_prompts(), o);
  for (size_t i = 0; i < ref.size(); i++) {
    INFO("row " << i);
    if (i == 2) {
      CHECK(got[i].cancelled);
      CHECK_FALSE(got[i].stopped);
      REQUIRE(got[i].tokens.size() == 4);
      CHECK(std::vector<int32_t>(ref[i].tokens.begin(), ref[i].tokens.begin() + 4) == got[i].tokens);
    } else {
      CHECK_FALSE(got[i].cancelled);
      CHECK(got[i].tokens == ref[i].tokens);  // the other rows go on exactly as before
    }
  }
  CHECK(calls[2] == 4);
  // generate() (one row, sliding) stops too
  SampleOptions one = o;
  int n = 0;
  one.max_new_tokens = 100;  // past the context of 40: would slide
  one.on_token = [&](size_t row, int32_t) { return row == 0 && ++n < 7; };
  CHECK(generate(m, {1, 2}, one).size() == 2 + 7);
}

TEST_CASE("generate_batch with options per row", "[generate][stream]") {
  GPT& m = stream_model();
  const auto prompts = some_prompts();
  const SampleOptions base = sampled();
  // equal options with stream_offset i: the same as the single-options call
  std::vector<SampleOptions> opts(prompts.size(), base);
  for (size_t i = 0; i < opts.size(); i++) opts[i].stream_offset = i;
  const auto a = generate_batch(m, prompts, base), b = generate_batch(m, prompts, opts);
  for (size_t i = 0; i < a.size(); i++) CHECK(a[i].tokens == b[i].tokens);
  // mixed settings: greedy, a short row, a different seed, no stop tokens; each row as if alone
  opts[0].temperature = 0.0f;
  opts[1].max_new_tokens = 3;
  opts[1].stop_tokens.clear();
  opts[2].seed = 1234;
  opts[3].stop_tokens.clear();
  opts[3].max_new_tokens = 30;
  opts[4].max_new_tokens = 0;
  const auto mixed = generate_batch(m, prompts, opts);
  for (size_t i = 0; i < prompts.size(); i++) {
    INFO("row " << i);
    CHECK(mixed[i].tokens == generate_batch(m, {prompts[i]}, opts[i])[0].tokens);
  }
  CHECK(mixed[1].tokens.size() == 3);
  CHECK(mixed[3].tokens.size() == 30);
  CHECK(mixed[4].tokens.empty());
  opts[2].max_new_tokens = 40;  // no room left for the prompt
  CHECK_THROWS_AS(generate_batch(m, prompts, opts), UserError);
}
