// test/data/test_shard_corpus.cpp: ShardCorpus, a prepared directory read back as pretraining /
// SFT batches: shapes, targets off the mask, train and val from their own shards, errors.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/check.h"
#include "data/chat_template.h"
#include "data/prepare.h"
#include "data/shard_corpus.h"
#include "test/data/shard_fixtures.h"

using namespace gptcu;
using gptcu::test::TempDir;
using gptcu::test::check_user_error;
namespace fs = std::filesystem;

namespace {

// n distinct two-turn dialogues as JSONL (messages shape).
std::string dialogues_jsonl(int n) {
  std::string s;
  for (int i = 0; i < n; i++)
    s += "{\"messages\": [{\"role\": \"user\", \"content\": \"What is " + std::to_string(i) + " plus " +
         std::to_string(i) + "?\"}, {\"role\": \"assistant\", \"content\": \"It is " + std::to_string(2 * i) +
         ".\"}]}\n";
  return s;
}

// Prepares `content` (written to DIR/NAME) into DIR/out with the byte tokenizer.
std::string prepare(const TempDir& dir, const std::string& name, const std::string& content, double val_fraction,
                    bool near_dedup = false) {
  std::ofstream(dir / name) << content;
  PrepareConfig cfg;
  cfg.inputs = {dir / name};
  cfg.dedup_near = near_dedup;
  std::ostringstream log;
  run_prepare(cfg, "byte", dir / "out", val_fraction, 64, log);
  return dir / "out";
}

}  // namespace

TEST_CASE("dialogue shards: (B, T) batches, y = -1 where the target is not the assistant's", "[shard_corpus]") {
  TempDir dir("shard_corpus_dialogue");
  const std::string out = prepare(dir, "d.jsonl", dialogues_jsonl(200), 0.2);
  const int B = 4, T = 16;
  ShardCorpus corpus(out, T, 7);
  CHECK(corpus.kind() == "dialogue");
  CHECK(corpus.name() == out);
  CHECK(corpus.split(Split::train).has_mask());

  const ChatTemplate::Ids ids = ChatTemplate(prepared_tokenizer(out)).ids();
  std::set<int32_t> targets;
  int64_t ignored = 0, total = 0;
  Tensor x, y;
  for (uint64_t k = 0; k < 20; k++) {
    corpus.batch(Split::train, 7, k, B, T, x, y);
    REQUIRE(x.shape() == Shape{B, T});
    REQUIRE(y.shape() == Shape{B, T});
    const int32_t* xs = x.data<int32_t>();
    const int32_t* ys = y.data<int32_t>();
    for (int b = 0; b < B; b++)
      for (int t = 0; t < T; t++) {
        const int32_t target = ys[b * T + t];
        total++;
        if (target < 0) {
          REQUIRE(target == -1);
          ignored++;
          continue;
        }
        targets.insert(target);
        if (t + 1 < T) REQUIRE(target == xs[b * T + t + 1]);  // y is x shifted by one
      }
  }
  // Role tags and <|endoftext|> are never targets; <|end|> (after the assistant) is.
  for (int32_t tag : {ids.eot, ids.system, ids.user, ids.assistant}) CHECK(targets.count(tag) == 0);
  CHECK(targets.count(ids.end) == 1);
  CHECK(ignored > total / 2);  // the user turns are longer than the replies
  CHECK(ignored < total);
}

TEST_CASE("text shards: every target counts; train and val are separate shards", "[shard_corpus]") {
  TempDir dir("shard_corpus_text");
  std::string text;
  for (int i = 0; i < 300; i++) text += "Paragraph number " + std::to_string(i * 7919 % 1000) + " of the corpus.\n\n";
  const std::string out = prepare(dir, "t.txt", text, 0.2);
  ShardCorpus corpus(out, 16, 3);
  CHECK(corpus.kind() == "text");
  CHECK_FALSE(corpus.split(Split::train).has_mask());

  const auto& train = corpus.split(Split::train).files();
  const auto& val = corpus.split(Split::val).files();
  REQUIRE(train.size() == 1);
  REQUIRE(val.size() == 1);
  CHECK(fs::path(train[0]).filename() == "train_000000.bin");
  CHECK(fs::path(val[0]).filename() == "val_000000.bin");
  CHECK(corpus.num_tokens(Split::train) == TokenShard(train[0]).size());
  CHECK(corpus.num_tokens(Split::val) == TokenShard(val[0]).size());
  CHECK(corpus.num_tokens(Split::val) > 0);
  CHECK(corpus.num_tokens(Split::val) < corpus.num_tokens(Split::train));

  Tensor x, y;
  corpus.batch(Split::val, 3, 0, 2, 16, x, y);
  for (int64_t i = 0; i < 32; i++) REQUIRE(y.data<int32_t>()[i] >= 0);
}

TEST_CASE("ShardCorpus refuses what it cannot train on", "[shard_corpus]") {
  TempDir dir("shard_corpus_errors");
  check_user_error([&] { ShardCorpus(dir.path.string(), 16, 1); }, "meta.json");
  CHECK_FALSE(is_prepared_dir(dir.path.string()));

  std::string prefs;
  for (int i = 0; i < 20; i++)
    prefs += "{\"prompt\": \"Q" + std::to_string(i) + "?\", \"chosen\": \"yes\", \"rejected\": \"no\"}\n";
  const std::string pref_dir = prepare(dir, "p.jsonl", prefs, 0.2);
  check_user_error([&] { ShardCorpus(pref_dir, 16, 1); }, "preference");

  const std::string no_val = prepare(dir, "d.jsonl", dialogues_jsonl(50), 0.0);
  check_user_error([&] { ShardCorpus(no_val, 16, 1); }, "no validation shards");

  const std::string small = prepare(dir, "s.txt", "One.\n\nTwo.\n\nThree.\n\nFour.\n\nFive.\n\nSix.\n", 0.5);
  check_user_error([&] { ShardCorpus(small, 64, 1); }, "token data");  // fewer than T+1 tokens in a split

  std::ofstream(fs::path(small) / "meta.json") << "{ not json";
  check_user_error([&] { ShardCorpus(small, 4, 1); }, "not valid JSON");
}
