// data/text_dataset.h: where pretraining batches come from. TokenBatches is the interface the
// pretraining objective reads; TextDataset implements it for a plain-text file tokenized in
// memory (data/shard_corpus.h does it for the token shards of `gptcu data prepare`).
//
// The whole file is tokenized; the first (1 - val_fraction) of the tokens is the training
// split, the rest validation (deterministic, as nanoGPT's prepare.py does). A batch is B random
// windows of T+1 tokens: inputs x = window[0:T], targets y = window[1:T+1]. The windows of
// batch number k are a pure function of (seed, split, k), so "where we are in the data" is
// just k: a resumed run sees exactly the batches it would have seen.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "data/bpe_tokenizer.h"

namespace gptcu {

enum class Split { train, val };

// (B, T) input/target batches of a token corpus. batch() fills x (B, T) and y (B, T) i32 with
// batch number `index` of split s, a pure function of (seed, s, index); y < 0 marks targets
// the loss ignores. x, y are (re)allocated when undefined or of another shape. With data
// parallelism, rank r of `world` gets rows [r*B, (r+1)*B) of batch `index` of size world*B.
class TokenBatches {
 public:
  virtual ~TokenBatches() = default;
  virtual void batch(Split s, uint64_t seed, uint64_t index, int B, int T, Tensor& x, Tensor& y, int rank = 0,
                     int world = 1) const = 0;
  virtual int64_t num_tokens(Split s) const = 0;
  virtual const std::string& name() const = 0;
  // Where training batch `index` of B sequences starts, in words (for logs and checkpoints).
  virtual std::string position(uint64_t index, int B) const = 0;
};

class TextDataset : public TokenBatches {
 public:
  // UserError: missing or unreadable file, empty file, a split too short for one window.
  TextDataset(const std::string& path, const BpeTokenizer& tokenizer, double val_fraction, int block_size);
  // From tokens already in memory (tests).
  TextDataset(std::vector<int32_t> tokens, double val_fraction, int block_size, const std::string& name);

  int64_t num_tokens(Split s) const override { return (int64_t)(s == Split::train ? train_ : val_).size(); }
  const std::string& name() const override { return name_; }
  std::string position(uint64_t index, int B) const override;
  void batch(Split s, uint64_t seed, uint64_t index, int B, int T, Tensor& x, Tensor& y, int rank = 0,
             int world = 1) const override;

 private:
  void split(std::vector<int32_t> tokens, double val_fraction, int block_size);
  std::string name_;
  std::vector<int32_t> train_, val_;
};

}  // namespace gptcu
