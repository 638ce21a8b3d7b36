// data/split_regex.cpp
#define PCRE2_CODE_UNIT_WIDTH 8
#include "data/split_regex.h"

#include <pcre2.h>

#include "core/check.h"

namespace gptcu {

namespace {

// Per-thread PCRE2 match state: match data for one pair and a JIT stack big enough for any
// piece (the default 32 KB is too small for pathological inputs).
struct MatchScratch {
  pcre2_match_data* data = pcre2_match_data_create(1, nullptr);
  pcre2_match_context* context = pcre2_match_context_create(nullptr);
  pcre2_jit_stack* stack = pcre2_jit_stack_create(64 * 1024, 64 * 1024 * 1024, nullptr);
  MatchScratch() {
    GPTCU_CHECK(data && context && stack, "PCRE2 out of memory");
    pcre2_jit_stack_assign(context, nullptr, stack);
  }
  ~MatchScratch() {
    pcre2_jit_stack_free(stack);
    pcre2_match_context_free(context);
    pcre2_match_data_free(data);
  }
};

// tiktoken's regexes run on Rust's regex crate, where \s is Unicode's White_Space property.
// PCRE2 10.42's \s (with UCP) also matches U+180E MONGOLIAN VOWEL SEPARATOR, which stopped
// being White_Space in Unicode 6.3, so we spell White_Space out: \s outside a class becomes
// [WS], \S becomes [^WS], and \s inside a class becomes WS (a \S inside a class is left alone).
std::string with_unicode_white_space(const std::string& pattern) {
  static const std::string ws = R"(\t\n\x{0B}\f\r\x{20}\x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000})";
  std::string out;
  bool in_class = false;
  for (size_t i = 0; i < pattern.size(); i++) {
    const char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      const char e = pattern[++i];
      if (e == 's')
        out += in_class ? ws : "[" + ws + "]";
      else if (e == 'S' && !in_class)
        out += "[^" + ws + "]";
      else
        out += c, out += e;
      continue;
    }
    out += c;
    if (!in_class && c == '[') {
      in_class = true;
      if (i + 1 < pattern.size() && pattern[i + 1] == '^') out += pattern[++i];
      if (i + 1 < pattern.size() && pattern[i + 1] == ']') out += pattern[++i];  // a literal ] first
    } else if (in_class && c == '[' && i + 1 < pattern.size() && pattern[i + 1] == ':') {
      const size_t end = pattern.find(":]", i + 2);  // a POSIX class [:alpha:]
      if (end != std::string::npos) out.append(pattern, i + 1, end + 1 - i), i = end + 1;
    } else if (in_class && c == ']') {
      in_class = false;
    }
  }
  return out;
}

std::string pcre2_message(int err) {
  PCRE2_UCHAR buf[256];
  pcre2_get_error_message(err, buf, sizeof buf);
  return (const char*)buf;
}

}  // namespace

SplitRegex::SplitRegex(const std::string& pattern_text) {
  const std::string pattern = with_unicode_white_space(pattern_text);
  int err = 0;
  PCRE2_SIZE offset = 0;
  code_ = pcre2_compile((PCRE2_SPTR)pattern.data(), pattern.size(),
                        PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF | PCRE2_DOLLAR_ENDONLY, &err, &offset, nullptr);
  if (!code_)
    user_error("tokenizer regex does not compile: ", pcre2_message(err), " at offset ", offset, " (in '", pattern_text, "')");
  jit_ = pcre2_jit_compile(code_, PCRE2_JIT_COMPLETE) == 0;  // else the interpreter
}

SplitRegex::~SplitRegex() { pcre2_code_free(code_); }

bool SplitRegex::search(const char* subject, size_t end, size_t pos, size_t& begin, size_t& finish) const {
  thread_local MatchScratch scratch;
  const int rc = jit_ ? pcre2_jit_match(code_, (PCRE2_SPTR)subject, end, pos, PCRE2_NOTEMPTY, scratch.data, scratch.context)
                      : pcre2_match(code_, (PCRE2_SPTR)subject, end, pos, PCRE2_NOTEMPTY, scratch.data, scratch.context);
  if (rc == PCRE2_ERROR_NOMATCH) return false;
  if (rc < 0) user_error("tokenizer regex failed at byte ", pos, ": ", pcre2_message(rc));
  const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(scratch.data);
  begin = ov[0], finish = ov[1];
  return true;
}

}  // namespace gptcu
