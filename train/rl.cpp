// train/rl.cpp: the rollout loop shared by PPO and GRPO, and the two objectives (train/rl.h).
#include "train/rl.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>

#include "core/autograd.h"
#include "core/ops.h"
#include "core/rng.h"
#include "data/chat_template.h"
#include "data/loader.h"
#include "data/shard_corpus.h"
#include "eval/answer_eval.h"
#include "eval/generate.h"
#include "train/checkpoint.h"
#include "train/pretrain.h"
#include "train/reward.h"

namespace fs = std::filesystem;

namespace gptcu {
namespace {

// sum(x * m) / sum(m) over host copies
double masked_mean(const std::vector<float>& x, const std::vector<float>& m) {
  double s = 0, n = 0;
  for (size_t i = 0; i < x.size(); i++) s += (double)x[i] * m[i], n += m[i];
  return n > 0 ? s / n : 0.0;
}

void check_finite(const std::vector<float>& x, const char* what) {
  for (float v : x)
    if (!std::isfinite(v)) throw NonFiniteError(std::string(what) + " is not finite");
}

}  // namespace

RlObjective::RlObjective(Models models, const BpeTokenizer& tokenizer, const PromptDataset& train,
                         const PromptDataset* eval, const RlConfig& rl, int rows_per_prompt, uint64_t seed)
    : m_(models), tok_(tokenizer), train_(train), eval_(eval), rl_(rl), rows_per_prompt_(rows_per_prompt),
      seed_(seed) {
  const ChatTemplate chat(tokenizer);
  pad_ = chat.ids().pad;
  end_ = chat.ids().end;
  const int rows = rl.prompts_per_rollout * rows_per_prompt;
  GPTCU_USER_CHECK(rows % rl.minibatches == 0, "rl.minibatches (", rl.minibatches, ") must divide the ", rows,
                   " replies of a rollout");
  GPTCU_USER_CHECK(rl.max_new_tokens < m_.policy.config().block_size, "rl.max_new_tokens (", rl.max_new_tokens,
                   ") leaves no room for a prompt in the context of ", m_.policy.config().block_size);
}

void RlObjective::make_rollout(uint64_t r) {
  autograd::NoGradGuard no_grad;
  GPT& policy = m_.policy;
  Rollout& ro = rollout_;
  ro = Rollout{};
  ro.index = r;
  // 1. prompts (GRPO: each repeated group_size times, consecutive)
  std::vector<std::vector<int32_t>> prompts;
  std::vector<std::string> answers;
  for (int64_t id : train_.batch_indices(r, rl_.prompts_per_rollout / dp_world_, seed_, dp_rank_, dp_world_)) {
    const PromptRecord p = train_.get(id);
    for (int g = 0; g < rows_per_prompt_; g++) {
      prompts.push_back(p.prompt);
      answers.push_back(p.answer);
    }
  }
  // 2. replies
  SampleOptions so;
  so.max_new_tokens = rl_.max_new_tokens;
  so.temperature = (float)rl_.temperature;
  so.top_k = rl_.top_k;
  so.top_p = (float)rl_.top_p;
  const Philox4 key = philox4x32(seed_, r, 0x5eed);  // rollout r's sampling seed
  so.seed = (key.x[0] | ((uint64_t)key.x[1] << 32)) ^ ((uint64_t)dp_rank_ * 0x9e3779b97f4a7c15ull);  // rank 0: as alone
  so.stop_tokens = {end_};
  so.vocab_limit = tok_.vocab_size();
  const std::vector<Generation> gens = generate_batch(policy, prompts, so);
  std::vector<std::vector<int32_t>> replies;
  int64_t truncated = 0, stopped = 0, length = 0, right = 0;
  std::vector<float>& scores = ro.scores;
  for (size_t i = 0; i < gens.size(); i++) {
    replies.push_back(gens[i].tokens);
    truncated += gens[i].prompt_tokens_dropped > 0;
    stopped += gens[i].stopped;
    length += (int64_t)gens[i].tokens.size();
    std::vector<int32_t> text_ids = gens[i].tokens;
    if (gens[i].stopped) text_ids.pop_back();
    const bool ok = !answers[i].empty() && verify_answer(rl_.verifier, tok_.decode(text_ids), answers[i]);
    right += ok;
    if (!m_.reward_model) {
      GPTCU_USER_CHECK(!answers[i].empty(), train_.path(), ": a prompt has no reference answer, which rl.reward: ",
                       "verifier needs (or use rl.reward: model)");
      scores.push_back(ok ? 1.0f : 0.0f);
    }
  }
  // the prompts as generation kept them (left-truncated), so that scoring sees what was sampled
  for (size_t i = 0; i < prompts.size(); i++)
    if (gens[i].prompt_tokens_dropped > 0) prompts[i].erase(prompts[i].begin(), prompts[i].begin() + gens[i].prompt_tokens_dropped);
  // 3. scores
  if (m_.reward_model) scores = score_responses(*m_.reward_model, prompts, replies, pad_, (int)prompts.size());
  for (size_t i = 0; i < scores.size(); i++)
    if (!gens[i].stopped) scores[i] -= (float)rl_.no_stop_penalty;
  check_finite(scores, "a reward");
  // 4. log-probs (and values) of the sampled tokens
  ro.batch = make_seq_batch(prompts, replies, pad_, policy.config().block_size);
  const SeqBatch& b = ro.batch;
  const Tensor hidden = policy.hidden_states(b.tokens);
  const int V = policy.config().vocab_size;
  const float temp = (float)rl_.temperature;
  ro.old_logp = ops::token_logprobs(policy.lm_logits(hidden), b.targets, V, temp);
  if (policy.config().value_head) ro.old_values = policy.values(hidden);
  if (m_.reference) ro.ref_logp = ops::token_logprobs(m_.reference->forward(b.tokens), b.targets, V, temp);
  check_finite(ro.old_logp.to_vector(), "a log-probability");
  // 5. advantages
  compute_advantages(ro);
  // metrics of the rollout
  const double n = (double)gens.size();
  double score_sum = 0;
  for (float s : scores) score_sum += s;
  metrics_.add("reward", score_sum / n);
  metrics_.add("accuracy", (double)right / n);
  metrics_.add("response_len", (double)length / n);
  metrics_.add("stopped", (double)stopped / n);
  if (m_.reference) {
    const std::vector<float> lp = ro.old_logp.to_vector(), rp = ro.ref_logp.to_vector(), mk = b.mask.to_vector();
    double kl = 0;
    for (size_t i = 0; i < lp.size(); i++) kl += mk[i] * ((double)lp[i] - rp[i]);
    metrics_.add("kl", kl / n);  // per reply, summed over its tokens
  }
  if (truncated > 0) metrics_.add("prompts_truncated", (double)truncated);
}

Tensor RlObjective::train_loss(uint64_t index, int64_t* tokens) {
  const uint64_t r = index / (uint64_t)steps_per_rollout();
  const int k = (int)(index % (uint64_t)steps_per_rollout());
  if (rollout_.index != r) make_rollout(r);
  const int epoch = k / rl_.minibatches, mb = k % rl_.minibatches;
  const int B = rollout_.batch.B, per = B / rl_.minibatches;
  // a fresh shuffle of the rollout's rows per epoch
  const EpochOrder order((uint64_t)B, seed_ ^ (0x9e3779b97f4a7c15ull * (r + 1)));
  std::vector<int> rows;
  for (int i = 0; i < per; i++) rows.push_back((int)order.at((uint64_t)epoch * B + (uint64_t)mb * per + i));
  const SeqBatch sub = select_rows(rollout_.batch, rows);
  *tokens = (int64_t)sub.B * sub.T;
  const float* mask = sub.mask.data<float>();
  loss_terms_ = 0;
  for (int64_t i = 0; i < sub.mask.numel(); i++) loss_terms_ += mask[i];
  return minibatch_loss(sub, rows);
}

double RlObjective::eval_loss(uint64_t index) {
  (void)index;
  return 0.0;  // RL has no validation loss; evaluate() measures answer accuracy
}

std::vector<Metric> RlObjective::evaluate(int steps, std::ostream& log) {
  (void)steps;
  if (!eval_) return {};
  AnswerEvalOptions opt;
  opt.max_prompts = rl_.eval_max_prompts;
  opt.max_new_tokens = rl_.max_new_tokens;
  opt.verifier = rl_.verifier;
  const AnswerAccuracy a = answer_accuracy(m_.policy, tok_, *eval_, opt);
  for (const auto& e : a.examples)
    log << "  " << (e.right ? "right" : "wrong") << ": " << e.prompt << " -> " << e.reply << " (answer " << e.answer
        << ")\n";
  return {{"eval_accuracy", a.accuracy}, {"eval_response_len", a.mean_length}, {"eval_stopped", a.stopped}};
}

void RlObjective::set_data_parallel(int rank, int world, Communicator* comm) {
  Objective::set_data_parallel(rank, world, comm);
  GPTCU_USER_CHECK(rl_.prompts_per_rollout % world == 0, "rl.prompts_per_rollout (", rl_.prompts_per_rollout,
                   ") must be divisible by the number of ranks (", world, "): each rank samples its share");
  const int rows = rl_.prompts_per_rollout / world * rows_per_prompt_;
  GPTCU_USER_CHECK(rows % rl_.minibatches == 0, "rl.minibatches (", rl_.minibatches, ") must divide each rank's ",
                   rows, " rollout rows (rl.prompts_per_rollout / ranks x rows per prompt)");
}

std::string RlObjective::data_position(uint64_t index) const {
  const uint64_t r = index / (uint64_t)steps_per_rollout();
  const DataPosition p = train_.position(r, rl_.prompts_per_rollout / dp_world_, dp_world_);
  return "rollout " + std::to_string(r) + " (epoch " + std::to_string(p.epoch) + ", prompt " +
         std::to_string(p.offset) + " of " + std::to_string(train_.size()) + ")";
}

void RlObjective::add_update_metrics(const Tensor& logits, const Tensor& logp, const Tensor& old_logp,
                                     const Tensor& mask_t, const Tensor& policy_loss) {
  const std::vector<float> mask = mask_t.to_vector(), lp = logp.to_vector(), olp = old_logp.to_vector();
  double clipped = 0, approx_kl = 0, n = 0;
  for (size_t i = 0; i < lp.size(); i++) {
    if (mask[i] == 0) continue;
    const double d = (double)lp[i] - olp[i];
    clipped += std::abs(std::exp(d) - 1.0) > rl_.clip_eps;
    approx_kl += 0.5 * d * d;
    n++;
  }
  metrics_.add("policy_loss", policy_loss.item());
  metrics_.add("clip_frac", clipped / n);
  metrics_.add("approx_kl", approx_kl / n);
  autograd::NoGradGuard no_grad;
  const Tensor entropy = ops::token_entropy(logits, m_.policy.config().vocab_size, (float)rl_.temperature);
  metrics_.add("entropy", masked_mean(entropy.to_vector(), mask));
}

// ---- PPO --------------------------------------------------------------------------------

PpoObjective::PpoObjective(Models models, const BpeTokenizer& tokenizer, const PromptDataset& train,
                           const PromptDataset* eval, const RlConfig& rl, uint64_t seed)
    : RlObjective(models, tokenizer, train, eval, rl, 1, seed), kl_{rl.kl_coef, rl.kl_target, rl.kl_horizon} {
  GPTCU_CHECK(models.policy.config().value_head, "PPO: the policy needs a value head (the critic)");
}

void PpoObjective::compute_advantages(Rollout& r) {
  const SeqBatch& b = r.batch;
  const std::vector<float> mask = b.mask.to_vector(), lp = r.old_logp.to_vector(), values = r.old_values.to_vector();
  const std::vector<float> ref = m_.reference ? r.ref_logp.to_vector() : std::vector<float>(lp.size(), 0.0f);
  std::vector<float> rewards(lp.size(), 0.0f);
  double kl_sum = 0;
  for (int i = 0; i < b.B; i++) {
    for (int j = 0; j < b.response_len[i]; j++) {
      const size_t t = (size_t)i * b.T + b.response_start[i] + j;
      const double kl = (double)lp[t] - ref[t];
      kl_sum += kl;
      rewards[t] = (float)(-kl_.coef * kl);
    }
    rewards[(size_t)i * b.T + b.response_start[i] + b.response_len[i] - 1] += r.scores[i];
  }
  std::vector<float> adv, ret;
  gae(rewards, values, mask, b.B, b.T, (float)rl_.gamma, (float)rl_.lam, adv, ret);
  if (rl_.whiten_advantages) whiten(adv, mask);
  r.advantages = Tensor::from_vector(adv, {b.B, b.T});
  r.returns = Tensor::from_vector(ret, {b.B, b.T});
  metrics_.add("kl_coef", kl_.coef);
  if (rl_.kl_target > 0 && m_.reference) {
    double sums[2] = {kl_sum, (double)b.B};  // every rank's rows: the coefficient must agree
    if (dp_comm_) dp_comm_->all_reduce_host(sums, 2, ReduceOp::sum);
    kl_.update(sums[0] / sums[1], (int)sums[1]);
  }
}

Tensor PpoObjective::minibatch_loss(const SeqBatch& sub, const std::vector<int>& rows) {
  GPT& policy = m_.policy;
  const Tensor hidden = policy.hidden_states(sub.tokens);
  const Tensor logits = policy.lm_logits(hidden);
  const float temp = (float)rl_.temperature;
  const Tensor logp = ops::token_logprobs(logits, sub.targets, policy.config().vocab_size, temp);
  const Tensor values = policy.values(hidden);
  const Tensor old_logp = gather_rows(rollout_.old_logp, rows), adv = gather_rows(rollout_.advantages, rows);
  const Tensor old_v = gather_rows(rollout_.old_values, rows), ret = gather_rows(rollout_.returns, rows);
  const Tensor pl = ops::policy_loss(logp, old_logp, adv, sub.mask, (float)rl_.clip_eps);
  const Tensor vl = ops::value_loss(values, old_v, ret, sub.mask, (float)rl_.value_clip_eps);
  add_update_metrics(logits, logp, old_logp, sub.mask, pl);
  metrics_.add("value_loss", vl.item());
  return ops::add(pl, vl, (float)rl_.vf_coef);
}

// ---- GRPO -------------------------------------------------------------------------------

GrpoObjective::GrpoObjective(Models models, const BpeTokenizer& tokenizer, const PromptDataset& train,
                             const PromptDataset* eval, const RlConfig& rl, uint64_t seed)
    : RlObjective(models, tokenizer, train, eval, rl, rl.group_size, seed) {}

void GrpoObjective::compute_advantages(Rollout& r) {
  const SeqBatch& b = r.batch;
  const std::vector<float> group = group_advantages(r.scores, rl_.group_size);
  const std::vector<float> mask = b.mask.to_vector();
  std::vector<float> adv(mask.size(), 0.0f);
  for (int i = 0; i < b.B; i++)
    for (int t = 0; t < b.T; t++) adv[(size_t)i * b.T + t] = mask[(size_t)i * b.T + t] * group[i];
  r.advantages = Tensor::from_vector(adv, {b.B, b.T});
  int64_t zero_groups = 0;  // groups where every sample scored the same: no signal
  for (int g = 0; g < b.B / rl_.group_size; g++) {
    bool same = true;
    for (int k = 1; k < rl_.group_size; k++) same = same && r.scores[g * rl_.group_size + k] == r.scores[g * rl_.group_size];
    zero_groups += same;
  }
  metrics_.add("flat_groups", (double)zero_groups / (double)(b.B / rl_.group_size));
}

Tensor GrpoObjective::minibatch_loss(const SeqBatch& sub, const std::vector<int>& rows) {
  GPT& policy = m_.policy;
  const float temp = (float)rl_.temperature;
  const Tensor logits = policy.forward(sub.tokens);
  const Tensor logp = ops::token_logprobs(logits, sub.targets, policy.config().vocab_size, temp);
  const Tensor old_logp = gather_rows(rollout_.old_logp, rows), adv = gather_rows(rollout_.advantages, rows);
  const bool kl = m_.reference && rl_.kl_coef > 0;
  const Tensor ref = kl ? gather_rows(rollout_.ref_logp, rows) : Tensor();
  const Tensor loss = ops::policy_loss(logp, old_logp, adv, sub.mask, (float)rl_.clip_eps, ref, kl ? (float)rl_.kl_coef : 0.0f);
  add_update_metrics(logits, logp, old_logp, sub.mask, loss);
  return loss;
}

// ---- jobs -------------------------------------------------------------------------------

namespace {

TrainResult run_rl(const Config& config_in, const TrainOptions& options, bool ppo) {
  std::ostream& log = options.log ? *options.log : std::cout;
  StartingPoint start = start_from(config_in, /*value_head=*/ppo, log);
  const Config& config = start.config;
  const RlConfig& rl = config.rl;
  log << "# resolved config\n" << dump_config(config) << "\n";
  check_prepared_data(config, start.tokenizer, "RL reads prompts: prepare --kind rl_prompt");
  const fs::path dir(config.data.path);
  GPTCU_USER_CHECK(fs::exists(dir / "train_prompts.bin"), "data.path '", config.data.path,
                   "' has no train_prompts.bin: prepare prompts with `gptcu data prepare --kind rl_prompt`");
  PromptDataset train_prompts((dir / "train_prompts.bin").string());
  std::unique_ptr<PromptDataset> eval_prompts;
  const std::string eval_path = rl.eval_prompts.empty() ? (dir / "val_prompts.bin").string() : rl.eval_prompts;
  if (!rl.eval_prompts.empty())
    GPTCU_USER_CHECK(fs::exists(eval_path), "rl.eval_prompts: '", eval_path, "' does not exist");
  if (fs::exists(eval_path)) eval_prompts = std::make_unique<PromptDataset>(eval_path);

  std::unique_ptr<GPT> policy = load_model(start.checkpoint, ppo);
  std::unique_ptr<GPT> reference, reward_model;
  const bool want_reference = ppo || rl.kl_coef > 0;
  if (want_reference) {
    const std::string ref_ckpt =
        resolve_checkpoint(rl.reference.empty() ? config.model.init_from : rl.reference, "rl.reference");
    check_same_tokenizer(start.tokenizer, checkpoint_tokenizer(ref_ckpt), "the reference " + ref_ckpt);
    reference = load_model(ref_ckpt, false);
    log << "reference: " << ref_ckpt << "\n";
  }
  if (rl.reward == "model") {
    const std::string rm_ckpt = resolve_checkpoint(rl.reward_model, "rl.reward_model");
    GPTCU_USER_CHECK(checkpoint_config(rm_ckpt).model.value_head, "rl.reward_model: ", rm_ckpt,
                     " has no value head: it is not a reward model (train one with gptcu reward)");
    check_same_tokenizer(start.tokenizer, checkpoint_tokenizer(rm_ckpt), "the reward model " + rm_ckpt);
    reward_model = load_model(rm_ckpt, true);
    log << "reward: model " << rm_ckpt << "\n";
  } else {
    log << "reward: verifier '" << rl.verifier << "' against the prompts' reference answers\n";
  }
  log << "policy: " << policy->config().str() << " | " << train_prompts.size() << " train prompts, "
      << (eval_prompts ? eval_prompts->size() : 0) << " held-out prompts (" << (eval_prompts ? eval_path : "none")
      << ")\n";
  save_run_tokenizer(config, start.tokenizer);
  RlObjective::Models models{*policy, reference.get(), reward_model.get()};
  const uint64_t seed = (uint64_t)config.train.seed;
  std::unique_ptr<RlObjective> objective;
  if (ppo)
    objective = std::make_unique<PpoObjective>(models, start.tokenizer, train_prompts, eval_prompts.get(), rl, seed);
  else
    objective = std::make_unique<GrpoObjective>(models, start.tokenizer, train_prompts, eval_prompts.get(), rl, seed);
  return train(config, *policy, *objective, options);
}

}  // namespace

TrainResult run_ppo(const Config& config, const TrainOptions& options) { return run_rl(config, options, true); }
TrainResult run_grpo(const Config& config, const TrainOptions& options) { return run_rl(config, options, false); }

}  // namespace gptcu
