// test/train/test_trainer.cpp: LR schedule, AdamW on a model, the trainer loop (it learns,
// it stops on NaN), and checkpoints.
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "core/autograd.h"
#include "data/text_dataset.h"
#include "train/adamw.h"
#include "train/checkpoint.h"
#include "train/pretrain.h"
#include "train/schedule.h"

using namespace gptcu;
namespace fs = std::filesystem;

namespace {
Config tiny_config(const std::string& dir) {
  Config c;
  c.model.n_layer = 1;
  c.model.n_head = 2;
  c.model.n_embd = 16;
  c.model.block_size = 8;
  c.train.batch_size = 4;
  c.train.max_steps = 200;
  c.train.lr = 3e-3;  // 1e-2 stalls this 16-wide model at the unigram loss ln 3 (seen)
  c.train.min_lr = 1e-3;
  c.train.warmup_steps = 5;
  c.train.eval_every = 20;
  c.train.eval_steps = 2;
  c.train.log_every = 1000;
  c.run.dir = dir;
  return c;
}
// a corpus with an obvious pattern: "abcabcabc..."
std::vector<int32_t> pattern_tokens() {
  std::vector<int32_t> ids(3000);
  for (size_t i = 0; i < ids.size(); i++) ids[i] = 'a' + (int)(i % 3);
  return ids;
}
struct TempDir {
  fs::path path;
  explicit TempDir(const char* name) : path(fs::temp_directory_path() / name) { fs::remove_all(path); }
  ~TempDir() { fs::remove_all(path); }
};
}  // namespace

TEST_CASE("LR schedule: warm-up, cosine to min_lr, then flat", "[schedule]") {
  LrSchedule s{"cosine", 1e-3, 1e-4, 100, 2000};
  CHECK(s.at(0) == Approx(1e-5));      // lr * 1/100
  CHECK(s.at(99) == Approx(1e-3));     // end of warm-up
  CHECK(s.at(100) == Approx(1e-3));    // cosine starts at the top
  CHECK(s.at(1050) == Approx(5.5e-4)); // halfway: (lr + min_lr) / 2
  CHECK(s.at(2000) == Approx(1e-4));
  CHECK(s.at(5000) == Approx(1e-4));
  LrSchedule lin{"linear", 1.0, 0.0, 0, 10};
  CHECK(lin.at(5) == Approx(0.5));
  LrSchedule cst{"constant", 0.3, 0.0, 2, 10};
  CHECK(cst.at(0) == Approx(0.15));
  CHECK(cst.at(9) == Approx(0.3));
}

TEST_CASE("AdamW: one step by hand; decay on 2-D weights only; clipping", "[adamw]") {
  GPT m(GPTConfig{1, 2, 8, 4, 11});
  m.init_weights(1);
  Parameter& w = m.parameter("transformer.h.0.mlp.c_fc.weight");
  Parameter& b = m.parameter("transformer.h.0.mlp.c_fc.bias");
  b.value.fill(0.5f);
  const float w0 = w.value.data<float>()[3], b0 = b.value.data<float>()[3];
  m.zero_grad();
  m.flat_gradients().fill(0.0f);
  w.value.grad().data<float>()[3] = 0.2f;
  b.value.grad().data<float>()[3] = -0.1f;
  AdamW opt(m, AdamWConfig{0.9, 0.95, 1e-8, 0.1, /*clip*/ 0.0});
  const double norm = opt.step(0.01);
  CHECK(norm == Approx(std::sqrt(0.04 + 0.01)));
  // step 1: mhat = g, vhat = g^2 -> update = g/|g| = sign(g)
  CHECK(w.value.data<float>()[3] == Approx(w0 - 0.01 * (1.0 + 0.1 * w0)));
  CHECK(b.value.data<float>()[3] == Approx(b0 + 0.01));  // no decay on biases
  CHECK(b.value.data<float>()[2] == 0.5f);  // zero gradient, no decay: unchanged
  CHECK(opt.steps_taken() == 1);
  // clipping scales the gradient, which step 1 of Adam cannot see (sign), but the moments can
  GPT m2(GPTConfig{1, 2, 8, 4, 11});
  m2.zero_grad();
  m2.parameter("transformer.h.0.mlp.c_fc.bias").value.grad().data<float>()[0] = 10.0f;
  AdamW clipped(m2, AdamWConfig{0.9, 0.95, 1e-8, 0.0, 1.0});
  CHECK(clipped.step(0.01) == Approx(10.0));
  const int64_t off = m2.parameter("transformer.h.0.mlp.c_fc.bias").value.data<float>() - m2.flat_parameters().data<float>();
  CHECK(clipped.exp_avg().data<float>()[off] == Approx(0.1 * 1.0));  // (1 - beta1) * clipped grad 1.0
}

TEST_CASE("the trainer learns a repeating pattern", "[trainer]") {
  TempDir dir("gptcu_test_learn");
  Config c = tiny_config(dir.path.string());
  TextDataset data(pattern_tokens(), 0.1, c.model.block_size, "abc");
  GPT model(gpt_config(c.model, 257));
  model.init_weights(1);
  PretrainObjective obj(model, data, c.train.batch_size, 1);
  std::ostringstream log;
  TrainOptions opt;
  opt.log = &log;
  const double before = [&] { autograd::NoGradGuard g; return obj.eval_loss(0); }();
  const TrainResult r = train(c, model, obj, opt);
  CHECK(before > 5.0);               // ~ln(257) at init
  CHECK(r.final_val_loss < 0.3);     // the next token is determined by the current one (ln 3 = 1.1 without it)
  CHECK(r.final_step == 200);
  CHECK(fs::exists(dir.path / "metrics.jsonl"));
  CHECK(fs::exists(dir.path / "config.yaml"));
  CHECK(find_latest_checkpoint(dir.path.string()).find("step_00000200") != std::string::npos);
  CHECK(log.str().find("ETA") != std::string::npos);
}

