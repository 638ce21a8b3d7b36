// test/data/test_filters.cpp: length and repetition filters on crafted and real-looking texts.
#include <catch2/catch.hpp>

#include "data/filters.h"
#include "data/records.h"

using namespace gptcu;

namespace {

std::string repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; i++) out += s;
  return out;
}

// Zhang Ruoxu, "A Moonlit Night on the Spring River" (first 14 of 36 lines), as the Tang
// poems of ../shared/data/pretrain lay them out: title, author, lines. 232 Han characters; the
// "江月" / "何人" phrases repeat on purpose.
const std::string kSpringRiver =
    "春江花月夜\n張若虛\n"
    "春江潮水連海平，海上明月共潮生。\n灩灩隨波千萬里，何處春江無月明！\n"
    "江流宛轉遶芳甸，月照花林皆似霰。\n空裏流霜不覺飛，汀上白沙看不見。\n"
    "江天一色無纖塵，皎皎空中孤月輪。\n江畔何人初見月？江月何年初照人？\n"
    "人生代代無窮已，江月年年望相似。\n不知江月待何人，但見長江送流水。\n"
    "白雲一片去悠悠，青楓浦上不勝愁。\n誰家今夜扁舟子？何處相思明月樓？\n"
    "可憐樓上月裴回，應照離人妝鏡臺。\n玉戶簾中卷不去，擣衣砧上拂還來。\n"
    "此時相望不相聞，願逐月華流照君。\n鴻雁長飛光不度，魚龍潛躍水成文。";

// A ci whose refrain repeats within lines (Li Qingzhao, "如夢令").
const std::string kRuMengLing = "如夢令\n李清照\n昨夜雨疏風驟，\n濃睡不消殘酒。\n試問捲簾人，\n卻道海棠依舊。\n知否，知否？\n應是綠肥紅瘦。";

// The Book of Songs, "關雎": stanzas that repeat with one word changed.
const std::string kGuanJu =
    "關雎\n詩經\n關關雎鳩，在河之洲。窈窕淑女，君子好逑。\n參差荇菜，左右流之。窈窕淑女，寤寐求之。\n"
    "求之不得，寤寐思服。悠哉悠哉，輾轉反側。\n參差荇菜，左右采之。窈窕淑女，琴瑟友之。\n"
    "參差荇菜，左右芼之。窈窕淑女，鐘鼓樂之。";

const std::string kProse =
    "The quick brown fox jumps over the lazy dog. Meanwhile, in the village, the baker was "
    "preparing the morning bread, and the smell of it drifted through the narrow streets where "
    "children ran to school. Nobody noticed the fox, which had already vanished into the woods "
    "beyond the mill, where the river bends twice before it reaches the sea.";

const std::string kCode =
    "class Stack:\n"
    "    def __init__(self):\n"
    "        self.items = []\n\n"
    "    def push(self, item):\n"
    "        self.items.append(item)\n\n"
    "    def pop(self):\n"
    "        if not self.items:\n"
    "            raise IndexError(\"pop from empty stack\")\n"
    "        return self.items.pop()\n\n"
    "    def __len__(self):\n"
    "        return len(self.items)\n";

}  // namespace

TEST_CASE("lengths are counted in code points", "[filters]") {
  FilterOptions opt;
  CHECK(filter_reason("", opt) == "too_short");
  CHECK(filter_reason("你", opt) == "");
  opt.min_chars = 3;
  CHECK(filter_reason("你好", opt) == "too_short");  // 2 code points (6 bytes)
  CHECK(filter_reason("你好吗", opt) == "");
  opt.max_chars = 3;
  CHECK(filter_reason("你好吗", opt) == "");
  CHECK(filter_reason("你好吗?", opt) == "too_long");
  opt.max_chars = 0;  // no limit
  CHECK(filter_reason(repeat("长", 100000) + "\n", FilterOptions{.max_top_ngram_fraction = 0}) == "");
}

