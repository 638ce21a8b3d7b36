// data/filters.cpp: length and repetition filters (see filters.h).
#include "data/filters.h"

#include <utf8proc.h>

#include <algorithm>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/check.h"
#include "data/clean.h"
#include "data/records.h"
#include "data/split.h"

namespace gptcu {

namespace {

// Non-blank lines without their trailing spaces/tabs/'\r'.
std::vector<std::string_view> content_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r')) line.remove_suffix(1);
    if (line.find_first_not_of(" \t") != std::string_view::npos) lines.push_back(line);
    pos = end + 1;
  }
  return lines;
}

int64_t count_lines(std::string_view text) { return (int64_t)content_lines(text).size(); }

struct Word;
std::vector<Word> words_of(std::string_view text);

bool is_letter_or_digit(int32_t cp) {
  if (cp < 0x80) return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9');
  switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT: case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
    case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_MC:  // combining marks belong to their letter
      return true;
    default:
      return false;
  }
}

// Scripts written without spaces between words: each code point is a word of its own.
bool is_unspaced_script(int32_t cp) {
  return (cp >= 0x0E00 && cp <= 0x0EFF) ||    // Thai, Lao
         (cp >= 0x1000 && cp <= 0x109F) ||    // Myanmar
         (cp >= 0x1780 && cp <= 0x17FF) ||    // Khmer
         (cp >= 0x3040 && cp <= 0x31BF) ||    // Hiragana, Katakana, Bopomofo
         (cp >= 0x3400 && cp <= 0x4DBF) ||    // CJK extension A
         (cp >= 0x4E00 && cp <= 0x9FFF) ||    // CJK unified ideographs
         (cp >= 0xF900 && cp <= 0xFAFF) ||    // CJK compatibility ideographs
         (cp >= 0x20000 && cp <= 0x3FFFF);    // CJK extensions B and later
}

struct Word {
  uint64_t hash;
  int64_t chars;  // code points
};

// The words of a text: runs of letters/digits, and single characters of unspaced scripts.
std::vector<Word> words_of(std::string_view text) {
  std::vector<Word> words;
  size_t word_start = 0;
  int64_t word_chars = 0;
  const auto close = [&](size_t end) {
    if (word_chars > 0) words.push_back({hash64(text.substr(word_start, end - word_start)), word_chars});
    word_chars = 0;
  };
  for (size_t i = 0; i < text.size();) {
    const size_t from = i;
    const int32_t cp = next_code_point(text, i);
    if (cp >= 0 && is_unspaced_script(cp)) {
      close(from);
      words.push_back({hash64(text.substr(from, i - from)), 1});
    } else if (cp >= 0 && is_letter_or_digit(cp)) {
      if (word_chars == 0) word_start = from;
      word_chars++;
    } else {
      close(from);
    }
  }
  close(text.size());
  return words;
}

}  // namespace

double dup_line_fraction(std::string_view text) {
  const auto lines = content_lines(text);
  int64_t total = 0, dup = 0;
  std::unordered_set<std::string_view> seen;
  for (const auto line : lines) {
    const int64_t n = utf8_length(line);
    total += n;
    if (!seen.insert(line).second) dup += n;
  }
  return total == 0 ? 0.0 : (double)dup / (double)total;
}

int64_t count_words(std::string_view text) { return (int64_t)words_of(text).size(); }

double top_ngram_fraction(std::string_view text, int n) {
  GPTCU_CHECK(n >= 1, "n-gram size must be positive, got ", n);
  const std::vector<Word> words = words_of(text);
  if ((int64_t)words.size() < n) return 0.0;
  // Each n-gram of words as a 64-bit hash (collisions are negligible at this size).
  const size_t count = words.size() - (size_t)n + 1;
  std::vector<uint64_t> grams(count);
  for (size_t i = 0; i < count; i++) {
    uint64_t h = (uint64_t)n;
    for (int k = 0; k < n; k++) h = mix64(h ^ words[i + k].hash);
    grams[i] = h;
  }
  std::unordered_map<uint64_t, int32_t> counts;
  counts.reserve(count);
  uint64_t best = 0;
  int32_t best_count = 0;
  for (const uint64_t g : grams) {
    const int32_t c = ++counts[g];
    if (c > best_count) best_count = c, best = g;
  }
  // Characters of the words covered by the top n-gram's occurrences (overlaps counted once).
  std::vector<bool> covered(words.size(), false);
  for (size_t i = 0; i < count; i++)
    if (grams[i] == best) std::fill(covered.begin() + (std::ptrdiff_t)i, covered.begin() + (std::ptrdiff_t)i + n, true);
  int64_t total = 0, in_top = 0;
  for (size_t i = 0; i < words.size(); i++) {
    total += words[i].chars;
    if (covered[i]) in_top += words[i].chars;
  }
  return (double)in_top / (double)total;
}

namespace {

std::string length_reason(int64_t chars, const FilterOptions& opt) {
  if (chars < opt.min_chars) return "too_short";
  if (opt.max_chars > 0 && chars > opt.max_chars) return "too_long";
  return "";
}

std::string repetition_reason(std::string_view text, const FilterOptions& opt) {
  if (opt.max_dup_line_fraction > 0 && count_lines(text) >= kMinLinesForDupLines &&
      dup_line_fraction(text) > opt.max_dup_line_fraction)
    return "repeated_lines";
  if (opt.max_top_ngram_fraction > 0 && count_words(text) >= kMinWordsForNgrams &&
      top_ngram_fraction(text, opt.ngram) > opt.max_top_ngram_fraction)
    return "repeated_ngrams";
  return "";
}

}  // namespace

std::string filter_reason(std::string_view text, const FilterOptions& opt) {
  std::string why = length_reason(utf8_length(text), opt);
  return why.empty() ? repetition_reason(text, opt) : why;
}

std::string filter_record(const Record& r, const FilterOptions& opt) {
  if (r.kind == RecordKind::text) return filter_reason(r.text, opt);
  int64_t chars = utf8_length(r.chosen) + utf8_length(r.rejected) + utf8_length(r.answer);
  for (const Message& m : r.messages) chars += utf8_length(m.content);
  std::string why = length_reason(chars, opt);
  for (const Message& m : r.messages)
    if (why.empty()) why = repetition_reason(m.content, opt);
  for (const std::string* reply : {&r.chosen, &r.rejected})
    if (why.empty()) why = repetition_reason(*reply, opt);
  return why;
}

}  // namespace gptcu
