// test/train/test_post.cpp: post-training: batches of prompt ++ response, the SFT mask, and
// that the reward model, DPO, PPO and GRPO each learn what they should on tiny hand-made data.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <sstream>

#include "core/autograd.h"
#include "core/ops.h"
#include "data/chat_template.h"
#include "data/shard.h"
#include "eval/generate.h"
#include "train/adamw.h"
#include "train/checkpoint.h"
#include "train/dpo.h"
#include "train/post_common.h"
#include "train/pretrain.h"
#include "train/reward.h"
#include "train/rl.h"

using namespace gptcu;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path;
  explicit TempDir(const char* name) : path(fs::temp_directory_path() / name) { fs::remove_all(path); fs::create_directories(path); }
  ~TempDir() { fs::remove_all(path); }
};

BpeTokenizer chat_tokenizer() {
  BpeTokenizer tok = BpeTokenizer::bytes();
  ChatTemplate::add_specials(tok);
  return tok;
}

GPTConfig tiny_gpt(int vocab, bool value_head = false) {
  GPTConfig g;
  g.n_layer = 1;
  g.n_head = 2;
  g.n_embd = 16;
  g.block_size = 16;
  g.vocab_size = vocab;
  g.value_head = value_head;
  return g;
}

Config tiny_run(const std::string& dir, int steps) {
  Config c;
  c.train.batch_size = 8;
  c.train.max_steps = steps;
  c.train.lr = 1e-2;
  c.train.min_lr = 1e-2;
  c.train.lr_schedule = "constant";
  c.train.warmup_steps = 0;
  c.train.weight_decay = 0;
  c.train.eval_every = 0;
  c.train.log_every = 1000;
  c.run.dir = dir;
  return c;
}

std::vector<int32_t> ids(std::initializer_list<int> v) { return std::vector<int32_t>(v.begin(), v.end()); }

// The reply text of each generation (stop token dropped).
std::string reply_text(const BpeTokenizer& tok, const Generation& g) {
  std::vector<int32_t> t = g.tokens;
  if (g.stopped && !t.empty()) t.pop_back();
  return tok.decode(t);
}

// Trains `model` (by plain next-token loss on the chat rendering) to answer the user message "q"
// with "a", "b" or "c", uniformly: a policy whose reward "answer a" starts near 1/3.
void train_uniform_answers(GPT& model, const BpeTokenizer& tok) {
  const ChatTemplate chat(tok);
  std::vector<int32_t> x, y;
  const char* answers[3] = {"a", "b", "c"};
  int T = 0;
  for (int row = 0; row < 12; row++) {
    std::vector<int32_t> t;
    std::vector<uint8_t> m;
    chat.render({{"user", "q"}, {"assistant", answers[row % 3]}}, t, m);
    T = (int)t.size() - 1;
    for (int i = 0; i < T; i++) {
      x.push_back(t[i]);
      y.push_back(m[i + 1] ? t[i + 1] : -1);
    }
  }
  const Tensor xt = Tensor::from_vector(x, {12, T}), yt = Tensor::from_vector(y, {12, T});
  AdamW opt(model, AdamWConfig{0.9, 0.95, 1e-8, 0.0, 1.0});
  for (int step = 0; step < 150; step++) {
    model.zero_grad();
    autograd::backward(model.loss(xt, yt));
    opt.step(1e-2);
  }
}

// Fraction of `n` sampled replies (temperature 1) to the prompt that are exactly `want`.
double sampled_rate(GPT& model, const BpeTokenizer& tok, const std::vector<int32_t>& prompt, const std::string& want,
                    int n, uint64_t seed) {
  SampleOptions so;
  so.max_new_tokens = 3;
  so.temperature = 1.0f;
  so.seed = seed;
  so.stop_tokens = {ChatTemplate(tok).ids().end};
  so.vocab_limit = tok.vocab_size();
  const auto gens = generate_batch(model, std::vector<std::vector<int32_t>>(n, prompt), so);
  int hits = 0;
  for (const auto& g : gens) hits += g.stopped && reply_text(tok, g) == want;
  return (double)hits / n;
}

