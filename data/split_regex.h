// data/split_regex.h: the pre-split regex of byte-level BPE (tiktoken's pat_str), compiled
// once through PCRE2 with JIT and shared by the encoder (bpe_tokenizer.cpp) and the trainer
// (bpe_trainer.cpp), so that both cut text into exactly the same pieces.
//
//   SplitRegex re(kPatternCl100k);
//   for (size_t pos = 0, b, e; pos < text.size() && re.search(text.data(), text.size(), pos, b, e); pos = e) ...
//
// Compiled with UTF, UCP, MATCH_INVALID_UTF (invalid bytes are skipped, never an error) and
// DOLLAR_ENDONLY; \s and \S are spelled out as Unicode White_Space (what tiktoken's regex crate
// means by them; PCRE2 10.42's \s also matches U+180E). Thread-safe: each thread matches with
// its own match data and JIT stack.
#pragma once
#include <cstddef>
#include <string>

struct pcre2_real_code_8;

namespace gptcu {

class SplitRegex {
 public:
  // UserError when PCRE2 does not compile the pattern ("... regex does not compile ...").
  explicit SplitRegex(const std::string& pattern);
  ~SplitRegex();
  SplitRegex(const SplitRegex&) = delete;
  SplitRegex& operator=(const SplitRegex&) = delete;

  // The leftmost non-empty match in subject[pos, end) -> [begin, finish); false if none. Pass
  // the whole text as the subject (not a slice starting at pos), so that a match from a position
  // depends on that position alone (what encode_parallel and the trainer's chunking rely on).
  bool search(const char* subject, size_t end, size_t pos, size_t& begin, size_t& finish) const;

 private:
  pcre2_real_code_8* code_ = nullptr;
  bool jit_ = false;
};

}  // namespace gptcu
