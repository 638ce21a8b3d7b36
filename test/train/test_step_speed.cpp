// test/train/test_step_speed.cpp: the trainer's speed machinery (issue 6): losses and norms read
// back in batches, staged batches, CUDA graphs and their private memory pool, deterministic runs,
// and the MFU formula. The CPU tests run everywhere; those tagged [cuda] say "skipped" without a GPU.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

#include "core/allocator.h"
#include "core/autograd.h"
#include "data/text_dataset.h"
#include "test/kernels/cuda_test_util.h"
#include "train/cuda_graph.h"
#include "train/perf.h"
#include "train/pretrain.h"

using namespace gptcu;
namespace fs = std::filesystem;

namespace {

Config tiny_config(const std::string& dir, const std::string& device = "cpu") {
  Config c;
  c.device = device;
  c.model.n_layer = 2;
  c.model.n_head = 2;
  c.model.n_embd = 64;  // head dim 32
  c.model.block_size = 16;
  c.train.batch_size = 4;
  c.train.grad_accum_steps = 2;
  c.train.max_steps = 30;
  c.train.lr = 3e-3;
  c.train.min_lr = 1e-3;
  c.train.warmup_steps = 5;
  c.train.eval_every = 0;
  c.train.eval_steps = 2;
  c.train.log_every = 1;
  c.run.dir = dir;
  return c;
}

std::vector<int32_t> pattern_tokens() {
  std::vector<int32_t> ids(4000);
  for (size_t i = 0; i < ids.size(); i++) ids[i] = 'a' + (int)((i * 7 + i / 5) % 11);
  return ids;
}

struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& name) : path(fs::temp_directory_path() / name) { fs::remove_all(path); }
  ~TempDir() { fs::remove_all(path); }
};

struct Run {
  std::vector<nlohmann::json> rows;  // metrics.jsonl
  std::string log;
};

// Trains `c` from seed-1 weights on the pattern corpus; returns metrics.jsonl and the log.
Run train_tiny(const Config& c) {
  fs::remove_all(c.run.dir);
  TextDataset data(pattern_tokens(), 0.1, c.model.block_size, "pattern");
  GPT model(gpt_config(c.model, 257));
  model.init_weights(1);
  PretrainObjective obj(model, data, c.train.batch_size, (uint64_t)c.train.seed);
  std::ostringstream log;
  TrainOptions opt;
  opt.log = &log;
  train(c, model, obj, opt);
  Run r;
  r.log = log.str();
  std::ifstream in(fs::path(c.run.dir) / "metrics.jsonl");
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) r.rows.push_back(nlohmann::json::parse(line));
  return r;
}

std::vector<double> column(const Run& r, const char* key) {
  std::vector<double> v;
  for (const auto& row : r.rows) v.push_back(row.at(key).get<double>());
  return v;
}

}  // namespace

TEST_CASE("losses and norms read back every 7 steps are the numbers read back every step", "[trainer][speed]") {
  TempDir dir("gptcu_test_readback");
  Config every = tiny_config((dir.path / "every").string());
  Config batched = tiny_config((dir.path / "batched").string());
  batched.train.log_every = 7;
  const Run a = train_tiny(every), b = train_tiny(batched);
  REQUIRE(a.rows.size() == 30);
  REQUIRE(b.rows.size() == 30);
  for (size_t i = 0; i < b.rows.size(); i++) CHECK(b.rows[i].at("step").get<int>() == (int)i + 1);  // in order
  CHECK(column(a, "loss") == column(b, "loss"));  // each step's own loss, not a neighbour's
  CHECK(column(a, "grad_norm") == column(b, "grad_norm"));
  CHECK(column(a, "lr") == column(b, "lr"));
  CHECK(column(b, "loss").back() < 0.7 * column(b, "loss").front());  // it learns
  // progress lines at steps 1, 7, 14, 21, 28 and the last
  for (const char* s : {"step     1/30", "step     7/30", "step    28/30", "step    30/30"})
    CHECK(b.log.find(s) != std::string::npos);
  CHECK(b.log.find("step     8/30") == std::string::npos);
}

