// data/chat_template.cpp
#include "data/chat_template.h"

#include "core/check.h"

namespace gptcu {

namespace {
const char* const kChatSpecials[] = {kEndOfText, kSystemToken, kUserToken, kAssistantToken, kEndToken, kPadToken};
}

void ChatTemplate::add_specials(BpeTokenizer& tok) {
  for (const char* s : kChatSpecials) tok.add_special(s);
}

ChatTemplate::ChatTemplate(const BpeTokenizer& tok) : tok_(tok) {
  int32_t got[6];
  for (int i = 0; i < 6; i++) {
    got[i] = tok.special_id(kChatSpecials[i]);
    GPTCU_USER_CHECK(got[i] >= 0, "tokenizer '", tok.name(), "' has no chat special token ", kChatSpecials[i],
                     " (prepare the data with this tokenizer first, or use the tokenizer saved beside the data)");
  }
  ids_ = {got[0], got[1], got[2], got[3], got[4], got[5]};
}

int32_t ChatTemplate::role_id(const std::string& role) const {
  if (role == "system") return ids_.system;
  if (role == "user") return ids_.user;
  if (role == "assistant") return ids_.assistant;
  user_error("chat message with role '", role, "': expected system, user or assistant");
}

void ChatTemplate::render(const std::vector<Message>& messages, std::vector<int32_t>& tokens,
                          std::vector<uint8_t>& mask) const {
  tokens.push_back(ids_.eot);
  mask.push_back(0);
  for (const Message& m : messages) {
    const int32_t role = role_id(m.role);
    const uint8_t target = role == ids_.assistant ? 1 : 0;
    tokens.push_back(role);
    mask.push_back(0);
    const std::vector<int32_t> body = tok_.encode(m.content);
    tokens.insert(tokens.end(), body.begin(), body.end());
    mask.insert(mask.end(), body.size(), target);
    tokens.push_back(ids_.end);
    mask.push_back(target);
  }
}

std::vector<int32_t> ChatTemplate::prompt(const std::vector<Message>& messages) const {
  std::vector<int32_t> tokens;
  std::vector<uint8_t> mask;
  render(messages, tokens, mask);
  tokens.push_back(ids_.assistant);
  return tokens;
}

std::vector<int32_t> ChatTemplate::reply(std::string_view content) const {
  std::vector<int32_t> tokens = tok_.encode(content);
  tokens.push_back(ids_.end);
  return tokens;
}

}  // namespace gptcu
