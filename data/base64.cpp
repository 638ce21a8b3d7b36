// data/base64.cpp: see base64.h.
#include "data/base64.h"

#include <array>
#include <cstdint>

namespace gptcu {

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// byte -> 6-bit value, or -1 for a character outside the alphabet.
constexpr std::array<int8_t, 256> make_decode_table() {
  std::array<int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int i = 0; i < 64; i++) t[(uint8_t)kAlphabet[i]] = (int8_t)i;
  return t;
}
constexpr std::array<int8_t, 256> kDecode = make_decode_table();

bool fail(std::string* why, std::string message) {
  if (why) *why = std::move(message);
  return false;
}

std::string describe(char c) {
  if ((uint8_t)c >= 0x20 && (uint8_t)c < 0x7f) return std::string("'") + c + "'";
  static const char* hex = "0123456789abcdef";
  return std::string("byte 0x") + hex[(uint8_t)c >> 4] + hex[(uint8_t)c & 15];
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v = (uint8_t)bytes[i] << 16 | (uint8_t)bytes[i + 1] << 8 | (uint8_t)bytes[i + 2];
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  const size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t v = (uint8_t)bytes[i] << 16;
    if (rest == 2) v |= (uint8_t)bytes[i + 1] << 8;
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

bool base64_decode(std::string_view text, std::string& out, std::string* why) {
  out.clear();
  if (text.size() % 4 != 0)
    return fail(why, "base64 length " + std::to_string(text.size()) + " is not a multiple of 4");
  size_t padding = 0;
  while (padding < 2 && padding < text.size() && text[text.size() - 1 - padding] == '=') padding++;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    uint32_t v = 0;
    for (size_t k = 0; k < 4; k++) {
      const size_t at = i + k;
      const bool is_pad = at >= text.size() - padding;
      const int d = is_pad ? 0 : kDecode[(uint8_t)text[at]];
      if (d < 0) {
        const char* what = text[at] == '=' ? "misplaced base64 padding '='" : "invalid base64 character";
        return fail(why, std::string(what) + (text[at] == '=' ? "" : " " + describe(text[at])) + " at offset " +
                             std::to_string(at));
      }
      v = v << 6 | (uint32_t)d;
    }
    out += (char)(v >> 16);
    if (i + 4 < text.size() || padding < 2) out += (char)(v >> 8);
    if (i + 4 < text.size() || padding < 1) out += (char)v;
  }
  return true;
}

}  // namespace gptcu
