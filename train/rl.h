// train/rl.h: reinforcement learning from rewards, `gptcu ppo` and `gptcu grpo`.
//
// Both objectives run the same loop. Rollout r (every epochs * minibatches micro-batches):
//   1. take rl.prompts_per_rollout prompts (DATA/train_prompts.bin, data/loader.h's order);
//      GRPO repeats each rl.group_size times;
//   2. sample a reply to each through the KV cache (temperature, top-k, top-p; stop at <|end|>);
//      a prompt too long for prompt + rl.max_new_tokens loses its oldest tokens (counted);
//   3. score each reply: the verifier (1 if the final answer matches the prompt's reference
//      answer, else 0) or a reward model's scalar at the last token; a reply that never ends
//      loses rl.no_stop_penalty;
//   4. the log-probs of the sampled tokens under the policy (logits / temperature, as sampled)
//      and under the frozen reference, and (PPO) the critic's values;
//   5. advantages: PPO puts a per-token KL penalty -kl_coef * (log pi - log ref) on every reply
//      token and the score on the last, then GAE(gamma, lambda) against the values, whitened;
//      GRPO normalises each score within its group, (r - mean) / std, for every reply token.
// Then rl.epochs passes over the rollout in rl.minibatches shuffled minibatches, one optimizer
// step each: the clipped surrogate (PPO adds the clipped value loss * rl.vf_coef; GRPO adds the
// k3 KL to the reference * rl.kl_coef). Evaluation: greedy answer accuracy on held-out prompts.
//
// The PPO critic is a scalar head on the policy's own trunk (shared, like TRL's
// AutoModelForCausalLMWithValueHead), initialised to zero; dropout does not exist here; the pad
// token is <|pad|>. Logged per rollout: reward, accuracy, KL, response length, stop fraction;
// per step: policy and value loss, entropy, clip fraction, approximate KL.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "data/bpe_tokenizer.h"
#include "data/record_data.h"
#include "model/gpt.h"
#include "train/post_common.h"
#include "train/rl_math.h"
#include "train/trainer.h"

namespace gptcu {

// One rollout: the sampled sequences and everything the update needs, per row of `batch`.
struct Rollout {
  uint64_t index = (uint64_t)-1;
  SeqBatch batch;                 // prompt ++ reply, right-padded (B, T)
  std::vector<float> scores;      // (B) the reward of each reply
  Tensor old_logp, ref_logp;      // (B, T) log-probs of the sampled tokens (0 off the mask)
  Tensor old_values;              // (B, T) PPO critic values
  Tensor advantages, returns;     // (B, T)
};

class RlObjective : public Objective {
 public:
  struct Models {
    GPT& policy;
    GPT* reference;     // null: no KL term
    GPT* reward_model;  // null: the verifier scores
  };
  RlObjective(Models models, const BpeTokenizer& tokenizer, const PromptDataset& train, const PromptDataset* eval,
              const RlConfig& rl, int rows_per_prompt, uint64_t seed);
  Tensor train_loss(uint64_t index, int64_t* tokens) override;
  double eval_loss(uint64_t index) override;
  std::vector<Metric> step_metrics() override { return metrics_.take(); }
  std::vector<Metric> evaluate(int steps, std::ostream& log) override;
  std::string data_position(uint64_t index) const override;
  // Several ranks: each samples and scores prompts_per_rollout / world of the rollout's prompts
  // (its slice, with its own sampling seed), and steps through its own rows; advantages are
  // whitened per rank (PPO) and the adaptive KL coefficient follows the mean KL of all ranks.
  void set_data_parallel(int rank, int world, Communicator* comm) override;
  double loss_terms() const override { return loss_terms_; }
  const Rollout& rollout() const { return rollout_; }

 protected:
  // Fills rollout_.advantages (and returns) once scores and log-probs are in.
  virtual void compute_advantages(Rollout& r) = 0;
  // The loss of rows `rows` of the current rollout (with autograd recording).
  virtual Tensor minibatch_loss(const SeqBatch& sub, const std::vector<int>& rows) = 0;
  // Logs policy_loss, clip_frac, approx_kl (0.5 (log pi - log pi_old)^2) and entropy over the
  // masked tokens of a minibatch (no gradient).
  void add_update_metrics(const Tensor& logits, const Tensor& logp, const Tensor& old_logp, const Tensor& mask,
                          const Tensor& policy_loss);

  Models m_;
  const BpeTokenizer& tok_;
  const PromptDataset& train_;
  const PromptDataset* eval_;
  RlConfig rl_;
  int rows_per_prompt_;
  uint64_t seed_;
  int32_t pad_, end_;
  Rollout rollout_;
  MetricMeans metrics_;
  double loss_terms_ = 1;  // response tokens (mask) of the last minibatch

 private:
  void make_rollout(uint64_t r);
  int steps_per_rollout() const { return rl_.epochs * rl_.minibatches; }
};

class PpoObjective : public RlObjective {
 public:
  PpoObjective(Models models, const BpeTokenizer& tokenizer, const PromptDataset& train, const PromptDataset* eval,
               const RlConfig& rl, uint64_t seed);
  double kl_coef() const { return kl_.coef; }

 protected:
  void compute_advantages(Rollout& r) override;
  Tensor minibatch_loss(const SeqBatch& sub, const std::vector<int>& rows) override;

 private:
  AdaptiveKl kl_;
};

class GrpoObjective : public RlObjective {
 public:
  GrpoObjective(Models models, const BpeTokenizer& tokenizer, const PromptDataset& train, const PromptDataset* eval,
                const RlConfig& rl, uint64_t seed);

 protected:
  void compute_advantages(Rollout& r) override;
  Tensor minibatch_loss(const SeqBatch& sub, const std::vector<int>& rows) override;
};

// `gptcu ppo` / `gptcu grpo`: loads the policy (model.init_from), the reference, the reward model
// (rl.reward: model) and the prompts (DATA/train_prompts.bin; held-out: rl.eval_prompts), trains.
TrainResult run_ppo(const Config& config, const TrainOptions& options);
TrainResult run_grpo(const Config& config, const TrainOptions& options);

}  // namespace gptcu
