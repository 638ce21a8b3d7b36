// eval/replies.h: a chat model's replies to a list of user prompts, for the eval tasks that
// score text (BLEU, classification): each prompt goes through the chat template as one user
// turn, replies are decoded in batches through the KV cache (eval/generate.h), greedy unless
// a temperature is given, and stop at <|end|> (which the text leaves out).
//
//   std::vector<Reply> r = chat_replies(model, tok, {"Translate: cat", "Translate: dog"}, {.max_new_tokens = 32});
#pragma once
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "data/bpe_tokenizer.h"
#include "model/gpt.h"

namespace gptcu {

struct ReplyOptions {
  int max_new_tokens = 64;
  int batch_size = 32;
  float temperature = 0.0f;  // 0: greedy
  uint64_t seed = 1234;
  std::ostream* log = nullptr;  // progress line
};

struct Reply {
  std::string text;
  int tokens = 0;          // generated, the stop token included
  bool stopped = false;    // ended with <|end|>
  bool truncated = false;  // the prompt lost its oldest tokens to fit the context
};

std::vector<Reply> chat_replies(GPT& model, const BpeTokenizer& tok, const std::vector<std::string>& user_prompts,
                                const ReplyOptions& opt);

}  // namespace gptcu
