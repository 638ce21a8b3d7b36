// eval/text_stream.cpp: incremental, UTF-8-safe detokenisation (see eval/text_stream.h).
#include "eval/text_stream.h"

namespace gptcu {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

bool is_continuation(unsigned char b) { return (b & 0xC0) == 0x80; }

// The byte length a lead byte announces; 0 for a byte that cannot start a character.
int sequence_length(unsigned char b) {
  if (b < 0x80) return 1;
  if (b >= 0xC2 && b <= 0xDF) return 2;
  if (b >= 0xE0 && b <= 0xEF) return 3;
  if (b >= 0xF0 && b <= 0xF4) return 4;
  return 0;  // a continuation byte, 0xC0/0xC1 (overlong) or above 0xF4
}

// Whether b may follow lead byte `lead` as the second byte (rules out overlong forms,
// surrogates and code points above U+10FFFF, as RFC 3629 does).
bool valid_second(unsigned char lead, unsigned char b) {
  if (!is_continuation(b)) return false;
  if (lead == 0xE0) return b >= 0xA0;
  if (lead == 0xED) return b <= 0x9F;
  if (lead == 0xF0) return b >= 0x90;
  if (lead == 0xF4) return b <= 0x8F;
  return true;
}

// At bytes[i]: the length of the well-formed character there (> 0), 0 if it is malformed,
// or -1 if it is a valid but incomplete prefix that reaches the end of `bytes`.
int char_at(std::string_view bytes, size_t i) {
  const unsigned char lead = (unsigned char)bytes[i];
  const int len = sequence_length(lead);
  if (len <= 1) return len;
  for (int k = 1; k < len; k++) {
    if (i + k >= bytes.size()) return -1;
    const unsigned char b = (unsigned char)bytes[i + k];
    if (!(k == 1 ? valid_second(lead, b) : is_continuation(b))) return 0;
  }
  return len;
}

}  // namespace

size_t utf8_complete_prefix(std::string_view bytes) {
  // Only the last 3 bytes can hold an incomplete character.
  for (size_t i = bytes.size() > 3 ? bytes.size() - 3 : 0; i < bytes.size(); i++)
    if (sequence_length((unsigned char)bytes[i]) > 1 && char_at(bytes, i) == -1) return i;
  return bytes.size();
}

std::string utf8_sanitize(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (size_t i = 0; i < bytes.size();) {
    const int len = char_at(bytes, i);
    if (len > 0) {
      out.append(bytes.substr(i, len));
      i += len;
    } else {  // malformed, or incomplete at the end: one replacement per byte
      out.append(kReplacement);
      i++;
    }
  }
  return out;
}

std::string TextStream::push(int32_t id) {
  const int32_t one[1] = {id};
  pending_ += tok_.decode(one);
  const size_t n = utf8_complete_prefix(pending_);
  std::string out = utf8_sanitize(std::string_view(pending_).substr(0, n));
  pending_.erase(0, n);
  return out;
}

std::string TextStream::finish() {
  std::string out = utf8_sanitize(pending_);
  pending_.clear();
  return out;
}

}  // namespace gptcu
