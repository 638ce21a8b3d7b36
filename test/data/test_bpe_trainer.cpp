// test/data/test_bpe_trainer.cpp: the BPE trainer against hand-computed merges, a naive trainer
// that recounts every pair at every merge, and a naive tiktoken-style encoder.
#include <catch2/catch.hpp>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <unordered_map>

#include "core/check.h"
#include "data/bpe_tokenizer.h"
#include "data/bpe_trainer.h"

using namespace gptcu;

namespace {

// Runs of spaces and runs of anything else; split_spaces() below splits the same way by hand.
const char* const kSpacePattern = "[^ ]+| +";

std::vector<std::string> split_spaces(std::string_view text) {
  std::vector<std::string> pieces;
  for (size_t i = 0; i < text.size();) {
    size_t j = i;
    while (j < text.size() && (text[j] == ' ') == (text[i] == ' ')) j++;
    pieces.emplace_back(text.substr(i, j - i));
    i = j;
  }
  return pieces;
}

BpeTrainResult train(const std::vector<std::string>& texts, int vocab_size, int64_t min_count = 2,
                     const char* pattern = kSpacePattern, int threads = 1) {
  std::vector<std::string_view> views(texts.begin(), texts.end());
  BpeTrainOptions o;
  o.vocab_size = vocab_size;
  o.pattern = pattern;
  o.min_pair_count = min_count;
  o.threads = threads;
  return train_bpe(views, o);
}

std::vector<std::string> byte_tokens() {
  std::vector<std::string> t;
  for (int b = 0; b < 256; b++) t.emplace_back(1, static_cast<char>(b));
  return t;
}

// Recounts every adjacent pair (overlaps counted) at every merge; the best pair has the highest
// count, ties going to the smallest (bytes(left), bytes(right)); merges left to right.
std::vector<std::string> naive_train(const std::vector<std::string>& texts, int vocab_size, int64_t min_count) {
  std::map<std::string, int64_t> counts;
  for (const auto& t : texts)
    for (const auto& p : split_spaces(t)) counts[p]++;
  std::vector<std::pair<std::vector<int>, int64_t>> words;
  for (const auto& [w, n] : counts) words.push_back({std::vector<int>(w.begin(), w.end()), n});
  for (auto& [w, n] : words)
    for (int& x : w) x = static_cast<unsigned char>(x);
  std::vector<std::string> ranks = byte_tokens();
  while (static_cast<int>(ranks.size()) < vocab_size) {
    std::map<std::pair<int, int>, int64_t> pairs;
    for (const auto& [w, n] : words)
      for (size_t i = 0; i + 1 < w.size(); i++) pairs[{w[i], w[i + 1]}] += n;
    std::pair<int, int> best{-1, -1};
    int64_t best_n = 0;
    for (const auto& [p, n] : pairs) {
      auto key = [&](std::pair<int, int> q) { return std::make_pair(ranks[q.first], ranks[q.second]); };
      if (n > best_n || (n == best_n && key(p) < key(best))) best = p, best_n = n;
    }
    if (best_n < min_count) break;
    const int id = static_cast<int>(ranks.size());
    ranks.push_back(ranks[best.first] + ranks[best.second]);
    for (auto& [w, n] : words) {
      std::vector<int> merged;
      for (size_t i = 0; i < w.size(); i++) {
        if (i + 1 < w.size() && w[i] == best.first && w[i + 1] == best.second) merged.push_back(id), i++;
        else merged.push_back(w[i]);
      }
      w = std::move(merged);
    }
  }
  return ranks;
}

// tiktoken's byte_pair_merge: within a piece, repeatedly merge the adjacent pair whose
// concatenation has the lowest rank. Returns the number of tokens.
size_t naive_encode_count(const std::vector<std::string>& ranks, const std::vector<std::string>& pieces) {
  std::map<std::string, int> rank_of;
  for (size_t r = 0; r < ranks.size(); r++) rank_of[ranks[r]] = static_cast<int>(r);
  size_t tokens = 0;
  for (const auto& piece : pieces) {
    std::vector<std::string> parts;
    for (char c : piece) parts.emplace_back(1, c);
    for (;;) {
      int best = -1, best_rank = INT32_MAX;
      for (size_t i = 0; i + 1 < parts.size(); i++) {
        auto it = rank_of.find(parts[i] + parts[i + 1]);
        if (it != rank_of.end() && it->second < best_rank) best = static_cast<int>(i), best_rank = it->second;
      }
      if (best < 0) break;
      parts[best] += parts[best + 1];
      parts.erase(parts.begin() + best + 1);
    }
    tokens += parts.size();
  }
  return tokens;
}

// All 256 bytes first, no duplicate, every later token the concatenation of two earlier ones.
void check_well_formed(const std::vector<std::string>& ranks) {
  REQUIRE(ranks.size() >= 256);
  for (int b = 0; b < 256; b++) REQUIRE(ranks[b] == std::string(1, static_cast<char>(b)));
  std::unordered_map<std::string_view, size_t> rank_of;
  for (size_t r = 0; r < ranks.size(); r++) {
    const std::string_view t = ranks[r];
    bool split = r < 256;
    for (size_t left = 0; left < r && !split; left++) {
      if (ranks[left].size() >= t.size() || !t.starts_with(ranks[left])) continue;
      auto right = rank_of.find(t.substr(ranks[left].size()));
      split = right != rank_of.end();  // every token in rank_of is earlier than r
    }
    INFO("rank " << r << " = '" << ranks[r] << "'");
    REQUIRE(split);
    REQUIRE(rank_of.emplace(t, r).second);  // no duplicate
  }
}

std::vector<std::string> new_tokens(const BpeTrainResult& r) { return {r.ranks.begin() + 256, r.ranks.end()}; }

// n characters drawn from `chars` (UTF-8 strings).
std::string random_text(std::mt19937& rng, size_t n, const std::vector<std::string>& chars) {
  std::string s;
  std::uniform_int_distribution<size_t> pick(0, chars.size() - 1);
  for (size_t i = 0; i < n; i++) s += chars[pick(rng)];
  return s;
}

}  // namespace

