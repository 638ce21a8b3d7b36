// eval/bleu.cpp: sacrebleu's tokenizers and corpus BLEU (see eval/bleu.h for the rules).
#include "eval/bleu.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <unordered_map>

#include "core/check.h"
#include "data/clean.h"

namespace gptcu {
namespace {

// Python's str.isspace(): what str.split() and str.strip() treat as whitespace.
bool py_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

// sacrebleu's TokenizerZh._is_chinese_char, as its range table evaluates in Python (bleu.h).
bool zh_char(char32_t c) {
  static constexpr char32_t kRanges[][2] = {
      {0x2001, 0x2A6D}, {0x2E80, 0x2FDF}, {0x2FF0, 0x303F}, {0x3100, 0x312F}, {0x31A0, 0x31EF},
      {0x3200, 0x4DB5}, {0x4E00, 0x9FBB}, {0xF900, 0xFA2D}, {0xFA30, 0xFA6A}, {0xFA70, 0xFAD9},
      {0xFE10, 0xFE1F}, {0xFE30, 0xFE4F}, {0xFF00, 0xFFEF}};
  for (const auto& r : kRanges)
    if (c >= r[0] && c <= r[1]) return true;
  return false;
}

std::u32string decode(std::string_view s) {
  std::u32string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const int32_t c = next_code_point(s, i);
    GPTCU_USER_CHECK(c >= 0, "BLEU: invalid UTF-8 in a segment");
    out.push_back((char32_t)c);
  }
  return out;
}

void append_utf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out += (char)c;
  } else if (c < 0x800) {
    out += (char)(0xC0 | (c >> 6));
    out += (char)(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += (char)(0xE0 | (c >> 12));
    out += (char)(0x80 | ((c >> 6) & 0x3F));
    out += (char)(0x80 | (c & 0x3F));
  } else {
    out += (char)(0xF0 | (c >> 18));
    out += (char)(0x80 | ((c >> 12) & 0x3F));
    out += (char)(0x80 | ((c >> 6) & 0x3F));
    out += (char)(0x80 | (c & 0x3F));
  }
}

void replace_all(std::u32string& s, const std::u32string& from, const std::u32string& to) {
  if (s.find(from) == std::u32string::npos) return;
  std::u32string out;
  size_t i = 0;
  for (size_t j; (j = s.find(from, i)) != std::u32string::npos; i = j + from.size()) out += s.substr(i, j - i) + to;
  s = out + s.substr(i);
}

void rstrip(std::u32string& s) {
  while (!s.empty() && py_space(s.back())) s.pop_back();
}

void strip(std::u32string& s) {
  rstrip(s);
  size_t i = 0;
  while (i < s.size() && py_space(s[i])) i++;
  s.erase(0, i);
}

bool digit(char32_t c) { return c >= U'0' && c <= U'9'; }
bool period_or_comma(char32_t c) { return c == U'.' || c == U','; }
// 13a's rule 1 class: [\{-\~\[-\` -\&\(-\+\:-\@\/]
bool punct_13a(char32_t c) {
  return (c >= 0x7B && c <= 0x7E) || (c >= 0x5B && c <= 0x60) || (c >= 0x20 && c <= 0x26) ||
         (c >= 0x28 && c <= 0x2B) || (c >= 0x3A && c <= 0x40) || c == U'/';
}

// One re.sub of a two-character pattern: left to right, non-overlapping; a match (a, b) becomes
// what `emit` appends.
template <class Match, class Emit>
std::u32string sub2(const std::u32string& s, Match match, Emit emit) {
  std::u32string out;
  out.reserve(s.size() + 8);
  size_t i = 0;
  while (i < s.size()) {
    if (i + 1 < s.size() && match(s[i], s[i + 1])) {
      emit(out, s[i], s[i + 1]);
      i += 2;
    } else {
      out += s[i++];
    }
  }
  return out;
}

// sacrebleu's TokenizerRegexp (shared by 13a and zh).
std::u32string regexp_post(const std::u32string& line) {
  std::u32string s;
  s.reserve(line.size() * 2);
  for (char32_t c : line) {
    if (punct_13a(c)) {
      s += U' ';
      s += c;
      s += U' ';
    } else {
      s += c;
    }
  }
  s = sub2(s, [](char32_t a, char32_t b) { return !digit(a) && period_or_comma(b); },
           [](std::u32string& o, char32_t a, char32_t b) { o += a; o += U' '; o += b; o += U' '; });
  s = sub2(s, [](char32_t a, char32_t b) { return period_or_comma(a) && !digit(b); },
           [](std::u32string& o, char32_t a, char32_t b) { o += U' '; o += a; o += U' '; o += b; });
  s = sub2(s, [](char32_t a, char32_t b) { return digit(a) && b == U'-'; },
           [](std::u32string& o, char32_t a, char32_t b) { o += a; o += U' '; o += b; o += U' '; });
  return s;
}

std::u32string tokenize_13a(std::u32string line) {
  replace_all(line, U"<skipped>", U"");
  replace_all(line, U"-\n", U"");
  replace_all(line, U"\n", U" ");
  if (line.find(U'&') != std::u32string::npos) {
    replace_all(line, U"&quot;", U"\"");
    replace_all(line, U"&amp;", U"&");
    replace_all(line, U"&lt;", U"<");
    replace_all(line, U"&gt;", U">");
  }
  return regexp_post(U" " + line + U" ");
}

