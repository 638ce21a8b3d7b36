// data/chat_template.h: the one chat format every stage shares (data prepare, SFT, reward, DPO,
// PPO/GRPO, chat, serve), with the assistant-only loss mask.
//
// A dialogue becomes
//   <|endoftext|> <|system|> ... <|end|> <|user|> ... <|end|> <|assistant|> ... <|end|> ...
// where each "..." is the ordinary encoding of the message text. The mask marks the tokens a
// model is trained to produce: every assistant message's content and its closing <|end|>
// (so it learns to stop); everything else, the role tags included, is context (mask 0).
// mask[i] refers to tokens[i] as a target, i.e. the loss of predicting tokens[i] from
// tokens[0..i-1] counts when mask[i] == 1.
//
//   BpeTokenizer tok = BpeTokenizer::load("../shared/data/tokenizers/gpt2");
//   ChatTemplate chat(tok);   // adds the special tokens below to tok where missing
//   chat.render({{"user", "Hi"}, {"assistant", "Hello!"}}, tokens, mask);
//   std::vector<int32_t> p = chat.prompt({{"user", "Hi"}});  // ends with <|assistant|>
//
// The special tokens get ids after the tokenizer's vocabulary, so a tokenizer extended here
// must travel with the data and the checkpoints (prepare and pretrain save it beside them).
#pragma once
#include <cstdint>
#include <string_view>
#include <vector>

#include "data/bpe_tokenizer.h"
#include "data/records.h"

namespace gptcu {

inline constexpr const char* kSystemToken = "<|system|>";
inline constexpr const char* kUserToken = "<|user|>";
inline constexpr const char* kAssistantToken = "<|assistant|>";
inline constexpr const char* kEndToken = "<|end|>";
inline constexpr const char* kPadToken = "<|pad|>";        // padding in batched generation (PPO)
inline constexpr const char* kEndOfText = "<|endoftext|>";  // starts every sequence

class ChatTemplate {
 public:
  struct Ids {
    int32_t eot, system, user, assistant, end, pad;
  };
  // Adds the chat special tokens to `tok` where missing.
  static void add_specials(BpeTokenizer& tok);
  // `tok` must already have the chat specials (UserError naming the missing one otherwise).
  // The template keeps a reference: `tok` must outlive it.
  explicit ChatTemplate(const BpeTokenizer& tok);

  const Ids& ids() const { return ids_; }
  // Appends the dialogue to tokens/mask (one mask byte per token). Roles: system, user,
  // assistant (UserError otherwise).
  void render(const std::vector<Message>& messages, std::vector<int32_t>& tokens,
              std::vector<uint8_t>& mask) const;
  // The context for generating the next assistant message: render(messages) + <|assistant|>.
  std::vector<int32_t> prompt(const std::vector<Message>& messages) const;
  // An assistant reply as the model should produce it: content + <|end|>.
  std::vector<int32_t> reply(std::string_view content) const;

 private:
  int32_t role_id(const std::string& role) const;
  const BpeTokenizer& tok_;
  Ids ids_;
};

}  // namespace gptcu
