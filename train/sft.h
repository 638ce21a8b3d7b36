// train/sft.h: supervised fine-tuning, `gptcu sft --config configs/....yaml`.
//
// Starts from a pretrained checkpoint (model.init_from) and trains on dialogue shards made by
// `gptcu data prepare --kind dialogue`: windows of packed dialogues (each begins with
// <|endoftext|>), cross-entropy on the assistant tokens only (their loss mask; every other
// target is ignored). Each evaluation logs the validation loss and the model's replies to the
// first few validation prompts (greedy, up to <|end|>).
#pragma once
#include <string>
#include <vector>

#include "train/pretrain.h"

namespace gptcu {

class SftObjective : public PretrainObjective {
 public:
  // prompts: chat prompts (ending with <|assistant|>) whose greedy replies are logged at evaluation
  SftObjective(GPT& model, const TokenBatches& data, int batch_size, uint64_t seed, const BpeTokenizer& tokenizer,
               std::vector<std::vector<int32_t>> prompts, int max_new_tokens);
  std::vector<Metric> evaluate(int steps, std::ostream& log) override;

 private:
  const BpeTokenizer& tok_;
  std::vector<std::vector<int32_t>> prompts_;
  int max_new_tokens_;
};

// The first `n` chat prompts of the validation shards of a prepared dialogue directory: each
// dialogue's tokens up to and including its first <|assistant|>.
std::vector<std::vector<int32_t>> validation_prompts(const std::string& dir, const BpeTokenizer& tok, int n);

TrainResult run_sft(const Config& config, const TrainOptions& options);

}  // namespace gptcu
