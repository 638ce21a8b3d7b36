// data/loader.cpp
#include "data/loader.h"

#include <fnmatch.h>

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "core/check.h"
#include "core/rng.h"

namespace gptcu {

namespace {
constexpr uint64_t kDataOrderStream = 0xDA7A0;  // the Rng stream of data order (core/rng.h)
}

// ---------------------------------------------------------------- EpochOrder

EpochOrder::EpochOrder(uint64_t n, uint64_t seed) : n_(n), key_(Rng(seed, kDataOrderStream).key()) {
  GPTCU_CHECK(n >= 1, "an epoch of 0 items");
  while (half_bits_ < 32 && ((uint64_t)1 << (2 * half_bits_)) < n) half_bits_++;
}

// A balanced Feistel network on [0, 4^k) is a bijection whatever its round function; with
// four rounds of a pseudo-random function it is a pseudo-random permutation (Luby-Rackoff).
// Cycle walking (re-encrypt while the result is >= n) restricts it to a bijection of [0, n);
// as 4^k < 4n, a walk takes fewer than 4 steps on average.
uint64_t EpochOrder::permute(uint64_t epoch, uint64_t i) const {
  const int k = half_bits_;
  const uint64_t mask = k == 32 ? 0xFFFFFFFFull : ((uint64_t)1 << k) - 1;
  uint64_t x = i;
  do {
    uint64_t left = x >> k, right = x & mask;
    for (uint64_t round = 0; round < 4; round++) {
      const Philox4 r = philox4x32(key_, right, (epoch << 2) | round);
      const uint64_t f = (((uint64_t)r.x[1] << 32) | r.x[0]) & mask;
      const uint64_t next = left ^ f;
      left = right;
      right = next;
    }
    x = (left << k) | right;
  } while (x >= n_);
  return x;
}

uint64_t EpochOrder::at(uint64_t position) const { return permute(epoch(position), offset(position)); }

std::vector<int64_t> EpochOrder::batch(uint64_t index, int B, int rank, int world) const {
  const uint64_t p0 = first_position(index, B, rank, world);
  std::vector<int64_t> items((size_t)B);
  for (int b = 0; b < B; b++) items[(size_t)b] = (int64_t)at(p0 + (uint64_t)b);
  return items;
}

DataPosition EpochOrder::position(uint64_t index, int B, int world) const {
  const uint64_t p = first_position(index, B, 0, world);
  return {epoch(p), offset(p)};
}

uint64_t first_position(uint64_t index, int B, int rank, int world) {
  GPTCU_CHECK(B > 0 && world >= 1 && rank >= 0 && rank < world, "B ", B, " rank ", rank, " world ", world);
  return (index * (uint64_t)world + (uint64_t)rank) * (uint64_t)B;
}

// ---------------------------------------------------------------- TokenDataset

std::vector<std::string> TokenDataset::glob(const std::string& pattern) {
  namespace fs = std::filesystem;
  const fs::path p(pattern);
  const fs::path dir = p.parent_path().empty() ? fs::path(".") : p.parent_path();
  const std::string name = p.filename().string();
  std::error_code ec;
  GPTCU_USER_CHECK(fs::is_directory(dir, ec), "no directory '", dir.string(), "' for the shards '", pattern, "'");
  std::vector<std::string> out;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string f = entry.path().filename().string();
    if (f.ends_with(".mask.bin") || f.ends_with(".tmp")) continue;  // masks ride along; .tmp is unfinished
    if (::fnmatch(name.c_str(), f.c_str(), FNM_PERIOD) == 0 && entry.is_regular_file(ec))
      out.push_back(entry.path().string());
  }
  GPTCU_USER_CHECK(!ec, "cannot list '", dir.string(), "': ", ec.message());
  GPTCU_USER_CHECK(!out.empty(), "no token shards match '", pattern, "'");
  std::sort(out.begin(), out.end());
  return out;
}

