// data/text_dataset.cpp
#include "data/text_dataset.h"

#include "data/loader.h"  // first_position

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/rng.h"

namespace gptcu {

TextDataset::TextDataset(const std::string& path, const BpeTokenizer& tokenizer, double val_fraction, int block_size)
    : name_(path) {
  GPTCU_USER_CHECK(!std::filesystem::is_directory(path), "data path '", path, "' is a directory, not a text file");
  std::ifstream in(path, std::ios::binary);
  GPTCU_USER_CHECK(in.good(), "data file '", path, "' cannot be opened: ", std::strerror(errno));
  std::ostringstream buf;
  buf << in.rdbuf();
  const std::string text = buf.str();
  GPTCU_USER_CHECK(!text.empty(), "data file '", path, "' is empty");
  split(tokenizer.encode_parallel(text, 0), val_fraction, block_size);
}

TextDataset::TextDataset(std::vector<int32_t> tokens, double val_fraction, int block_size,
                         const std::string& name)
    : name_(name) {
  GPTCU_USER_CHECK(!tokens.empty(), "dataset '", name, "' is empty");
  split(std::move(tokens), val_fraction, block_size);
}

void TextDataset::split(std::vector<int32_t> tokens, double val_fraction, int block_size) {
  const size_t n = tokens.size();
  const size_t n_train = (size_t)((double)n * (1.0 - val_fraction));
  val_.assign(tokens.begin() + (ptrdiff_t)n_train, tokens.end());
  tokens.resize(n_train);
  train_ = std::move(tokens);
  // a window is block_size + 1 tokens (inputs and the shifted targets)
  GPTCU_USER_CHECK(train_.size() > (size_t)block_size && val_.size() > (size_t)block_size,
                   "data '", name_, "' has ", n, " tokens: ", train_.size(), " for training and ",
                   val_.size(), " for validation, but block_size ", block_size,
                   " needs more than ", block_size, " in each split (use a longer text or a smaller model.block_size)");
}

void TextDataset::batch(Split s, uint64_t seed, uint64_t index, int B, int T, Tensor& x, Tensor& y, int rank,
                        int world) const {
  const std::vector<int32_t>& src = s == Split::train ? train_ : val_;
  GPTCU_CHECK(src.size() > (size_t)T, "window of ", T, " on ", src.size(), " tokens");
  if (!x.defined() || x.shape() != Shape{B, T}) x = Tensor::empty({B, T}, DType::i32);
  if (!y.defined() || y.shape() != Shape{B, T}) y = Tensor::empty({B, T}, DType::i32);
  int32_t* px = x.data<int32_t>();
  int32_t* py = y.data<int32_t>();
  Rng rng(seed, s == Split::train ? 1 : 2);
  rng.set_counter(first_position(index, B, rank, world));  // one draw per window: rank r continues rank r-1
  for (int b = 0; b < B; b++) {
    const uint64_t start = rng.next_below(src.size() - (size_t)T);
    std::memcpy(px + (size_t)b * T, src.data() + start, (size_t)T * sizeof(int32_t));
    std::memcpy(py + (size_t)b * T, src.data() + start + 1, (size_t)T * sizeof(int32_t));
  }
}

}  // namespace gptcu

namespace gptcu {
std::string TextDataset::position(uint64_t index, int B) const {
  // Windows are drawn at random positions, so there are no epochs: just how many were drawn.
  return "random windows " + std::to_string(index * (uint64_t)B) + " drawn";
}
}  // namespace gptcu
