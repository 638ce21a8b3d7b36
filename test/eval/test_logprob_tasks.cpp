// test/eval/test_logprob_tasks.cpp: the tasks that read a model's log-probabilities, each checked
// against an independent computation on a tiny random GPT:
//   - perplexity (eval/perplexity.h) equals exp of the mean of GPT::loss over the same windows;
//   - score_continuations (eval/logprob.h) equals a log-softmax of GPT::forward's logits summed by
//     hand, whatever the batch;
//   - choice_accuracy (eval/choice.h) picks the option a model was made to prefer.
#include <catch2/catch.hpp>
#include <cmath>
#include <sstream>

#include "core/autograd.h"
#include "core/check.h"
#include "core/rng.h"
#include "data/bpe_tokenizer.h"
#include "eval/choice.h"
#include "eval/logprob.h"
#include "eval/perplexity.h"

using namespace gptcu;

namespace {

std::vector<int32_t> random_tokens(int n, int vocab, uint64_t seed) {
  std::vector<int32_t> t;
  uint64_t x = seed;
  for (int i = 0; i < n; i++) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    t.push_back((int32_t)((x >> 33) % (uint64_t)vocab));
  }
  return t;
}

// log p(seq[i] | seq[..i]) for i >= from, from GPT::forward on the whole sequence (B = 1),
// with the softmax written out here
double sum_logprobs(GPT& model, const std::vector<int32_t>& seq, size_t from) {
  autograd::NoGradGuard no_grad;
  const int T = (int)seq.size() - 1;
  const std::vector<int32_t> x(seq.begin(), seq.end() - 1);
  const std::vector<float> logits = model.forward(Tensor::from_vector(x, {1, T})).to_vector();
  const int Vp = model.config().padded_vocab_size(), V = model.config().vocab_size;
  double sum = 0;
  for (size_t i = from; i < seq.size(); i++) {
    const float* row = logits.data() + (i - 1) * Vp;
    double mx = row[0];
    for (int v = 1; v < V; v++) mx = std::max(mx, (double)row[v]);
    double z = 0;
    for (int v = 0; v < V; v++) z += std::exp(row[v] - mx);
    sum += row[seq[i]] - mx - std::log(z);
  }
  return sum;
}

}  // namespace

TEST_CASE("perplexity: exp of the mean GPT::loss over consecutive windows", "[perplexity]") {
  GPT model(GPTConfig{1, 2, 16, 8, 37});
  model.init_weights(5);
  const std::vector<int32_t> tokens = random_tokens(30, 37, 9);
  // independent: windows start at 0, 8, 16, 24 and predict 8, 8, 8, 5 tokens
  double nll = 0;
  {
    autograd::NoGradGuard no_grad;
    for (int s = 0; s + 1 < 30; s += 8) {
      const int len = std::min(8, 29 - s);
      const std::vector<int32_t> x(tokens.begin() + s, tokens.begin() + s + len);
      const std::vector<int32_t> y(tokens.begin() + s + 1, tokens.begin() + s + len + 1);
      nll += (double)model.loss(Tensor::from_vector(x, {1, len}), Tensor::from_vector(y, {1, len})).item() * len;
    }
  }
  for (int batch : {1, 3, 16}) {
    PerplexityOptions opt;
    opt.batch_size = batch;
    const PerplexityResult r = perplexity(model, token_stream(tokens), opt);
    CHECK(r.tokens == 29);
    CHECK(r.windows == 4);
    CHECK(r.mean_nll == Approx(nll / 29).epsilon(1e-5));
    CHECK(r.perplexity == Approx(std::exp(nll / 29)).epsilon(1e-5));
  }
  PerplexityOptions cut;
  cut.max_tokens = 10;
  std::ostringstream log;
  cut.log = &log;
  const PerplexityResult r = perplexity(model, token_stream(tokens), cut);
  CHECK(r.tokens == 10);
  CHECK(log.str().find("perplexity: 10/10 tokens") != std::string::npos);
  CHECK_THROWS_AS(perplexity(model, token_stream({1}), {}), UserError);
  CHECK_THROWS_AS(perplexity(model, token_stream({1, 99}), {}), UserError);  // outside the vocabulary
}

