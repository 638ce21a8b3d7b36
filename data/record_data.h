// data/record_data.h: datasets over record shards (data/shard.h, version 4): preference pairs
// for the reward model and DPO, and prompts (with reference answers) for PPO and GRPO.
//
//   PreferenceDataset prefs("data/tok/prefs_train.bin");
//   for (int64_t id : prefs.batch_indices(step, /*B=*/4, seed, rank, world)) {
//     PreferencePair p = prefs.get(id);   // p.prompt, p.chosen, p.rejected: int32 ids
//   }
//
// Micro-batch `index` takes records in the order of data/loader.h's EpochOrder (a seeded
// permutation per epoch; rank r of W takes positions (index*W + r)*B ... + B), so it is a pure
// function of (seed, data, index, rank, world) and ranks are disjoint within an epoch.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/loader.h"
#include "data/shard.h"

namespace gptcu {

struct PreferencePair {
  std::vector<int32_t> prompt, chosen, rejected;
};

struct PromptRecord {
  std::vector<int32_t> prompt;
  std::string answer;  // the reference answer a programmatic verifier checks against ("" if none)
};

// A record shard of 3 fields per record: prompt, chosen, rejected.
class PreferenceDataset {
 public:
  explicit PreferenceDataset(const std::string& path);  // UserError: invalid, other kind, empty
  int64_t size() const { return shard_.size(); }
  int64_t num_tokens() const { return shard_.num_tokens(); }
  const std::string& path() const { return shard_.path(); }
  PreferencePair get(int64_t i) const;
  std::vector<int64_t> batch_indices(uint64_t index, int B, uint64_t seed, int rank = 0, int world = 1) const;
  DataPosition position(uint64_t index, int B, int world = 1) const;

 private:
  RecordShard shard_;
};

// A record shard of 1 field per record (the prompt) plus NAME.answers.jsonl beside it, whose
// line i is {"answer": "..."} of record i (read at open).
class PromptDataset {
 public:
  explicit PromptDataset(const std::string& path);  // UserError: as above, or a bad sidecar
  int64_t size() const { return shard_.size(); }
  const std::string& path() const { return shard_.path(); }
  PromptRecord get(int64_t i) const;
  std::vector<int64_t> batch_indices(uint64_t index, int B, uint64_t seed, int rank = 0, int world = 1) const;
  DataPosition position(uint64_t index, int B, int world = 1) const;

 private:
  RecordShard shard_;
  std::vector<std::string> answers_;
};

}  // namespace gptcu
