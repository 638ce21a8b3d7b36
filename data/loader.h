// data/loader.h: the data order shared by every loader, and TokenDataset, the loader that
// pretraining and SFT read from token shards (data/shard.h).
//
// The order: epoch e visits n items in a seeded pseudo-random permutation; epochs follow one
// another, so global position p is item perm_e(p mod n) of epoch e = p / n. Micro-batch `index`
// of rank r in a world of W ranks takes positions (index*W + r)*B ... + B: the ranks of one
// step are disjoint, together they cover every epoch once, and batch `index` is a pure
// function of (seed, data, index, rank, world), so resuming a run needs only the counter.
//
//   TokenDataset train(TokenDataset::glob("data/tok/train_*.bin"), /*T=*/1024, /*seed=*/1337);
//   Tensor x, y;
//   train.batch(step * accum + micro, /*B=*/8, x, y, rank, world);  // (B, T) i32 each
//
// A window of T+1 consecutive tokens of the concatenated shards gives x = window[0:T] and
// y = window[1:T+1]; windows do not overlap (window w starts at token w*T) and may span shard
// boundaries. Where mask shards sit beside the token shards (NAME.mask.bin), y is -1 wherever
// the target token's mask is 0 (the loss ignores targets < 0).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "data/shard.h"

namespace gptcu {

// Where a micro-batch starts in the data order (for logs and checkpoints).
struct DataPosition {
  uint64_t epoch = 0;
  uint64_t offset = 0;  // windows (or records) already taken in that epoch, all ranks together
};

// The first global position of micro-batch `index` of `rank`; it takes (index*world + rank)*B ... + B.
uint64_t first_position(uint64_t index, int B, int rank, int world);

// A seeded permutation of [0, n) per epoch, epochs concatenated. Stateless (a 4-round Feistel
// network keyed by Philox with cycle walking), so at(p) costs O(1) with no table, and any
// thread may call it.
class EpochOrder {
 public:
  EpochOrder() = default;  // one item
  EpochOrder(uint64_t n, uint64_t seed);
  uint64_t size() const { return n_; }
  uint64_t epoch(uint64_t position) const { return position / n_; }
  uint64_t offset(uint64_t position) const { return position % n_; }
  // The item at global position p: perm_{p / n}(p mod n).
  uint64_t at(uint64_t position) const;
  // The items of micro-batch `index` of `rank`, and where micro-batch `index` starts.
  std::vector<int64_t> batch(uint64_t index, int B, int rank = 0, int world = 1) const;
  DataPosition position(uint64_t index, int B, int world = 1) const;

 private:
  uint64_t permute(uint64_t epoch, uint64_t i) const;
  uint64_t n_ = 1;
  uint64_t key_ = 0;
  int half_bits_ = 1;  // the Feistel domain is [0, 4^half_bits) >= n
};

class TokenDataset {
 public:
  // Token shards in stream order; masks are used when NAME.mask.bin exists beside every shard
  // (UserError when beside some only, or of another length). UserError: no files, an unreadable
  // or invalid shard, fewer than T+1 tokens in all.
  TokenDataset(std::vector<std::string> files, int T, uint64_t seed);

  // The token shards matching a pattern whose file name may hold * and ? ("DIR/train_*.bin"),
  // sorted by name; NAME.mask.bin and *.tmp files are never matched. UserError when none match.
  static std::vector<std::string> glob(const std::string& pattern);

  // Fills x and y (B, T) i32 with micro-batch `index` of `rank` (allocating them when undefined
  // or of another shape). Pure function of (seed, data, index, B, rank, world); thread-safe.
  void batch(uint64_t index, int B, Tensor& x, Tensor& y, int rank = 0, int world = 1) const;
  // The first window of micro-batch `index` (rank 0): how far the run has read.
  DataPosition position(uint64_t index, int B, int world = 1) const;

  // 0 turns the check off; otherwise batch() throws UserError on a token id >= vocab_size
  // (naming the shard and position), which would otherwise index past the embedding.
  void set_vocab_size(int64_t vocab_size) { vocab_size_ = vocab_size; }

  int64_t num_tokens() const { return starts_.back(); }
  uint64_t windows_per_epoch() const { return order_.size(); }
  int block_size() const { return T_; }
  bool has_mask() const { return !masks_.empty(); }
  const std::vector<std::string>& files() const { return files_; }
  uint64_t seed() const { return seed_; }

 private:
  void copy_tokens(int64_t begin, int64_t n, int32_t* out) const;
  void copy_mask(int64_t begin, int64_t n, uint8_t* out) const;
  void check_ids(const int32_t* ids, int64_t n, int64_t begin) const;
  size_t shard_of(int64_t token) const;
  std::vector<std::string> files_;
  std::vector<TokenShard> shards_;
  std::vector<MaskShard> masks_;  // empty, or one per shard
  std::vector<int64_t> starts_;   // first stream token of each shard; back() = total
  int T_;
  uint64_t seed_;
  EpochOrder order_;
  int64_t vocab_size_ = 0;
};

}  // namespace gptcu
