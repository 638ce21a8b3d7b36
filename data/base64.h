// data/base64.h: standard base64 (RFC 4648 alphabet, '=' padding), used by the .tiktoken
// rank files ("BASE64 RANK" per line).
//
//   std::string text = base64_encode("hi");          // "aGk="
//   std::string back, why;
//   if (!base64_decode(text, back, &why)) user_error(path, ":", line, ": ", why);
#pragma once
#include <string>
#include <string_view>

namespace gptcu {

std::string base64_encode(std::string_view bytes);

// Strict decoding: the length is a multiple of 4, only alphabet characters, and at most two
// '=' at the very end. On failure returns false and, when `why` is given, says what is wrong
// (one line, e.g. "invalid base64 character '*' at offset 3"); `out` is then unspecified.
bool base64_decode(std::string_view text, std::string& out, std::string* why = nullptr);

}  // namespace gptcu
