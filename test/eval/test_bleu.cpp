// test/eval/test_bleu.cpp: sacrebleu's tokenizers and corpus BLEU (eval/bleu.h) on cases worked
// out by hand (the n-gram counts are written next to each case). bench/bleu_parity.py compares
// with sacrebleu itself on larger files.
#include <catch2/catch.hpp>
#include <cmath>

#include "core/check.h"
#include "eval/bleu.h"

using namespace gptcu;
using Tokens = std::vector<std::string>;

TEST_CASE("bleu_tokens 13a: punctuation, numbers, entities", "[bleu]") {
  const auto t = BleuTokenize::t13a;
  CHECK(bleu_tokens("Hello, world!", t) == Tokens{"Hello", ",", "world", "!"});
  // '.' and ',' stay inside numbers; split elsewhere
  CHECK(bleu_tokens("3.14 and 1,000.", t) == Tokens{"3.14", "and", "1,000", "."});
  // '-' splits only after a digit; "'" never
  CHECK(bleu_tokens("e-mail 5-3 it's", t) == Tokens{"e-mail", "5", "-", "3", "it's"});
  CHECK(bleu_tokens("&quot;x&quot; &amp; &lt;y&gt;", t) == Tokens{"\"", "x", "\"", "&", "<", "y", ">"});
  CHECK(bleu_tokens("a <skipped> b", t) == Tokens{"a", "b"});
  CHECK(bleu_tokens("(a)[b]{c}", t) == Tokens{"(", "a", ")", "[", "b", "]", "{", "c", "}"});
  // a period after a non-digit splits off even when a digit follows (rule 2)
  CHECK(bleu_tokens("v.2", t) == Tokens{"v", ".", "2"});
  // re.sub does not overlap: in "a..b" rule 2 takes "a." then the second '.' is split by rule 3
  CHECK(bleu_tokens("a..b", t) == Tokens{"a", ".", ".", "b"});
  // Unicode whitespace (no-break space, ideographic space) separates; em dash does not
  CHECK(bleu_tokens("a\u00a0b\u3000c\u2014d", t) == Tokens{"a", "b", "c\u2014d"});
  CHECK(bleu_tokens("   ", t).empty());
}

TEST_CASE("bleu_tokens zh: CJK characters split, the rest as 13a", "[bleu]") {
  const auto z = BleuTokenize::zh;
  CHECK(bleu_tokens("我爱NLP。", z) == Tokens{"我", "爱", "NLP", "。"});
  CHECK(bleu_tokens("数字3.14，好", z) == Tokens{"数", "字", "3.14", "，", "好"});
  // sacrebleu's ranges as Python evaluates them: U+2001..U+2A6D is "Chinese" (the em dash),
  // Extension B (U+20000..) is not, Extension A (U+3400..) is
  CHECK(bleu_tokens("a\u2014b", z) == Tokens{"a", "\u2014", "b"});
  CHECK(bleu_tokens("\U00020000\U00020001", z) == Tokens{"\U00020000\U00020001"});
  CHECK(bleu_tokens("\u3400\u3401", z) == Tokens{"\u3400", "\u3401"});
  // full-width forms split one by one
  CHECK(bleu_tokens("ＡＢ", z) == Tokens{"Ａ", "Ｂ"});
}

TEST_CASE("bleu_tokens char and none", "[bleu]") {
  CHECK(bleu_tokens("ab c。", BleuTokenize::chars) == Tokens{"a", "b", "c", "。"});
  CHECK(bleu_tokens("a,b  c", BleuTokenize::none) == Tokens{"a,b", "c"});
  CHECK(parse_bleu_tokenize("zh") == BleuTokenize::zh);
  CHECK_THROWS_AS(parse_bleu_tokenize("intl"), UserError);
}

TEST_CASE("corpus_bleu: one segment worked by hand", "[bleu]") {
  // hyp: the cat sat on the mat / ref: the cat sat on a mat (6 tokens each)
  // 1-grams 5/6 (one "the" clipped), 2-grams 3/5, 3-grams 2/4, 4-grams 1/3, BP 1
  const BleuScore s = corpus_bleu({"the cat sat on the mat"}, {{"the cat sat on a mat"}});
  CHECK(s.correct == std::array<int64_t, 4>{5, 3, 2, 1});
  CHECK(s.total == std::array<int64_t, 4>{6, 5, 4, 3});
  CHECK(s.bp == 1.0);
  CHECK(s.score == Approx(100 * std::pow(5.0 / 6 * 3.0 / 5 * 2.0 / 4 * 1.0 / 3, 0.25)).epsilon(1e-12));
  CHECK(s.score == Approx(53.7284965).epsilon(1e-8));
}

