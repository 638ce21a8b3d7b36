// train/reward.h: the reward model, `gptcu reward --config ...` and `gptcu reward score`.
//
// A GPT with a scalar head (model.value_head) reads (prompt, response) and gives a reward at
// the response's last token. It starts from the SFT model (model.init_from; the head starts at
// zero) and trains on preference pairs (`gptcu data prepare --kind preference`: DATA/
// {train,val}_pairs.bin) with the Bradley-Terry loss
//     -log sigmoid(r(prompt, chosen) - r(prompt, rejected) - margin),
// logging pairwise accuracy (r_chosen > r_rejected) on training batches and on all validation
// pairs. The same scores serve PPO (rl.reward: model) and `gptcu reward score`.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/record_data.h"
#include "model/gpt.h"
#include "train/post_common.h"
#include "train/preference.h"
#include "train/trainer.h"

namespace gptcu {

class RewardObjective : public PreferenceObjective {
 public:
  // val may be null (no validation pairs: evaluation reports nothing)
  RewardObjective(GPT& model, const PreferenceDataset& train, const PreferenceDataset* val, int batch_size,
                  uint64_t seed, float margin, int32_t pad);

 protected:
  Tensor pair_loss(const SeqBatch& chosen, const SeqBatch& rejected, MetricMeans& m) override;

 private:
  GPT& model_;
  float margin_;
};

// Rewards (no gradient) of prompt ++ response for each row, in batches of `batch_size`: the
// scalar head at the last token. Rows longer than the context lose their oldest prompt tokens;
// a response that alone fills the context keeps only its newest block_size - 1 tokens (after
// one prompt token): the reward is read at its end.
std::vector<float> score_responses(GPT& reward_model, const std::vector<std::vector<int32_t>>& prompts,
                                   const std::vector<std::vector<int32_t>>& responses, int32_t pad, int batch_size);

TrainResult run_reward(const Config& config, const TrainOptions& options);

// `gptcu reward score`: scores the pairs of a preference file (any format data prepare reads) with
// a reward checkpoint; writes one JSON line per pair {"chosen_score","rejected_score"} to out_path
// (if not empty) and prints pairwise accuracy. Returns the accuracy.
double score_pairs_file(const std::string& checkpoint, const std::string& input, const std::string& out_path,
                        int batch_size, std::ostream& log);

}  // namespace gptcu
