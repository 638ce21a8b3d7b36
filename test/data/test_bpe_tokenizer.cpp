// test/data/test_bpe_tokenizer.cpp: BpeTokenizer (data/bpe_tokenizer.h) and base64.
//
// Hand-made vocabularies whose merges can be worked out on paper; every loader's error cases
// (broken files written to a temp dir); save/load; special tokens; decode(encode(x)) == x on
// random bytes and random UTF-8; encode_parallel == encode. With GPTCU_TOKENIZERS_DIR set (e.g.
// to ../shared/data/tokenizers), parity with GPT-2's test vectors and with tiktoken's ids in
// test/data/fixtures/tiktoken_vectors.json (written by bench/make_tokenizer_vectors.py).
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <map>
#include <random>
#include <set>

#include "core/check.h"
#include "data/base64.h"
#include "data/bpe_tokenizer.h"

using namespace gptcu;
namespace fs = std::filesystem;

namespace {

// 256 single bytes (rank = byte value), then `extra` in order.
std::vector<std::string> byte_ranks_plus(const std::vector<std::string>& extra) {
  std::vector<std::string> ranks;
  for (int b = 0; b < 256; b++) ranks.push_back(std::string(1, (char)b));
  ranks.insert(ranks.end(), extra.begin(), extra.end());
  return ranks;
}

std::vector<int32_t> ids_of(std::initializer_list<int32_t> ids) { return ids; }

// A fresh empty directory under the system temp dir, removed at the end of the test.
struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& name) : path(fs::temp_directory_path() / ("gptcu_test_bpe_" + name)) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string file(const std::string& name, const std::string& contents) const {
    std::ofstream(path / name, std::ios::binary) << contents;
    return (path / name).string();
  }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

// Code points from many blocks, whitespace included, as UTF-8.
std::string random_utf8(std::mt19937& rng, size_t n_chars) {
  static const std::vector<std::pair<uint32_t, uint32_t>> blocks = {
      {0x20, 0x7e},     {0xa0, 0x24f},     {0x300, 0x36f},   {0x370, 0x3ff},   {0x400, 0x4ff},
      {0x600, 0x6ff},   {0x900, 0x97f},    {0x3040, 0x30ff}, {0x4e00, 0x9fff}, {0xac00, 0xd7a3},
      {0xff00, 0xffef}, {0x1f300, 0x1f6ff}, {0x1f900, 0x1f9ff}};
  static const std::vector<uint32_t> spaces = {'\r', '\n', '\t', ' ', 0xa0, 0x3000, 0x2028, 0x85, 0x200b, 0x200d};
  std::string out;
  for (size_t i = 0; i < n_chars; i++) {
    uint32_t cp;
    if (rng() % 5 == 0) {
      cp = spaces[rng() % spaces.size()];
    } else {
      const auto [lo, hi] = blocks[rng() % blocks.size()];
      cp = lo + rng() % (hi - lo + 1);
    }
    if (cp < 0x80) {
      out += (char)cp;
    } else if (cp < 0x800) {
      out += (char)(0xc0 | cp >> 6), out += (char)(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      out += (char)(0xe0 | cp >> 12), out += (char)(0x80 | (cp >> 6 & 0x3f)), out += (char)(0x80 | (cp & 0x3f));
    } else {
      out += (char)(0xf0 | cp >> 18), out += (char)(0x80 | (cp >> 12 & 0x3f));
      out += (char)(0x80 | (cp >> 6 & 0x3f)), out += (char)(0x80 | (cp & 0x3f));
    }
  }
  return out;
}

std::string random_bytes(std::mt19937& rng, size_t n) {
  std::string out(n, '\0');
  for (auto& c : out) c = (char)(rng() & 0xff);
  return out;
}

// A vocabulary with a few thousand merges of multilingual text: every substring of 2..6 bytes
// (whole UTF-8 characters or not) of a sample, ranked by first appearance.
BpeTokenizer sample_tokenizer() {
  const std::string sample =
      "the cat sat on the mat; it's what they'll say. 1234 5678 人工智能是计算机科学的一个分支，"
      "床前明月光，疑是地上霜。 Съешь же ещё этих мягких булок 👋🌍 👍🏽 e\u0301\n\n    \t\t\r\n";
  std::vector<std::string> extra;
  std::set<std::string> seen;
  for (size_t len = 2; len <= 6; len++)
    for (size_t i = 0; i + len <= sample.size(); i++)
      if (seen.insert(sample.substr(i, len)).second) extra.push_back(sample.substr(i, len));
  return BpeTokenizer(byte_ranks_plus(extra), kPatternO200k, {{"<|endoftext|>", 256 + (int32_t)extra.size()}});
}

const char* tokenizers_dir() { return std::getenv("GPTCU_TOKENIZERS_DIR"); }

}  // namespace

