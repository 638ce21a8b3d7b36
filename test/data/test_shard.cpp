// test/data/test_shard.cpp: token, mask and record shards: byte layout, round trips, rollover,
// llm.c compatibility, atomic writes, and the errors a bad file gives.
#include <catch2/catch.hpp>
#include <filesystem>

#include "data/loader.h"
#include "data/shard.h"
#include "test/data/shard_fixtures.h"

using namespace gptcu;
using namespace gptcu::test;

namespace {

std::vector<int32_t> read_all(const TokenShard& s) {
  std::vector<int32_t> v((size_t)s.size());
  s.copy(0, s.size(), v.data());
  return v;
}

}  // namespace

TEST_CASE("a uint16 shard is byte for byte llm.c's layout and reads back", "[shard]") {
  TempDir dir("shard_u16");
  ShardWriter w(dir.path.string(), "train", {.vocab_size = 50257});
  const std::vector<int32_t> doc1 = {50256, 0, 1, 65, 50255}, doc2 = {50256, 7, 8};
  w.add(doc1);
  w.add(doc2);
  w.finish();
  REQUIRE(w.files() == std::vector<std::string>{dir / "train_000000.bin"});
  CHECK(w.tokens_written() == 8);

  std::vector<char> expected;  // what llm.c's write_datafile produces: header, then uint16 tokens
  append_bytes(expected, shard_header(20240520, 1, 8));
  append_bytes(expected, std::vector<uint16_t>{50256, 0, 1, 65, 50255, 50256, 7, 8});
  CHECK(read_file(w.files()[0]) == expected);

  TokenShard s(w.files()[0]);
  CHECK(s.size() == 8);
  CHECK(s.width() == 2);
  CHECK(s[0] == 50256);
  CHECK(s[4] == 50255);
  CHECK(read_all(s) == std::vector<int32_t>{50256, 0, 1, 65, 50255, 50256, 7, 8});
  int32_t mid[3];
  s.copy(3, 3, mid);
  CHECK(std::vector<int32_t>(mid, mid + 3) == std::vector<int32_t>{65, 50255, 50256});
}

TEST_CASE("a vocabulary above 65536 gives uint32 shards (version 2), and 65536 still fits uint16", "[shard]") {
  TempDir dir("shard_u32");
  {
    ShardWriter w(dir.path.string(), "big", {.vocab_size = 100277});
    w.add(std::vector<int32_t>{0, 65535, 65536, 100276});
    w.finish();
    std::vector<char> expected;
    append_bytes(expected, shard_header(20240520, 2, 4));
    append_bytes(expected, std::vector<uint32_t>{0, 65535, 65536, 100276});
    CHECK(read_file(w.files()[0]) == expected);
    TokenShard s(w.files()[0]);
    CHECK(s.width() == 4);
    CHECK(read_all(s) == std::vector<int32_t>{0, 65535, 65536, 100276});
  }
  ShardWriter w(dir.path.string(), "edge", {.vocab_size = 65536});
  w.add(std::vector<int32_t>{65535, 3});
  w.finish();
  TokenShard s(w.files()[0]);
  CHECK(s.width() == 2);
  CHECK(read_all(s) == std::vector<int32_t>{65535, 3});
}

TEST_CASE("mask shards (version 3) sit beside their token shards, one byte per token", "[shard]") {
  TempDir dir("shard_mask");
  ShardWriter w(dir.path.string(), "sft", {.vocab_size = 300, .with_mask = true});
  w.add(std::vector<int32_t>{1, 2, 3, 4}, std::vector<uint8_t>{0, 0, 1, 1});
  w.add(std::vector<int32_t>{5, 6});  // no mask given: every token is a target
  w.finish();
  REQUIRE(w.files().size() == 1);
  const std::string mask_path = dir / "sft_000000.mask.bin";
  CHECK(mask_path_for(w.files()[0]) == mask_path);
  std::vector<char> expected;
  append_bytes(expected, shard_header(20240520, 3, 6));
  append_bytes(expected, std::vector<uint8_t>{0, 0, 1, 1, 1, 1});
  CHECK(read_file(mask_path) == expected);
  MaskShard m(mask_path);
  CHECK(m.size() == 6);
  CHECK(m[1] == 0);
  CHECK(m[2] == 1);
  uint8_t out[6];
  m.copy(0, 6, out);
  CHECK(std::vector<uint8_t>(out, out + 6) == std::vector<uint8_t>{0, 0, 1, 1, 1, 1});
}

