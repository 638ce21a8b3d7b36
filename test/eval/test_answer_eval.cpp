// test/eval/test_answer_eval.cpp: answer_accuracy counts exactly the replies whose text the
// verifier accepts, per prompt and overall. The reference answers are made from the model's
// own greedy replies (right) or from something else (wrong), so the expected counts are known.
#include <catch2/catch.hpp>

#include "data/chat_template.h"
#include "eval/answer_eval.h"
#include "eval/generate.h"

using namespace gptcu;

TEST_CASE("answer_accuracy: per-prompt and overall counts of right replies", "[answer_eval]") {
  BpeTokenizer tok = BpeTokenizer::bytes();
  ChatTemplate::add_specials(tok);
  const ChatTemplate chat(tok);
  GPT model(GPTConfig{2, 2, 16, 32, tok.vocab_size()});
  model.init_weights(5);
  const std::vector<std::string> questions = {"1+1?", "abc", "x", "hello there", "7"};
  std::vector<std::vector<int32_t>> prompts;
  for (const auto& q : questions) prompts.push_back(chat.prompt({{"user", q}}));
  SampleOptions so;
  so.max_new_tokens = 4;
  so.temperature = 0.0f;
  so.stop_tokens = {chat.ids().end};
  so.vocab_limit = tok.vocab_size();
  const std::vector<Generation> greedy = generate_batch(model, prompts, so);
  // prompts 0, 2, 3 get the model's own greedy reply as their answer; 1 and 4 an impossible one
  std::vector<PromptRecord> recs;
  for (size_t i = 0; i < prompts.size(); i++) {
    std::vector<int32_t> reply = greedy[i].tokens;
    if (greedy[i].stopped) reply.pop_back();
    const bool right = i != 1 && i != 4;
    recs.push_back({prompts[i], right ? tok.decode(reply) : std::string("no such reply \x01")});
  }
  AnswerEvalOptions opt;
  opt.max_new_tokens = 4;
  opt.batch_size = 2;  // batches end mid-list: the per-prompt bookkeeping must follow
  const AnswerAccuracy a = answer_accuracy(model, tok, recs, opt, "test");
  REQUIRE(a.right_per_prompt == std::vector<int>{1, 0, 1, 1, 0});
  CHECK(a.prompts == 5);
  CHECK(a.accuracy == Approx(3.0 / 5));

  SECTION("sampled replies: per-prompt counts add up to the accuracy") {
    opt.temperature = 1.0f;
    opt.samples = 3;
    const AnswerAccuracy s = answer_accuracy(model, tok, recs, opt, "test");
    REQUIRE(s.right_per_prompt.size() == 5);
    int total = 0;
    for (int r : s.right_per_prompt) {
      CHECK((r >= 0 && r <= 3));
      total += r;
    }
    CHECK(s.replies == 15);
    CHECK(s.accuracy == Approx(total / 15.0));
    CHECK(s.right_per_prompt[1] == 0);
    CHECK(s.right_per_prompt[4] == 0);
  }
}
