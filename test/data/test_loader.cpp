// test/data/test_loader.cpp: the data order (EpochOrder), TokenDataset over token shards, and
// the preference / prompt datasets over record shards.
#include <catch2/catch.hpp>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <thread>

#include "data/loader.h"
#include "data/record_data.h"
#include "data/shard.h"
#include "test/data/shard_fixtures.h"

using namespace gptcu;
using namespace gptcu::test;

namespace {

// The stream 0, 1, 2, ... cut into uint16 shards of the given sizes, DIR/PREFIX_00000i.bin,
// made by hand (independent of ShardWriter); with mask shards when mask_of is given.
std::vector<std::string> write_stream(const TempDir& dir, const std::string& prefix, const std::vector<int>& sizes,
                                      const std::function<uint8_t(int)>& mask_of = {}) {
  std::vector<std::string> files;
  int next = 0;
  for (size_t i = 0; i < sizes.size(); i++) {
    char name[64];
    std::snprintf(name, sizeof name, "%s_%06zu.bin", prefix.c_str(), i);
    std::vector<uint16_t> tokens;
    std::vector<uint8_t> mask;
    for (int j = 0; j < sizes[i]; j++, next++) {
      tokens.push_back((uint16_t)next);
      if (mask_of) mask.push_back(mask_of(next));
    }
    std::vector<char> bytes;
    append_bytes(bytes, shard_header(20240520, 1, sizes[i]));
    append_bytes(bytes, tokens);
    files.push_back(dir / name);
    write_file(files.back(), bytes);
    if (mask_of) {
      bytes.clear();
      append_bytes(bytes, shard_header(20240520, 3, sizes[i]));
      append_bytes(bytes, mask);
      write_file(mask_path_for(files.back()), bytes);
    }
  }
  return files;
}

std::vector<int32_t> values(const Tensor& t) {
  return std::vector<int32_t>(t.data<int32_t>(), t.data<int32_t>() + t.numel());
}

// The first token of each row of x: with the iota stream, the window's start.
std::vector<int32_t> row_starts(const Tensor& x) {
  std::vector<int32_t> s;
  for (int64_t b = 0; b < x.size(0); b++) s.push_back(x.data<int32_t>()[b * x.size(1)]);
  return s;
}

}  // namespace

TEST_CASE("EpochOrder is a seeded permutation of the n items in every epoch", "[loader]") {
  for (uint64_t n : {1, 2, 3, 7, 16, 17, 64, 100, 1000, 4097}) {
    const EpochOrder order(n, 42);
    std::vector<uint64_t> first;
    for (uint64_t e = 0; e < 3; e++) {
      std::vector<uint64_t> perm;
      for (uint64_t i = 0; i < n; i++) perm.push_back(order.at(e * n + i));
      if (e == 0) first = perm;
      else if (n >= 8) CHECK(perm != first);  // each epoch its own order
      std::sort(perm.begin(), perm.end());
      for (uint64_t i = 0; i < n; i++) REQUIRE(perm[i] == i);
    }
    if (n >= 8) {
      const EpochOrder other(n, 43);
      bool differs = false;
      for (uint64_t i = 0; i < n; i++) differs |= other.at(i) != order.at(i);
      CHECK(differs);
    }
  }
  // roughly uniform: over 3000 epochs of 10 items, the first item is each one ~300 times
  const EpochOrder order(10, 7);
  std::vector<int> count(10, 0);
  for (uint64_t e = 0; e < 3000; e++) count[order.at(e * 10)]++;
  for (int c : count) CHECK((c > 200 && c < 400));
  // a huge n stays in range (no table is built)
  const EpochOrder huge((uint64_t)1 << 40, 1);
  for (uint64_t p = 0; p < 100; p++) REQUIRE(huge.at(p) < ((uint64_t)1 << 40));
}

