// test/data/test_dedup.cpp: hash64 (XXH64), exact and MinHash-LSH near dedup, hash splits.
#include <catch2/catch.hpp>

#include <chrono>
#include <random>

#include "core/check.h"
#include "data/dedup.h"
#include "data/split.h"

using namespace gptcu;

namespace {

std::string bytes_up_to(int n, int step) {
  std::string s;
  for (int i = 0; i < n; i++) s += (char)((i * step) % 256);
  return s;
}

// Random "documents" from a fixed vocabulary: English-like words, or Han characters.
struct DocMaker {
  std::mt19937_64 rng{42};
  std::vector<std::string> vocab;
  DocMaker() {
    for (int i = 0; i < 5000; i++) {
      std::string w;
      const int len = 2 + (int)(rng() % 8);
      for (int k = 0; k < len; k++) w += (char)('a' + rng() % 26);
      vocab.push_back(w);
    }
  }
  std::vector<std::string> words(int n) {
    std::vector<std::string> out;
    for (int i = 0; i < n; i++) out.push_back(vocab[rng() % vocab.size()]);
    return out;
  }
  std::string han(int n) {  // n characters from the 3,500 most common range U+4E00..
    std::string s;
    for (int i = 0; i < n; i++) {
      const int cp = 0x4E00 + (int)(rng() % 3500);
      s += (char)(0xE0 | (cp >> 12));
      s += (char)(0x80 | ((cp >> 6) & 0x3F));
      s += (char)(0x80 | (cp & 0x3F));
      if (i % 12 == 11) s += "，";
    }
    return s;
  }
  static std::string join(const std::vector<std::string>& w) {
    std::string s;
    for (const auto& x : w) s += (s.empty() ? "" : " ") + x;
    return s;
  }
  // A copy with `edits` random word replacements, insertions or deletions.
  std::string perturb(std::vector<std::string> w, int edits) {
    for (int e = 0; e < edits; e++) {
      const size_t at = rng() % w.size();
      switch (rng() % 3) {
        case 0: w[at] = vocab[rng() % vocab.size()]; break;
        case 1: w.insert(w.begin() + (std::ptrdiff_t)at, vocab[rng() % vocab.size()]); break;
        default: w.erase(w.begin() + (std::ptrdiff_t)at);
      }
    }
    return join(w);
  }
};

const std::string kEnglish =
    "Large language models are trained on text collected from the web, books and code. Before "
    "training, the text is cleaned: broken characters are repaired, boilerplate is removed, and "
    "documents that appear many times are reduced to a single copy, because repeated documents "
    "waste compute and make the model memorise them instead of learning to generalise.";
const std::string kChinese =
    "大型语言模型的训练数据来自网页、书籍和代码。在训练之前，需要先清洗文本：修复损坏的字符，去掉模板化的内容，"
    "并把重复出现多次的文档只保留一份，因为重复的文档既浪费算力，又会让模型死记硬背，而不是学会举一反三。"
    "近似去重通常用最小哈希：把每篇文档切成若干个连续的字符片段，对每个片段计算多个哈希值，只保留每个哈希函数下的最小值，"
    "两篇文档的签名中相同位置相等的比例，就是它们片段集合相似度的无偏估计。";

}  // namespace

TEST_CASE("hash64 is XXH64: the reference library's values", "[dedup]") {
  // Expected values from libxxhash 0.8.1 (XXH64 through ctypes).
  CHECK(hash64("", 0) == 0xef46db3751d8e999ULL);
  CHECK(hash64("a", 0) == 0xd24ec4f1a98c6e5bULL);
  CHECK(hash64("abc", 0) == 0x44bc2cf5ad770999ULL);
  CHECK(hash64("Hello, world", 1) == 0x10c2e84e851aa915ULL);
  CHECK(hash64("秦川雄帝宅，函谷壯皇居。", 42) == 0xe8b1ce0e997968edULL);
  CHECK(hash64(bytes_up_to(31, 1), 0) == 0xc346d2b59b4d8ee1ULL);  // tails of 8, 4 and 1 bytes
  CHECK(hash64(bytes_up_to(45, 1), 7) == 0xe4ed0032f0c9066aULL);  // one 32-byte stripe + tails
  CHECK(hash64(bytes_up_to(100, 1), 0x9E3779B97F4A7C15ULL) == 0x3b97d91eba03e785ULL);
  CHECK(hash64(bytes_up_to(1000, 7), 123456789) == 0x0672c5ce66b70ea1ULL);
}