TEST_CASE("BPE training: the first merges of a tiny corpus, by hand", "[bpe-train]") {
  // Pieces: "aaab" x2, "ab", " " x2. Pairs: aa 4 (two per aaab), ab 3 -> merge "aa";
  // then aaab = [aa a b]: (aa,a) 2, (a,b) 3 -> "ab"; then [aa ab] x2 -> "aaab"; then nothing.
  const std::vector<std::string> corpus = {"aaab aaab ab"};
  auto r = train(corpus, 1000);
  CHECK(new_tokens(r) == std::vector<std::string>{"aa", "ab", "aaab"});
  CHECK(r.words == 5);
  CHECK(r.unique_words == 3);
  // min_pair_count stops it earlier, vocab_size too.
  CHECK(new_tokens(train(corpus, 1000, 3)) == std::vector<std::string>{"aa", "ab"});
  CHECK(new_tokens(train(corpus, 257)) == std::vector<std::string>{"aa"});
  CHECK(train(corpus, 256).ranks.size() == 256);
  // Ties go to the lexicographically smallest pair: "cd" and "ab" both occur once.
  CHECK(new_tokens(train({"cd ab"}, 1000, 1)) == std::vector<std::string>{"ab", "cd"});
  // A document boundary is a piece boundary: "ab" + "ab" is not the piece "abab".
  CHECK(new_tokens(train({"ab", "ab"}, 1000)) == std::vector<std::string>{"ab"});
  CHECK(new_tokens(train({"abab"}, 1000, 1)) == std::vector<std::string>{"ab", "abab"});
}