TEST_CASE("each epoch visits every window once, ranks disjoint, epochs continuing seamlessly", "[loader]") {
  TempDir dir("loader_cover");
  const int T = 8;
  const auto files = write_stream(dir, "train", {300, 403, 300});  // 1003 tokens: 125 windows of 8 (+1)
  TokenDataset d(files, T, 1234);
  REQUIRE(d.num_tokens() == 1003);
  REQUIRE(d.windows_per_epoch() == 125);
  for (int world : {1, 2, 3}) {
    for (int B : {1, 4}) {
      INFO("world " << world << " B " << B);
      std::vector<std::vector<int>> seen(2, std::vector<int>(125, 0));  // epoch -> window -> visits
      std::vector<std::vector<int32_t>> order(2);
      Tensor x, y;
      const uint64_t steps = (2 * 125 + world * B - 1) / (world * B);
      for (uint64_t index = 0; index < steps; index++) {
        for (int rank = 0; rank < world; rank++) {
          d.batch(index, B, x, y, rank, world);
          REQUIRE(x.shape() == Shape{B, T});
          for (int b = 0; b < B; b++) {
            const uint64_t p = (index * world + rank) * B + b;  // the documented global position
            const int32_t* xb = x.data<int32_t>() + b * T;
            const int32_t* yb = y.data<int32_t>() + b * T;
            REQUIRE(xb[0] % T == 0);  // windows start at multiples of T: never overlapping
            for (int t = 0; t < T; t++) {
              REQUIRE(xb[t] == xb[0] + t);
              REQUIRE(yb[t] == xb[0] + t + 1);
            }
            if (p < 250) {
              seen[p / 125][xb[0] / T]++;
              order[p / 125].push_back(xb[0]);
            }
          }
        }
      }
      for (int e = 0; e < 2; e++)
        for (int w = 0; w < 125; w++) REQUIRE(seen[e][w] == 1);
      CHECK(order[0] != order[1]);
    }
  }
  CHECK(d.position(0, 4).epoch == 0);
  CHECK(d.position(31, 4).offset == 124);  // the last window of epoch 0 ...
  CHECK(d.position(32, 4).epoch == 1);     // ... and batch 32 starts at position 128 = epoch 1, offset 3
  CHECK(d.position(32, 4).offset == 3);
  CHECK(d.position(10, 4, 3).offset == 120);  // 10 steps of 3 ranks x 4
  CHECK(d.position(11, 4, 3).epoch == 1);
}

TEST_CASE("batch k is a pure function of (seed, data, k, rank, world), safe from several threads", "[loader]") {
  TempDir dir("loader_pure");
  const auto files = write_stream(dir, "train", {5000});
  TokenDataset d(files, 16, 7);
  Tensor x1, y1, x2, y2;
  d.batch(40, 4, x1, y1, 1, 2);
  d.batch(3, 4, x2, y2, 0, 2);  // another batch in between changes nothing
  d.batch(40, 4, x2, y2, 1, 2);
  CHECK(values(x1) == values(x2));
  CHECK(values(y1) == values(y2));
  TokenDataset reopened(files, 16, 7);  // a resumed run, in a new process
  reopened.batch(40, 4, x2, y2, 1, 2);
  CHECK(values(x1) == values(x2));
  TokenDataset other_seed(files, 16, 8);
  other_seed.batch(40, 4, x2, y2, 1, 2);
  CHECK(row_starts(x1) != row_starts(x2));
  d.batch(40, 4, x2, y2, 0, 2);  // another rank, other windows
  CHECK(row_starts(x1) != row_starts(x2));

  std::vector<std::vector<int32_t>> serial(64), threaded(64);
  for (int i = 0; i < 64; i++) {
    Tensor x, y;
    d.batch((uint64_t)i, 2, x, y);
    serial[i] = values(x);
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; t++)
    threads.emplace_back([&, t] {
      for (int i = t; i < 64; i += 2) {
        Tensor x, y;
        d.batch((uint64_t)i, 2, x, y);
        threaded[i] = values(x);
      }
    });
  for (auto& t : threads) t.join();
  CHECK(serial == threaded);
}