// A prompt shard with `n` copies of the chat prompt "q", reference answer "a".
std::string write_prompts(const fs::path& dir, const BpeTokenizer& tok, int n) {
  const std::string path = (dir / "train_prompts.bin").string();
  RecordShardWriter w(path, RecordShardKind::prompt, tok.vocab_size());
  const std::vector<int32_t> p = ChatTemplate(tok).prompt({{"user", "q"}});
  for (int i = 0; i < n; i++) w.add_prompt(p, "a");
  w.finish();
  return path;
}

// Preference pairs: prompt "q", the reply "a" preferred over "b".
std::string write_pairs(const fs::path& dir, const BpeTokenizer& tok, const char* name, int n) {
  const std::string path = (dir / name).string();
  RecordShardWriter w(path, RecordShardKind::preference, tok.vocab_size());
  const ChatTemplate chat(tok);
  const char* rejected[3] = {"b", "c", "ab"};
  for (int i = 0; i < n; i++) w.add_preference(chat.prompt({{"user", "q"}}), chat.reply("a"), chat.reply(rejected[i % 3]));
  w.finish();
  return path;
}

void copy_weights(const GPT& from, GPT& to) {
  // the parameter order is the same; a value head comes last, so a prefix of the flat buffer
  const int64_t n = std::min(from.flat_parameters().numel(), to.flat_parameters().numel());
  std::memcpy(to.flat_parameters().raw(), from.flat_parameters().raw(), (size_t)n * sizeof(float));
}

}  // namespace

std::vector<int32_t> i32(const Tensor& t) { return std::vector<int32_t>(t.data<int32_t>(), t.data<int32_t>() + t.numel()); }

TEST_CASE("make_seq_batch pads right and puts targets at the positions that predict the reply", "[post]") {
  const SeqBatch b = make_seq_batch({ids({1, 2, 3}), ids({4})}, {ids({5, 6}), ids({7, 8, 9})}, /*pad=*/0, 16);
  REQUIRE(b.B == 2);
  REQUIRE(b.T == 5);
  CHECK(i32(b.tokens) == ids({1, 2, 3, 5, 6, /**/ 4, 7, 8, 9, 0}));
  // position t predicts token t+1: the reply [5, 6] is predicted at positions 2 and 3
  CHECK(i32(b.targets) == ids({-1, -1, 5, 6, -1, /**/ 7, 8, 9, -1, -1}));
  CHECK(b.mask.to_vector() == std::vector<float>{0, 0, 1, 1, 0, /**/ 1, 1, 1, 0, 0});
  CHECK(i32(b.last) == ids({4, 3}));
  CHECK(b.response_start == std::vector<int>{2, 0});
  CHECK(b.truncated == 0);
  // too long for the context: the prompt loses its oldest tokens, counted
  const SeqBatch t = make_seq_batch({ids({1, 2, 3})}, {ids({5, 6})}, 0, 4);
  CHECK(i32(t.tokens) == ids({2, 3, 5, 6}));
  CHECK(i32(t.targets) == ids({-1, 5, 6, -1}));
  CHECK(t.truncated == 1);
  const SeqBatch s = select_rows(b, {1});
  CHECK(i32(s.tokens) == ids({4, 7, 8, 9, 0}));
  CHECK(s.response_len == std::vector<int>{3});
}

TEST_CASE("the SFT loss counts only assistant tokens", "[post][sft]") {
  const BpeTokenizer tok = chat_tokenizer();
  const ChatTemplate chat(tok);
  std::vector<int32_t> t;
  std::vector<uint8_t> m;
  chat.render({{"system", "be brief"}, {"user", "hi"}, {"assistant", "yo"}, {"user", "2+2"}, {"assistant", "4"}}, t, m);
  // assistant targets: "y", "o", <|end|>, "4", <|end|>
  int counted = 0;
  for (uint8_t v : m) counted += v;
  REQUIRE(counted == 5);
  const int T = (int)t.size() - 1;
  std::vector<int32_t> x(t.begin(), t.end() - 1), y(T);
  for (int i = 0; i < T; i++) y[i] = m[i + 1] ? t[i + 1] : -1;  // what the dialogue shards' loader gives
  GPTConfig gc = tiny_gpt(tok.vocab_size());
  gc.block_size = 32;
  GPT model(gc);
  model.init_weights(7);
  autograd::NoGradGuard g;
  const Tensor xt = Tensor::from_vector(x, {1, T});
  const float sft = model.loss(xt, Tensor::from_vector(y, {1, T})).item();
  // by hand: mean of the per-token losses at the five assistant positions
  std::vector<int32_t> all(t.begin() + 1, t.end());
  const std::vector<float> per = ops::cross_entropy_per_token(model.forward(xt), Tensor::from_vector(all, {1, T}),
                                                              model.config().vocab_size).to_vector();
  double sum = 0;
  for (int i = 0; i < T; i++)
    if (m[i + 1]) sum += per[i];
  CHECK(sft == Approx(sum / 5).epsilon(1e-5));
  // changing a user token's target changes nothing
  double all_mean = 0;
  for (float v : per) all_mean += v;
  CHECK(std::abs(sft - all_mean / T) > 1e-3);
}