TEST_CASE("repetition measures on crafted strings", "[filters]") {
  CHECK(dup_line_fraction("aa\nb\naa\n") == Approx(2.0 / 5.0));
  CHECK(dup_line_fraction("x  \n\nx\n\n\ny") == Approx(1.0 / 3.0));  // trailing spaces, blank lines ignored
  CHECK(dup_line_fraction("one\ntwo") == 0.0);
  CHECK(top_ngram_fraction("a b c a b c a b c", 3) == Approx(1.0));
  // Each 4-gram once: the first covers one two three four, 15 of the 32 letters.
  CHECK(top_ngram_fraction("one two three four five six seven eight", 4) == Approx(15.0 / 32.0));
  CHECK(top_ngram_fraction("ab, ab; (ab)! xy", 1) == Approx(6.0 / 8.0));  // only letters and digits count
  CHECK(top_ngram_fraction("中文中文中文测试", 2) == Approx(6.0 / 8.0));      // a Han character is a word
  CHECK(top_ngram_fraction("abcabcabcabc", 1) == Approx(1.0));              // one word
  CHECK(top_ngram_fraction("abc def", 4) == 0.0);
  CHECK(count_words("self.items.append(item) 你好 café 42") == 8);
}

TEST_CASE("repeated lines and n-grams are caught in long enough texts", "[filters]") {
  FilterOptions opt;
  std::string spam;
  for (int i = 0; i < 8; i++) spam += (i % 2 ? "Buy cheap watches now!\n" : "Line " + std::to_string(i) + " of an ad.\n");
  CHECK(dup_line_fraction(spam) > 0.3);
  CHECK(filter_reason(spam, opt) == "repeated_lines");
  CHECK(filter_reason("same\nsame\nsame\nsame", opt) == "");  // 4 lines: too few to judge

  const std::string one_line = repeat("buy now and save big ", 45);  // one line, 225 words
  CHECK(filter_reason(one_line, opt) == "repeated_ngrams");
  CHECK(filter_reason(repeat("点击这里立即购买优惠商品", 20), opt) == "repeated_ngrams");
  CHECK(filter_reason(repeat("ha ", 199), opt) == "");  // 199 words: too short to judge
  CHECK(filter_reason(repeat("ha ", 200), opt) == "repeated_ngrams");
  opt.max_top_ngram_fraction = 0;                      // disabled
  CHECK(filter_reason(one_line, opt) == "");
  opt.max_dup_line_fraction = 0;
  CHECK(filter_reason(spam, opt) == "");
}

TEST_CASE("real-looking poems, prose and code pass", "[filters]") {
  const FilterOptions opt;
  for (const std::string& text : {kSpringRiver, kRuMengLing, kGuanJu, kProse, kCode}) {
    INFO(text);
    CHECK(filter_reason(text, opt) == "");
    CHECK(dup_line_fraction(text) == 0.0);
  }
  REQUIRE(count_words(kSpringRiver) >= kMinWordsForNgrams);  // long enough for both measures
  CHECK(top_ngram_fraction(kSpringRiver, opt.ngram) < 0.15);
  // The same poem pasted three times is repetition.
  CHECK(filter_reason(repeat(kSpringRiver + "\n", 3), opt) == "repeated_lines");
}

TEST_CASE("filter_record: lengths of the whole record, repetition per field", "[filters]") {
  Record r;
  r.kind = RecordKind::dialogue;
  // An assistant that quotes the user's lines back is not repetition...
  std::string lines;
  for (int i = 0; i < 6; i++) lines += "line number " + std::to_string(i) + " of the poem\n";
  r.messages = {{"user", "Fix the typos:\n" + lines}, {"assistant", lines}};
  const FilterOptions opt;
  CHECK(filter_reason(record_text(r), opt) == "repeated_lines");  // ...as the concatenation would say
  CHECK(filter_record(r, opt) == "");
  // ...but a repetitive reply is.
  r.messages[1].content = repeat("Buy now!\n", 6);
  CHECK(filter_record(r, opt) == "repeated_lines");
  // Lengths count every field: 3 + 2 code points.
  Record p;
  p.kind = RecordKind::preference;
  p.messages = {{"user", "你好吗"}};
  p.chosen = "好的";
  p.rejected = "";
  CHECK(filter_record(p, FilterOptions{.min_chars = 5}) == "");
  CHECK(filter_record(p, FilterOptions{.min_chars = 6}) == "too_short");
  CHECK(filter_record(p, FilterOptions{.max_chars = 4}) == "too_long");
  p.rejected = repeat("点击这里立即购买优惠商品", 20);
  CHECK(filter_record(p, opt) == "repeated_ngrams");
  Record t;
  t.text = kProse;
  CHECK(filter_record(t, opt) == "");
}
