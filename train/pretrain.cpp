// train/pretrain.cpp
#include "train/pretrain.h"

#include <iostream>

#include "data/byte_tokenizer.h"
#include "train/checkpoint.h"

namespace gptcu {

Tensor PretrainObjective::train_loss(uint64_t index, int64_t* tokens) {
  data_.batch(Split::train, seed_, index, B_, T_, x_, y_);
  *tokens = (int64_t)B_ * T_;
  return model_.loss(x_, y_);
}

double PretrainObjective::eval_loss(uint64_t index) {
  data_.batch(Split::val, seed_, index, B_, T_, x_, y_);
  return model_.loss(x_, y_).item();
}

TrainResult run_pretrain(const Config& config, const TrainOptions& options) {
  std::ostream& log = options.log ? *options.log : std::cout;
  log << "# resolved config\n" << dump_config(config) << "\n";
  const Device device = Device::parse(config.device);
  GPTCU_USER_CHECK(device.is_cpu(), "device '", config.device,
                   "': this build trains on the CPU only for now (set device: cpu)");
  GPTCU_USER_CHECK(config.data.tokenizer == "byte", "data.tokenizer '", config.data.tokenizer,
                   "' is not supported yet (byte)");
  ByteTokenizer tokenizer;
  TextDataset data(config.data.path, config.data.val_fraction, config.model.block_size);
  GPTConfig gc = gpt_config(config.model, tokenizer.vocab_size());
  GPTCU_USER_CHECK(gc.vocab_size >= tokenizer.vocab_size(), "model.vocab_size ", gc.vocab_size,
                   " is smaller than the tokenizer's ", tokenizer.vocab_size());
  GPT model(gc);
  model.init_weights((uint64_t)config.train.seed);
  log << "model: " << gc.str() << " | " << model.num_parameters() << " parameters (padded vocab "
      << gc.padded_vocab_size() << ")\n";
  log << "data: " << data.name() << " | " << data.num_tokens(Split::train) << " train tokens, "
      << data.num_tokens(Split::val) << " val tokens\n";
  PretrainObjective objective(model, data, config.train.batch_size, (uint64_t)config.train.seed);
  return train(config, model, objective, options);
}

}  // namespace gptcu
