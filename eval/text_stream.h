// eval/text_stream.h: generated token ids -> text, piece by piece, never splitting a character.
//
//   TextStream text(tokenizer);
//   for (int32_t id : new_ids) std::cout << text.push(id) << std::flush;   // streamed
//   std::cout << text.finish();                                            // what was held back
//
// A byte-level token may end inside a UTF-8 character (a Chinese character is often three
// byte tokens). push() appends the token's bytes and returns the longest prefix of the pending
// bytes that ends on a character boundary; an incomplete character at the end (a lead byte
// followed by fewer continuation bytes than it announces) waits for the next token. Bytes that
// can never become valid UTF-8 (a stray continuation byte, an impossible lead byte, a lead byte
// followed by a non-continuation) come out as U+FFFD, so every piece is valid UTF-8 (JSON- and
// terminal-safe) and the concatenated pieces equal decode(ids) wherever that is valid UTF-8.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "data/bpe_tokenizer.h"

namespace gptcu {

// The length of the longest prefix of `bytes` that ends on a UTF-8 character boundary, leaving
// out only an incomplete (but so far valid) multi-byte character at the very end.
size_t utf8_complete_prefix(std::string_view bytes);
// `bytes` with every byte that is not part of a well-formed UTF-8 character replaced by U+FFFD.
std::string utf8_sanitize(std::string_view bytes);

class TextStream {
 public:
  // `tok` must outlive the stream. Special tokens decode to their text (e.g. "<|end|>").
  explicit TextStream(const BpeTokenizer& tok) : tok_(tok) {}
  // The new complete text after token `id` (possibly empty).
  std::string push(int32_t id);
  // The held-back tail (an incomplete character at the end, as U+FFFD), then empty.
  std::string finish();

 private:
  const BpeTokenizer& tok_;
  std::string pending_;  // bytes not returned yet: at most an incomplete character
};

}  // namespace gptcu
