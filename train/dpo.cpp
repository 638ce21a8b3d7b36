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
    : policy_(policy), reference_(reference), train_(train), val_(val), B_(batch_size), seed_(seed), beta_(beta),
      pad_(pad) {}

Tensor DpoObjective::pair_loss(const PreferenceDataset& data, const std::vector<int64_t>& ids, MetricMeans& m,
                               int64_t* tokens) {
  std::vector<std::vector<int32_t>> prompts, chosen, rejected;
  for (int64_t id : ids) {
    PreferencePair p = data.get(id);
    prompts.push_back(std::move(p.prompt));
    chosen.push_back(std::move(p.chosen));
    rejected.push_back(std::move(p.rejected));
  }
  const int T = policy_.config().block_size;
  const SeqBatch cb = make_seq_batch(prompts, chosen, pad_, T);
  const SeqBatch rb = make_seq_batch(prompts, rejected, pad_, T);
  if (tokens) *tokens = (int64_t)cb.B * cb.T + (int64_t)rb.B * rb.T;
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

Tensor DpoObjective::train_loss(uint64_t index, int64_t* tokens) {
  return pair_loss(train_, train_.batch_indices(index, B_, seed_), metrics_, tokens);
}

double DpoObjective::eval_loss(uint64_t index) {
  GPTCU_CHECK(val_, "DpoObjective: no validation pairs");
  MetricMeans unused;
  std::vector<int64_t> ids;
  for (int64_t i = (int64_t)index * B_; i < std::min<int64_t>(val_->size(), (int64_t)(index + 1) * B_); i++)
    ids.push_back(i);
  return ids.empty() ? 0.0 : pair_loss(*val_, ids, unused, nullptr).item();
}

std::vector<Metric> DpoObjective::evaluate(int steps, std::ostream& log) {
  (void)steps;
  (void)log;
  if (!val_) return {};
  MetricMeans m;
  double loss_sum = 0;
  for (int64_t start = 0; start < val_->size(); start += B_) {
    std::vector<int64_t> ids;
    for (int64_t i = start; i < std::min<int64_t>(val_->size(), start + B_); i++) ids.push_back(i);
    loss_sum += pair_loss(*val_, ids, m, nullptr).item() * (double)ids.size();
  }
  std::vector<Metric> out = {{"val_loss", loss_sum / (double)val_->size()}};
  for (const Metric& x : m.take())
    if (x.name == "reward_margin" || x.name == "reward_accuracy") out.push_back({"val_" + x.name, x.value});
  return out;
}

std::string DpoObjective::data_position(uint64_t index) const {
  const DataPosition p = train_.position(index, B_);
  return "epoch " + std::to_string(p.epoch) + ", pair " + std::to_string(p.offset) + " of " +
         std::to_string(train_.size());
}

TrainResult run_dpo(const Config& config_in, const TrainOptions& options) {
  std::ostream& log = options.log ? *options.log : std::cout;
  StartingPoint start = start_from(config_in, /*value_head=*/false, log);
  const Config& config = start.config;
  log << "# resolved config\n" << dump_config(config) << "\n";
  GPTCU_USER_CHECK(is_prepared_dir(config.data.path), "data.path '", config.data.path,
                   "' is not a `gptcu data prepare` directory (DPO reads preference pairs)");
  check_same_tokenizer(start.tokenizer, prepared_tokenizer(config.data.path), "data.path " + config.data.path);
  const fs::path dir(config.data.path);
  GPTCU_USER_CHECK(fs::exists(dir / "train_pairs.bin"), "data.path '", config.data.path,
                   "' has no train_pairs.bin: prepare preference pairs with `gptcu data prepare --kind preference`");
  PreferenceDataset train_pairs((dir / "train_pairs.bin").string());
  std::unique_ptr<PreferenceDataset> val_pairs;
  if (fs::exists(dir / "val_pairs.bin")) val_pairs = std::make_unique<PreferenceDataset>((dir / "val_pairs.bin").string());
  const std::string ref_path = config.dpo.reference.empty() ? config.model.init_from : config.dpo.reference;
  const std::string ref_ckpt = resolve_checkpoint(ref_path, "dpo.reference");
  check_same_tokenizer(start.tokenizer, checkpoint_tokenizer(ref_ckpt), "the reference " + ref_ckpt);
  std::unique_ptr<GPT> policy = load_model(start.checkpoint, false);
  std::unique_ptr<GPT> reference = load_model(ref_ckpt, false);
  log << "policy: " << policy->config().str() << " | reference: " << ref_ckpt << "\n";
  log << "data: " << train_pairs.size() << " train pairs, " << (val_pairs ? val_pairs->size() : 0)
      << " validation pairs | beta " << config.dpo.beta << "\n";
  save_run_tokenizer(config, start.tokenizer);
  DpoObjective objective(*policy, *reference, train_pairs, val_pairs.get(), config.train.batch_size,
                         (uint64_t)config.train.seed, (float)config.dpo.beta, ChatTemplate(start.tokenizer).ids().pad);
  return train(config, *policy, objective, options);
}

}  // namespace gptcu
