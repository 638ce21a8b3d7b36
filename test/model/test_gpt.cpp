// test/model/test_gpt.cpp: GPT-2 parameters, names, init, forward, weights round trip.
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>

#include "core/autograd.h"
#include "core/ops.h"
#include "model/gpt.h"
#include "model/safetensors.h"
#include "model/weights.h"

using namespace gptcu;

namespace {
GPTConfig tiny() {
  GPTConfig c;
  c.n_layer = 2;
  c.n_head = 2;
  c.n_embd = 16;
  c.block_size = 8;
  c.vocab_size = 37;  // pads to 128
  return c;
}
Tensor tokens(int B, int T, int V, int salt = 0) {
  std::vector<int32_t> ids(B * T);
  for (int i = 0; i < B * T; i++) ids[i] = (i * 7 + 3 + salt) % V;
  return Tensor::from_vector(ids, {B, T});
}
}  // namespace

TEST_CASE("GPT-2 124M has Hugging Face's parameter count", "[gpt]") {
  GPTConfig c;  // defaults: 12 layers, 12 heads, 768 wide, 1024 context, 50257 tokens
  CHECK(c.padded_vocab_size() == 50304);
  CHECK(GPT::count_parameters(c) == 124439808);  // GPT2LMHeadModel.num_parameters()
  c.n_layer = 24, c.n_head = 16, c.n_embd = 1024;
  CHECK(GPT::count_parameters(c) == 354823168);  // gpt2-medium
}

TEST_CASE("parameter names and shapes are GPT2LMHeadModel's", "[gpt]") {
  GPT m(tiny());
  const auto& p = m.parameters();
  REQUIRE(p.size() == 2 + 12 * 2 + 2);
  CHECK(p[0].name == "transformer.wte.weight");
  CHECK(p[0].value.shape() == Shape{128, 16});  // padded; files store the 37 real rows
  CHECK(p[1].name == "transformer.wpe.weight");
  CHECK(m.parameter("transformer.h.1.attn.c_attn.weight").value.shape() == Shape{16, 48});  // Conv1D (in, out)
  CHECK(m.parameter("transformer.h.1.mlp.c_proj.weight").value.shape() == Shape{64, 16});
  CHECK(p.back().name == "transformer.ln_f.bias");
  CHECK(m.parameter("transformer.h.0.mlp.c_fc.weight").weight_decay);
  CHECK_FALSE(m.parameter("transformer.h.0.mlp.c_fc.bias").weight_decay);
  CHECK_FALSE(m.parameter("transformer.h.0.ln_1.weight").weight_decay);
  CHECK_THROWS_AS(GPT(GPTConfig{2, 3, 16, 8, 37}), UserError);  // 16 % 3 != 0
}

TEST_CASE("GPT-2 init: stds, residual scaling, zero padding", "[gpt]") {
  GPTConfig c = tiny();
  c.n_embd = 64, c.n_head = 4, c.n_layer = 8;
  GPT m(c);
  m.init_weights(1);
  auto stdev = [](const Tensor& t) {
    double s = 0, s2 = 0;
    const auto v = t.to_vector();
    for (float x : v) s += x, s2 += (double)x * x;
    return std::sqrt(s2 / v.size() - (s / v.size()) * (s / v.size()));
  };
  CHECK(stdev(m.parameter("transformer.h.0.mlp.c_fc.weight").value) == Approx(0.02).epsilon(0.05));
  CHECK(stdev(m.parameter("transformer.h.0.mlp.c_proj.weight").value) == Approx(0.02 / 4.0).epsilon(0.05));
  CHECK(m.parameter("transformer.h.3.ln_2.weight").value.to_vector() == std::vector<float>(64, 1.0f));
  CHECK(m.parameter("transformer.h.3.attn.c_attn.bias").value.to_vector() == std::vector<float>(192, 0.0f));
  const auto wte = m.parameter("transformer.wte.weight").value.to_vector();
  for (size_t i = (size_t)c.vocab_size * 64; i < wte.size(); i++) REQUIRE(wte[i] == 0.0f);
  GPT m2(c);
  m2.init_weights(1);
  CHECK(m2.flat_parameters().to_vector() == m.flat_parameters().to_vector());
  m2.init_weights(2);
  CHECK(m2.flat_parameters().to_vector() != m.flat_parameters().to_vector());
}