TEST_CASE("BPE training: vocab_size ranks when the corpus allows, all bytes, no duplicates", "[bpe-train]") {
  std::mt19937 rng(7);
  std::string text;
  for (int i = 0; i < 3000; i++) text += random_text(rng, 1 + rng() % 8, {"a", "b", "c", "d", "e", "f", "g", "h"}) + " ";
  auto r = train({text}, 400);
  CHECK(r.ranks.size() == 400);
  check_well_formed(r.ranks);
  // A corpus that runs out of pairs seen twice stops early, still well formed.
  auto small = train({"hello hello world"}, 400);
  CHECK(new_tokens(small) == std::vector<std::string>{"el", "ell", "ello", "hello"});  // ties: smallest pair
  check_well_formed(small.ranks);
}

TEST_CASE("BPE training agrees with a naive trainer that recounts every merge", "[bpe-train]") {
  std::mt19937 rng(1234);
  const std::vector<std::vector<std::string>> alphabets = {
      {"a", "a", "b", " "}, {"a", "b", "c", "a", "b", " ", " ", "c"}, {"a", "b", "一", "二", "三", " ", " "}};
  for (int trial = 0; trial < 12; trial++) {
    std::vector<std::string> texts;
    const auto& alphabet = alphabets[trial % 3];
    for (int d = 0; d < 1 + trial % 4; d++) texts.push_back(random_text(rng, 200 + rng() % 600, alphabet));
    const int vocab = 256 + 40 + trial * 5;
    const int64_t min_count = 1 + trial % 2;
    INFO("trial " << trial);
    CHECK(train(texts, vocab, min_count).ranks == naive_train(texts, vocab, min_count));
  }
}

TEST_CASE("BPE training does not depend on the thread count", "[bpe-train]") {
  // Over 1 MB, so the large text is cut into chunks, plus many small documents.
  std::mt19937 rng(99);
  std::vector<std::string> texts(1);
  while (texts[0].size() < (3u << 20)) {
    texts[0] += random_text(rng, 1 + rng() % 12, {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "一"}) + (rng() % 5 ? " " : "\n");
  }
  for (int d = 0; d < 300; d++) texts.push_back(random_text(rng, 50 + rng() % 200, {"a", "b", "c", "x", "y", "z", " ", "\n"}));
  const auto r1 = train(texts, 1000, 2, kPatternCl100k, 1);
  check_well_formed(r1.ranks);
  CHECK(r1.ranks.size() == 1000);
  for (int threads : {2, 4}) {
    const auto rt = train(texts, 1000, 2, kPatternCl100k, threads);
    CHECK(rt.ranks == r1.ranks);
    CHECK(rt.words == r1.words);
    CHECK(rt.unique_words == r1.unique_words);
  }
}

TEST_CASE("BPE training: a long text is cut only where cl100k pieces end", "[bpe-train]") {
  // Documents that each end in a newline and start with a letter: one text of them all
  // (over 1 MB, so it is cut) must count exactly the pieces the documents count one by one.
  std::mt19937 rng(5);
  std::vector<std::string> docs;
  std::string all;
  while (all.size() < (2u << 20)) {
    std::string d = "x" + random_text(rng, 20 + rng() % 80, {"a", "b", " ", "c", ".", "\t", "\u3000", "一", "\n"}) + "\n";
    all += d;
    docs.push_back(std::move(d));
  }
  const auto whole = train({all}, 600, 2, kPatternCl100k, 2);
  const auto parts = train(docs, 600, 2, kPatternCl100k, 2);
  CHECK(whole.words == parts.words);
  CHECK(whole.unique_words == parts.unique_words);
  CHECK(whole.ranks == parts.ranks);
}

