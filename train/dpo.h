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
#include "train/preference.h"
#include "train/trainer.h"

namespace gptcu {

class DpoObjective : public PreferenceObjective {
 public:
  DpoObjective(GPT& policy, GPT& reference, const PreferenceDataset& train, const PreferenceDataset* val,
               int batch_size, uint64_t seed, float beta, int32_t pad);

 protected:
  Tensor pair_loss(const SeqBatch& chosen, const SeqBatch& rejected, MetricMeans& m) override;
  std::vector<std::string> eval_metric_names() const override { return {"reward_margin", "reward_accuracy"}; }

 private:
  GPT& policy_;
  GPT& reference_;
  float beta_;
};

// Sequence log-probs (B): the sum over the response tokens of log p(token), logits at temperature 1.
Tensor sequence_logprobs(GPT& model, const SeqBatch& b);

TrainResult run_dpo(const Config& config, const TrainOptions& options);

}  // namespace gptcu