TEST_CASE("forward: shapes, causality, initial loss near ln(V)", "[gpt]") {
  GPT m(tiny());
  m.init_weights(3);
  autograd::NoGradGuard guard;
  Tensor x = tokens(2, 8, 37);
  Tensor logits = m.forward(x);
  CHECK(logits.shape() == Shape{2, 8, 128});
  // changing the last token does not change the logits of earlier positions
  std::vector<int32_t> ids(x.data<int32_t>(), x.data<int32_t>() + 16);
  ids[7] = (ids[7] + 1) % 37;
  Tensor logits2 = m.forward(Tensor::from_vector(ids, {2, 8}));
  const float* a = logits.data<float>();
  const float* b = logits2.data<float>();
  for (int i = 0; i < 7 * 128; i++) REQUIRE(a[i] == b[i]);
  bool last_changed = false;
  for (int i = 7 * 128; i < 8 * 128; i++) last_changed |= a[i] != b[i];
  CHECK(last_changed);
  // small init -> nearly uniform predictions over the real vocabulary
  CHECK(m.loss(x, tokens(2, 8, 37, 1)).item() == Approx(std::log(37.0)).epsilon(0.02));
  // a sequence longer than the context is a clear error
  CHECK_THROWS_AS(m.forward(tokens(1, 9, 37)), UserError);
}

TEST_CASE("backward fills every parameter gradient and matches finite differences", "[gpt]") {
  GPT m(tiny());
  m.init_weights(4);
  Tensor x = tokens(2, 5, 37), y = tokens(2, 5, 37, 5);
  m.zero_grad();
  autograd::backward(m.loss(x, y));
  for (const Parameter& p : m.parameters()) {
    double norm = 0;
    for (float g : p.value.grad().to_vector()) norm += (double)g * g;
    INFO(p.name);
    CHECK(norm > 0);
  }
  // the padded vocabulary rows get no gradient
  const auto gw = m.parameter("transformer.wte.weight").value.grad().to_vector();
  for (size_t i = 37 * 16; i < gw.size(); i++) REQUIRE(gw[i] == 0.0f);
  // spot-check a few weights with central differences of the fp32 loss
  autograd::NoGradGuard guard;
  for (const char* name : {"transformer.h.0.attn.c_attn.weight", "transformer.h.1.mlp.c_fc.bias",
                           "transformer.wpe.weight", "transformer.ln_f.weight"}) {
    Tensor w = m.parameter(name).value;
    const auto g = w.grad().to_vector();
    for (int64_t i : {int64_t(0), w.numel() / 2, w.numel() - 1}) {
      float* pw = w.data<float>() + i;
      const float saved = *pw, eps = 2e-3f;
      *pw = saved + eps;
      const double lp = m.loss(x, y).item();
      *pw = saved - eps;
      const double lm = m.loss(x, y).item();
      *pw = saved;
      INFO(name << "[" << i << "]");
      CHECK(g[i] == Approx((lp - lm) / (2 * eps)).margin(3e-4).epsilon(3e-2));
    }
  }
}

TEST_CASE("weights round-trip through safetensors with HF names", "[gpt]") {
  const auto dir = std::filesystem::temp_directory_path() / "gptcu_test_weights";
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "model.safetensors").string();
  GPT a(tiny());
  a.init_weights(5);
  save_weights(a, path);
  SafetensorsFile f(path);
  CHECK(f.get("transformer.wte.weight").shape == std::vector<int64_t>{37, 16});  // real rows only
  CHECK_FALSE(f.contains("lm_head.weight"));  // tied
  GPT b(tiny());
  load_weights(b, path);
  CHECK(b.flat_parameters().to_vector() == a.flat_parameters().to_vector());
  // a model of another shape refuses the file, naming the tensor
  GPTConfig other = tiny();
  other.n_layer = 1;
  GPT c(other);
  CHECK_THROWS_WITH(load_weights(c, path), Catch::Contains("transformer.h.1"));
  other = tiny();
  other.n_embd = 32;
  GPT d(other);
  CHECK_THROWS_WITH(load_weights(d, path), Catch::Contains("shape"));
  std::filesystem::remove_all(dir);
}
