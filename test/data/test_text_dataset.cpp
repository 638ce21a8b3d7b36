// test/data/test_text_dataset.cpp: the byte tokenizer and the text dataset.
#include <catch2/catch.hpp>
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "data/bpe_tokenizer.h"
#include "data/text_dataset.h"

using namespace gptcu;

TEST_CASE("byte tokenizer round-trips any UTF-8 text", "[data]") {
  const BpeTokenizer tok = BpeTokenizer::bytes();
  const std::string text = "Hello, 世界! 🙂\n\ttabs";
  const auto ids = tok.encode(text);
  CHECK(ids.size() == text.size());  // one id per byte
  CHECK(ids[0] == 'H');
  CHECK(ids[7] == 0xE4);  // first byte of 世
  CHECK(tok.decode(ids) == text);
  CHECK(tok.eot() == 256);
  CHECK(tok.vocab_size() == 257);
  const std::vector<int32_t> with_eot{72, 256, 105}, bad{300};
  CHECK(tok.decode(with_eot) == "H<|endoftext|>i");
  CHECK_THROWS_AS(tok.decode(bad), UserError);
}

TEST_CASE("split is the first 90% / last 10%, windows are shifted by one", "[data]") {
  std::vector<int32_t> ids(1000);
  for (int i = 0; i < 1000; i++) ids[i] = i;
  TextDataset d(ids, 0.1, 16, "seq");
  CHECK(d.num_tokens(Split::train) == 900);
  CHECK(d.num_tokens(Split::val) == 100);
  Tensor x, y;
  d.batch(Split::train, 1, 0, 4, 16, x, y);
  CHECK(x.shape() == Shape{4, 16});
  for (int b = 0; b < 4; b++) {
    const int32_t start = x.data<int32_t>()[b * 16];
    CHECK(start + 16 < 900);  // inside the train split
    for (int t = 0; t < 16; t++) {
      REQUIRE(x.data<int32_t>()[b * 16 + t] == start + t);
      REQUIRE(y.data<int32_t>()[b * 16 + t] == start + t + 1);
    }
  }
  d.batch(Split::val, 1, 0, 4, 16, x, y);
  for (int i = 0; i < 64; i++) REQUIRE(x.data<int32_t>()[i] >= 900);
}

TEST_CASE("batch k is a pure function of (seed, split, k)", "[data]") {
  std::vector<int32_t> ids(5000);
  for (int i = 0; i < 5000; i++) ids[i] = i;
  TextDataset d(ids, 0.1, 8, "seq");
  Tensor x1, y1, x2, y2, x3, y3;
  d.batch(Split::train, 7, 12, 3, 8, x1, y1);
  d.batch(Split::train, 7, 3, 3, 8, x2, y2);  // another batch in between changes nothing
  d.batch(Split::train, 7, 12, 3, 8, x2, y2);
  CHECK(std::equal(x1.data<int32_t>(), x1.data<int32_t>() + 24, x2.data<int32_t>()));
  d.batch(Split::train, 8, 12, 3, 8, x3, y3);  // another seed, other windows
  CHECK_FALSE(std::equal(x1.data<int32_t>(), x1.data<int32_t>() + 24, x3.data<int32_t>()));
}

TEST_CASE("bad data files are user errors that name the problem", "[data]") {
  const auto dir = std::filesystem::temp_directory_path() / "gptcu_test_data";
  std::filesystem::create_directories(dir);
  const std::string empty = (dir / "empty.txt").string(), small = (dir / "small.txt").string();
  std::ofstream(empty).close();
  std::ofstream(small) << "just a few bytes of text here";
  const BpeTokenizer bytes = BpeTokenizer::bytes();
  CHECK_THROWS_WITH(TextDataset((dir / "missing.txt").string(), bytes, 0.1, 8), Catch::Contains("missing.txt") && Catch::Contains("cannot be opened"));
  CHECK_THROWS_WITH(TextDataset(empty, bytes, 0.1, 8), Catch::Contains("is empty"));
  CHECK_THROWS_WITH(TextDataset(small, bytes, 0.1, 64), Catch::Contains("block_size 64"));
  std::filesystem::remove_all(dir);
}
