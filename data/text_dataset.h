// data/text_dataset.h: a plain-text corpus as one token stream, split and batched.
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

namespace gptcu {

enum class Split { train, val };

class TextDataset {
 public:
  // UserError: missing or unreadable file, empty file, a split too short for one window.
  TextDataset(const std::string& path, double val_fraction, int block_size);
  // From tokens already in memory (tests).
  TextDataset(std::vector<int32_t> tokens, double val_fraction, int block_size, const std::string& name);

  int64_t num_tokens(Split s) const { return (int64_t)(s == Split::train ? train_ : val_).size(); }
  const std::string& name() const { return name_; }

  // Fills x (B, T) and y (B, T) i32 with batch number `index` of split s (allocating them when
  // undefined or of another shape; an objective passes fresh ones while autograd holds the old).
  void batch(Split s, uint64_t seed, uint64_t index, int B, int T, Tensor& x, Tensor& y) const;

 private:
  void split(std::vector<int32_t> tokens, double val_fraction, int block_size);
  std::string name_;
  std::vector<int32_t> train_, val_;
};

}  // namespace gptcu