TEST_CASE("the reward model learns to prefer the chosen reply", "[post][reward]") {
  TempDir dir("gptcu_test_reward");
  const BpeTokenizer tok = chat_tokenizer();
  const PreferenceDataset train_pairs(write_pairs(dir.path, tok, "train_pairs.bin", 48));
  const PreferenceDataset val_pairs(write_pairs(dir.path, tok, "val_pairs.bin", 12));
  GPT model(tiny_gpt(tok.vocab_size(), /*value_head=*/true));
  model.init_weights(3);
  RewardObjective obj(model, train_pairs, &val_pairs, 8, 1, 0.0f, ChatTemplate(tok).ids().pad);
  std::ostringstream log;
  const auto before = obj.evaluate(1, log);
  CHECK(before[0].name == "val_loss");
  CHECK(before[0].value == Approx(std::log(2.0)).epsilon(1e-4));  // the head starts at zero: r = 0 for all
  Config c = tiny_run((dir.path / "run").string(), 40);
  TrainOptions opt;
  opt.log = &log;
  const TrainResult r = train(c, model, obj, opt);
  double acc = -1;
  for (const Metric& m : r.final_eval)
    if (m.name == "val_accuracy") acc = m.value;
  CHECK(acc == 1.0);
  CHECK(r.final_val_loss < 0.2);
  // scores through the shared scorer agree with the objective
  const ChatTemplate chat(tok);
  const auto s = score_responses(model, {chat.prompt({{"user", "q"}}), chat.prompt({{"user", "q"}})},
                                 {chat.reply("a"), chat.reply("b")}, chat.ids().pad, 2);
  CHECK(s[0] > s[1]);
}

TEST_CASE("DPO raises the implicit reward of the chosen reply", "[post][dpo]") {
  TempDir dir("gptcu_test_dpo");
  const BpeTokenizer tok = chat_tokenizer();
  const PreferenceDataset train_pairs(write_pairs(dir.path, tok, "train_pairs.bin", 48));
  const PreferenceDataset val_pairs(write_pairs(dir.path, tok, "val_pairs.bin", 12));
  GPT policy(tiny_gpt(tok.vocab_size())), reference(tiny_gpt(tok.vocab_size()));
  policy.init_weights(5);
  train_uniform_answers(policy, tok);
  copy_weights(policy, reference);
  DpoObjective obj(policy, reference, train_pairs, &val_pairs, 8, 1, 0.5f, ChatTemplate(tok).ids().pad);
  std::ostringstream log;
  const auto before = obj.evaluate(1, log);
  CHECK(before[0].value == Approx(std::log(2.0)).epsilon(1e-4));  // policy == reference: margin 0
  const std::vector<int32_t> prompt = ChatTemplate(tok).prompt({{"user", "q"}});
  const double rate_before = sampled_rate(policy, tok, prompt, "a", 200, 11);
  Config c = tiny_run((dir.path / "run").string(), 60);
  c.train.lr = c.train.min_lr = 3e-3;
  TrainOptions opt;
  opt.log = &log;
  const TrainResult r = train(c, policy, obj, opt);
  double margin = 0, acc = 0;
  for (const Metric& m : r.final_eval) {
    if (m.name == "val_reward_margin") margin = m.value;
    if (m.name == "val_reward_accuracy") acc = m.value;
  }
  CHECK(margin > 0.5);
  CHECK(acc == 1.0);
  CHECK(r.final_val_loss < 0.5);
  const double rate_after = sampled_rate(policy, tok, prompt, "a", 200, 11);
  INFO("P(a) before " << rate_before << ", after " << rate_after);
  CHECK(rate_after > rate_before + 0.2);
}

