// data/shard_corpus.h: the output directory of `gptcu data prepare` (data/prepare.h) read back:
// its tokenizer, and its train/val token shards as pretraining / SFT batches (TokenBatches).
//
//   if (is_prepared_dir(path)) {
//     BpeTokenizer tok = prepared_tokenizer(path);   // PATH/tokenizer.tiktoken, chat specials included
//     ShardCorpus data(path, /*T=*/1024, /*seed=*/1337);
//     data.batch(Split::train, 1337, k, B, T, x, y); // data/loader.h's order; y = -1 off the mask
//   }
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "data/bpe_tokenizer.h"
#include "data/loader.h"
#include "data/text_dataset.h"

namespace gptcu {

// A directory holding meta.json written by `gptcu data prepare`.
bool is_prepared_dir(const std::string& path);
BpeTokenizer prepared_tokenizer(const std::string& dir);

class ShardCorpus : public TokenBatches {
 public:
  // UserError: not a prepared directory, a kind other than text or dialogue, no train or no
  // validation shards, shards too short for one window of T+1 tokens.
  ShardCorpus(const std::string& dir, int T, uint64_t seed);
  void batch(Split s, uint64_t seed, uint64_t index, int B, int T, Tensor& x, Tensor& y, int rank = 0,
             int world = 1) const override;
  int64_t num_tokens(Split s) const override;
  const std::string& name() const override { return name_; }
  std::string position(uint64_t index, int B) const override;
  const std::string& kind() const { return kind_; }
  const TokenDataset& split(Split s) const { return s == Split::train ? *train_ : *val_; }

 private:
  std::string name_, kind_;
  std::unique_ptr<TokenDataset> train_, val_;
};

}  // namespace gptcu