TEST_CASE("LSH bands and rows favour recall around the threshold", "[dedup]") {
  CHECK(Deduper::lsh_params(0.8, 128) == std::make_pair(12, 10));
  CHECK(Deduper::lsh_params(0.5, 128) == std::make_pair(30, 4));
  for (double t : {0.3, 0.6, 0.9})
    for (int perms : {16, 64, 256}) {
      const auto [b, r] = Deduper::lsh_params(t, perms);
      CHECK(b * r <= perms);
      // A pair just above the threshold is more likely a candidate than not.
      CHECK(1 - std::pow(1 - std::pow(std::min(1.0, t + 0.05), r), b) > 0.5);
    }
}

TEST_CASE("exact duplicates", "[dedup]") {
  Deduper d(DedupOptions{.near = false});
  CHECK(d.add("one") == Deduper::Verdict::unique);
  CHECK(d.add("two") == Deduper::Verdict::unique);
  CHECK(d.add("one") == Deduper::Verdict::exact_duplicate);
  CHECK(d.match() == 0);
  CHECK(d.add("One") == Deduper::Verdict::unique);  // exact means byte for byte
  CHECK(d.add("") == Deduper::Verdict::unique);
  CHECK(d.add("") == Deduper::Verdict::exact_duplicate);
  CHECK(d.match() == 4);
  CHECK(d.size() == 4);
  CHECK(std::string(Deduper::verdict_name(Deduper::Verdict::near_duplicate)) == "near_duplicate");
}

TEST_CASE("near duplicates of English and Chinese paragraphs are caught, others are not", "[dedup]") {
  Deduper d(DedupOptions{});
  CHECK(d.add(kEnglish) == Deduper::Verdict::unique);
  CHECK(d.add(kChinese) == Deduper::Verdict::unique);
  // A few edits, case and whitespace changes. (Each edit changes about `shingle` shingles, so a
  // short Chinese paragraph loses similarity faster than an English one of the same content:
  // the first sentence of kChinese alone with these three edits is at Jaccard 0.69.)
  std::string en = kEnglish;
  en.replace(en.find("Large"), 5, "LARGE");
  en.replace(en.find("many times"), 10, "several  times");
  en.replace(en.find("compute"), 7, "GPU hours");
  en += " Done.";
  INFO("Jaccard " << shingle_jaccard(kEnglish, en, 5));
  CHECK(d.add(en) == Deduper::Verdict::near_duplicate);
  CHECK(d.match() == 0);
  std::string zh = kChinese;
  zh.replace(zh.find("网页"), 6, "互联网");
  zh.replace(zh.find("算力"), 6, "计算资源");
  zh.replace(zh.find("，去掉"), 3, "；");
  INFO("Jaccard " << shingle_jaccard(kChinese, zh, 5));
  CHECK(d.add(zh) == Deduper::Verdict::near_duplicate);
  CHECK(d.match() == 1);
  CHECK(d.add(kEnglish) == Deduper::Verdict::exact_duplicate);
  // Other texts on the same topic are not duplicates.
  CHECK(d.add("Language models learn from data; cleaning that data well matters more than most "
              "architecture changes, and deduplication is one of the cheapest wins.") == Deduper::Verdict::unique);
  CHECK(d.add("语言模型从数据中学习，把数据清洗好往往比修改模型结构更重要，而去重是其中代价最小的一步。") ==
        Deduper::Verdict::unique);
  CHECK(d.size() == 4);

  // With near off, the edited copies pass; with exact off, an exact copy is a near duplicate.
  Deduper exact_only(DedupOptions{.near = false});
  exact_only.add(kEnglish);
  CHECK(exact_only.add(en) == Deduper::Verdict::unique);
  Deduper near_only(DedupOptions{.exact = false});
  near_only.add(kChinese);
  CHECK(near_only.add(kChinese) == Deduper::Verdict::near_duplicate);
}

TEST_CASE("the threshold decides: a pair at Jaccard 0.5", "[dedup]") {
  DocMaker maker;
  const auto words = maker.words(150);
  // The second text keeps the first two thirds of the first: |A & B| / |A | B| ~ 2/3 / 4/3.
  std::vector<std::string> b(words.begin(), words.begin() + 100);
  const auto tail = maker.words(50);
  b.insert(b.end(), tail.begin(), tail.end());
  const std::string ta = DocMaker::join(words), tb = DocMaker::join(b);
  const double j = shingle_jaccard(ta, tb, 5);
  INFO("Jaccard " << j);
  REQUIRE(j > 0.45);
  REQUIRE(j < 0.55);
  Deduper strict(DedupOptions{.threshold = 0.8});
  strict.add(ta);
  CHECK(strict.add(tb) == Deduper::Verdict::unique);
  Deduper loose(DedupOptions{.threshold = 0.4});
  loose.add(ta);
  CHECK(loose.add(tb) == Deduper::Verdict::near_duplicate);
  // The signature estimate is close to the true Jaccard.
  const auto sa = loose.signature(ta), sb = loose.signature(tb);
  CHECK(Deduper::estimated_jaccard(sa, sb) == Approx(j).margin(0.15));
}

