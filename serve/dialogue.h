// serve/dialogue.h: a dialogue fitted into the model's context, for `gptcu chat` and the
// server's /v1/chat/completions.
//
//   FittedPrompt p = fit_dialogue(chat, messages, block_size - max_new_tokens);
//   // p.tokens: ChatTemplate::prompt of the messages that fit; p.dropped: how many were cut
//
// When the rendered prompt is too long, the oldest messages after the leading system
// messages go first, a whole turn at a time (a user message and the replies after it), so the
// system message and the newest turns stay. The last message is always kept: when it alone
// does not fit, tokens is longer than max_tokens and the caller decides (chat cuts from the
// left with a note; the server answers 400).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "data/chat_template.h"

namespace gptcu {

struct FittedPrompt {
  std::vector<int32_t> tokens;  // ends with <|assistant|>
  size_t dropped = 0;           // messages left out, counted from the first non-system one
};

FittedPrompt fit_dialogue(const ChatTemplate& chat, const std::vector<Message>& messages, size_t max_tokens);

}  // namespace gptcu