TEST_CASE("corpus_bleu: exp smoothing and the brevity penalty", "[bleu]") {
  // hyp a b c d (4) / ref a b x d e (5): 1-grams 3/4, 2-grams 1/3, 3-grams 0/2, 4-grams 0/1
  // smoothed: p3 = 100/(2*2), p4 = 100/(4*1); BP = exp(1 - 5/4)
  const BleuScore s = corpus_bleu({"a b c d"}, {{"a b x d e"}});
  CHECK(s.correct == std::array<int64_t, 4>{3, 1, 0, 0});
  CHECK(s.precisions[2] == Approx(25.0));
  CHECK(s.precisions[3] == Approx(25.0));
  CHECK(s.bp == Approx(std::exp(-0.25)));
  CHECK(s.score == Approx(std::exp(-0.25) * 100 * std::pow(0.75 / 3 * 0.25 * 0.25, 0.25)).epsilon(1e-12));
}

TEST_CASE("corpus_bleu: several references, clipping, closest length", "[bleu]") {
  // "the" clipped at its largest count in one reference (2), not the sum (3)
  const BleuScore s = corpus_bleu({"the the the the"}, {{"the cat", "the the mat"}});
  CHECK(s.correct[0] == 2);
  CHECK(s.total[0] == 4);
  // hyp length 4, references 3 and 5: equally close, the shorter counts
  const BleuScore t = corpus_bleu({"a b c d"}, {{"a b c", "a b c d e"}});
  CHECK(t.ref_len == 3);
  CHECK(t.bp == 1.0);
  // a segment's n-grams may come from different references: 1-grams a b (first) c d (second);
  // 2-grams "a b" (first), "b c" "c d" (second); 3-gram "b c d" (second); no 4-gram
  const BleuScore u = corpus_bleu({"a b c d"}, {{"a b x y", "z b c d"}});
  CHECK(u.correct == std::array<int64_t, 4>{4, 3, 1, 0});
  // statistics add up over segments: corpus, not mean of sentence scores
  const BleuScore c = corpus_bleu({"the cat sat on the mat", "a b c d"}, {{"the cat sat on a mat"}, {"a b x d e"}});
  CHECK(c.correct == std::array<int64_t, 4>{8, 4, 2, 1});
  CHECK(c.total == std::array<int64_t, 4>{10, 8, 6, 4});
  CHECK(c.sys_len == 10);
  CHECK(c.ref_len == 11);
  CHECK(c.score == Approx(100 * std::exp(1 - 11.0 / 10) * std::pow(0.8 * 0.5 * (2.0 / 6) * 0.25, 0.25)).epsilon(1e-12));
}

TEST_CASE("corpus_bleu: zero cases", "[bleu]") {
  CHECK(corpus_bleu({"x y z w"}, {{"a b c d"}}).score == 0.0);  // no match at all
  // a 3-token corpus has no 4-grams: sacrebleu stops there and the score is 0, even if perfect
  CHECK(corpus_bleu({"a b c"}, {{"a b c"}}).score == 0.0);
  const BleuScore e = corpus_bleu({""}, {{"a b"}});
  CHECK(e.score == 0.0);
  CHECK(e.bp == 0.0);
  CHECK(corpus_bleu({"a b c d"}, {{"a b c d"}}).score == Approx(100.0));
}

TEST_CASE("corpus_bleu: bad input", "[bleu]") {
  CHECK_THROWS_AS(corpus_bleu({}, {}), UserError);
  CHECK_THROWS_AS(corpus_bleu({"a", "b"}, {{"a"}}), UserError);
  CHECK_THROWS_AS(corpus_bleu({"a"}, {{}}), UserError);
  CHECK_THROWS_AS(corpus_bleu({"a \xff b"}, {{"a"}}), UserError);
}
