// train/preference.h: what the reward model and DPO share: objectives over preference pairs.
//
// A subclass supplies pair_loss(chosen, rejected, metrics): the loss of one batch of pairs,
// each side a right-padded (B, T) batch of prompt ++ reply (train/post_common.h). This class
// reads the pairs (training batches in data/loader.h's order; evaluation over every validation
// pair, in order) and reports the metrics the subclass adds, prefixed "val_" for evaluation.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "data/record_data.h"
#include "train/post_common.h"
#include "train/trainer.h"

namespace gptcu {

class PreferenceObjective : public Objective {
 public:
  // val may be null (no validation pairs: evaluation reports nothing)
  PreferenceObjective(const PreferenceDataset& train, const PreferenceDataset* val, int batch_size, uint64_t seed,
                      int32_t pad, int max_len);
  Tensor train_loss(uint64_t index, int64_t* tokens) override;
  double eval_loss(uint64_t index) override;
  std::vector<Metric> step_metrics() override { return metrics_.take(); }
  std::vector<Metric> evaluate(int steps, std::ostream& log) override;
  std::string data_position(uint64_t index) const override;

 protected:
  // The loss of one batch of pairs (row i of `chosen` and of `rejected` share a prompt); adds
  // per-pair metrics to `m`. NonFiniteError when a score is not finite.
  virtual Tensor pair_loss(const SeqBatch& chosen, const SeqBatch& rejected, MetricMeans& m) = 0;
  // Metrics of pair_loss that evaluation reports (all when empty).
  virtual std::vector<std::string> eval_metric_names() const { return {}; }

 private:
  Tensor loss_of(const PreferenceDataset& data, const std::vector<int64_t>& ids, MetricMeans& m, int64_t* tokens);
  const PreferenceDataset& train_;
  const PreferenceDataset* val_;
  int B_;
  uint64_t seed_;
  int32_t pad_;
  int max_len_;
  MetricMeans metrics_;
};

// The pairs of a prepared preference directory (data.path, checked as check_prepared_data does):
// DATA/train_pairs.bin, and DATA/val_pairs.bin when present (else val is null).
struct PreferenceSplits {
  std::unique_ptr<PreferenceDataset> train, val;
};
PreferenceSplits open_preference_data(const Config& config, const BpeTokenizer& model_tok, const std::string& stage);

}  // namespace gptcu