TEST_CASE("windows that span shard boundaries (and an empty shard) read the right tokens", "[loader]") {
  TempDir dir("loader_span");
  const auto files = write_stream(dir, "train", {7, 3, 0, 11, 1, 5, 9, 2});  // 38 tokens
  TokenDataset d(files, 4, 3);
  REQUIRE(d.windows_per_epoch() == 9);  // (38 - 1) / 4
  std::set<int32_t> starts;
  Tensor x, y;
  for (uint64_t i = 0; i < 9; i++) {
    d.batch(i, 1, x, y);
    const int32_t s = x.data<int32_t>()[0];
    starts.insert(s);
    for (int t = 0; t < 4; t++) {
      REQUIRE(x.data<int32_t>()[t] == s + t);
      REQUIRE(y.data<int32_t>()[t] == s + t + 1);
    }
  }
  CHECK(starts == std::set<int32_t>{0, 4, 8, 12, 16, 20, 24, 28, 32});  // 20..24 crosses three shards
}

TEST_CASE("with mask shards, targets are -1 exactly where the target token's mask is 0", "[loader]") {
  TempDir dir("loader_mask");
  auto mask_of = [](int p) -> uint8_t { return p % 5 != 0 && p % 7 != 3; };
  const auto files = write_stream(dir, "sft", {50, 70, 33}, mask_of);
  TokenDataset d(files, 16, 5);
  REQUIRE(d.has_mask());
  Tensor x, y;
  int ignored = 0;
  for (uint64_t i = 0; i < d.windows_per_epoch(); i++) {
    d.batch(i, 1, x, y);
    const int32_t s = x.data<int32_t>()[0];
    for (int t = 0; t < 16; t++) {
      REQUIRE(x.data<int32_t>()[t] == s + t);  // inputs are never masked
      const int target = s + t + 1;
      REQUIRE(y.data<int32_t>()[t] == (mask_of(target) ? target : -1));
      ignored += !mask_of(target);
    }
  }
  CHECK(ignored > 0);
  // a mask beside some shards only, or of another length, is a user error
  std::filesystem::remove(mask_path_for(files[1]));
  CHECK_THROWS_WITH(TokenDataset(files, 16, 5), Catch::Contains("not beside") && Catch::Contains("sft_000001.bin"));
  std::vector<char> bytes;
  append_bytes(bytes, shard_header(20240520, 3, 69));
  append_bytes(bytes, std::vector<uint8_t>(69, 1));
  write_file(mask_path_for(files[1]), bytes);
  CHECK_THROWS_WITH(TokenDataset(files, 16, 5),
                    Catch::Contains("sft_000001.mask.bin") && Catch::Contains("69 entries"));
}

TEST_CASE("ShardWriter output feeds TokenDataset, and glob sorts and skips masks and .tmp", "[loader]") {
  TempDir dir("loader_glob");
  ShardWriter w(dir.path.string(), "train", {.vocab_size = 1000, .shard_tokens = 40, .with_mask = true});
  for (int i = 0; i < 10; i++) w.add(iota_tokens(i * 15, 15), std::vector<uint8_t>(15, (uint8_t)(i % 2)));
  w.finish();
  ShardWriter(dir.path.string(), "val", {.vocab_size = 1000}).add(iota_tokens(0, 50));  // unfinished: no val shard
  write_file(dir / "train_000099.bin.tmp", {});
  const auto files = TokenDataset::glob(dir / "train_*.bin");
  CHECK(files == w.files());  // 2 documents (30 tokens) per shard, in name order
  CHECK(files.size() == 5);
  CHECK_THROWS_WITH(TokenDataset::glob(dir / "val_*.bin"), Catch::Contains("no token shards match"));
  CHECK_THROWS_WITH(TokenDataset::glob(dir / "nowhere/train_*.bin"), Catch::Contains("no directory"));
  TokenDataset d(files, 8, 1);
  CHECK(d.num_tokens() == 150);
  CHECK(d.has_mask());
  Tensor x, y;
  d.batch(0, 18, x, y);  // the whole epoch: 18 windows
  for (int b = 0; b < 18; b++)
    for (int t = 0; t < 8; t++) {
      const int32_t target = x.data<int32_t>()[b * 8 + t] + 1;
      REQUIRE(y.data<int32_t>()[b * 8 + t] == ((target / 15) % 2 ? target : -1));
    }
}