TEST_CASE("base64 encodes and decodes, and reports what is wrong", "[bpe]") {
  CHECK(base64_encode("") == "");
  CHECK(base64_encode("h") == "aA==");
  CHECK(base64_encode("hi") == "aGk=");
  CHECK(base64_encode("hi!") == "aGkh");
  CHECK(base64_encode(std::string("\xff\x00\xfe", 3)) == "/wD+");
  std::mt19937 rng(1);
  std::string back, why;
  for (int n = 0; n < 40; n++) {
    const std::string bytes = random_bytes(rng, (size_t)n);
    REQUIRE(base64_decode(base64_encode(bytes), back, &why));
    REQUIRE(back == bytes);
  }
  CHECK_FALSE(base64_decode("aGk", back, &why));
  CHECK_THAT(why, Catch::Contains("multiple of 4"));
  CHECK_FALSE(base64_decode("aG*=", back, &why));
  CHECK_THAT(why, Catch::Contains("'*'") && Catch::Contains("offset 2"));
  CHECK_FALSE(base64_decode("a=k=", back, &why));
  CHECK_THAT(why, Catch::Contains("padding"));
  CHECK_FALSE(base64_decode("a===", back, &why));
}

TEST_CASE("merges follow the ranks, leftmost on ties, in both merge variants", "[bpe]") {
  // ranks: the bytes, then ab 256, cd 257, abcd 258, bc 259, aa 260, abab 261, xy 262, yz 263
  const BpeTokenizer tok(byte_ranks_plus({"ab", "cd", "abcd", "bc", "aa", "abab", "xy", "yz"}), resolve_pattern("gpt2"),
                         {{"<|endoftext|>", 270}});
  CHECK(tok.num_ranks() == 264);
  CHECK(tok.vocab_size() == 271);
  CHECK(tok.eot() == 270);
  CHECK(tok.encode("abcd") == ids_of({258}));        // the whole piece is a token
  CHECK(tok.encode("abcde") == ids_of({258, 'e'}));  // ab, then cd, then ab+cd
  CHECK(tok.encode("abc") == ids_of({256, 'c'}));    // ab (256) beats bc (259)
  CHECK(tok.encode("xyz") == ids_of({262, 'z'}));    // xy (262) beats yz (263)
  CHECK(tok.encode("aaa") == ids_of({260, 'a'}));    // a tie: the leftmost pair merges
  CHECK(tok.encode("ababab") == ids_of({261, 256}));  // ab ab ab, then the leftmost abab
  CHECK(tok.encode("ab cd") == ids_of({256, ' ', 257}));  // pieces "ab", " cd"; " c" is no token
  CHECK(tok.encode("") == ids_of({}));
  // A piece of 600 and of 602 bytes takes the heap variant: all ab merges first, then abab.
  std::string long_piece;
  for (int i = 0; i < 300; i++) long_piece += "ab";
  std::vector<int32_t> want(150, 261);
  CHECK(tok.encode(long_piece) == want);
  want.push_back(256);
  CHECK(tok.encode(long_piece + "ab") == want);
  CHECK(tok.encode("ababababab") == ids_of({261, 261, 256}));  // the same rule in the short variant
  CHECK(tok.decode(tok.encode(long_piece)) == long_piece);
}

