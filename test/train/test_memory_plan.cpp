// test/train/test_memory_plan.cpp: the memory plan (train/memory_plan.h) against what a real
// forward + backward allocates on the CPU (the allocator's peak), for several (B, T), vocabulary
// sizes and every recompute mode; parameters, gradients and AdamW state against the real buffers;
// largest_micro_batch against the totals; and the GPU's plan against a GPU's peak ([cuda], skipped
// without one).
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "core/allocator.h"
#include "core/autograd.h"
#include "model/gpt.h"
#include "test/kernels/cuda_test_util.h"
#include "test/model/gpt_fixtures.h"
#include "train/adamw.h"
#include "train/memory_plan.h"

using namespace gptcu;

namespace {

GPTConfig small_config(int vocab) { return test::small_gpt_config(64, vocab); }

// Peak bytes above what was held before the batch's token ids were made, over one forward + backward.
int64_t measured_peak(GPT& model, int B, int T, uint32_t seed) {
  const Device dev = model.device();
  model.zero_grad();
  const int64_t before = memory_stats(dev).current_bytes;
  reset_peak_memory(dev);
  const test::TokenBatch batch = test::random_token_batch(model.config(), B, T, seed, false, /*ignore=*/false);
  Tensor tokens = batch.x.to(dev), targets = batch.y.to(dev);
  Tensor loss = model.loss(tokens, targets);
  autograd::backward(loss);
  return memory_stats(dev).peak_bytes - before;
}

const char* kModes[] = {"none", "gelu", "layernorm", "all"};

}  // namespace

TEST_CASE("The activation plan matches a real forward + backward's peak on the CPU", "[memory_plan]") {
  // vocab 100 (Vp 128): a block's backward sets the peak; vocab 2000 (Vp 2048): the logits' gradient does
  for (int vocab : {100, 2000}) {
    GPT model(small_config(vocab));
    model.init_weights(1);
    for (auto [B, T] : {std::pair{1, 64}, {4, 33}, {3, 17}, {8, 64}}) {
      for (const char* mode : kModes) {
        const Recompute rc = Recompute::parse(mode);
        model.set_recompute(rc);
        const int64_t measured = measured_peak(model, B, T, 7);
        MemoryPlanSpec spec{.model = model.config(), .batch = B, .seq = T, .recompute = rc};
        const MemoryPlan plan = plan_memory(spec);
        const int64_t estimate = plan.activations + plan.transient;
        const double err = (double)(estimate - measured) / (double)measured;
        INFO("vocab " << vocab << ", B " << B << ", T " << T << ", recompute " << mode << ": estimate " << estimate
                      << " bytes (activations " << plan.activations << " + backward " << plan.transient
                      << "), measured " << measured << ", error " << err * 100 << "%");
        // The plan is meant to hold to 20%; on the CPU it is exact to a few bytes (measured: the estimate is
        // 4 bytes short in every case here, e.g. 13529092 vs 13529096), so hold it to 1%.
        CHECK(std::abs(err) <= 0.01);
      }
    }
  }
}

TEST_CASE("Parameters, gradients and AdamW state in the plan are the real buffers' bytes", "[memory_plan]") {
  const GPTConfig c = small_config(100);
  const int64_t before = memory_stats(Device{}).current_bytes;
  GPT model(c);
  const int64_t model_bytes = memory_stats(Device{}).current_bytes - before;
  AdamW opt(model, AdamWConfig{});
  const int64_t opt_bytes = memory_stats(Device{}).current_bytes - before - model_bytes;
  const MemoryPlan plan = plan_memory(MemoryPlanSpec{.model = c, .batch = 1});
  CHECK(plan.parameters == (int64_t)model.flat_parameters().nbytes());
  CHECK(plan.parameters + plan.gradients == model_bytes);
  CHECK(plan.optimizer == opt_bytes);  // m and v, fp32
  CHECK(plan.workspace == 0);
  // ZeRO-1 over 4 ranks: a quarter (rounded up) of the moments per rank, and the reduce-scatter's
  // scratch (4 quarters of padded gradients + the averaged quarter; measured in test_data_parallel)
  MemoryPlanSpec sharded{.model = c, .optimizer_shards = 4};
  const int64_t quarter = (model.flat_parameters().numel() + 3) / 4;
  CHECK(plan_memory(sharded).optimizer == quarter * 8 + 5 * quarter * 4);
}