TEST_CASE("too little data, and ids beyond the model's vocabulary, are user errors", "[loader]") {
  TempDir dir("loader_errors");
  const auto files = write_stream(dir, "tiny", {5, 3});
  CHECK_THROWS_WITH(TokenDataset(files, 8, 1), Catch::Contains("8 tokens") && Catch::Contains("needs 9") &&
                                                  Catch::Contains("tiny_000000.bin"));
  TokenDataset one(files, 7, 1);  // exactly T+1 tokens: one window
  CHECK(one.windows_per_epoch() == 1);
  CHECK_THROWS_AS(TokenDataset({}, 8, 1), UserError);
  TokenDataset d(write_stream(dir, "big", {100, 100}), 10, 1);
  Tensor x, y;
  d.set_vocab_size(200);
  CHECK_NOTHROW(d.batch(0, 19, x, y));
  d.set_vocab_size(181);  // only window 18, tokens 180..190, holds ids >= 181; the first is 181
  CHECK_THROWS_WITH(d.batch(0, 19, x, y), Catch::Contains("token id 181 at token 81 of shard") &&
                                               Catch::Contains("big_000001.bin") &&
                                               Catch::Contains("vocabulary of 181"));
}

TEST_CASE("opening and batching a large shard maps it without reading it", "[loader]") {
  TempDir dir("loader_mmap");
  const std::string path = dir / "big_000000.bin";
  const int64_t count = (int64_t)1 << 29;  // 1 GiB of uint16 tokens, a sparse file (all zeros)
  std::vector<char> header;
  append_bytes(header, shard_header(20240520, 1, (int32_t)count));
  write_file(path, header);
  std::filesystem::resize_file(path, kShardHeaderBytes + (uint64_t)count * 2);
  const size_t bytes = kShardHeaderBytes + (size_t)count * 2, pages = bytes / 4096;
  // pages of the file in the page cache (mincore of a mapping of ours sees every reader's pages)
  MappedFile probe(path);
  auto resident = [&] {
    std::vector<unsigned char> in(pages + 1);
    REQUIRE(mincore(const_cast<uint8_t*>(probe.data()), bytes, in.data()) == 0);
    return std::count_if(in.begin(), in.end(), [](unsigned char c) { return c & 1; });
  };
  // first check that this filesystem lets us see reads: touch the last 4096 pages ourselves
  const auto fresh = resident();
  volatile uint8_t sink = 0;
  for (size_t p = pages - 4096; p < pages; p++) sink = sink + probe.data()[p * 4096];
  const auto before = resident();
  if (before - fresh < 4096) {
    WARN("skipped: page-cache residency is not observable for sparse files under " << dir.path);
    return;
  }
  TokenDataset d({path}, 1024, 1);
  Tensor x, y;
  for (uint64_t i = 0; i < 4; i++) d.batch(i, 8, x, y);
  const auto read = resident() - before;
  CHECK(d.windows_per_epoch() == (uint64_t)(count - 1) / 1024);
  // 32 windows of 2 KiB touch at most 64 pages; without MADV_RANDOM read-ahead makes it ~15000,
  // and reading the payload at open would make it all 262145
  CHECK(read < 1000);
}