TEST_CASE("shards roll over at shard_tokens without splitting documents, except longer ones", "[shard]") {
  TempDir dir("shard_roll");
  ShardWriter w(dir.path.string(), "t", {.vocab_size = 1000, .shard_tokens = 10, .with_mask = true});
  std::vector<int32_t> all;
  int32_t next = 0;
  for (int n : {4, 4, 4, 25, 3, 10}) {
    const auto doc = iota_tokens(next, n);
    std::vector<uint8_t> mask((size_t)n);
    for (int i = 0; i < n; i++) mask[(size_t)i] = (uint8_t)((next + i) % 2);
    w.add(doc, mask);
    all.insert(all.end(), doc.begin(), doc.end());
    next += n;
  }
  w.finish();
  // 4+4 | 4 (the 25 does not fit) | 10 | 10 | 5+3 (the rest of the 25, then the 3) | 10
  std::vector<int64_t> sizes;
  std::vector<int32_t> back;
  for (size_t i = 0; i < w.files().size(); i++) {
    char name[32];
    std::snprintf(name, sizeof name, "t_%06zu.bin", i);
    CHECK(w.files()[i] == dir / name);
    TokenShard s(w.files()[i]);
    MaskShard m(mask_path_for(w.files()[i]));
    REQUIRE(m.size() == s.size());
    sizes.push_back(s.size());
    for (int64_t j = 0; j < s.size(); j++) {
      back.push_back(s[j]);
      REQUIRE(m[j] == s[j] % 2);  // the mask rolled over with its tokens
    }
  }
  CHECK(sizes == std::vector<int64_t>{8, 4, 10, 10, 8, 10});
  CHECK(back == all);
  CHECK(w.tokens_written() == (int64_t)all.size());
}

TEST_CASE("ids outside the vocabulary and mask bytes other than 0/1 are user errors", "[shard]") {
  TempDir dir("shard_ids");
  ShardWriter w(dir.path.string(), "t", {.vocab_size = 256, .with_mask = true});
  w.add(std::vector<int32_t>{1, 2});
  CHECK_THROWS_WITH(w.add(std::vector<int32_t>{3, 256}),
                    Catch::Contains("token id 256") && Catch::Contains("[0, 256)"));
  CHECK_THROWS_WITH(w.add(std::vector<int32_t>{-1}), Catch::Contains("token id -1"));
  CHECK_THROWS_WITH(w.add(std::vector<int32_t>{4, 5}, std::vector<uint8_t>{1, 2}), Catch::Contains("mask byte 2"));
  w.finish();
  TokenShard s(w.files()[0]);
  CHECK(read_all(s) == std::vector<int32_t>{1, 2});  // rejected documents left nothing behind
  CHECK_THROWS_AS(ShardWriter(dir.path.string(), "u", {.vocab_size = 0}), UserError);
}

TEST_CASE("llm.c's shards, made by hand as numpy writes them, load", "[shard]") {
  TempDir dir("shard_llmc");
  // GPT-2 layout: np.zeros(256, int32) with [0]=20240520 [1]=1 [2]=n, then np.array(tokens, uint16)
  std::vector<char> bytes;
  append_bytes(bytes, shard_header(20240520, 1, 5));
  append_bytes(bytes, std::vector<uint16_t>{50256, 15496, 11, 995, 0});
  write_file(dir / "fineweb_val_000000.bin", bytes);
  TokenShard gpt2(dir / "fineweb_val_000000.bin");
  CHECK(read_all(gpt2) == std::vector<int32_t>{50256, 15496, 11, 995, 0});
  // Llama-3 layout: magic 20240801, version 7, uint32 tokens
  bytes.clear();
  append_bytes(bytes, shard_header(20240801, 7, 3));
  append_bytes(bytes, std::vector<uint32_t>{128000, 9906, 128001});
  write_file(dir / "llama.bin", bytes);
  TokenShard llama(dir / "llama.bin");
  CHECK(llama.width() == 4);
  CHECK(read_all(llama) == std::vector<int32_t>{128000, 9906, 128001});
}

