// data/filters.h: length and repetition filters for one text (Gopher-style quality rules).
//
//   FilterOptions opt;                              // defaults below
//   std::string why = filter_reason(text, opt);     // "" keep, else "too_short", "too_long",
//                                                   // "repeated_lines", "repeated_ngrams"
//   std::string why = filter_record(record, opt);   // the same for a Record (see below)
//
// Lengths are Unicode code points, so a Chinese character counts as one (not three bytes).
// The repetition measures follow Gopher (Rae et al. 2021, table A1):
//  - repeated_lines: the fraction of code points in lines that repeat an earlier line (the
//    first occurrence is not counted; blank lines are ignored, lines compared without trailing
//    spaces) > max_dup_line_fraction. Applied when the text has >= 5 non-blank lines.
//  - repeated_ngrams: the fraction of the text's letters and digits covered by the occurrences
//    of its most frequent n-gram of words > max_top_ngram_fraction. Applied when the text has
//    >= 200 words (about 1,100 characters of English, 200 of Chinese). A "word" is a run of
//    letters/digits (Unicode L*, M*, N*) in scripts that put spaces between words, and a single
//    character in scripts that do not (Han, kana, Thai, Lao, Khmer, Myanmar): for Chinese this
//    is Gopher's measure over code-point n-grams, while English and code are measured in words
//    as Gopher does (code-point 4-grams would flag ordinary code: "self.items" six times in a
//    15-line class covers 21% of its letters). Punctuation, symbols and spaces never count, so
//    list bullets, table rules and indentation are not "repetition".
// Below those sizes the measures are noise (one repeated line in a 3-line poem is 33%; a
// phrase said twice in a 40-word GSM8K question covers 20%), so short texts pass them. The
// n-gram minimum was set on ../shared/data: from 200 code points, 68 of GSM8K's 7,473
// questions were flagged; from 100 words, 22 of sharegpt_zh's 999 dialogues (a name like
// "野生的皮卡丘" five times in a 150-character reply); from 200 words, 10 (mostly code and
// colour tables repeating one identifier). A fraction of 0 disables its measure; max_chars = 0:
// no upper limit.
//
// Measured on ../shared/data with the defaults, after clean_text, with filter_record: none of
// Tiny Shakespeare's 7,222 paragraphs, GSM8K's 7,473 problems or alpaca_en's 999 records are
// flagged; 1 of 57,607 Tang poems (editorial notes "（《悅心集》作「夜」）" repeated); 4 of
// 21,053 Song ci (lost text written as rows of "□"); 1 of hh-rlhf's 2,312 pairs; 33 of
// alpaca_zh's 20,454 (song lyrics with a repeated chorus, ASCII tables); 23 of sharegpt_zh's 999.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace gptcu {

struct FilterOptions {
  int64_t min_chars = 1;
  int64_t max_chars = 0;  // 0: no limit
  double max_dup_line_fraction = 0.3;
  double max_top_ngram_fraction = 0.2;
  int ngram = 4;
};

// The measures, exposed for reports and tests.
double dup_line_fraction(std::string_view text);
double top_ngram_fraction(std::string_view text, int n);

// The size from which the repetition measures are applied.
constexpr int kMinLinesForDupLines = 5;
constexpr int64_t kMinWordsForNgrams = 200;  // words as counted below

// Words as the n-gram measure counts them (see above).
int64_t count_words(std::string_view text);

std::string filter_reason(std::string_view text, const FilterOptions& opt);

// A whole record: the length of all its contents (messages, chosen, rejected, answer: the
// code points of record_text without its separators), the repetition measures
// on each message, chosen and rejected separately (an assistant quoting the user's text back
// is not repetition; measured on the concatenation, 53 instead of 19 of alpaca_zh_part00's
// 10,015 records were flagged, mostly "rewrite this" tasks).
struct Record;
std::string filter_record(const Record& r, const FilterOptions& opt);

}  // namespace gptcu
