// data/clean.h: text cleaning (UTF-8 repair, Unicode normalisation, control characters,
// whitespace) and the small UTF-8 helpers that filters and dedup share.
//
//   CleanOptions opt;                          // defaults: nfkc, repair, strip control, whitespace
//   CleanOutcome o = clean_text(s, opt);       // s edited in place
//   CleanOutcome o = clean_record(record, opt) // every text field of a Record
//
// The steps, in order:
//  1. invalid UTF-8: "repair" replaces each maximal invalid subsequence with U+FFFD (the Unicode
//     "best practice", W3C/WHATWG decoders do the same); "drop" reports `dropped` and leaves s.
//  2. normalize: "nfkc" (default), "nfc" or "none", through utf8proc. NFKC also folds
//     compatibility characters: full-width ASCII and punctuation (Chinese "，：？！（）" become
//     ", : ? ! ( )"; "。、《》" are unchanged), U+3000 ideographic space -> ' ', ligatures, "①" -> "1",
//     "x²" -> "x2". Choose "nfc" to keep them. (On ../shared/data NFKC changes 57,383 of the
//     57,607 Tang poems, all through "，" -> ",".)
//  3. normalize_whitespace, line breaks: "\r\n", "\r", U+0085, U+2028 -> "\n"; U+2029 -> "\n\n".
//  4. strip_control: removes the C0/C1 control characters (Cc) except '\t' and '\n' ('\r' too
//     when whitespace normalisation is off, so line endings survive), plus the invisible
//     format characters that carry no text: U+FEFF (BOM / zero-width no-break space), U+200B
//     (zero-width space), U+2060 (word joiner), U+00AD (soft hyphen). ZWJ/ZWNJ (U+200C/D) stay:
//     emoji sequences and Persian/Indic scripts need them; bidi marks stay too.
//  5. normalize_whitespace, layout: spaces and tabs at the end of each line removed, 3 or more
//     consecutive "\n" become 2 (at most one blank line), leading and trailing blank lines
//     removed. Spaces inside a line are never collapsed (code indentation matters).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace gptcu {

struct Record;

struct CleanOptions {
  std::string normalize = "nfkc";       // nfkc | nfc | none
  std::string invalid_utf8 = "repair";  // repair | drop
  bool strip_control = true;
  bool normalize_whitespace = true;
};

// UserError on an unknown normalize or invalid_utf8 value.
void validate(const CleanOptions& opt);

// `repaired`: the input had invalid UTF-8 (and was repaired; maybe changed in other ways too).
// `dropped`: invalid UTF-8 and invalid_utf8 == "drop"; the string is left as it was.
enum class CleanOutcome { unchanged, changed, repaired, dropped };
const char* outcome_name(CleanOutcome o);

CleanOutcome clean_text(std::string& s, const CleanOptions& opt);
// Cleans text, every message's content, chosen, rejected, answer and solution; returns the
// worst outcome (dropped > repaired > changed > unchanged). Roles and source are left alone.
CleanOutcome clean_record(Record& r, const CleanOptions& opt);

// Counts of outcomes, for the report of what was done.
struct CleanStats {
  int64_t unchanged = 0, changed = 0, repaired = 0, dropped = 0;
  void add(CleanOutcome o);
};

// ---- UTF-8 helpers -----------------------------------------------------------------------
// Decodes the code point at s[i] and advances i. Returns -1 (and advances past the maximal
// invalid subsequence, at least one byte) where s is not well-formed UTF-8 (Unicode Table 3-7:
// no overlongs, no surrogates, nothing above U+10FFFF).
int32_t next_code_point(std::string_view s, size_t& i);
bool is_valid_utf8(std::string_view s);
// s with each maximal invalid subsequence replaced by U+FFFD; `repaired` set when it had any.
std::string repair_utf8(std::string_view s, bool* repaired = nullptr);
// Number of code points of valid UTF-8 (counts the bytes that are not continuation bytes).
int64_t utf8_length(std::string_view s);

}  // namespace gptcu