TEST_CASE("BPE training on Chinese: characters, then words, then whole lines", "[bpe-train]") {
  // cl100k splits a line into runs of letters, each with the punctuation before it, and "。\n".
  const std::string poem = "秦川雄帝宅，函谷壯皇居。\n綺殿千尋起，離宮百雉餘。\n";
  std::vector<std::string> texts(50, poem);
  std::ostringstream log;
  BpeTrainOptions o;
  o.vocab_size = 2000;
  o.pattern = kPatternCl100k;
  o.log = &log;
  std::vector<std::string_view> views(texts.begin(), texts.end());
  const auto r = train_bpe(views, o);
  CHECK(r.words == 50 * 6);
  CHECK(r.unique_words == 5);
  check_well_formed(r.ranks);
  const std::set<std::string> vocab(r.ranks.begin(), r.ranks.end());
  for (const char* piece : {"秦川雄帝宅", "，函谷壯皇居", "。\n", "綺殿千尋起", "，離宮百雉餘"})
    CHECK(vocab.count(piece) == 1);
  CHECK(r.ranks.size() < 2000);  // it ran out of pairs: every piece is one token
  CHECK_THAT(log.str(), Catch::Contains("merges/s") && Catch::Contains("unique"));

  // A larger random "Chinese" corpus, split on spaces so the naive encoder can split it too:
  // the same ranks as the naive trainer, and encoding takes far fewer tokens than bytes.
  std::mt19937 rng(3);
  const std::vector<std::string> chars = {"山", "水", "風", "月", "花", "春", "秋", "人", "，", "。"};
  std::string text;
  for (int i = 0; i < 2000; i++) {
    const int n = 2 + rng() % 6;
    for (int k = 0; k < n; k++) text += chars[std::min<size_t>(rng() % 12, rng() % 10)];
    text += " ";
  }
  const auto zh = train({text}, 256 + 300);
  CHECK(zh.ranks == naive_train({text}, 256 + 300, 2));
  const size_t tokens = naive_encode_count(zh.ranks, split_spaces(text));
  INFO(text.size() << " bytes -> " << tokens << " tokens");
  CHECK(tokens * 4 < text.size());
  CHECK(tokens < naive_encode_count(byte_tokens(), split_spaces(text)));
}

TEST_CASE("BPE training: bad options are user errors", "[bpe-train]") {
  CHECK_THROWS_AS(train({"abc"}, 100), UserError);
  CHECK_THROWS_AS(train({"abc"}, 300, 0), UserError);
  CHECK_THROWS_WITH(train({"abc"}, 300, 2, "(unclosed"), Catch::Contains("regex"));
  CHECK_THROWS_WITH(train({"abc"}, 300, 2, ""), Catch::Contains("empty"));
  CHECK(train({}, 300).ranks.size() == 256);  // no text: just the bytes
}

TEST_CASE("BPE training: bytes the regex cannot match (invalid UTF-8) are pieces of their own", "[bpe-train]") {
  const auto r = train({"ab\xFF\xFE" "ab ab\xFF\xFE"}, 300, 2);
  CHECK(r.words == 6);         // "ab", "\xFF\xFE", "ab", " ", "ab", "\xFF\xFE"
  CHECK(r.unique_words == 3);
  CHECK(new_tokens(r) == std::vector<std::string>{"ab", "\xFF\xFE"});
}

TEST_CASE("BPE training: very long pieces (a megabyte without a break)", "[bpe-train]") {
  std::string han, spaces(200000, ' ');
  for (int i = 0; i < 400000; i++) han += i % 2 ? "山" : "水";
  const auto r = train({han, "x" + spaces + "y"}, 400, 2, kPatternCl100k, 2);
  CHECK(r.words == 1 + 3);  // the run of letters; "x", the spaces, " y"
  check_well_formed(r.ranks);
  // "水山" x 200000: "水山", then doublings of it, as long as a pair occurs twice.
  const std::set<std::string> vocab(r.ranks.begin(), r.ranks.end());
  std::string unit = "水山", blank = " ";
  for (int k = 0; k <= 12; k++, unit += unit, blank += blank) {
    INFO("2^" << k);
    CHECK(vocab.count(unit) == 1);
    CHECK(vocab.count(blank + blank) == 1);
  }
  CHECK(r.ranks.size() < 400);  // nothing occurs twice any more
}
