// train/pretrain.cpp
#include "train/pretrain.h"

#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <limits>

#include "core/autograd.h"
#include "core/comm.h"
#include "core/cuda.h"
#include <filesystem>

#include "data/chat_template.h"
#include "data/shard_corpus.h"
#include "train/checkpoint.h"

namespace gptcu {

Tensor PretrainObjective::train_loss(uint64_t index, int64_t* tokens) {
  stage_batch(index, tokens);
  return staged_loss();
}

void PretrainObjective::stage_batch(uint64_t index, int64_t* tokens) {
  Tensor x, y;
  data_.batch(Split::train, seed_, index, B_, T_, x, y, dp_rank_, dp_world_);
  *tokens = (int64_t)B_ * T_;
  const int32_t* py = y.data<int32_t>();
  loss_terms_ = (double)std::count_if(py, py + y.numel(), [](int32_t t) { return t >= 0; });
  const Device dev = model_.device();
  if (dev.is_cpu()) {  // fresh tensors: the autograd tape keeps references to them until backward
    staged_x_ = x, staged_y_ = y;
    return;
  }
  // The same buffers every time (a CUDA graph reads these addresses); the copies queue behind the
  // previous micro-batch's kernels on the device's one stream, so they never overwrite a batch
  // still in use.
  model_.check_ids(x, 0, model_.config().padded_vocab_size(), "token");
  model_.check_ids(y, std::numeric_limits<int32_t>::min(), model_.config().vocab_size, "target");  // < 0: ignored
  if (!staged_x_.defined() || staged_x_.device() != dev || staged_x_.shape() != x.shape()) {
    staged_x_ = Tensor::empty(x.shape(), DType::i32, dev);
    staged_y_ = Tensor::empty(y.shape(), DType::i32, dev);
  }
  staged_x_.copy_from(x);
  staged_y_.copy_from(y);
}

double PretrainObjective::eval_loss(uint64_t index) {
  autograd::NoGradGuard no_grad;
  Tensor x, y;
  data_.batch(Split::val, seed_, index, B_, T_, x, y, dp_rank_, dp_world_);  // the trainer averages the ranks
  return model_.loss(x, y).item();
}

namespace {
// Parameters, gradients and two AdamW moments: 16 bytes per parameter, before activations.
// Refuse up front what cannot fit, rather than be killed by the OS half-way.
void check_memory(const GPTConfig& gc) {
  const double need = 16.0 * (double)GPT::count_parameters(gc);
  const double have = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGE_SIZE);
  GPTCU_USER_CHECK(need < 0.9 * have, "the model (", gc.str(), ", ", GPT::count_parameters(gc),
                   " parameters) needs ", need / 1e9, " GB for weights, gradients and optimizer state; this machine has ",
                   have / 1e9, " GB");
}
}  // namespace

GPTConfig gpt_config(const ModelConfig& m, int tokenizer_vocab_size) {
  GPTConfig g;
  g.n_layer = m.n_layer;
  g.n_head = m.n_head;
  g.n_embd = m.n_embd;
  g.block_size = m.block_size;
  g.vocab_size = m.vocab_size > 0 ? m.vocab_size : tokenizer_vocab_size;
  return g;
}

BpeTokenizer run_tokenizer(const Config& config) {
  if (is_prepared_dir(config.data.path)) return prepared_tokenizer(config.data.path);
  // The chat specials are added here too (as `gptcu data prepare` does), so a model pretrained on
  // a text file has the vocabulary that SFT, RL and chat on top of it will use.
  BpeTokenizer tok = BpeTokenizer::load(config.data.tokenizer);
  ChatTemplate::add_specials(tok);
  return tok;
}

BpeTokenizer checkpoint_tokenizer(const std::string& checkpoint_dir) {
  const std::filesystem::path saved = std::filesystem::path(checkpoint_dir) / kTokenizerFile;
  if (std::filesystem::exists(saved)) return BpeTokenizer::load(saved.string());
  return run_tokenizer(checkpoint_config(checkpoint_dir));
}

std::unique_ptr<TokenBatches> open_pretrain_data(const Config& config, const BpeTokenizer& tokenizer) {
  if (is_prepared_dir(config.data.path))
    return std::make_unique<ShardCorpus>(config.data.path, config.model.block_size, (uint64_t)config.train.seed);
  return std::make_unique<TextDataset>(config.data.path, tokenizer, config.data.val_fraction, config.model.block_size);
}

TrainResult run_pretrain(const Config& config, const TrainOptions& options) {
  std::ostream& log = options.log ? *options.log : std::cout;
  log << "# resolved config\n" << dump_config(config) << "\n";
  const Device device = Device::parse(config.device);
  // Before reading any data: one line when there is no GPU. Several ranks each check the GPU they
  // will bind (cuda:LOCAL_RANK), so that none opens a context on another rank's GPU.
  if (!device.is_cpu()) require_cuda(dist_env().world > 1 ? Device{Device::cuda, dist_env().local_rank} : device);
  const BpeTokenizer tokenizer = run_tokenizer(config);
  const std::unique_ptr<TokenBatches> data = open_pretrain_data(config, tokenizer);
  GPTConfig gc = gpt_config(config.model, tokenizer.vocab_size());
  GPTCU_USER_CHECK(gc.vocab_size >= tokenizer.vocab_size(), "model.vocab_size ", gc.vocab_size,
                   " is smaller than the tokenizer's ", tokenizer.vocab_size());
  check_memory(gc);
  GPT model(gc);
  model.init_weights((uint64_t)config.train.seed);
  log << "model: " << gc.str() << " | " << model.num_parameters() << " parameters (padded vocab "
      << gc.padded_vocab_size() << ")\n";
  log << "data: " << data->name() << " | " << data->num_tokens(Split::train) << " train tokens, "
      << data->num_tokens(Split::val) << " val tokens | tokenizer " << tokenizer.name() << " ("
      << tokenizer.vocab_size() << " ids)\n";
  // The tokenizer travels with the run and its checkpoints (gptcu sample decodes with it).
  try {
    std::filesystem::create_directories(config.run.dir);
  } catch (const std::filesystem::filesystem_error& e) {
    user_error("run.dir '", config.run.dir, "' cannot be created: ", e.code().message());
  }
  if (dist_env().rank == 0) tokenizer.save((std::filesystem::path(config.run.dir) / "tokenizer").string());
  PretrainObjective objective(model, *data, config.train.batch_size, (uint64_t)config.train.seed);
  return train(config, model, objective, options);
}

}  // namespace gptcu