namespace {
// An objective whose loss becomes NaN at a given micro-batch.
class NanObjective : public Objective {
 public:
  NanObjective(GPT& m, const TextDataset& d, uint64_t nan_at) : inner_(m, d, 4, 1), nan_at_(nan_at) {}
  Tensor train_loss(uint64_t index, int64_t* tokens) override {
    Tensor l = inner_.train_loss(index, tokens);
    if (index == nan_at_) l.data<float>()[0] = std::numeric_limits<float>::quiet_NaN();
    return l;
  }
  double eval_loss(uint64_t index) override { return inner_.eval_loss(index); }

 private:
  PretrainObjective inner_;
  uint64_t nan_at_;
};
}  // namespace

TEST_CASE("a NaN loss stops the run naming the step and the last good checkpoint", "[trainer]") {
  TempDir dir("gptcu_test_nan");
  Config c = tiny_config(dir.path.string());
  c.train.checkpoint_every = 10;
  TextDataset data(pattern_tokens(), 0.1, 8, "abc");
  GPT model(gpt_config(c.model, 257));
  model.init_weights(1);
  NanObjective obj(model, data, 14);  // step 15
  std::ostringstream log;
  TrainOptions opt;
  opt.log = &log;
  CHECK_THROWS_WITH(train(c, model, obj, opt),
                    Catch::Contains("step 15") && Catch::Contains("step_00000010"));
  // nothing poisoned was saved: the newest checkpoint is still step 10
  CHECK(find_latest_checkpoint(dir.path.string()).find("step_00000010") != std::string::npos);
  // the NaN was read back at step 20 (the next checkpoint); the good steps 11-14 before it still
  // have their rows, and no row of step 15 or later exists
  std::ifstream metrics(dir.path / "metrics.jsonl");
  std::vector<int> steps;
  for (std::string line; std::getline(metrics, line);) {
    const auto at = line.find("\"step\":");
    REQUIRE(at != std::string::npos);
    steps.push_back(std::stoi(line.substr(at + 7)));
  }
  REQUIRE(steps.size() == 14);
  for (int i = 0; i < 14; i++) CHECK(steps[i] == i + 1);
}

TEST_CASE("checkpoints: round trip, newest complete one wins, partial writes ignored", "[checkpoint]") {
  TempDir dir("gptcu_test_ckpt");
  Config c = tiny_config(dir.path.string());
  GPT model(gpt_config(c.model, 257));
  model.init_weights(2);
  AdamW opt(model, AdamWConfig{});
  model.flat_gradients().fill(0.01f);
  // the padded vocabulary rows never get a gradient in training (and files don't store them)
  Tensor wte_grad = model.parameter("transformer.wte.weight").value.grad();
  for (int64_t i = 257 * 16; i < wte_grad.numel(); i++) wte_grad.data<float>()[i] = 0.0f;
  opt.step(1e-3);
  TrainerState st{7, 21, 1.5};
  const std::string p7 = save_checkpoint(dir.path.string(), model, opt, st, c, 2);
  st.step = 9;
  const std::string p9 = save_checkpoint(dir.path.string(), model, opt, st, c, 2);
  // an interrupted write: a .tmp- directory with a truncated file
  fs::create_directories(dir.path / "checkpoints" / ".tmp-step_00000012-999");
  std::ofstream(dir.path / "checkpoints" / ".tmp-step_00000012-999" / "model.safetensors") << "trunc";
  CHECK(find_latest_checkpoint(dir.path.string()) == p9);
  CHECK(find_latest_checkpoint(p7) == p7);
  GPT loaded(gpt_config(c.model, 257));
  AdamW opt2(loaded, AdamWConfig{});
  TrainerState st2;
  load_checkpoint(p9, loaded, &opt2, &st2);
  CHECK(loaded.flat_parameters().to_vector() == model.flat_parameters().to_vector());
  CHECK(opt2.exp_avg_sq().to_vector() == opt.exp_avg_sq().to_vector());
  CHECK(opt2.steps_taken() == 1);
  CHECK(st2.step == 9);
  CHECK(st2.train_batches == 21);
  CHECK(checkpoint_config(p9).model.n_embd == 16);
  // keep = 2: a third save removes the oldest
  st.step = 11;
  save_checkpoint(dir.path.string(), model, opt, st, c, 2);
  CHECK_FALSE(fs::exists(p7));
  remove_partial_checkpoints(dir.path.string());
  CHECK_FALSE(fs::exists(dir.path / "checkpoints" / ".tmp-step_00000012-999"));
  // another model shape refuses the checkpoint, naming both
  ModelConfig other = c.model;
  other.n_layer = 2;
  GPT wrong(gpt_config(other, 257));
  CHECK_THROWS_WITH(load_checkpoint(p9, wrong, nullptr, nullptr),
                    Catch::Contains("n_layer=1") && Catch::Contains("n_layer=2"));
  CHECK_THROWS_AS(find_latest_checkpoint((dir.path / "nope").string()), UserError);
}
