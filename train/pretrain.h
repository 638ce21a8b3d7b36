// train/pretrain.h: the pretraining objective (next-token cross-entropy on a text corpus)
// and the `gptcu pretrain` job: dataset + model + trainer.
#pragma once
#include <memory>

#include "data/bpe_tokenizer.h"
#include "data/text_dataset.h"
#include "model/gpt.h"
#include "train/trainer.h"

namespace gptcu {

class PretrainObjective : public Objective {
 public:
  PretrainObjective(GPT& model, const TokenBatches& data, int batch_size, uint64_t seed)
      : model_(model), data_(data), B_(batch_size), T_(model.config().block_size), seed_(seed) {}
  Tensor train_loss(uint64_t index, int64_t* tokens) override;
  double eval_loss(uint64_t index) override;
  // Where global micro-batch `index` (world x B windows) starts.
  std::string data_position(uint64_t index) const override { return data_.position(index, B_ * dp_world_); }
  double loss_terms() const override { return loss_terms_; }
  bool runs_on_gpu() const override { return true; }  // (SFT inherits it: the same ops, with a mask)
  // Every micro-batch is (B, T): stage_batch copies it into fixed (B, T) buffers on the model's
  // device (train/cuda_graph.h).
  bool can_stage() const override { return true; }
  void stage_batch(uint64_t index, int64_t* tokens) override;
  Tensor staged_loss() override { return model_.loss(staged_x_, staged_y_); }

 protected:
  GPT& model() { return model_; }

 private:
  GPT& model_;
  const TokenBatches& data_;
  int B_, T_;
  uint64_t seed_;
  double loss_terms_ = 1;  // counted targets (y >= 0) of the last training batch
  Tensor staged_x_, staged_y_;  // the staged micro-batch, (B, T) i32 on the model's device
};

// The model shape of a config; model.vocab_size 0 means the tokenizer's vocab_size.
GPTConfig gpt_config(const ModelConfig& m, int tokenizer_vocab_size);

// The tokenizer of a run: the one saved beside prepared shards when data.path is a
// `gptcu data prepare` directory, else data.tokenizer.
BpeTokenizer run_tokenizer(const Config& config);
// The tokenizer to decode a checkpoint's tokens with: the one saved in the checkpoint, else the
// one its config names.
BpeTokenizer checkpoint_tokenizer(const std::string& checkpoint_dir);
// Pretraining batches: the shards of a prepared directory, or a text file tokenized in memory.
std::unique_ptr<TokenBatches> open_pretrain_data(const Config& config, const BpeTokenizer& tokenizer);

// Loads the data, builds and initialises the model (or resumes), trains. Prints the
// resolved config first.
TrainResult run_pretrain(const Config& config, const TrainOptions& options);

}  // namespace gptcu
