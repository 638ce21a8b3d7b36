// eval/replies.cpp
#include "data/clean.h"
#include "eval/replies.h"

#include <algorithm>
#include <memory>

#include "core/autograd.h"
#include "core/check.h"
#include "data/chat_template.h"
#include "data/progress.h"
#include "eval/generate.h"

namespace gptcu {

std::vector<Reply> chat_replies(GPT& model, const BpeTokenizer& tok, const std::vector<std::string>& user_prompts,
                                const ReplyOptions& opt) {
  GPTCU_USER_CHECK(opt.batch_size > 0, "batch size must be positive, got ", opt.batch_size);
  autograd::NoGradGuard no_grad;
  const ChatTemplate chat(tok);
  SampleOptions so;
  so.max_new_tokens = opt.max_new_tokens;
  so.temperature = opt.temperature;
  so.seed = opt.seed;
  so.stop_tokens = {chat.ids().end};
  so.vocab_limit = tok.vocab_size();
  std::unique_ptr<Progress> progress;
  if (opt.log) progress = std::make_unique<Progress>(*opt.log, "generate", (double)user_prompts.size(), "prompts");
  std::vector<Reply> out;
  for (size_t s = 0; s < user_prompts.size(); s += (size_t)opt.batch_size) {
    std::vector<std::vector<int32_t>> batch;
    for (size_t i = s; i < std::min(user_prompts.size(), s + (size_t)opt.batch_size); i++)
      batch.push_back(chat.prompt({{"user", user_prompts[i]}}));
    so.stream_offset = s;  // prompt i samples from stream i, whatever the batch size
    for (const Generation& g : generate_batch(model, batch, so)) {
      std::vector<int32_t> ids = g.tokens;
      if (g.stopped && !ids.empty()) ids.pop_back();
      out.push_back({repair_utf8(tok.decode(ids)),  // a reply may end inside a character
 (int)g.tokens.size(), g.stopped, g.prompt_tokens_dropped > 0});
    }
    if (progress) progress->update((double)out.size());
  }
  if (progress) progress->finish();
  return out;
}

}  // namespace gptcu