TEST_CASE("special tokens: ids with allow_special, plain text without", "[bpe]") {
  BpeTokenizer tok(byte_ranks_plus({"ab"}), kPatternGpt2, {{"<|endoftext|>", 300}, {"<|x|>", 301}, {"<|x|>y", 302}});
  CHECK(tok.special_id("<|x|>") == 301);
  CHECK(tok.special_id("<|nope|>") == -1);
  CHECK(tok.encode("ab<|x|>ab", true) == ids_of({256, 301, 256}));
  CHECK(tok.encode("<|x|>yz<|x|>", true) == ids_of({302, 'z', 301}));  // the longest special at a position
  CHECK(tok.encode("<|endoftext|><|endoftext|>", true) == ids_of({300, 300}));
  const auto plain = tok.encode("ab<|x|>ab");
  CHECK(std::find(plain.begin(), plain.end(), 301) == plain.end());
  CHECK(tok.decode(plain) == "ab<|x|>ab");
  CHECK(tok.decode(tok.encode("a<|endoftext|>b", true)) == "a<|endoftext|>b");
  CHECK(tok.token_bytes(301) == "<|x|>");
  CHECK(tok.token_bytes(256) == "ab");
  CHECK_THROWS_WITH(tok.token_bytes(299), Catch::Contains("unknown token id 299"));
  CHECK_THROWS_WITH(tok.decode(ids_of({97, 5000})), Catch::Contains("unknown token id 5000"));
  CHECK_THROWS_AS(tok.decode(ids_of({-1})), UserError);

  // add_special: a copy keeps its own specials; the original is untouched (copy on write).
  BpeTokenizer copy = tok;
  CHECK(copy.add_special("<|new|>") == 303);
  CHECK(copy.add_special("<|new|>") == 303);
  CHECK(copy.add_special("<|x|>") == 301);
  CHECK(copy.vocab_size() == 304);
  CHECK(tok.vocab_size() == 303);
  CHECK(tok.special_id("<|new|>") == -1);
  CHECK(copy.encode("<|new|>", true) == ids_of({303}));
  CHECK(tok.encode("<|new|>", true) != ids_of({303}));
  CHECK(copy.encode("ab") == tok.encode("ab"));  // the ranks are shared, unchanged

  const BpeTokenizer none(byte_ranks_plus({}), kPatternGpt2, {});
  CHECK_THROWS_WITH(none.eot(), Catch::Contains("<|endoftext|>"));
}

TEST_CASE("the constructor rejects vocabularies that cannot work", "[bpe]") {
  CHECK_THROWS_WITH(BpeTokenizer(byte_ranks_plus({"ab", "ab"}), kPatternGpt2, {}),
                    Catch::Contains("token 257 duplicates token 256"));
  auto missing = byte_ranks_plus({"ab"});
  missing[65] = "zz";
  CHECK_THROWS_WITH(BpeTokenizer(missing, kPatternGpt2, {}), Catch::Contains("single byte 65"));
  CHECK_THROWS_WITH(BpeTokenizer(byte_ranks_plus({}), kPatternGpt2, {{"<|x|>", 10}}),
                    Catch::Contains("ordinary rank"));
  CHECK_THROWS_WITH(BpeTokenizer(byte_ranks_plus({}), kPatternGpt2, {{"<|x|>", 300}, {"<|y|>", 300}}),
                    Catch::Contains("share the id 300"));
  CHECK_THROWS_WITH(BpeTokenizer(byte_ranks_plus({}), kPatternGpt2, {{"", 300}}), Catch::Contains("empty"));
  CHECK_THROWS_WITH(BpeTokenizer(byte_ranks_plus({}), "(unclosed", {}), Catch::Contains("regex does not compile"));
  CHECK(resolve_pattern("cl100k") == kPatternCl100k);
  CHECK(resolve_pattern("o200k") == kPatternO200k);
  CHECK(resolve_pattern("\\w+") == "\\w+");
}