TEST_CASE("a staged batch gives the loss train_loss gives; CPU graphs run the body each time", "[trainer][speed]") {
  const Config c = tiny_config("unused");
  TextDataset data(pattern_tokens(), 0.1, c.model.block_size, "pattern");
  GPT model(gpt_config(c.model, 257));
  model.init_weights(2);
  PretrainObjective obj(model, data, c.train.batch_size, 7);
  REQUIRE(obj.can_stage());
  autograd::NoGradGuard no_grad;
  for (uint64_t i : {0u, 3u, 11u}) {
    int64_t t1 = 0, t2 = 0;
    const float direct = obj.train_loss(i, &t1).item();
    obj.stage_batch(i, &t2);
    CHECK(obj.staged_loss().item() == direct);
    CHECK(t1 == t2);
  }
  int64_t t = 0;
  obj.stage_batch(0, &t);
  const float l0 = obj.staged_loss().item();
  obj.stage_batch(1, &t);
  CHECK(obj.staged_loss().item() != l0);  // staging replaces the batch
  std::ostringstream log;
  MicroBatchGraph graph(Device{}, log);
  int calls = 0;
  for (int i = 0; i < 3; i++) graph.run([&] { return Tensor::full({1}, (float)++calls); });
  CHECK(calls == 3);
  CHECK_FALSE(graph.captured());
}

TEST_CASE("MFU inputs: 6N + 6LTC per token and the datasheet table", "[trainer][speed]") {
  GPTConfig gpt2;  // GPT-2 124M: 124,439,808 parameters (Hugging Face's count), L 12, C 768, T 1024
  CHECK(GPT::count_parameters(gpt2) == 124439808);
  CHECK(model_flops_per_token(gpt2, 1024) == 6.0 * 124439808 + 6.0 * 12 * 1024 * 768);
  CHECK(model_flops_per_token(gpt2, 512) < model_flops_per_token(gpt2, 1024));
  CHECK(datasheet_bf16_tflops("NVIDIA H100 80GB HBM3") == Approx(989.4));
  CHECK(datasheet_bf16_tflops("NVIDIA H100 PCIe") == Approx(756.0));
  CHECK(datasheet_bf16_tflops("NVIDIA H200") == Approx(989.4));
  CHECK(datasheet_bf16_tflops("NVIDIA A100-SXM4-80GB") == Approx(312.0));
  CHECK(datasheet_bf16_tflops("NVIDIA L40S") == Approx(362.1));
  CHECK(datasheet_bf16_tflops("NVIDIA L4") == Approx(121.0));
  CHECK(datasheet_bf16_tflops("Some Future GPU") == 0.0);
  CHECK(datasheet_bf16_tflops("NVIDIA H100 80GB HBM3, 79.1 GiB, compute capability 9.0") == Approx(989.4));
}

TEST_CASE("private memory pools keep a graph's blocks from other tensors until released", "[cuda][speed]") {
  GPTCU_REQUIRE_GPU();
  const Device gpu{Device::cuda, 0};
  const int64_t n = 1 << 18;  // 1 MiB of f32: its own free list
  const void* inside = nullptr;
  int pool = 0;
  {
    pool = begin_private_pool(gpu);
    Tensor t = Tensor::empty({n}, DType::f32, gpu);
    inside = t.raw();
    end_private_pool(gpu);
  }  // freed after the pool closed: it goes back to the pool, not to the cache
  {
    Tensor u = Tensor::empty({n}, DType::f32, gpu);
    CHECK(u.raw() != inside);
  }
  release_private_pool(gpu, pool);
  bool reused = false;
  std::vector<Tensor> keep;
  for (int i = 0; i < 4 && !reused; i++) {
    keep.push_back(Tensor::empty({n}, DType::f32, gpu));
    reused = keep.back().raw() == inside;
  }
  CHECK(reused);  // released: the cache hands the block out again
}

TEST_CASE("CUDA graphs and deterministic mode: the same losses bit for bit", "[cuda][speed]") {
  GPTCU_REQUIRE_GPU();
  TempDir dir("gptcu_test_graph");
  Config eager = tiny_config((dir.path / "eager").string(), "cuda");
  eager.model.n_embd = 128;  // head dim 64: the flash kernel where the build has it
  eager.train.deterministic = true;
  eager.train.log_every = 5;
  Config graphed = eager;
  graphed.run.dir = (dir.path / "graph").string();
  graphed.train.cuda_graph = true;
  Config again = eager;
  again.run.dir = (dir.path / "again").string();
  const Run a = train_tiny(eager), b = train_tiny(graphed), c = train_tiny(again);
  INFO(b.log);
  CHECK(b.log.find("cuda graph: micro-batch captured") != std::string::npos);
  CHECK(column(a, "loss") == column(c, "loss"));  // deterministic: the same run twice
  CHECK(column(a, "grad_norm") == column(c, "grad_norm"));
  CHECK(column(a, "loss") == column(b, "loss"));  // a replayed graph runs the very same kernels
  CHECK(column(b, "loss").back() < 0.7 * column(b, "loss").front());
  CHECK(a.log.find("MFU") != std::string::npos);
}