TEST_CASE("preference and prompt datasets: records, per-epoch shuffles disjoint across ranks", "[loader]") {
  TempDir dir("loader_records");
  const int n = 10;
  RecordShardWriter w(dir / "prefs.bin", RecordShardKind::preference, 50257);
  for (int i = 0; i < n; i++) w.add_preference(iota_tokens(i, 3), iota_tokens(100 + i, i % 4), iota_tokens(200 + i, 2));
  w.finish();
  PreferenceDataset prefs(dir / "prefs.bin");
  REQUIRE(prefs.size() == n);
  const PreferencePair p = prefs.get(7);
  CHECK(p.prompt == iota_tokens(7, 3));
  CHECK(p.chosen == iota_tokens(107, 3));
  CHECK(p.rejected == iota_tokens(207, 2));
  CHECK(prefs.get(4).chosen.empty());
  for (int world : {1, 2, 3}) {
    const int B = 3;
    std::map<uint64_t, std::vector<int64_t>> by_epoch;
    const uint64_t steps = (uint64_t)(2 * n + world * B - 1) / (uint64_t)(world * B);
    for (uint64_t index = 0; index < steps; index++)
      for (int rank = 0; rank < world; rank++) {
        const auto ids = prefs.batch_indices(index, B, 99, rank, world);
        REQUIRE(ids.size() == (size_t)B);
        for (int b = 0; b < B; b++) {
          const uint64_t pos = (index * world + rank) * B + b;
          if (pos < 2 * (uint64_t)n) by_epoch[pos / n].push_back(ids[b]);
        }
      }
    for (auto& [epoch, ids] : by_epoch) {
      std::vector<int64_t> sorted = ids;
      std::sort(sorted.begin(), sorted.end());
      for (int i = 0; i < n; i++) REQUIRE(sorted[i] == i);  // each record once per epoch
    }
    CHECK(by_epoch[0] != by_epoch[1]);
  }
  CHECK(prefs.batch_indices(5, 4, 99, 1, 2) == prefs.batch_indices(5, 4, 99, 1, 2));
  CHECK(prefs.batch_indices(0, 10, 99) != prefs.batch_indices(0, 10, 100));
  CHECK(prefs.position(3, 4).epoch == 1);
  CHECK(prefs.position(3, 4).offset == 2);

  RecordShardWriter pw(dir / "rl.bin", RecordShardKind::prompt, 300);
  pw.add_prompt(std::vector<int32_t>{1, 2}, "4");
  pw.add_prompt(std::vector<int32_t>{3}, "x = \"7\"");
  pw.finish();
  PromptDataset prompts(dir / "rl.bin");
  CHECK(prompts.size() == 2);
  CHECK(prompts.get(1).prompt == std::vector<int32_t>{3});
  CHECK(prompts.get(1).answer == "x = \"7\"");
  CHECK(prompts.batch_indices(0, 2, 1).size() == 2);
  // the wrong kind, a missing or short sidecar, and an empty shard are user errors
  CHECK_THROWS_WITH(PreferenceDataset(dir / "rl.bin"), Catch::Contains("1 fields per record"));
  CHECK_THROWS_WITH(PromptDataset(dir / "prefs.bin"), Catch::Contains("3 fields per record"));
  std::ofstream(dir / "rl.answers.jsonl") << "{\"answer\": \"4\"}\n";
  CHECK_THROWS_WITH(PromptDataset(dir / "rl.bin"), Catch::Contains("1 answers") && Catch::Contains("2 prompts"));
  std::ofstream(dir / "rl.answers.jsonl") << "{\"answer\": \"4\"}\n{\"text\": 1}\n";
  CHECK_THROWS_WITH(PromptDataset(dir / "rl.bin"), Catch::Contains("rl.answers.jsonl' line 2"));
  std::filesystem::remove(dir / "rl.answers.jsonl");
  CHECK_THROWS_WITH(PromptDataset(dir / "rl.bin"), Catch::Contains("answers") && Catch::Contains("missing"));
  RecordShardWriter(dir / "none.bin", RecordShardKind::preference, 300).finish();
  CHECK_THROWS_WITH(PreferenceDataset(dir / "none.bin"), Catch::Contains("holds no records"));
}