namespace {
// A tiny RL run: the policy answers a/b/c uniformly; the verifier pays 1 for "a".
double rl_gain(bool ppo, double* before_out, double* after_out, std::string* log_out) {
  TempDir dir(ppo ? "gptcu_test_ppo" : "gptcu_test_grpo");
  const BpeTokenizer tok = chat_tokenizer();
  const PromptDataset prompts(write_prompts(dir.path, tok, 64));
  GPT policy(tiny_gpt(tok.vocab_size(), /*value_head=*/ppo)), reference(tiny_gpt(tok.vocab_size()));
  policy.init_weights(5);
  train_uniform_answers(policy, tok);
  copy_weights(policy, reference);
  RlConfig rl;
  rl.prompts_per_rollout = ppo ? 16 : 4;
  rl.group_size = 4;
  rl.epochs = 2;
  rl.minibatches = 2;
  rl.max_new_tokens = 3;
  rl.kl_coef = 0.01;
  const std::vector<int32_t> prompt = ChatTemplate(tok).prompt({{"user", "q"}});
  *before_out = sampled_rate(policy, tok, prompt, "a", 200, 11);
  RlObjective::Models models{policy, &reference, nullptr};
  std::unique_ptr<RlObjective> obj;
  if (ppo) obj = std::make_unique<PpoObjective>(models, tok, prompts, &prompts, rl, 1);
  else obj = std::make_unique<GrpoObjective>(models, tok, prompts, &prompts, rl, 1);
  Config c = tiny_run((dir.path / "run").string(), 40);
  c.train.lr = c.train.min_lr = 3e-3;
  c.train.log_every = 4;
  std::ostringstream log;
  TrainOptions opt;
  opt.log = &log;
  const TrainResult r = train(c, policy, *obj, opt);
  *after_out = sampled_rate(policy, tok, prompt, "a", 200, 11);
  *log_out = log.str();
  double eval_acc = -1;
  for (const Metric& m : r.final_eval)
    if (m.name == "eval_accuracy") eval_acc = m.value;
  return eval_acc;
}
}  // namespace

TEST_CASE("a tiny GRPO run raises its mean reward", "[post][grpo]") {
  double before = 0, after = 0;
  std::string log;
  const double eval_acc = rl_gain(false, &before, &after, &log);
  INFO(log);
  INFO("P(a) before " << before << ", after " << after);
  CHECK(before < 0.6);
  CHECK(after > before + 0.25);
  CHECK(eval_acc == 1.0);  // greedy on the training prompt
  CHECK(log.find("entropy") != std::string::npos);
}

TEST_CASE("a tiny PPO run raises its mean reward", "[post][ppo]") {
  double before = 0, after = 0;
  std::string log;
  const double eval_acc = rl_gain(true, &before, &after, &log);
  INFO(log);
  INFO("P(a) before " << before << ", after " << after);
  CHECK(before < 0.6);
  CHECK(after > before + 0.25);
  CHECK(eval_acc == 1.0);
  for (const char* metric : {"value_loss", "clip_frac", "kl", "response_len", "reward"})
    CHECK(log.find(metric) != std::string::npos);
}

TEST_CASE("a NaN reward stops RL naming the step, without saving", "[post][ppo]") {
  TempDir dir("gptcu_test_nan_reward");
  const BpeTokenizer tok = chat_tokenizer();
  const PromptDataset prompts(write_prompts(dir.path, tok, 16));
  GPT policy(tiny_gpt(tok.vocab_size())), rm(tiny_gpt(tok.vocab_size(), true));
  policy.init_weights(5);
  rm.init_weights(5);
  rm.parameter("score.weight").value.data<float>()[0] = std::numeric_limits<float>::quiet_NaN();
  RlConfig rl;
  rl.prompts_per_rollout = 2;
  rl.group_size = 2;
  rl.max_new_tokens = 2;
  rl.kl_coef = 0;
  GrpoObjective obj({policy, nullptr, &rm}, tok, prompts, nullptr, rl, 1);
  Config c = tiny_run((dir.path / "run").string(), 4);
  std::ostringstream log;
  TrainOptions opt;
  opt.log = &log;
  CHECK_THROWS_WITH(train(c, policy, obj, opt), Catch::Contains("reward is not finite") && Catch::Contains("step 1") &&
                                                    Catch::Contains("Last good checkpoint: none"));
  CHECK(find_latest_checkpoint((dir.path / "run").string()).empty());
}
