// data/shard_corpus.cpp
#include "data/shard_corpus.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/check.h"

namespace fs = std::filesystem;

namespace gptcu {

namespace {
nlohmann::json read_meta(const std::string& dir) {
  const fs::path p = fs::path(dir) / "meta.json";
  std::ifstream in(p);
  GPTCU_USER_CHECK(in.good(), "'", dir, "' is not a prepared data directory (no meta.json; run gptcu data prepare)");
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    user_error(p.string(), ": not valid JSON: ", e.what());
  }
}

std::vector<std::string> split_files(const nlohmann::json& meta, const std::string& dir, const char* split) {
  std::vector<std::string> files;
  if (meta.contains("splits") && meta["splits"].contains(split))
    for (const auto& f : meta["splits"][split]["files"]) files.push_back((fs::path(dir) / f.get<std::string>()).string());
  return files;
}
}  // namespace

bool is_prepared_dir(const std::string& path) {
  std::error_code ec;
  return !path.empty() && fs::is_directory(path, ec) && fs::exists(fs::path(path) / "meta.json", ec);
}

BpeTokenizer prepared_tokenizer(const std::string& dir) {
  return BpeTokenizer::load((fs::path(dir) / "tokenizer.tiktoken").string());
}

ShardCorpus::ShardCorpus(const std::string& dir, int T, uint64_t seed) : name_(dir) {
  const nlohmann::json meta = read_meta(dir);
  kind_ = meta.value("kind", "");
  GPTCU_USER_CHECK(kind_ == "text" || kind_ == "dialogue", "'", dir, "' holds ", kind_,
                   " data; pretraining and SFT read text or dialogue shards");
  const std::vector<std::string> train = split_files(meta, dir, "train"), val = split_files(meta, dir, "val");
  GPTCU_USER_CHECK(!train.empty(), "'", dir, "' has no train shards");
  GPTCU_USER_CHECK(!val.empty(), "'", dir, "' has no validation shards (prepare it with data.val_fraction > 0)");
  train_ = std::make_unique<TokenDataset>(train, T, seed);
  val_ = std::make_unique<TokenDataset>(val, T, seed);
  const int64_t vocab = meta.value("vocab_size", (int64_t)0);
  train_->set_vocab_size(vocab);
  val_->set_vocab_size(vocab);
}

void ShardCorpus::batch(Split s, uint64_t seed, uint64_t index, int B, int T, Tensor& x, Tensor& y, int rank,
                        int world) const {
  const TokenDataset& d = split(s);
  GPTCU_CHECK(seed == d.seed() && T == d.block_size(), "ShardCorpus opened with seed ", d.seed(), ", T ",
              d.block_size(), "; asked for seed ", seed, ", T ", T);
  d.batch(index, B, x, y, rank, world);
}

std::string ShardCorpus::position(uint64_t index, int B) const {
  const DataPosition p = train_->position(index, B);
  return "epoch " + std::to_string(p.epoch) + ", window " + std::to_string(p.offset) + " of " +
         std::to_string(train_->windows_per_epoch());
}

int64_t ShardCorpus::num_tokens(Split s) const { return split(s).num_tokens(); }

}  // namespace gptcu
