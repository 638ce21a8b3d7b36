// test/core/test_attention_kernel.cpp: the process-wide choice of the GPU attention kernel
// (ops::set_attention_kernel, core/ops.h): set/get, the config spelling's parser, the scope guard,
// and that the setting never changes the CPU path (CPU tensors always run the reference).
// The GPU side (flash against interim in a whole GPT) is in test/train/test_cuda_training.cpp.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "core/autograd.h"
#include "core/ops.h"
#include "core/rng.h"

using namespace gptcu;
using ops::AttentionKernel;

TEST_CASE("attention kernel setting: set/get, scope guard, parser and names", "[attention_kernel]") {
  const AttentionKernel before = ops::attention_kernel();
  {
    ops::AttentionKernelScope scope(AttentionKernel::flash);
    CHECK(ops::attention_kernel() == AttentionKernel::flash);
    ops::set_attention_kernel(AttentionKernel::interim);
    CHECK(ops::attention_kernel() == AttentionKernel::interim);
    {
      ops::AttentionKernelScope inner(AttentionKernel::automatic);
      CHECK(ops::attention_kernel() == AttentionKernel::automatic);
    }
    CHECK(ops::attention_kernel() == AttentionKernel::interim);  // the inner scope restored it
  }
  CHECK(ops::attention_kernel() == before);

  for (AttentionKernel k : {AttentionKernel::automatic, AttentionKernel::flash, AttentionKernel::interim})
    CHECK(ops::parse_attention_kernel(ops::attention_kernel_name(k)) == k);
  CHECK(ops::parse_attention_kernel("auto") == AttentionKernel::automatic);
  CHECK(ops::parse_attention_kernel("flash") == AttentionKernel::flash);
  CHECK(ops::parse_attention_kernel("interim") == AttentionKernel::interim);
  for (const char* bad : {"", "Flash", "automatic", "cudnn"}) {
    INFO("'" << bad << "'");
    try {
      ops::parse_attention_kernel(bad);
      FAIL("accepted");
    } catch (const UserError& e) {
      const std::string msg = e.what();
      CHECK_THAT(msg, Catch::Contains("auto, flash or interim") && Catch::Contains("'" + std::string(bad) + "'"));
      CHECK(msg.find('\n') == std::string::npos);
    }
  }
}

TEST_CASE("attention kernel setting: the CPU path ignores it (flash with f32 and head dim 5 is fine)",
          "[attention_kernel]") {
  // head dim 5 and f32: flash would not apply on a GPU; on the CPU the reference runs regardless.
  const int B = 2, T = 7, C = 10, NH = 2;
  auto run = [&](AttentionKernel k, std::vector<float>& out, std::vector<float>& grad) {
    ops::AttentionKernelScope scope(k);
    Tensor qkv = Tensor::empty({B, T, 3 * C});
    Rng(3, 1).fill_normal(qkv.data<float>(), qkv.numel(), 0.0f, 1.0f);
    qkv.set_requires_grad();
    Tensor y = ops::attention(qkv, NH);
    Tensor w = Tensor::empty({B, T, C});
    Rng(3, 2).fill_normal(w.data<float>(), w.numel(), 0.0f, 1.0f);
    // loss = sum(y * w) through the ops: y reshaped to a row, w as a one-output linear's weight
    Tensor loss = ops::linear(ops::reshape(y, {1, B * T * C}), ops::reshape(w, {B * T * C, 1}), Tensor{});
    autograd::backward(loss);
    out = y.to_vector();
    grad = qkv.grad().to_vector();
  };
  std::vector<float> out_auto, grad_auto;
  run(AttentionKernel::automatic, out_auto, grad_auto);
  for (AttentionKernel k : {AttentionKernel::flash, AttentionKernel::interim}) {
    INFO(ops::attention_kernel_name(k));
    std::vector<float> out, grad;
    run(k, out, grad);
    CHECK(out == out_auto);  // the same reference, bit for bit
    CHECK(grad == grad_auto);
  }
}