TEST_CASE("truncated, foreign and mislabeled files are one-line user errors naming the file", "[shard]") {
  TempDir dir("shard_bad");
  auto with = [&](const std::string& name, std::vector<int32_t> header, size_t payload_bytes) {
    std::vector<char> bytes;
    append_bytes(bytes, header);
    bytes.resize(bytes.size() + payload_bytes, 1);
    write_file(dir / name, bytes);
    return dir / name;
  };
  auto error_of = [](auto open) -> std::string {
    try {
      open();
    } catch (const UserError& e) {
      return e.what();
    }
    return "no error";
  };
  const std::string truncated = with("truncated.bin", shard_header(20240520, 1, 100), 150);
  CHECK_THROWS_WITH(TokenShard(truncated), Catch::Contains("truncated.bin") && Catch::Contains("is truncated") &&
                                               Catch::Contains("100 tokens of 2 bytes") && Catch::Contains("1174"));
  const std::string longer = with("longer.bin", shard_header(20240520, 2, 10), 44);
  CHECK_THROWS_WITH(TokenShard(longer), Catch::Contains("longer.bin") && Catch::Contains("more than the 1064"));
  const std::string magic = with("magic.bin", shard_header(20240519, 1, 0), 0);
  CHECK_THROWS_WITH(TokenShard(magic), Catch::Contains("magic.bin") && Catch::Contains("not a shard") &&
                                           Catch::Contains("20240519"));
  const std::string version = with("version.bin", shard_header(20240520, 9, 0), 0);
  CHECK_THROWS_WITH(TokenShard(version), Catch::Contains("version.bin") && Catch::Contains("version 9"));
  const std::string mask = with("x.mask.bin", shard_header(20240520, 3, 4), 4);
  CHECK_THROWS_WITH(TokenShard(mask), Catch::Contains("x.mask.bin") && Catch::Contains("is a loss-mask shard"));
  CHECK_NOTHROW(MaskShard(mask));
  const std::string tokens = with("tokens.bin", shard_header(20240520, 1, 2), 4);
  CHECK_THROWS_WITH(MaskShard(tokens), Catch::Contains("is a uint16 token shard"));
  CHECK_THROWS_WITH(RecordShard(tokens), Catch::Contains("expected a record shard"));
  const std::string width = with("width.bin", shard_header(20240520, 4, 0, {3, 3}), 0);
  CHECK_THROWS_WITH(RecordShard(width), Catch::Contains("token width 3"));
  const std::string table = with("table.bin", shard_header(20240520, 4, 5, {3, 2}), 12);
  CHECK_THROWS_WITH(RecordShard(table), Catch::Contains("table.bin") && Catch::Contains("length table"));
  std::ofstream(dir / "empty.bin").close();
  CHECK_THROWS_WITH(TokenShard(dir / "empty.bin"), Catch::Contains("empty.bin") && Catch::Contains("has 0 bytes"));
  std::ofstream(dir / "text.bin") << std::string(2000, 'a');  // a text file that happens to be long enough
  CHECK_THROWS_WITH(TokenShard(dir / "text.bin"), Catch::Contains("text.bin") && Catch::Contains("not a shard"));
  CHECK_THROWS_WITH(TokenShard(dir / "missing.bin"),
                    Catch::Contains("missing.bin") && Catch::Contains("cannot be opened"));
  CHECK_THROWS_WITH(TokenShard(dir.path.string()), Catch::Contains("is a directory"));
  for (const std::string& f : {truncated, longer, magic, version, mask})  // one line each
    CHECK(error_of([&] { TokenShard s(f); }).find('\n') == std::string::npos);
}

