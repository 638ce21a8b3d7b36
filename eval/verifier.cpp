// eval/verifier.cpp: answer extraction and normalisation (see verifier.h).
#include "eval/verifier.h"

#include <algorithm>
#include <cctype>
#include <optional>

namespace gptcu {

namespace {

// Byte length of the whitespace character at s[i] (ASCII, U+00A0, U+3000), or 0.
size_t space_at(std::string_view s, size_t i) {
  const unsigned char c = (unsigned char)s[i];
  if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') return 1;
  if (s.substr(i, 2) == "\xC2\xA0") return 2;      // U+00A0 no-break space
  if (s.substr(i, 3) == "\xE3\x80\x80") return 3;  // U+3000 ideographic space
  return 0;
}

// Trimmed, internal whitespace runs -> one ' '.
std::string collapse_spaces(std::string_view s) {
  std::string out;
  bool pending = false;
  for (size_t i = 0; i < s.size();) {
    if (const size_t n = space_at(s, i)) {
      pending = !out.empty();
      i += n;
      continue;
    }
    if (pending) out += ' ';
    pending = false;
    out += s[i++];
  }
  return out;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// The length of the number at the start of s (sign, digits with valid thousands commas,
// decimals), or 0 when there is none. "1,23" stops after "1"; "12." stops before the '.'.
size_t number_length(std::string_view s) {
  size_t i = (!s.empty() && (s[0] == '+' || s[0] == '-')) ? 1 : 0;
  const size_t start = i;
  while (i < s.size() && is_digit(s[i])) i++;
  const size_t lead = i - start;
  if (lead == 0) return 0;
  // ",ddd" groups, only after 1-3 leading digits, each exactly three digits
  while (lead <= 3 && i + 3 < s.size() && s[i] == ',' && is_digit(s[i + 1]) && is_digit(s[i + 2]) &&
         is_digit(s[i + 3]) && (i + 4 >= s.size() || !is_digit(s[i + 4])))
    i += 4;
  if (i + 1 < s.size() && s[i] == '.' && is_digit(s[i + 1])) {
    i++;
    while (i < s.size() && is_digit(s[i])) i++;
  }
  return i;
}

// A whole-string number written canonically (see verifier.h); s must be a number.
std::string canonical_number(std::string_view s) {
  const bool negative = s[0] == '-';
  if (s[0] == '+' || s[0] == '-') s.remove_prefix(1);
  std::string whole, frac;
  const size_t dot = s.find('.');
  for (char c : s.substr(0, dot))
    if (c != ',') whole += c;
  if (dot != std::string_view::npos) frac = std::string(s.substr(dot + 1));
  whole.erase(0, std::min(whole.find_first_not_of('0'), whole.size() - 1));
  frac.erase(frac.find_last_not_of('0') + 1);
  std::string out = whole + (frac.empty() ? "" : "." + frac);
  if (negative && out != "0") out = "-" + out;
  return out;
}

// The first number after the last "####", or without "####" the last number in the text.
std::optional<std::string> final_number(std::string_view text) {
  const size_t hash = text.rfind("####");
  const bool marked = hash != std::string_view::npos;
  if (marked) text.remove_prefix(hash + 4);
  std::optional<std::string> found;
  for (size_t i = 0; i < text.size();) {
    // a sign glued to a word or number is an operator, not a sign ("5-3" is 5 and 3, not -3)
    const bool glued_sign = (text[i] == '+' || text[i] == '-') && i > 0 &&
                            (std::isalnum((unsigned char)text[i - 1]) || text[i - 1] == '.');
    const size_t n = glued_sign ? 0 : number_length(text.substr(i));
    if (n == 0) {
      i++;
      continue;
    }
    found = canonical_number(text.substr(i, n));
    if (marked) break;
    i += n;
  }
  return found;
}

}  // namespace

std::string normalize_answer(std::string_view text) {
  std::string s = collapse_spaces(text);
  for (std::string_view stop : {".", "。"})
    if (s.size() >= stop.size() && s.compare(s.size() - stop.size(), stop.size(), stop) == 0) {
      s.erase(s.size() - stop.size());
      s = collapse_spaces(s);
      break;
    }
  if (!s.empty() && number_length(s) == s.size()) s = canonical_number(s);
  return s;
}

std::string extract_answer(std::string_view text) {
  const size_t hash = text.rfind("####");
  if (hash != std::string_view::npos) text.remove_prefix(hash + 4);
  return normalize_answer(text);
}

bool exact_match(std::string_view response, std::string_view reference) {
  const std::string want = extract_answer(reference);
  return !want.empty() && extract_answer(response) == want;
}

bool gsm8k_match(std::string_view response, std::string_view reference) {
  const std::optional<std::string> want = final_number(reference), got = final_number(response);
  return want && got && *want == *got;
}

}  // namespace gptcu
