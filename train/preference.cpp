// train/preference.cpp
#include "train/preference.h"

#include <algorithm>
#include <filesystem>

namespace gptcu {

PreferenceObjective::PreferenceObjective(const PreferenceDataset& train, const PreferenceDataset* val,
                                         int batch_size, uint64_t seed, int32_t pad, int max_len)
    : train_(train), val_(val), B_(batch_size), seed_(seed), pad_(pad), max_len_(max_len) {}

Tensor PreferenceObjective::loss_of(const PreferenceDataset& data, const std::vector<int64_t>& ids, MetricMeans& m,
                                    int64_t* tokens) {
  std::vector<std::vector<int32_t>> prompts, chosen, rejected;
  for (int64_t id : ids) {
    PreferencePair p = data.get(id);
    prompts.push_back(std::move(p.prompt));
    chosen.push_back(std::move(p.chosen));
    rejected.push_back(std::move(p.rejected));
  }
  const SeqBatch cb = make_seq_batch(prompts, chosen, pad_, max_len_);
  const SeqBatch rb = make_seq_batch(prompts, rejected, pad_, max_len_);
  if (tokens) *tokens = (int64_t)cb.B * cb.T + (int64_t)rb.B * rb.T;
  return pair_loss(cb, rb, m);
}

Tensor PreferenceObjective::train_loss(uint64_t index, int64_t* tokens) {
  return loss_of(train_, train_.batch_indices(index, B_, seed_, dp_rank_, dp_world_), metrics_, tokens);
}

namespace {
std::vector<int64_t> id_range(int64_t begin, int64_t end) {
  std::vector<int64_t> ids;
  for (int64_t i = begin; i < end; i++) ids.push_back(i);
  return ids;
}
}  // namespace

double PreferenceObjective::eval_loss(uint64_t index) {
  GPTCU_CHECK(val_, "PreferenceObjective: no validation pairs");
  MetricMeans unused;
  const std::vector<int64_t> ids =
      id_range((int64_t)index * B_, std::min<int64_t>(val_->size(), (int64_t)(index + 1) * B_));
  return ids.empty() ? 0.0 : loss_of(*val_, ids, unused, nullptr).item();
}

std::vector<Metric> PreferenceObjective::evaluate(int steps, std::ostream& log) {
  (void)steps;  // every validation pair, in order: accuracy is the number people compare
  (void)log;
  if (!val_) return {};
  MetricMeans m;
  double loss_sum = 0;
  for (int64_t start = 0; start < val_->size(); start += B_) {
    const std::vector<int64_t> ids = id_range(start, std::min<int64_t>(val_->size(), start + B_));
    loss_sum += loss_of(*val_, ids, m, nullptr).item() * (double)ids.size();
  }
  std::vector<Metric> out = {{"val_loss", loss_sum / (double)val_->size()}};
  const std::vector<std::string> keep = eval_metric_names();
  for (const Metric& x : m.take())
    if (keep.empty() || std::count(keep.begin(), keep.end(), x.name)) out.push_back({"val_" + x.name, x.value});
  out.push_back({"val_pairs", (double)val_->size()});
  return out;
}

std::string PreferenceObjective::data_position(uint64_t index) const {
  const DataPosition p = train_.position(index, B_, dp_world_);
  return "epoch " + std::to_string(p.epoch) + ", pair " + std::to_string(p.offset) + " of " +
         std::to_string(train_.size());
}

PreferenceSplits open_preference_data(const Config& config, const BpeTokenizer& model_tok, const std::string& stage) {
  check_prepared_data(config, model_tok, stage + " reads preference pairs");
  const std::filesystem::path dir(config.data.path);
  GPTCU_USER_CHECK(std::filesystem::exists(dir / "train_pairs.bin"), "data.path '", config.data.path,
                   "' has no train_pairs.bin: prepare preference pairs with `gptcu data prepare --kind preference`");
  PreferenceSplits s;
  s.train = std::make_unique<PreferenceDataset>((dir / "train_pairs.bin").string());
  if (std::filesystem::exists(dir / "val_pairs.bin"))
    s.val = std::make_unique<PreferenceDataset>((dir / "val_pairs.bin").string());
  return s;
}

}  // namespace gptcu
