// train/dpo.h: Direct Preference Optimization (Rafailov et al. 2023), `gptcu dpo --config ...`.
//
// The policy starts from model.init_from (usually the SFT model); a frozen copy of a reference
// (dpo.reference, default the same checkpoint) gives the baseline log-probs. On preference pairs
// (DATA/{train,val}_pairs.bin) the loss is
//     -log sigmoid(beta * ((log pi(y_c|x) - log ref(y_c|x)) - (log pi(y_r|x) - log ref(y_r|x))))
// with sequence log-probs summed over the response tokens. Logged: the loss, the implicit reward
// margin beta * (... - ...) and its accuracy (margin > 0), on training batches and on all
// validation pairs.
#pragma once
#include <memory>

#include "data/record_data.h"
#include "model/gpt.h"
#include "train/post_common.h"
#include "train/trainer.h"

namespace gptcu {

class DpoObjective : public Objective {
 public:
  DpoObjective(GPT& policy, GPT& reference, const PreferenceDataset& train, const PreferenceDataset* val,
               int batch_size, uint64_t seed, float beta, int32_t pad);
  Tensor train_loss(uint64_t index, int64_t* tokens) override;
  double eval_loss(uint64_t index) override;
  std::vector<Metric> step_metrics() override { return metrics_.take(); }
  std::vector<Metric> evaluate(int steps, std::ostream& log) override;
  std::string data_position(uint64_t index) const override;

 private:
  Tensor pair_loss(const PreferenceDataset& data, const std::vector<int64_t>& ids, MetricMeans& m, int64_t* tokens);
  GPT& policy_;
  GPT& reference_;
  const PreferenceDataset& train_;
  const PreferenceDataset* val_;
  int B_;
  uint64_t seed_;
  float beta_;
  int32_t pad_;
  MetricMeans metrics_;
};

// Sequence log-probs (B): the sum over the response tokens of log p(token), logits at temperature 1.
Tensor sequence_logprobs(GPT& model, const SeqBatch& b);

TrainResult run_dpo(const Config& config, const TrainOptions& options);

}  // namespace gptcu
