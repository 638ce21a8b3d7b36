// serve/dialogue.cpp: fitting a dialogue into the context (see serve/dialogue.h).
#include "serve/dialogue.h"

namespace gptcu {

FittedPrompt fit_dialogue(const ChatTemplate& chat, const std::vector<Message>& messages, size_t max_tokens) {
  size_t head = 0;  // leading system messages: always kept
  while (head < messages.size() && messages[head].role == "system") head++;
  std::vector<Message> kept = messages;
  FittedPrompt out;
  for (;;) {
    out.tokens = chat.prompt(kept);
    if (out.tokens.size() <= max_tokens || kept.size() <= head + 1) return out;
    // drop one turn: the oldest message, and the non-user messages after it up to the next user
    // message, keeping the last message in any case
    size_t end = head + 1;
    while (end + 1 < kept.size() && kept[end].role != "user") end++;
    out.dropped += end - head;
    kept.erase(kept.begin() + (ptrdiff_t)head, kept.begin() + (ptrdiff_t)end);
  }
}

}  // namespace gptcu
