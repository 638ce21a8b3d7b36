// data/byte_tokenizer.h: the simplest byte-level tokenizer: one id per UTF-8 byte (0..255)
// plus <|endoftext|> = 256. Any text, any language, round-trips exactly. The BPE tokenizer
// (GPT-2, cl100k, o200k, and our own trained ones) replaces it in the data issue.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gptcu {

class ByteTokenizer {
 public:
  static constexpr int32_t kEndOfText = 256;
  int vocab_size() const { return 257; }
  int32_t eot() const { return kEndOfText; }
  std::vector<int32_t> encode(std::string_view text) const;
  // Ids < 256 become their byte; <|endoftext|> becomes its text; anything else is an error.
  std::string decode(const std::vector<int32_t>& ids) const;
};

}  // namespace gptcu