TEST_CASE("GPU plans: bf16 halves activations, flash and recompute shrink them, master weights add fp32",
          "[memory_plan]") {
  GPTConfig gpt2;  // 124M
  MemoryPlanSpec spec{.model = gpt2, .batch = 8, .seq = 1024, .device = Device{Device::cuda, 0},
                      .dtype = DType::bf16, .master_weights = true};
  const MemoryPlan interim = plan_memory(spec);
  CHECK(interim.parameters == (GPT::count_parameters(gpt2) + (50304 - 50257) * 768) * 2);
  CHECK(interim.optimizer == interim.parameters / 2 * 12);  // fp32 master + m + v
  CHECK(interim.workspace == 32 << 20);
  spec.attention = AttentionKind::flash;
  const MemoryPlan flash = plan_memory(spec);
  CHECK(flash.activations < interim.activations);
  // the (B, NH, T, T) probabilities: 8 x 12 x 1024^2 bf16 = 192 MiB per layer, vs lse 8 x 12 x 1024 fp32
  CHECK(interim.per_layer - flash.per_layer == 8ll * 12 * 1024 * 1024 * 2 - 8ll * 12 * 1024 * 4);
  spec.recompute = Recompute::parse("all");
  const MemoryPlan all = plan_memory(spec);
  CHECK(flash.per_layer - all.per_layer == 6ll * 8 * 1024 * 768 * 2);  // 4C GELU + 2 x C LayerNorm
  spec.dtype = DType::f32;
  spec.attention = AttentionKind::materialized;
  spec.master_weights = false;
  CHECK(plan_memory(spec).parameters == interim.parameters * 2);
  const std::string text = all.format(int64_t(80) << 30);
  INFO(text);
  for (const char* part : {"memory plan: cuda:0 bf16, micro-batch 8 x 1024, recompute all, attention flash",
                           "parameters", "gradients", "optimizer", "fp32 master weights", "activations",
                           "backward peak", "workspace", "total", "largest micro-batch that fits"})
    CHECK_THAT(text, Catch::Contains(part));
  CHECK_THROWS(plan_memory(MemoryPlanSpec{.model = gpt2, .dtype = DType::bf16}));  // the CPU is f32
}

TEST_CASE("largest_micro_batch: the largest B whose total fits the budget less the margin, monotone",
          "[memory_plan]") {
  MemoryPlanSpec spec{.model = GPTConfig{}, .seq = 1024, .device = Device{Device::cuda, 0}, .dtype = DType::bf16,
                      .master_weights = true, .attention = AttentionKind::flash};
  auto total = [&](int64_t b) {
    MemoryPlanSpec s = spec;
    s.batch = b;
    return (double)plan_memory(s).total();
  };
  int64_t previous = 0;
  for (int64_t gib : {1, 2, 4, 8, 16, 40, 80}) {
    const int64_t budget = gib << 30;
    const int64_t b = largest_micro_batch(budget, spec);
    INFO(gib << " GiB: B " << b);
    CHECK(b >= previous);
    previous = b;
    const double usable = (1.0 - kMemoryPlanMargin) * (double)budget;
    if (b > 0) CHECK(total(b) <= usable);
    CHECK(total(b + 1) > usable);
  }
  CHECK(largest_micro_batch(int64_t(1) << 30, spec) == 0);  // 124M's weights + AdamW alone need ~1.4 GiB
  CHECK(previous > 8);                                       // 80 GiB takes a sizeable batch
  spec.recompute = Recompute::parse("all");
  CHECK(largest_micro_batch(int64_t(80) << 30, spec) > previous);  // recompute buys a larger batch
}

TEST_CASE("The GPU plan matches a real forward + backward's peak on CUDA", "[cuda][memory_plan]") {
  GPTCU_REQUIRE_GPU();
  const Device gpu{Device::cuda, 0};
  for (DType dtype : {DType::bf16, DType::f32}) {
    GPT model(small_config(2000));
    model.init_weights(1);
    model.to(gpu, dtype);
    for (auto [B, T] : {std::pair{4, 33}, {8, 64}}) {
      for (const char* mode : kModes) {
        const Recompute rc = Recompute::parse(mode);
        model.set_recompute(rc);
        measured_peak(model, B, T, 7);  // first pass: cuBLASLt's workspace and handles are created
        const int64_t measured = measured_peak(model, B, T, 7);
        // the model's attention (auto) is taken as materialized here: small_config's head dim 32 has no
        // flash kernel
        MemoryPlanSpec spec{.model = model.config(), .batch = B, .seq = T, .device = gpu, .dtype = dtype,
                            .recompute = rc};
        const MemoryPlan plan = plan_memory(spec);
        const int64_t estimate = plan.activations + plan.transient;
        const double err = (double)(estimate - measured) / (double)measured;
        INFO(dtype_name(dtype) << ", B " << B << ", T " << T << ", recompute " << mode << ": estimate " << estimate
                               << ", measured " << measured << ", error " << err * 100 << "%");
        CHECK(std::abs(err) <= 0.20);
      }
    }
  }
}
