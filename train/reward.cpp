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
    : PreferenceObjective(train, val, batch_size, seed, pad, model.config().block_size), model_(model), margin_(margin) {
  GPTCU_CHECK(model.config().value_head, "RewardObjective: the model needs a value head");
}

Tensor RewardObjective::pair_loss(const SeqBatch& chosen, const SeqBatch& rejected, MetricMeans& m) {
  const Tensor rc = rewards_of(model_, chosen), rr = rewards_of(model_, rejected);
  Tensor loss = ops::pairwise_loss(rc, rr, margin_);
  const std::vector<float> c = rc.to_vector(), r = rr.to_vector();
  for (size_t i = 0; i < c.size(); i++) {
    if (!std::isfinite(c[i]) || !std::isfinite(r[i])) throw NonFiniteError("a reward is not finite");
    m.add("accuracy", c[i] > r[i] ? 1.0 : 0.0);
    m.add("margin", (double)c[i] - r[i]);
  }
  return loss;
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
  const PreferenceSplits pairs = open_preference_data(config, start.tokenizer, "the reward model");
  const PreferenceDataset& train_pairs = *pairs.train;
  const PreferenceDataset* val_pairs = pairs.val.get();
  std::unique_ptr<GPT> model = load_model(start.checkpoint, true);
  log << "model: " << model->config().str() << " | " << model->num_parameters() << " parameters\n";
  log << "data: " << train_pairs.size() << " train pairs, " << (val_pairs ? val_pairs->size() : 0)
      << " validation pairs\n";
  save_run_tokenizer(config, start.tokenizer);
  RewardObjective objective(*model, train_pairs, val_pairs, config.train.batch_size,
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
