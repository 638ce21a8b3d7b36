// train/dpo.cpp
#include "train/dpo.h"

#include <cmath>
#include <filesystem>
#include <iostream>

#include "core/autograd.h"
#include "core/ops.h"
#include "data/chat_template.h"
#include "data/shard_corpus.h"
#include "train/pretrain.h"

namespace fs = std::filesystem;

namespace gptcu {

Tensor sequence_logprobs(GPT& model, const SeqBatch& b) {
  const Tensor logp = ops::token_logprobs(model.forward(b.tokens), b.targets, model.config().vocab_size);
  return ops::masked_sum(logp, b.mask);
}

DpoObjective::DpoObjective(GPT& policy, GPT& reference, const PreferenceDataset& train, const PreferenceDataset* val,
                           int batch_size, uint64_t seed, float beta, int32_t pad)
    : PreferenceObjective(train, val, batch_size, seed, pad, policy.config().block_size),
      policy_(policy),
      reference_(reference),
      beta_(beta) {}

Tensor DpoObjective::pair_loss(const SeqBatch& cb, const SeqBatch& rb, MetricMeans& m) {
  Tensor ref_c, ref_r;
  {
    autograd::NoGradGuard no_grad;
    ref_c = sequence_logprobs(reference_, cb);
    ref_r = sequence_logprobs(reference_, rb);
  }
  const Tensor pc = sequence_logprobs(policy_, cb), pr = sequence_logprobs(policy_, rb);
  Tensor loss = ops::dpo_loss(pc, pr, ref_c, ref_r, beta_);
  const std::vector<float> vpc = pc.to_vector(), vpr = pr.to_vector(), vrc = ref_c.to_vector(), vrr = ref_r.to_vector();
  for (size_t i = 0; i < vpc.size(); i++) {
    const double chosen_reward = beta_ * ((double)vpc[i] - vrc[i]);
    const double rejected_reward = beta_ * ((double)vpr[i] - vrr[i]);
    if (!std::isfinite(chosen_reward) || !std::isfinite(rejected_reward))
      throw NonFiniteError("a DPO log-probability is not finite");
    m.add("reward_margin", chosen_reward - rejected_reward);
    m.add("reward_accuracy", chosen_reward > rejected_reward ? 1.0 : 0.0);
    m.add("chosen_reward", chosen_reward);
    m.add("rejected_reward", rejected_reward);
  }
  return loss;
}

TrainResult run_dpo(const Config& config_in, const TrainOptions& options) {
  std::ostream& log = options.log ? *options.log : std::cout;
  StartingPoint start = start_from(config_in, /*value_head=*/false, log);
  const Config& config = start.config;
  log << "# resolved config\n" << dump_config(config) << "\n";
  const PreferenceSplits pairs = open_preference_data(config, start.tokenizer, "DPO");
  const PreferenceDataset& train_pairs = *pairs.train;
  const PreferenceDataset* val_pairs = pairs.val.get();
  const std::string ref_path = config.dpo.reference.empty() ? config.model.init_from : config.dpo.reference;
  const std::string ref_ckpt = resolve_checkpoint(ref_path, "dpo.reference");
  check_same_tokenizer(start.tokenizer, checkpoint_tokenizer(ref_ckpt), "the reference " + ref_ckpt);
  std::unique_ptr<GPT> policy = load_model(start.checkpoint, false);
  std::unique_ptr<GPT> reference = load_model(ref_ckpt, false);
  log << "policy: " << policy->config().str() << " | reference: " << ref_ckpt << "\n";
  log << "data: " << train_pairs.size() << " train pairs, " << (val_pairs ? val_pairs->size() : 0)
      << " validation pairs | beta " << config.dpo.beta << "\n";
  save_run_tokenizer(config, start.tokenizer);
  DpoObjective objective(*policy, *reference, train_pairs, val_pairs, config.train.batch_size,
                         (uint64_t)config.train.seed, (float)config.dpo.beta, ChatTemplate(start.tokenizer).ids().pad);
  return train(config, *policy, objective, options);
}

}  // namespace gptcu