TokenDataset::TokenDataset(std::vector<std::string> files, int T, uint64_t seed)
    : files_(std::move(files)), T_(T), seed_(seed) {
  GPTCU_USER_CHECK(!files_.empty(), "token dataset: no shard files given");
  GPTCU_USER_CHECK(T >= 1, "token dataset: block size ", T, " must be at least 1");
  shards_.reserve(files_.size());
  starts_.push_back(0);
  size_t with_mask = 0;
  for (const std::string& f : files_) {
    shards_.emplace_back(f);
    shards_.back().file().advise_random();  // windows are read in random order
    starts_.push_back(starts_.back() + shards_.back().size());
    with_mask += std::filesystem::exists(mask_path_for(f));
  }
  if (with_mask == files_.size()) {
    masks_.reserve(files_.size());
    for (const TokenShard& s : shards_) {
      masks_.emplace_back(mask_path_for(s.path()));
      masks_.back().file().advise_random();
      GPTCU_USER_CHECK(masks_.back().size() == s.size(), "mask shard '", masks_.back().path(), "' has ",
                       masks_.back().size(), " entries but its token shard '", s.path(), "' has ", s.size(), " tokens");
    }
  } else if (with_mask > 0) {
    for (const std::string& f : files_)
      GPTCU_USER_CHECK(std::filesystem::exists(mask_path_for(f)), "mask shards sit beside ", with_mask, " of the ",
                       files_.size(), " token shards, but not beside '", f, "' (expected '", mask_path_for(f), "')");
  }
  const std::string what = files_.size() == 1 ? "'" + files_[0] + "'"
                                              : detail::concat(files_.size(), " shards '", files_.front(), "' ... '",
                                                               files_.back(), "'");
  GPTCU_USER_CHECK(num_tokens() > T, "token data ", what, " holds ", num_tokens(),
                   " tokens, but a window of block size ", T, " needs ", T + 1,
                   " (use more data or a smaller model.block_size)");
  order_ = EpochOrder((uint64_t)(num_tokens() - 1) / (uint64_t)T, seed);
}

size_t TokenDataset::shard_of(int64_t token) const {
  return (size_t)(std::upper_bound(starts_.begin(), starts_.end(), token) - starts_.begin()) - 1;
}

void TokenDataset::copy_tokens(int64_t begin, int64_t n, int32_t* out) const {
  for (size_t s = shard_of(begin); n > 0; s++) {  // a window may span several shards
    const int64_t k = std::min(n, starts_[s + 1] - begin);
    shards_[s].copy(begin - starts_[s], k, out);
    begin += k, out += k, n -= k;
  }
}

void TokenDataset::copy_mask(int64_t begin, int64_t n, uint8_t* out) const {
  for (size_t s = shard_of(begin); n > 0; s++) {
    const int64_t k = std::min(n, starts_[s + 1] - begin);
    masks_[s].copy(begin - starts_[s], k, out);
    begin += k, out += k, n -= k;
  }
}

void TokenDataset::check_ids(const int32_t* ids, int64_t n, int64_t begin) const {
  for (int64_t i = 0; i < n; i++) {
    if (ids[i] < vocab_size_) continue;
    const size_t s = shard_of(begin + i);
    user_error("token id ", ids[i], " at token ", begin + i - starts_[s], " of shard '", shards_[s].path(),
               "' is outside the model's vocabulary of ", vocab_size_, " (a shard made with another tokenizer?)");
  }
}

void TokenDataset::batch(uint64_t index, int B, Tensor& x, Tensor& y, int rank, int world) const {
  const int T = T_;
  if (!x.defined() || x.shape() != Shape{B, T} || x.dtype() != DType::i32) x = Tensor::empty({B, T}, DType::i32);
  if (!y.defined() || y.shape() != Shape{B, T} || y.dtype() != DType::i32) y = Tensor::empty({B, T}, DType::i32);
  int32_t* px = x.data<int32_t>();
  int32_t* py = y.data<int32_t>();
  const uint64_t p0 = first_position(index, B, rank, world);
  std::vector<int32_t> window((size_t)T + 1);
  std::vector<uint8_t> mask(has_mask() ? (size_t)T : 0);
  for (int b = 0; b < B; b++) {
    const int64_t begin = (int64_t)order_.at(p0 + (uint64_t)b) * T;  // window w = tokens [w*T, w*T + T + 1)
    copy_tokens(begin, T + 1, window.data());
    if (vocab_size_ > 0) check_ids(window.data(), T + 1, begin);
    int32_t* xb = px + (size_t)b * T;
    int32_t* yb = py + (size_t)b * T;
    std::memcpy(xb, window.data(), (size_t)T * sizeof(int32_t));
    std::memcpy(yb, window.data() + 1, (size_t)T * sizeof(int32_t));
    if (has_mask()) {
      copy_mask(begin + 1, T, mask.data());  // the mask of each target token
      for (int t = 0; t < T; t++)
        if (!mask[(size_t)t]) yb[t] = -1;
    }
  }
}

DataPosition TokenDataset::position(uint64_t index, int B, int world) const { return order_.position(index, B, world); }

}  // namespace gptcu
