// train/reward.cpp
#include "train/reward.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "core/autograd.h"
#include "core/ops.h"
#include "data/chat_template.h"
#include "data/records.h"
#include "data/shard_corpus.h"
#include "train/checkpoint.h"
#include "train/pretrain.h"

namespace fs = std::filesystem;

namespace gptcu {
namespace {

// r (B) at the last real token of each row of b
Tensor rewards_of(GPT& model, const SeqBatch& b) {
  return ops::select_positions(model.values(model.hidden_states(b.tokens)), b.last);
}

}  // namespace

RewardObjective::RewardObjective(GPT& model, const PreferenceDataset& train, const PreferenceDataset* val,
                                 int batch_size, uint64_t seed, float margin, int32_t pad)
    : model_(model), train_(train), val_(val), B_(batch_size), seed_(seed), margin_(margin), pad_(pad) {
  GPTCU_CHECK(model.config().value_head, "RewardObjective: the model needs a value head");
}

Tensor RewardObjective::pair_loss(const PreferenceDataset& data, const std::vector<int64_t>& ids, MetricMeans& m,
                                  int64_t* tokens) {
  std::vector<std::vector<int32_t>> prompts, chosen, rejected;
  for (int64_t id : ids) {
    PreferencePair p = data.get(id);
    prompts.push_back(std::move(p.prompt));
    chosen.push_back(std::move(p.chosen));
    rejected.push_back(std::move(p.rejected));
  }
  const int T = model_.config().block_size;
  const SeqBatch cb = make_seq_batch(prompts, chosen, pad_, T);
  const SeqBatch rb = make_seq_batch(prompts, rejected, pad_, T);
  if (tokens) *tokens = (int64_t)cb.B * cb.T + (int64_t)rb.B * rb.T;
  const Tensor rc = rewards_of(model_, cb), rr = rewards_of(model_, rb);
  Tensor loss = ops::pairwise_loss(rc, rr, margin_);
  const std::vector<float> c = rc.to_vector(), r = rr.to_vector();
  for (size_t i = 0; i < c.size(); i++) {
    if (!std::isfinite(c[i]) || !std::isfinite(r[i])) throw NonFiniteError("a reward is not finite");
    m.add("accuracy", c[i] > r[i] ? 1.0 : 0.0);
    m.add("margin", (double)c[i] - r[i]);
  }
  return loss;
}

Tensor RewardObjective::train_loss(uint64_t index, int64_t* tokens) {
  return pair_loss(train_, train_.batch_indices(index, B_, seed_), metrics_, tokens);
}

double RewardObjective::eval_loss(uint64_t index) {
  GPTCU_CHECK(val_, "RewardObjective: no validation pairs");
  MetricMeans unused;
  std::vector<int64_t> ids;
  for (int64_t i = (int64_t)index * B_; i < std::min<int64_t>(val_->size(), (int64_t)(index + 1) * B_); i++)
    ids.push_back(i);
  return ids.empty() ? 0.0 : pair_loss(*val_, ids, unused, nullptr).item();
}

std::vector<Metric> RewardObjective::evaluate(int steps, std::ostream& log) {
  (void)steps;  // every validation pair, in order: accuracy is the number people compare
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
  for (const Metric& x : m.take()) out.push_back({"val_" + x.name, x.value});
  out.push_back({"val_pairs", (double)val_->size()});
  return out;
}

std::string RewardObjective::data_position(uint64_t index) const {
  const DataPosition p = train_.position(index, B_);
  return "epoch " + std::to_string(p.epoch) + ", pair " + std::to_string(p.offset) + " of " +
         std::to_string(train_.size());
}

std::vector<float> score_responses(GPT& reward_model, const std::vector<std::vector<int32_t>>& prompts,
                                   const std::vector<std::vector<int32_t>>& responses, int32_t pad, int batch_size) {
  autograd::NoGradGuard no_grad;
  const int T = reward_model.config().block_size;
  std::vector<float> out;
  for (size_t s = 0; s < prompts.size(); s += (size_t)batch_size) {
    const size_t e = std::min(prompts.size(), s + (size_t)batch_size);
    std::vector<std::vector<int32_t>> rs(responses.begin() + s, responses.begin() + e);
    for (std::vector<int32_t>& r : rs)
      if ((int)r.size() >= T) r.erase(r.begin(), r.end() - (T - 1));  // make_seq_batch needs a prompt token
    const SeqBatch b = make_seq_batch({prompts.begin() + s, prompts.begin() + e}, rs, pad, T);
    for (float r : rewards_of(reward_model, b).to_vector()) out.push_back(r);
  }
  return out;
}

TrainResult run_reward(const Config& config_in, const TrainOptions& options) {
  std::ostream& log = options.log ? *options.log : std::cout;
  StartingPoint start = start_from(config_in, /*value_head=*/true, log);
  const Config& config = start.config;
  log << "# resolved config\n" << dump_config(config) << "\n";
  GPTCU_USER_CHECK(is_prepared_dir(config.data.path), "data.path '", config.data.path,
                   "' is not a `gptcu data prepare` directory (the reward model reads preference pairs)");
  check_same_tokenizer(start.tokenizer, prepared_tokenizer(config.data.path), "data.path " + config.data.path);
  const fs::path dir(config.data.path);
  GPTCU_USER_CHECK(fs::exists(dir / "train_pairs.bin"), "data.path '", config.data.path,
                   "' has no train_pairs.bin: prepare preference pairs with `gptcu data prepare --kind preference`");
  PreferenceDataset train_pairs((dir / "train_pairs.bin").string());
  std::unique_ptr<PreferenceDataset> val_pairs;
  if (fs::exists(dir / "val_pairs.bin")) val_pairs = std::make_unique<PreferenceDataset>((dir / "val_pairs.bin").string());
  std::unique_ptr<GPT> model = load_model(start.checkpoint, true);
  log << "model: " << model->config().str() << " | " << model->num_parameters() << " parameters\n";
  log << "data: " << train_pairs.size() << " train pairs, " << (val_pairs ? val_pairs->size() : 0)
      << " validation pairs\n";
  save_run_tokenizer(config, start.tokenizer);
  RewardObjective objective(*model, train_pairs, val_pairs.get(), config.train.batch_size,
                            (uint64_t)config.train.seed, (float)config.reward.margin,
                            ChatTemplate(start.tokenizer).ids().pad);
  return train(config, *model, objective, options);
}

double score_pairs_file(const std::string& checkpoint_path, const std::string& input, const std::string& out_path,
                        int batch_size, std::ostream& log) {
  const std::string ckpt = resolve_checkpoint(checkpoint_path, "--checkpoint");
  const BpeTokenizer tok = checkpoint_tokenizer(ckpt);
  GPTCU_USER_CHECK(checkpoint_config(ckpt).model.value_head, "checkpoint ", ckpt,
                   " has no value head: it is not a reward model (train one with gptcu reward)");
  std::unique_ptr<GPT> rm = load_model(ckpt, true);
  const ChatTemplate chat(tok);
  std::vector<std::vector<int32_t>> prompts, chosen, rejected;
  ReadStats stats;
  int64_t other = 0;
  read_records(input, ReadOptions{}, stats, [&](Record&& r) {
    if (r.kind != RecordKind::preference) {
      other++;
      return;
    }
    prompts.push_back(chat.prompt(r.messages));
    chosen.push_back(chat.reply(r.chosen));
    rejected.push_back(chat.reply(r.rejected));
  });
  log << "read " << input << ": " << prompts.size() << " pairs";
  if (stats.malformed + stats.missing_fields + other > 0)
    log << " (skipped: " << stats.malformed << " malformed, " << stats.missing_fields
        << " missing fields or identical chosen/rejected, " << other << " not preference pairs)";
  log << "\n";
  GPTCU_USER_CHECK(!prompts.empty(), input, " holds no preference pairs");
  const int32_t pad = chat.ids().pad;
  const std::vector<float> c = score_responses(*rm, prompts, chosen, pad, batch_size);
  const std::vector<float> r = score_responses(*rm, prompts, rejected, pad, batch_size);
  std::string lines;
  int64_t right = 0;
  for (size_t i = 0; i < c.size(); i++) {
    right += c[i] > r[i];
    lines += nlohmann::json({{"chosen_score", c[i]}, {"rejected_score", r[i]}}).dump() + "\n";
  }
  if (!out_path.empty()) write_file_atomic(out_path, lines);
  const double acc = (double)right / (double)c.size();
  log << "pairwise accuracy " << acc << " (" << right << " of " << c.size() << " pairs: chosen scored above rejected)\n";
  return acc;
}

}  // namespace gptcu
