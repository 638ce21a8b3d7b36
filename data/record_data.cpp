// data/record_data.cpp
#include "data/record_data.h"

#include <fstream>
#include <nlohmann/json.hpp>

#include "core/check.h"

namespace gptcu {

namespace {

RecordShard open_records(const std::string& path, int fields, const char* kind) {
  RecordShard shard(path);
  GPTCU_USER_CHECK(shard.fields() == fields, "record shard '", path, "' has ", shard.fields(),
                   " fields per record, but ", kind, " records have ", fields);
  GPTCU_USER_CHECK(shard.size() > 0, "record shard '", path, "' holds no records");
  return shard;
}

}  // namespace

PreferenceDataset::PreferenceDataset(const std::string& path)
    : shard_(open_records(path, kPreferenceFields, "preference (prompt, chosen, rejected)")) {}

PreferencePair PreferenceDataset::get(int64_t i) const {
  return {shard_.get(i, 0), shard_.get(i, 1), shard_.get(i, 2)};
}

std::vector<int64_t> PreferenceDataset::batch_indices(uint64_t index, int B, uint64_t seed, int rank,
                                                      int world) const {
  return EpochOrder((uint64_t)size(), seed).batch(index, B, rank, world);
}

DataPosition PreferenceDataset::position(uint64_t index, int B, int world) const {
  return EpochOrder((uint64_t)size(), 0).position(index, B, world);
}

PromptDataset::PromptDataset(const std::string& path) : shard_(open_records(path, kPromptFields, "prompt")) {
  const std::string sidecar = answers_path_for(path);
  std::ifstream in(sidecar);
  GPTCU_USER_CHECK(in.good(), "the answers of prompt shard '", path, "' are missing: cannot open '", sidecar, "'");
  answers_.reserve((size_t)size());
  std::string line;
  for (int64_t lineno = 1; std::getline(in, line); lineno++) {
    const auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    GPTCU_USER_CHECK(j.is_object() && j.contains("answer") && j["answer"].is_string(), "'", sidecar, "' line ",
                     lineno, ": expected {\"answer\": \"...\"}");
    answers_.push_back(j["answer"].get<std::string>());
  }
  GPTCU_USER_CHECK((int64_t)answers_.size() == size(), "'", sidecar, "' has ", answers_.size(),
                   " answers but its shard '", path, "' has ", size(), " prompts");
}

PromptRecord PromptDataset::get(int64_t i) const { return {shard_.get(i, 0), answers_[(size_t)i]}; }

std::vector<int64_t> PromptDataset::batch_indices(uint64_t index, int B, uint64_t seed, int rank, int world) const {
  return EpochOrder((uint64_t)size(), seed).batch(index, B, rank, world);
}

DataPosition PromptDataset::position(uint64_t index, int B, int world) const {
  return EpochOrder((uint64_t)size(), 0).position(index, B, world);
}

}  // namespace gptcu
