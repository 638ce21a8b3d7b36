// test/data/test_clean.cpp: UTF-8 repair, Unicode normalisation, control characters, whitespace.
#include <catch2/catch.hpp>

#include "core/check.h"
#include "data/clean.h"
#include "data/records.h"

using namespace gptcu;

namespace {

const std::string kFFFD = "\xEF\xBF\xBD";

std::string cleaned(std::string s, const CleanOptions& opt = {}) {
  clean_text(s, opt);
  return s;
}

std::string repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; i++) out += s;
  return out;
}

}  // namespace

TEST_CASE("invalid UTF-8: one U+FFFD per maximal invalid subsequence", "[clean]") {
  // The example of the Unicode Standard, section 3.9 (Table 3-8):
  // 61 F1 80 80 E1 80 C2 62 80 63 80 BF 64 -> a FFFD FFFD FFFD b FFFD c FFFD FFFD d
  bool repaired = false;
  CHECK(repair_utf8("\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64", &repaired) ==
        "a" + repeat(kFFFD, 3) + "b" + kFFFD + "c" + repeat(kFFFD, 2) + "d");
  CHECK(repaired);
  CHECK(repair_utf8("\xC0\x80") == repeat(kFFFD, 2));      // overlong NUL: C0 is never valid
  CHECK(repair_utf8("\xE0\x80\x80") == repeat(kFFFD, 3));  // overlong: E0 needs A0..BF next
  CHECK(repair_utf8("\xED\xA0\x80") == repeat(kFFFD, 3));  // a surrogate (U+D800)
  CHECK(repair_utf8("\xF4\x90\x80\x80") == repeat(kFFFD, 4));  // above U+10FFFF
  CHECK(repair_utf8("ok\xE4\xB8") == "ok" + kFFFD);            // cut in the middle of 中
  CHECK(repair_utf8("\xFF") == kFFFD);
  const std::string valid = "plain, 中文, 😀, \x7F";
  CHECK(repair_utf8(valid, &repaired) == valid);
  CHECK_FALSE(repaired);
  CHECK(is_valid_utf8(valid));
  CHECK_FALSE(is_valid_utf8("\xE4\xB8"));
  CHECK(utf8_length("中文 ok😀") == 6);

  std::string s = "caf\xE9";
  CHECK(clean_text(s, {}) == CleanOutcome::repaired);
  CHECK(s == "caf" + kFFFD);
  CleanOptions drop;
  drop.invalid_utf8 = "drop";
  s = "caf\xE9";
  CHECK(clean_text(s, drop) == CleanOutcome::dropped);
  CHECK(s == "caf\xE9");  // left as it was
}

TEST_CASE("NFKC folds compatibility characters, NFC only composes", "[clean]") {
  CleanOptions nfkc, nfc, none;
  nfc.normalize = "nfc";
  none.normalize = "none";
  const std::string decomposed = "Cafe\xCC\x81";  // e + U+0301 combining acute
  CHECK(cleaned(decomposed, nfkc) == "Caf\xC3\xA9");
  CHECK(cleaned(decomposed, nfc) == "Caf\xC3\xA9");
  CHECK(cleaned(decomposed, none) == decomposed);
  // Full-width letters, the ideographic space, a ligature, a circled digit, a superscript.
  const std::string compat = "ｆｕｌｌ　ｗｉｄｔｈ ﬁle ① x²";
  CHECK(cleaned(compat, nfkc) == "full width file 1 x2");
  CHECK(cleaned(compat, nfc) == compat);
  // Chinese: full-width punctuation becomes ASCII under NFKC; 。、《》 and the characters stay.
  CHECK(cleaned("你好，世界！（测试）：是吗？《书》。、", nfkc) == "你好,世界!(测试):是吗?《书》。、");
  CHECK(cleaned("你好，世界！", nfc) == "你好，世界！");
  CHECK(cleaned("秦川雄帝宅，函谷壯皇居。", nfc) == "秦川雄帝宅，函谷壯皇居。");  // traditional stays traditional
}