TEST_CASE("deterministic: same seed, same signatures and verdicts", "[dedup]") {
  Deduper a(DedupOptions{.seed = 7}), b(DedupOptions{.seed = 7}), c(DedupOptions{.seed = 8});
  CHECK(a.signature(kChinese) == b.signature(kChinese));
  CHECK(a.signature(kChinese) != c.signature(kChinese));
  CHECK(Deduper::estimated_jaccard(a.signature(kEnglish), a.signature(kEnglish + " ")) == 1.0);  // whitespace
  CHECK_THROWS_AS(Deduper(DedupOptions{.threshold = 0}), UserError);
  CHECK_THROWS_AS(Deduper(DedupOptions{.num_perm = 0}), UserError);
  CHECK_THROWS_AS(Deduper(DedupOptions{.shingle = 0}), UserError);
}

TEST_CASE("at scale: 5,000 documents and 200 edited copies", "[dedup]") {
  DocMaker maker;
  std::vector<std::vector<std::string>> english;
  std::vector<std::string> docs;
  for (int i = 0; i < 5000; i++) {
    if (i % 2 == 0) {
      english.push_back(maker.words(80 + (int)(maker.rng() % 120)));
      docs.push_back(DocMaker::join(english.back()));
    } else {
      docs.push_back(maker.han(150 + (int)(maker.rng() % 300)));
    }
  }
  // 200 copies with 1 to 3 edits: English word edits, or Han characters replaced.
  std::vector<std::string> copies;
  for (int i = 0; i < 200; i++) {
    const int edits = 1 + (int)(maker.rng() % 3);
    if (i % 2 == 0) {
      copies.push_back(maker.perturb(english[maker.rng() % english.size()], edits));
    } else {
      std::string s = docs[2 * (maker.rng() % 2500) + 1];
      for (int e = 0; e < edits; e++) s.replace(3 * (maker.rng() % (s.size() / 3 - 1)), 3, "字");
      copies.push_back(s);
    }
  }
  Deduper d(DedupOptions{});
  const auto start = std::chrono::steady_clock::now();
  int false_positives = 0, caught = 0;
  for (const auto& doc : docs) false_positives += d.add(doc) != Deduper::Verdict::unique;
  for (const auto& copy : copies) caught += d.add(copy) == Deduper::Verdict::near_duplicate;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  WARN("dedup of 5,200 documents: " << seconds << " s; recall " << caught << "/200, false positives "
                                    << false_positives << "/5000");
  CHECK(false_positives == 0);
  CHECK(caught >= 190);  // recall >= 0.95
}

TEST_CASE("splits follow the fractions, stably", "[dedup][split]") {
  int counts[3] = {0, 0, 0};
  constexpr int n = 100000;
  for (int i = 0; i < n; i++) counts[(int)split_of("record " + std::to_string(i), 0.1, 0.05, 1)]++;
  // Binomial: sigma = sqrt(n p (1-p)) ~ 95 for val and 69 for test; allow 4 sigma.
  CHECK(std::abs(counts[(int)SplitName::val] - 10000) < 380);
  CHECK(std::abs(counts[(int)SplitName::test] - 5000) < 280);
  CHECK(counts[0] + counts[1] + counts[2] == n);
  // The same key, the same split, whatever happened in between; another seed reshuffles.
  int moved = 0;
  for (int i = 0; i < 1000; i++) {
    const std::string key = "record " + std::to_string(i);
    REQUIRE(split_of(key, 0.1, 0.05, 1) == split_of(key, 0.1, 0.05, 1));
    moved += split_of(key, 0.1, 0.05, 1) != split_of(key, 0.1, 0.05, 2);
  }
  CHECK(moved > 150);  // ~ 2 * 0.15 * 0.85 = 26% move
  // Growing val only moves records from train to val.
  for (int i = 0; i < 1000; i++) {
    const std::string key = "record " + std::to_string(i);
    if (split_of(key, 0.1, 0.05, 1) != SplitName::train) REQUIRE(split_of(key, 0.2, 0.05, 1) == split_of(key, 0.1, 0.05, 1));
  }
  CHECK(split_of("anything", 0, 0, 1) == SplitName::train);
  CHECK(split_of("anything", 0, 1, 1) == SplitName::test);
  CHECK_THROWS_AS(split_of("x", 0.6, 0.6, 1), UserError);
  CHECK_THROWS_AS(split_of("x", -0.1, 0, 1), UserError);
  CHECK(std::string(split_name(SplitName::val)) == "val");
}