TEST_CASE("writes are atomic: only complete shards carry the final name", "[shard]") {
  TempDir dir("shard_atomic");
  {
    ShardWriter w(dir.path.string(), "train", {.vocab_size = 100, .shard_tokens = 4, .with_mask = true});
    w.add(iota_tokens(0, 4));  // fills shard 0 exactly: complete
    w.add(iota_tokens(0, 3));  // shard 1 is open, so only its .tmp files exist
    CHECK(std::filesystem::exists(dir / "train_000000.bin"));
    CHECK(std::filesystem::exists(dir / "train_000000.mask.bin"));
    CHECK(std::filesystem::exists(dir / "train_000001.bin.tmp"));
    CHECK_FALSE(std::filesystem::exists(dir / "train_000001.bin"));
    CHECK(TokenDataset::glob(dir / "train_*.bin") == std::vector<std::string>{dir / "train_000000.bin"});
    // an unfinished .tmp does not pass for a shard even when opened by name (its header is
    // zeros until complete, or not yet flushed at all)
    CHECK_THROWS_AS(TokenShard(dir / "train_000001.bin.tmp"), UserError);
  }  // destroyed without finish(): the partial shard is removed, the complete one stays
  CHECK_FALSE(std::filesystem::exists(dir / "train_000001.bin.tmp"));
  CHECK_FALSE(std::filesystem::exists(dir / "train_000001.mask.bin.tmp"));
  CHECK(std::filesystem::exists(dir / "train_000000.bin"));
  // a .tmp left by a crash (even a complete-looking one) is never picked up by a glob
  std::filesystem::copy_file(dir / "train_000000.bin", dir / "train_000005.bin.tmp");
  CHECK(TokenDataset::glob(dir / "train_*") == std::vector<std::string>{dir / "train_000000.bin"});
}

TEST_CASE("preference and prompt record shards (version 4) round-trip", "[shard]") {
  TempDir dir("shard_records");
  for (int64_t vocab : {50257, 200000}) {
    const std::string path = dir / ("prefs_" + std::to_string(vocab) + ".bin");
    RecordShardWriter w(path, RecordShardKind::preference, vocab);
    w.add_preference(std::vector<int32_t>{1, 2, 3}, std::vector<int32_t>{4}, std::vector<int32_t>{5, 6});
    w.add_preference(std::vector<int32_t>{}, std::vector<int32_t>{(int32_t)vocab - 1, 7}, std::vector<int32_t>{8});
    CHECK_THROWS_WITH(w.add_preference(std::vector<int32_t>{1}, std::vector<int32_t>{(int32_t)vocab}, {}),
                      Catch::Contains("outside the vocabulary"));
    CHECK(w.records() == 2);
    CHECK_FALSE(std::filesystem::exists(path));  // nothing under the final name before finish()
    w.finish();
    CHECK_FALSE(std::filesystem::exists(path + ".tokens.tmp"));
    const int width = vocab > 65536 ? 4 : 2;
    std::vector<char> expected;
    append_bytes(expected, shard_header(20240520, 4, 2, {3, width}));
    append_bytes(expected, std::vector<uint32_t>{3, 1, 2, 0, 2, 1});
    if (width == 2)
      append_bytes(expected, std::vector<uint16_t>{1, 2, 3, 4, 5, 6, (uint16_t)(vocab - 1), 7, 8});
    else
      append_bytes(expected, std::vector<uint32_t>{1, 2, 3, 4, 5, 6, (uint32_t)(vocab - 1), 7, 8});
    CHECK(read_file(path) == expected);
    RecordShard r(path);
    CHECK(r.size() == 2);
    CHECK(r.fields() == 3);
    CHECK(r.width() == width);
    CHECK(r.num_tokens() == 9);
    CHECK(r.get(0, 0) == std::vector<int32_t>{1, 2, 3});
    CHECK(r.get(0, 2) == std::vector<int32_t>{5, 6});
    CHECK(r.get(1, 0).empty());
    CHECK(r.get(1, 1) == std::vector<int32_t>{(int32_t)vocab - 1, 7});
    CHECK(r.length(1, 2) == 1);
  }
  const std::string prompts = dir / "rl.bin";
  RecordShardWriter w(prompts, RecordShardKind::prompt, 300);
  w.add_prompt(std::vector<int32_t>{10, 11}, "42");
  w.add_prompt(std::vector<int32_t>{12}, "say \"hi\"\nthen 你好");
  w.finish();
  RecordShard r(prompts);
  CHECK(r.fields() == 1);
  CHECK(r.get(1, 0) == std::vector<int32_t>{12});
  const auto sidecar = read_file(dir / "rl.answers.jsonl");
  CHECK(std::string(sidecar.begin(), sidecar.end()) ==
        "{\"answer\":\"42\"}\n{\"answer\":\"say \\\"hi\\\"\\nthen 你好\"}\n");
}
