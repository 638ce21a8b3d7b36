// eval/bleu.h: corpus BLEU exactly as sacrebleu (2.x) computes it by default: 4-gram BLEU,
// "exp" smoothing, brevity penalty from the closest reference length, several references per
// segment, and sacrebleu's tokenizers 13a, zh, char and none.
//
//   BleuScore s = corpus_bleu({"the cat sat"}, {{"the cat sat down", "a cat sat"}}, BleuTokenize::t13a);
//   // s.score (0..100), s.precisions, s.bp, s.sys_len, s.ref_len
//
// Each segment is right-stripped (Python str.rstrip), tokenized, then split on Unicode
// whitespace (Python str.split(): the 29 code points where str.isspace() is true).
//   13a   mteval-v13a: drop "<skipped>", join "-\n" continuations, "\n" -> " ", unescape
//         &quot; &amp; &lt; &gt; (in that order, when the line has a '&'), then the regexp
//         post-tokenizer below on " " + line + " ".
//   zh    strip; put spaces around every character sacrebleu calls Chinese; then the regexp
//         post-tokenizer. sacrebleu's table of ranges includes two that its Python literals
//         spell wrongly ('\u20000' is U+2000 then '0'): compared as strings they cover
//         U+2001..U+2A6D and U+2F81..U+2FA1, so general punctuation (U+2014 '—', U+201C '“',
//         U+2026 '…'), arrows and math symbols are split off too, and Extension B ideographs
//         (U+20000..) are not. We reproduce the ranges as sacrebleu evaluates them.
//   char  every character is a token (whitespace dropped).
//   none  the text as it is (split on whitespace).
// The regexp post-tokenizer (13a and zh), four substitutions applied in turn, each scanning
// left to right without overlaps like Python's re.sub, over code points:
//   1. every character of  { | } ~ [ \ ] ^ _ ` space ! " # $ % & ( ) * + : ; < = > ? @ /
//      -> " c "
//   2. a non-digit (anything but ASCII 0-9) followed by '.' or ',' -> "x . "
//   3. '.' or ',' followed by a non-digit -> " . x"
//   4. a digit followed by '-' -> "d - "
//
// Score (sacrebleu's compute_bleu): matches per order are clipped by the maximum count of the
// n-gram in any one reference; with no match at all the score is 0; otherwise precision_n =
// 100 * correct_n / total_n, and an order with no match gets 100 / (2^k * total_n) where k
// counts the zero orders so far ("exp", mteval's smoothing); an order with no n-grams at all
// (total 0, a very short corpus) ends the loop and the later precisions stay 0, which makes the
// score 0 (sacrebleu floors log 0). BLEU = bp * exp(mean of log precision_n), bp = 1 when
// sys_len >= ref_len else exp(1 - ref_len / sys_len) (0 when sys_len is 0). ref_len sums, per
// segment, the reference length closest to the hypothesis length (the shorter on a tie).
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gptcu {

enum class BleuTokenize { t13a, zh, chars, none };

// "13a" | "zh" | "char" | "none" (UserError otherwise)
BleuTokenize parse_bleu_tokenize(const std::string& name);
const char* bleu_tokenize_name(BleuTokenize t);

// The tokens of one segment as sacrebleu sees them (after rstrip and the tokenizer).
// UserError on invalid UTF-8.
std::vector<std::string> bleu_tokens(std::string_view segment, BleuTokenize tokenize);

struct BleuScore {
  double score = 0;                  // 0..100
  std::array<int64_t, 4> correct{};  // clipped n-gram matches, n = 1..4
  std::array<int64_t, 4> total{};    // hypothesis n-grams
  std::array<double, 4> precisions{};  // percentages, after smoothing
  double bp = 1;
  int64_t sys_len = 0, ref_len = 0;
  int64_t segments = 0;
};

// hyps[i] is scored against refs[i] (one or more references each). UserError: no segments,
// sizes that differ, a segment without references, invalid UTF-8.
BleuScore corpus_bleu(const std::vector<std::string>& hyps, const std::vector<std::vector<std::string>>& refs,
                      BleuTokenize tokenize = BleuTokenize::t13a);

}  // namespace gptcu
