// eval/answer_eval.cpp
#include "eval/answer_eval.h"

#include <algorithm>

#include "core/autograd.h"
#include "data/chat_template.h"
#include "eval/generate.h"
#include "eval/verifier.h"

namespace gptcu {

bool verify_answer(const std::string& verifier, const std::string& reply, const std::string& answer) {
  if (verifier == "exact") return exact_match(reply, answer);
  if (verifier == "gsm8k") return gsm8k_match(reply, answer);
  user_error("unknown verifier '", verifier, "' (exact | gsm8k)");
}

AnswerAccuracy answer_accuracy(GPT& model, const BpeTokenizer& tok, const PromptDataset& prompts,
                               const AnswerEvalOptions& opt) {
  const int64_t n = opt.max_prompts > 0 ? std::min<int64_t>(opt.max_prompts, prompts.size()) : prompts.size();
  std::vector<PromptRecord> recs;
  for (int64_t i = 0; i < n; i++) recs.push_back(prompts.get(i));
  return answer_accuracy(model, tok, recs, opt, prompts.path());
}

AnswerAccuracy answer_accuracy(GPT& model, const BpeTokenizer& tok, const std::vector<PromptRecord>& prompts,
                               const AnswerEvalOptions& opt, const std::string& name) {
  autograd::NoGradGuard no_grad;
  const ChatTemplate chat(tok);
  const int64_t size = (int64_t)prompts.size();
  const int64_t n = opt.max_prompts > 0 ? std::min<int64_t>(opt.max_prompts, size) : size;
  GPTCU_USER_CHECK(n > 0, name, " holds no prompts");
  SampleOptions so;
  so.max_new_tokens = opt.max_new_tokens;
  so.temperature = opt.temperature;
  so.seed = opt.seed;
  const int samples = opt.temperature > 0 ? std::max(1, opt.samples) : 1;
  so.stop_tokens = {chat.ids().end};
  so.vocab_limit = tok.vocab_size();
  AnswerAccuracy a;
  a.right_per_prompt.assign((size_t)n, 0);
  int64_t right = 0, length = 0, stopped = 0;
  for (int64_t s = 0; s < n; s += opt.batch_size) {
    std::vector<PromptRecord> recs;
    std::vector<int64_t> owner;  // the prompt each reply answers
    std::vector<std::vector<int32_t>> batch;
    for (int64_t i = s; i < std::min<int64_t>(n, s + opt.batch_size); i++) {
      const PromptRecord& rec = prompts[(size_t)i];
      for (int k = 0; k < samples; k++) {
        recs.push_back(rec);
        owner.push_back(i);
        batch.push_back(rec.prompt);
      }
    }
    so.stream_offset = (uint64_t)s * samples;  // reply j of the whole run draws from stream j
    const std::vector<Generation> gens = generate_batch(model, batch, so);
    for (size_t i = 0; i < gens.size(); i++) {
      std::vector<int32_t> reply = gens[i].tokens;
      if (gens[i].stopped && !reply.empty()) reply.pop_back();
      const std::string text = tok.decode(reply);
      const bool ok = verify_answer(opt.verifier, text, recs[i].answer);
      right += ok;
      a.right_per_prompt[(size_t)owner[i]] += ok;
      length += (int64_t)gens[i].tokens.size();
      stopped += gens[i].stopped;
      a.truncated += gens[i].prompt_tokens_dropped > 0;
      if ((int)a.examples.size() < opt.examples) a.examples.push_back({tok.decode(batch[i]), text, recs[i].answer, ok});
    }
  }
  const double replies = (double)n * samples;
  a.prompts = n;
  a.replies = n * samples;
  a.accuracy = (double)right / replies;
  a.mean_length = (double)length / replies;
  a.stopped = (double)stopped / replies;
  a.truncated /= samples;
  return a;
}

}  // namespace gptcu