std::u32string tokenize_zh(std::u32string line) {
  strip(line);
  std::u32string s;
  s.reserve(line.size() * 3);
  for (char32_t c : line) {
    if (zh_char(c)) {
      s += U' ';
      s += c;
      s += U' ';
    } else {
      s += c;
    }
  }
  return regexp_post(s);
}

std::u32string tokenize_char(const std::u32string& line) {
  std::u32string s;
  for (char32_t c : line) {
    if (!s.empty()) s += U' ';
    s += c;
  }
  return s;
}

// Counts of every n-gram (n = 1..4), keyed by the tokens joined with '\n' (never inside a token).
using NgramCounts = std::unordered_map<std::string, int64_t>;
NgramCounts ngrams(const std::vector<std::string>& tokens) {
  NgramCounts counts;
  for (size_t n = 1; n <= 4; n++) {
    for (size_t i = 0; i + n <= tokens.size(); i++) {
      std::string key = tokens[i];
      for (size_t k = 1; k < n; k++) key += '\n' + tokens[i + k];
      counts[key]++;
    }
  }
  return counts;
}

int order_of(const std::string& key) { return 1 + (int)std::count(key.begin(), key.end(), '\n'); }

}  // namespace

BleuTokenize parse_bleu_tokenize(const std::string& name) {
  if (name == "13a") return BleuTokenize::t13a;
  if (name == "zh") return BleuTokenize::zh;
  if (name == "char") return BleuTokenize::chars;
  if (name == "none") return BleuTokenize::none;
  user_error("unknown BLEU tokenizer '", name, "' (13a | zh | char | none)");
}

const char* bleu_tokenize_name(BleuTokenize t) {
  switch (t) {
    case BleuTokenize::t13a: return "13a";
    case BleuTokenize::zh: return "zh";
    case BleuTokenize::chars: return "char";
    case BleuTokenize::none: return "none";
  }
  return "?";
}

std::vector<std::string> bleu_tokens(std::string_view segment, BleuTokenize tokenize) {
  std::u32string s = decode(segment);
  rstrip(s);
  switch (tokenize) {
    case BleuTokenize::t13a: s = tokenize_13a(std::move(s)); break;
    case BleuTokenize::zh: s = tokenize_zh(std::move(s)); break;
    case BleuTokenize::chars: s = tokenize_char(s); break;
    case BleuTokenize::none: break;
  }
  std::vector<std::string> tokens;
  std::string cur;
  bool in_token = false;
  for (char32_t c : s) {
    if (py_space(c)) {
      if (in_token) tokens.push_back(std::move(cur));
      cur.clear();
      in_token = false;
    } else {
      append_utf8(cur, c);
      in_token = true;
    }
  }
  if (in_token) tokens.push_back(std::move(cur));
  return tokens;
}

BleuScore corpus_bleu(const std::vector<std::string>& hyps, const std::vector<std::vector<std::string>>& refs,
                      BleuTokenize tokenize) {
  GPTCU_USER_CHECK(!hyps.empty(), "BLEU: no segments to score");
  GPTCU_USER_CHECK(hyps.size() == refs.size(), "BLEU: ", hyps.size(), " hypotheses but ", refs.size(),
                   " reference sets");
  BleuScore s;
  s.segments = (int64_t)hyps.size();
  for (size_t i = 0; i < hyps.size(); i++) {
    GPTCU_USER_CHECK(!refs[i].empty(), "BLEU: segment ", i + 1, " has no reference");
    NgramCounts ref_max;
    std::vector<int64_t> ref_lens;
    for (const std::string& r : refs[i]) {
      const std::vector<std::string> rt = bleu_tokens(r, tokenize);
      ref_lens.push_back((int64_t)rt.size());
      for (const auto& [key, count] : ngrams(rt)) ref_max[key] = std::max(ref_max[key], count);
    }
    const std::vector<std::string> ht = bleu_tokens(hyps[i], tokenize);
    const int64_t hyp_len = (int64_t)ht.size();
    // the closest reference length, the shorter on a tie
    int64_t closest = -1, best_diff = -1;
    for (int64_t len : ref_lens) {
      const int64_t diff = std::llabs(hyp_len - len);
      if (best_diff < 0 || diff < best_diff || (diff == best_diff && len < closest)) {
        best_diff = diff;
        closest = len;
      }
    }
    s.sys_len += hyp_len;
    s.ref_len += closest;
    for (const auto& [key, count] : ngrams(ht)) {
      const int n = order_of(key) - 1;
      s.total[n] += count;
      const auto it = ref_max.find(key);
      if (it != ref_max.end()) s.correct[n] += std::min(count, it->second);
    }
  }
  if (s.sys_len < s.ref_len) s.bp = s.sys_len > 0 ? std::exp(1.0 - (double)s.ref_len / (double)s.sys_len) : 0.0;
  if (std::all_of(s.correct.begin(), s.correct.end(), [](int64_t c) { return c == 0; })) return s;
  double smooth = 1.0;
  for (int n = 0; n < 4; n++) {
    if (s.total[n] == 0) break;
    if (s.correct[n] == 0) {
      smooth *= 2;
      s.precisions[n] = 100.0 / (smooth * (double)s.total[n]);
    } else {
      s.precisions[n] = 100.0 * (double)s.correct[n] / (double)s.total[n];
    }
  }
  double log_sum = 0;
  for (double p : s.precisions) log_sum += p == 0.0 ? -9999999999.0 : std::log(p);
  s.score = s.bp * std::exp(log_sum / 4);
  return s;
}

}  // namespace gptcu