TEST_CASE("score_continuations: the summed log-probs of a plain forward pass", "[choice]") {
  GPT model(GPTConfig{1, 2, 16, 12, 41});
  model.init_weights(3);
  std::vector<std::vector<int32_t>> ctx, cont;
  for (int i = 0; i < 5; i++) {
    ctx.push_back(random_tokens(2 + i * 2, 41, 100 + i));  // the last one (10 + 3 tokens) is cut
    cont.push_back(random_tokens(1 + i % 3, 41, 200 + i));
  }
  for (int batch : {1, 2, 5}) {
    const std::vector<ContinuationScore> s = score_continuations(model, ctx, cont, batch);
    for (int i = 0; i < 5; i++) {
      std::vector<int32_t> seq = ctx[i];
      seq.insert(seq.end(), cont[i].begin(), cont[i].end());
      const size_t drop = seq.size() > 13 ? seq.size() - 13 : 0;  // block_size + 1 tokens fit
      CHECK(s[i].truncated == (drop > 0));
      seq.erase(seq.begin(), seq.begin() + (ptrdiff_t)drop);
      CHECK(s[i].tokens == (int)cont[i].size());
      CHECK(s[i].logprob == Approx(sum_logprobs(model, seq, seq.size() - cont[i].size())).epsilon(1e-4));
    }
  }
  CHECK_THROWS_AS(score_continuations(model, {{1}}, {random_tokens(13, 41, 1)}, 1), UserError);
}

TEST_CASE("choice_accuracy: picks the option the model was made to prefer", "[choice]") {
  const BpeTokenizer tok = BpeTokenizer::bytes();  // 257 ids, <|endoftext|> = 256
  GPT model(GPTConfig{1, 2, 16, 32, 257});
  model.init_weights(1);
  // ln_f's output becomes its bias b at every position (weight 0), and 'z' gets the embedding
  // 4b: the logit of 'z' is 4|b|^2, every other logit b . e_v, much smaller. So 'z' is by far
  // the most likely next token anywhere.
  float* ln_w = model.parameter("transformer.ln_f.weight").value.data<float>();
  float* ln_b = model.parameter("transformer.ln_f.bias").value.data<float>();
  float* wte = model.parameter("transformer.wte.weight").value.data<float>();
  for (int c = 0; c < 16; c++) {
    ln_w[c] = 0;
    ln_b[c] = c % 2 ? 1.0f : -1.0f;
    wte['z' * 16 + c] = 4 * ln_b[c];
  }
  std::vector<ChoiceQuestion> qs = {
      {"s1", "pick", {"ab", "z", "q"}, 1, "t:1"},   // right: the model prefers "z"
      {"s1", "pick", {"z", "b"}, 1, "t:2"},         // wrong: it still says "z"
      {"s2", "pick", {"cd", "x", "zz"}, 2, "t:3"},  // right, also when normalised
  };
  ChoiceOptions opt;
  opt.chat = false;
  opt.batch_size = 4;  // the rows of a question never split across batches
  const ChoiceResult r = choice_accuracy(model, tok, qs, opt);
  CHECK(r.predicted == std::vector<int>{1, 0, 2});
  CHECK(r.predicted_norm == std::vector<int>{1, 0, 2});
  CHECK(r.correct == 2);
  CHECK(r.accuracy == Approx(2.0 / 3));
  REQUIRE(r.subjects.size() == 2);
  CHECK(r.subjects[0].name == "s1");
  CHECK(r.subjects[0].questions == 2);
  CHECK(r.subjects[0].correct == 1);
  CHECK(r.subjects[1].correct == 1);
  // an empty option would score log-prob 0 and always win: a UserError naming the row
  const std::vector<ChoiceQuestion> empty = {{"s1", "pick", {"ab", ""}, 0, "t:9"}};
  CHECK_THROWS_WITH(choice_accuracy(model, tok, empty, opt), Catch::Contains("t:9") && Catch::Contains("option B is empty"));
  // every option's score is the log-prob computed independently
  for (size_t q = 0; q < qs.size(); q++) {
    const std::vector<int32_t> ctx = choice_context(tok, qs[q].question, false);
    for (size_t k = 0; k < qs[q].options.size(); k++) {
      std::vector<int32_t> seq = ctx;
      const std::vector<int32_t> o = tok.encode(qs[q].options[k]);
      seq.insert(seq.end(), o.begin(), o.end());
      CHECK(r.logprobs[q][k] == Approx(sum_logprobs(model, seq, ctx.size())).epsilon(1e-4));
    }
  }
  CHECK(r.logprobs[0][1] > -0.01);  // p('z') is nearly 1
}