TEST_CASE("control and invisible characters are removed, tabs and newlines kept", "[clean]") {
  CHECK(cleaned(std::string("a\0b\x07" "c\x1b[0md\x7F", 11)) == "abc[0md");
  CHECK(cleaned("col1\tcol2\nrow") == "col1\tcol2\nrow");
  CHECK(cleaned("\xEF\xBB\xBFhello\xE2\x80\x8Bworld\xC2\xAD!") == "helloworld!");  // BOM, ZWSP, soft hyphen
  CHECK(cleaned("x\xC2\x80\xC2\x9Fy") == "xy");                                      // C1 controls
  const std::string family = "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9";        // man ZWJ woman
  CHECK(cleaned(family) == family);
  CleanOptions keep;
  keep.strip_control = false;
  CHECK(cleaned(std::string("a\0b", 3), keep) == std::string("a\0b", 3));
}

TEST_CASE("whitespace: line endings, trailing spaces, blank lines, indentation kept", "[clean]") {
  CHECK(cleaned("a\r\nb\rc\n") == "a\nb\nc");
  CHECK(cleaned("line one   \nline two\t\t\n") == "line one\nline two");
  CHECK(cleaned("para 1\n\n\n\n\npara 2\n \n\t\n  \npara 3") == "para 1\n\npara 2\n\npara 3");
  CHECK(cleaned("\n\n   \n  first\nlast\n\n\n") == "  first\nlast");
  const std::string code = "def f(x):\n    if x:\n        return  x  # two spaces\n\n    return 0";
  CHECK(cleaned(code) == code);
  CHECK(cleaned("a\xE2\x80\xA8" "b\xE2\x80\xA9" "c\xC2\x85" "d") == "a\nb\n\nc\nd");  // U+2028, U+2029, NEL
  CleanOptions raw;
  raw.normalize_whitespace = false;
  CHECK(cleaned("a \r\nb\n\n\n\nc  ", raw) == "a \r\nb\n\n\n\nc  ");  // '\r' survives control stripping
  CHECK(cleaned("   ") == "");
}

TEST_CASE("clean_text reports what it did and is idempotent", "[clean]") {
  std::string s = "Already clean.\n\nTwo paragraphs.";
  CHECK(clean_text(s, {}) == CleanOutcome::unchanged);
  s = "Trailing space ";
  CHECK(clean_text(s, {}) == CleanOutcome::changed);
  CHECK(std::string(outcome_name(CleanOutcome::repaired)) == "repaired");
  const std::vector<std::string> samples{"ｆｕｌｌ\r\n\r\n\r\nx  \n",  "caf\xE9\x80 \n\n\n",  "\xEF\xBB\xBF\tindent\n\n",
                                         "a\xE2\x80\xA9\xE2\x80\xA9" "b", "e\xCC\x81\xCC\xA3 ①", "\n"};
  for (const auto& sample : samples) {
    INFO(sample);
    std::string once = sample;
    clean_text(once, {});
    std::string twice = once;
    CHECK(clean_text(twice, {}) == CleanOutcome::unchanged);
    CHECK(twice == once);
    CHECK(is_valid_utf8(once));
  }
  CleanOptions bad;
  bad.normalize = "nfd";
  CHECK_THROWS_AS(clean_text(s, bad), UserError);
  bad = {};
  bad.invalid_utf8 = "keep";
  CHECK_THROWS_AS(clean_text(s, bad), UserError);
}

TEST_CASE("clean_record cleans every text field and returns the worst outcome", "[clean]") {
  Record r;
  r.kind = RecordKind::preference;
  r.messages = {{"system", "ｓｙｓ "}, {"user", "q\r\n"}};
  r.chosen = "good  ";
  r.rejected = "bad\xE9";
  r.answer = "４２";
  r.solution = "\n\nsteps";
  r.source = "f.jsonl:1";
  CHECK(clean_record(r, {}) == CleanOutcome::repaired);
  CHECK(r.messages[0].content == "sys");
  CHECK(r.messages[0].role == "system");
  CHECK(r.messages[1].content == "q");
  CHECK(r.chosen == "good");
  CHECK(r.rejected == "bad" + kFFFD);
  CHECK(r.answer == "42");
  CHECK(r.solution == "steps");
  CHECK(clean_record(r, {}) == CleanOutcome::unchanged);
  r.chosen = "\xFF";
  CleanOptions drop;
  drop.invalid_utf8 = "drop";
  CHECK(clean_record(r, drop) == CleanOutcome::dropped);

  CleanStats stats;
  for (auto o : {CleanOutcome::unchanged, CleanOutcome::changed, CleanOutcome::changed, CleanOutcome::dropped}) stats.add(o);
  CHECK(stats.unchanged == 1);
  CHECK(stats.changed == 2);
  CHECK(stats.repaired == 0);
  CHECK(stats.dropped == 1);
}