TEST_CASE("byte tokenizer: one id per byte, <|endoftext|> = 256", "[bpe]") {
  const BpeTokenizer tok = BpeTokenizer::load("byte");
  CHECK(tok.name() == "byte");
  CHECK(tok.vocab_size() == 257);
  CHECK(tok.eot() == 256);
  const std::string text = "Hi 世界\xff";
  const auto ids = tok.encode(text);
  REQUIRE(ids.size() == text.size());
  for (size_t i = 0; i < text.size(); i++) CHECK(ids[i] == (uint8_t)text[i]);
  CHECK(tok.encode("a<|endoftext|>", true) == ids_of({'a', 256}));
  CHECK(tok.encode_parallel(text + "<|endoftext|>", 3, true) == tok.encode(text + "<|endoftext|>", true));
  CHECK(tok.decode(ids) == text);
}

TEST_CASE("save and load give the same tokenizer; .tiktoken errors name file and line", "[bpe]") {
  TempDir dir("save");
  BpeTokenizer tok = sample_tokenizer();
  tok.add_special("<|user|>");
  tok.save(dir / "tok");
  CHECK(fs::exists(dir / "tok.tiktoken"));
  CHECK(fs::exists(dir / "tok.meta.json"));
  CHECK_FALSE(fs::exists(dir / "tok.tiktoken.tmp"));
  for (const std::string spec : {dir / "tok", dir / "tok.tiktoken"}) {
    const BpeTokenizer back = BpeTokenizer::load(spec);
    CHECK(back.name() == dir / "tok.tiktoken");
    REQUIRE(back.num_ranks() == tok.num_ranks());
    for (int r = 0; r < tok.num_ranks(); r++) REQUIRE(back.token_bytes(r) == tok.token_bytes(r));
    CHECK(back.pattern() == tok.pattern());
    CHECK(back.specials() == tok.specials());
    CHECK(back.vocab_size() == tok.vocab_size());
    const std::string text = "the cat 人工智能 <|user|> 👍🏽";
    CHECK(back.encode(text, true) == tok.encode(text, true));
  }

  const std::string meta = dir.file("t.meta.json", R"({"pat_str": "\\S+|\\s+", "special_tokens": {"<|e|>": 256}})");
  std::string ranks;
  for (int b = 0; b < 256; b++) ranks += base64_encode(std::string(1, (char)b)) + " " + std::to_string(b) + "\n";
  dir.file("t.tiktoken", ranks);
  CHECK(BpeTokenizer::load(dir / "t.tiktoken").vocab_size() == 257);
  auto broken = [&](const std::string& contents) {
    dir.file("t.tiktoken", contents);
    return BpeTokenizer::load(dir / "t.tiktoken");
  };
  CHECK_THROWS_WITH(broken("YQ== 0\nYg*= 1\n"), Catch::Contains("t.tiktoken:2: bad token") && Catch::Contains("'*'"));
  CHECK_THROWS_WITH(broken("YQ== 0\nYg== 1\nYw== x2\n"),
                    Catch::Contains("t.tiktoken:3: rank 'x2' is not a non-negative integer"));
  CHECK_THROWS_WITH(broken("YQ== 0\nYg== -1\n"), Catch::Contains("t.tiktoken:2: rank '-1'"));
  CHECK_THROWS_WITH(broken("YQ==0\n"), Catch::Contains("t.tiktoken:1: expected 'BASE64 RANK'"));
  CHECK_THROWS_WITH(broken("YQ== 0\nYg== 5\n"), Catch::Contains("t.tiktoken:2: rank 5 is out of range"));
  CHECK_THROWS_WITH(broken("YQ== 0\nYg== 0\n"), Catch::Contains("t.tiktoken:2: rank 0 was given already on line 1"));
  CHECK_THROWS_WITH(broken(ranks + base64_encode("a") + " 256\n"), Catch::Contains("t.tiktoken") && Catch::Contains("duplicates"));
  CHECK_THROWS_WITH(broken("YQ== 0\n"), Catch::Contains("t.tiktoken") && Catch::Contains("single byte 0"));
  dir.file("t.tiktoken", ranks);
  dir.file("t.meta.json", "{\"pat_str\": ");
  CHECK_THROWS_WITH(BpeTokenizer::load(dir / "t.tiktoken"), Catch::Contains("t.meta.json: not valid JSON"));
  dir.file("t.meta.json", R"({"special_tokens": {}})");
  CHECK_THROWS_WITH(BpeTokenizer::load(dir / "t.tiktoken"), Catch::Contains("t.meta.json") && Catch::Contains("pat_str"));
  dir.file("t.meta.json", R"({"pat_str": "a", "special_tokens": {"<|e|>": "x"}})");
  CHECK_THROWS_WITH(BpeTokenizer::load(dir / "t.tiktoken"), Catch::Contains("t.meta.json") && Catch::Contains("<|e|>"));
  dir.file("t.meta.json", R"({"pat_str": "(", "special_tokens": {}})");
  CHECK_THROWS_WITH(BpeTokenizer::load(dir / "t.tiktoken"), Catch::Contains("t.tiktoken") && Catch::Contains("regex"));
  fs::remove(meta);
  CHECK_THROWS_WITH(BpeTokenizer::load(dir / "t.tiktoken"), Catch::Contains("t.meta.json") && Catch::Contains("beside"));
  CHECK_THROWS_WITH(BpeTokenizer::load(dir / "missing.tiktoken"), Catch::Contains("missing.tiktoken") && Catch::Contains("cannot be opened"));
  CHECK_THROWS_WITH(BpeTokenizer::load(dir / "nothing"), Catch::Contains("nothing") && Catch::Contains("does not exist"));
  dir.file("plain.txt", "x");
  CHECK_THROWS_WITH(BpeTokenizer::load(dir / "plain.txt"), Catch::Contains("is not a tokenizer"));
  try {  // every message is one line
    broken("YQ== 0\nYg*= 1\n");
  } catch (const UserError& e) {
    CHECK(std::string(e.what()).find('\n') == std::string::npos);
  }
}

TEST_CASE("GPT-2 directories: encoder.json + vocab.bpe, checked against each other", "[bpe]") {
  // GPT-2's bytes_to_unicode: printable bytes stand for themselves, the others for 256, 257, ...
  std::vector<std::string> unicode_of(256);
  std::vector<int> order;  // ids of the byte tokens: printable bytes first
  auto printable = [](int b) { return (b >= '!' && b <= '~') || (b >= 0xa1 && b <= 0xac) || b >= 0xae; };
  auto utf8 = [](uint32_t cp) {
    return cp < 0x80 ? std::string(1, (char)cp) : std::string{(char)(0xc0 | cp >> 6), (char)(0x80 | (cp & 0x3f))};
  };
  int extra = 0;
  for (int b = 0; b < 256; b++)
    if (printable(b)) unicode_of[b] = utf8((uint32_t)b), order.push_back(b);
  for (int b = 0; b < 256; b++)
    if (!printable(b)) unicode_of[b] = utf8(256u + (uint32_t)extra++), order.push_back(b);
  nlohmann::json encoder = nlohmann::json::object();
  for (int id = 0; id < 256; id++) encoder[unicode_of[order[id]]] = id;
  encoder[unicode_of[' '] + "t"] = 256;  // merge "Ġ t"
  encoder["he"] = 257;                   // merge "h e"
  encoder[unicode_of[' '] + "the"] = 258;  // merge "Ġt he"
  encoder["<|endoftext|>"] = 259;
  const std::string good_merges = "#version: 0.2\n" + unicode_of[' '] + " t\nh e\n" + unicode_of[' '] + "t he\n";

  TempDir dir("gpt2");
  dir.file("encoder.json", encoder.dump());
  dir.file("vocab.bpe", good_merges);
  const BpeTokenizer tok = BpeTokenizer::load(dir.path.string());
  CHECK(tok.num_ranks() == 259);
  CHECK(tok.eot() == 259);
  CHECK(tok.pattern() == kPatternGpt2);
  CHECK(tok.token_bytes(256) == " t");
  CHECK(tok.token_bytes(0) == "!");
  CHECK(tok.token_bytes(188) == std::string(1, '\0'));  // the first non-printable byte after the 188 printable
  CHECK(tok.encode("the then", true) == ids_of({'t' - '!', 257, 258, 'n' - '!'}));
  CHECK(tok.encode("<|endoftext|>", true) == ids_of({259}));

  dir.file("vocab.bpe", "#version: 0.2\n" + unicode_of[' '] + " t\nh e\nt he\n");
  CHECK_THROWS_WITH(BpeTokenizer::load(dir.path.string()), Catch::Contains("vocab.bpe:4") && Catch::Contains("token 258"));
  dir.file("vocab.bpe", "#version: 0.2\n" + unicode_of[' '] + " t\nh e\n");
  CHECK_THROWS_WITH(BpeTokenizer::load(dir.path.string()), Catch::Contains("vocab.bpe: 2 merges"));
  dir.file("vocab.bpe", "#version: 0.2\n" + unicode_of[' '] + "t\n");
  CHECK_THROWS_WITH(BpeTokenizer::load(dir.path.string()), Catch::Contains("vocab.bpe:2: expected two tokens"));
  dir.file("vocab.bpe", "#version: 0.2\nh \xe4\xb8\x96\n");
  CHECK_THROWS_WITH(BpeTokenizer::load(dir.path.string()), Catch::Contains("vocab.bpe:2") && Catch::Contains("alphabet"));
  fs::remove(dir / "vocab.bpe");
  CHECK_THROWS_WITH(BpeTokenizer::load(dir.path.string()), Catch::Contains("vocab.bpe") && Catch::Contains("cannot be opened"));
  dir.file("vocab.bpe", good_merges);
  encoder["he"] = "257";
  dir.file("encoder.json", encoder.dump());
  CHECK_THROWS_WITH(BpeTokenizer::load(dir.path.string()), Catch::Contains("encoder.json") && Catch::Contains("not an integer"));
  encoder["he"] = 300;
  dir.file("encoder.json", encoder.dump());
  CHECK_THROWS_WITH(BpeTokenizer::load(dir.path.string()), Catch::Contains("encoder.json: id 300"));
  dir.file("encoder.json", "{\"a\": 1,");
  CHECK_THROWS_WITH(BpeTokenizer::load(dir.path.string()), Catch::Contains("encoder.json: not valid JSON"));
}

TEST_CASE("decode(encode(x)) == x for random bytes and random UTF-8", "[bpe]") {
  const BpeTokenizer tok = sample_tokenizer();
  std::mt19937 rng(7);
  for (int i = 0; i < 300; i++) {
    const std::string text = i % 2 ? random_bytes(rng, rng() % 300) : random_utf8(rng, rng() % 300);
    const auto ids = tok.encode(text);
    REQUIRE(tok.decode(ids) == text);
    for (int32_t id : ids) REQUIRE((id >= 0 && id < tok.num_ranks()));
  }
  // Invalid UTF-8 in the middle of words and whitespace, truncated characters, lone continuations.
  for (const std::string text : {std::string("abc\xff" "def"), std::string("\xe4\xb8 \xe4\xb8\x96\xe7"),
                                 std::string("  \x80\x80  x"), std::string("\xf0\x9f\x91"), std::string("\xc0\xaf")}) {
    CHECK(tok.decode(tok.encode(text)) == text);
  }
  if (const char* dir = tokenizers_dir()) {
    const BpeTokenizer o200k = BpeTokenizer::load(std::string(dir) + "/o200k_base.tiktoken");
    for (int i = 0; i < 100; i++) {
      const std::string text = i % 2 ? random_bytes(rng, rng() % 500) : random_utf8(rng, rng() % 500);
      REQUIRE(o200k.decode(o200k.encode(text)) == text);
    }
  }
}

TEST_CASE("encode_parallel gives encode's ids for any text and thread count", "[bpe]") {
  BpeTokenizer tok = sample_tokenizer();
  tok.add_special("<|x|>");
  std::mt19937 rng(11);
  std::vector<std::string> texts = {"", "a", " ", "人", "ab", "\xff", std::string(100000, ' ') + "x",
                                    std::string(50000, ' '), std::string(30000, '\n') + " a",
                                    "x" + std::string(40000, '\t') + "y" + std::string(10, ' ')};
  for (int i = 0; i < 40; i++) texts.push_back(random_utf8(rng, rng() % (i < 20 ? 20 : 3000)));
  for (int i = 0; i < 10; i++) texts.push_back(random_bytes(rng, rng() % 2000));
  std::string specials;  // specials next to each other, at range boundaries, and split by them
  for (int i = 0; i < 50; i++) specials += random_utf8(rng, rng() % 5) + (i % 3 ? "<|x|>" : "<|endoftext|>");
  texts.push_back(specials);
  for (const std::string& text : texts) {
    for (bool allow : {false, true}) {
      const auto want = tok.encode(text, allow);
      for (int threads : {2, 3, 4, 7, 16}) {
        INFO("text of " << text.size() << " bytes, threads " << threads << ", allow_special " << allow);
        REQUIRE(tok.encode_parallel(text, threads, allow) == want);
      }
    }
  }
  CHECK(tok.encode_parallel(texts[8], 0) == tok.encode(texts[8]));
}

TEST_CASE("parity: GPT-2 test vectors and tiktoken's ids (GPTCU_TOKENIZERS_DIR)", "[bpe]") {
  const char* dir = tokenizers_dir();
  if (!dir) {
    WARN("skipped: set GPTCU_TOKENIZERS_DIR (e.g. to ../shared/data/tokenizers)");
    return;
  }
  const std::string root(dir);
  const BpeTokenizer gpt2 = BpeTokenizer::load(root + "/gpt2");
  CHECK(gpt2.eot() == 50256);
  CHECK(gpt2.vocab_size() == 50257);
  std::ifstream vec_file(root + "/gpt2/test_vectors.json");
  REQUIRE(vec_file.good());
  const auto vectors = nlohmann::json::parse(vec_file);
  for (const auto& v : vectors) {
    INFO("gpt2 test vector: " << v["text"].get<std::string>());
    CHECK(gpt2.encode(v["text"].get<std::string>()) == v["ids"].get<std::vector<int32_t>>());
  }

  // Each encoding as loaded from its files, and once more with our copy of tiktoken's pat_str.
  std::map<std::string, std::vector<BpeTokenizer>> encodings;
  encodings["gpt2"] = {gpt2};
  for (const auto& [name, pattern] : {std::pair{"cl100k_base", kPatternCl100k}, std::pair{"o200k_base", kPatternO200k}}) {
    const BpeTokenizer loaded = BpeTokenizer::load(root + "/" + name + ".tiktoken");
    std::vector<std::string> ranks;
    for (int r = 0; r < loaded.num_ranks(); r++) ranks.push_back(loaded.token_bytes(r));
    encodings[name] = {loaded, BpeTokenizer(ranks, pattern, loaded.specials())};
  }
  std::ifstream fixture(std::string(GPTCU_TEST_FIXTURES) + "/tiktoken_vectors.json");
  REQUIRE(fixture.good());
  const auto cases = nlohmann::json::parse(fixture)["cases"];
  REQUIRE(cases.size() > 150);
  for (const auto& c : cases) {
    const std::string text = c["text"].get<std::string>();
    const bool allow = c["allow_special"].get<bool>();
    const auto want = c["ids"].get<std::vector<int32_t>>();
    for (const BpeTokenizer& tok : encodings.at(c["encoding"].get<std::string>())) {
      INFO(c["encoding"].get<std::string>() << " pattern " << tok.pattern() << " allow_special " << allow
                                            << " text: " << text);
      CHECK(tok.encode(text, allow) == want);
      CHECK(tok.encode_parallel(text, 3, allow) == want);
      CHECK(tok.decode(want) == text);
    }
  }
}
