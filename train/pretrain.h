// train/pretrain.h: the pretraining objective (next-token cross-entropy on a text corpus)
// and the `gptcu pretrain` job: dataset + model + trainer.
#pragma once
#include "data/text_dataset.h"
#include "model/gpt.h"
#include "train/trainer.h"

namespace gptcu {

class PretrainObjective : public Objective {
 public:
  PretrainObjective(GPT& model, const TextDataset& data, int batch_size, uint64_t seed)
      : model_(model), data_(data), B_(batch_size), T_(model.config().block_size), seed_(seed) {}
  Tensor train_loss(uint64_t index, int64_t* tokens) override;
  double eval_loss(uint64_t index) override;

 private:
  GPT& model_;
  const TextDataset& data_;
  int B_, T_;
  uint64_t seed_;
};

// The model shape of a config; model.vocab_size 0 means the tokenizer's vocab_size.
GPTConfig gpt_config(const ModelConfig& m, int tokenizer_vocab_size);

// Loads the data, builds and initialises the model (or resumes), trains. Prints the
// resolved config first.
TrainResult run_pretrain(const Config& config, const TrainOptions& options);

}  // namespace gptcu
