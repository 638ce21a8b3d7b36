// test/core/test_cached_ops.cpp: the generation ops, embedding_at and attention_cached, against
// the training ops they must agree with (embedding, attention).
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "core/autograd.h"
#include "core/ops.h"
#include "core/rng.h"

using namespace gptcu;

namespace {
Tensor randn(const Shape& shape, uint64_t stream) {
  Tensor t = Tensor::empty(shape);
  Rng(7, stream).fill_normal(t.data<float>(), t.numel(), 0.0f, 1.0f);
  return t;
}
// |a - b| <= atol + rtol |b| everywhere (fp32 tolerances of DESIGN.md)
void check_close(const float* a, const float* b, int64_t n, double atol = 1e-5, double rtol = 1e-5) {
  for (int64_t i = 0; i < n; i++) {
    INFO("element " << i << ": " << a[i] << " vs " << b[i]);
    REQUIRE(std::abs((double)a[i] - b[i]) <= atol + rtol * std::abs((double)b[i]));
  }
}
}  // namespace

TEST_CASE("embedding_at adds the given positions, equals embedding for 0..T-1", "[cached_ops]") {
  autograd::NoGradGuard no_grad;
  const int B = 2, T = 3, C = 5, V = 7, maxT = 6;
  const Tensor wte = randn({V, C}, 1), wpe = randn({maxT, C}, 2);
  const Tensor tok = Tensor::from_vector(std::vector<int32_t>{1, 6, 0, 3, 3, 2}, {B, T});
  const Tensor plain = ops::embedding(tok, wte, wpe);
  const Tensor same = ops::embedding_at(tok, Tensor::from_vector(std::vector<int32_t>{0, 1, 2, 0, 1, 2}, {B, T}), wte, wpe);
  CHECK(plain.to_vector() == same.to_vector());
  const std::vector<int32_t> pos = {4, 5, 0, 2, 3, 4};
  const std::vector<float> out = ops::embedding_at(tok, Tensor::from_vector(pos, {B, T}), wte, wpe).to_vector();
  const std::vector<int32_t> ids = {1, 6, 0, 3, 3, 2};
  for (int i = 0; i < B * T; i++)
    for (int c = 0; c < C; c++)
      CHECK(out[i * C + c] == wte.data<float>()[ids[i] * C + c] + wpe.data<float>()[pos[i] * C + c]);
  CHECK_THROWS_AS(ops::embedding_at(tok, Tensor::from_vector(std::vector<int32_t>{0, 1, 6, 0, 1, 2}, {B, T}), wte, wpe),
                  Error);  // position 6 outside the context of 6
  CHECK_THROWS_AS(ops::embedding_at(tok, Tensor::from_vector(std::vector<int32_t>{0, 1, -1, 0, 1, 2}, {B, T}), wte, wpe),
                  Error);
  CHECK_THROWS_AS(ops::embedding_at(tok, Tensor::from_vector(std::vector<int32_t>{0, 1, 2}, {1, 3}), wte, wpe), Error);
}

TEST_CASE("attention_cached equals attention, whole sequence at once or in pieces", "[cached_ops]") {
  autograd::NoGradGuard no_grad;
  const int B = 3, T = 13, NH = 4, hs = 5, C = NH * hs, Tmax = 16;
  const Tensor qkv = randn({B, T, 3 * C}, 3);
  const std::vector<float> ref = ops::attention(qkv, NH).to_vector();  // (B, T, C)
  SECTION("one call from position 0") {
    Tensor k = Tensor::full({B, NH, Tmax, hs}, NAN), v = Tensor::full({B, NH, Tmax, hs}, NAN);  // unwritten = NaN
    const std::vector<float> out = ops::attention_cached(qkv, k, v, {0, 0, 0}, NH).to_vector();
    check_close(out.data(), ref.data(), (int64_t)ref.size());
    // the cache holds k and v of every token: k_cache[b, h, t] = qkv[b, t, C + h*hs ...]
    for (int b = 0; b < B; b++)
      for (int h = 0; h < NH; h++)
        for (int t = 0; t < T; t++)
          for (int d = 0; d < hs; d++) {
            const float* row = qkv.data<float>() + ((int64_t)b * T + t) * 3 * C + h * hs + d;
            REQUIRE(k.data<float>()[(((int64_t)b * NH + h) * Tmax + t) * hs + d] == row[C]);
            REQUIRE(v.data<float>()[(((int64_t)b * NH + h) * Tmax + t) * hs + d] == row[2 * C]);
          }
  }
  SECTION("a prefix of 6, then one token at a time") {
    Tensor k = Tensor::full({B, NH, Tmax, hs}, NAN), v = Tensor::full({B, NH, Tmax, hs}, NAN);
    auto piece = [&](int t0, int t1) {  // qkv[:, t0:t1]
      Tensor p = Tensor::empty({B, t1 - t0, 3 * C});
      for (int b = 0; b < B; b++)
        std::copy(qkv.data<float>() + ((int64_t)b * T + t0) * 3 * C, qkv.data<float>() + ((int64_t)b * T + t1) * 3 * C,
                  p.data<float>() + (int64_t)b * (t1 - t0) * 3 * C);
      return p;
    };
    const std::vector<float> pre = ops::attention_cached(piece(0, 6), k, v, {0, 0, 0}, NH).to_vector();
    for (int b = 0; b < B; b++) check_close(pre.data() + b * 6 * C, ref.data() + b * T * C, 6 * C);
    for (int t = 6; t < T; t++) {
      const std::vector<float> one = ops::attention_cached(piece(t, t + 1), k, v, {t, t, t}, NH).to_vector();
      for (int b = 0; b < B; b++) check_close(one.data() + b * C, ref.data() + ((int64_t)b * T + t) * C, C);
    }
  }
  SECTION("rows at different positions: each row's attention sees only its own cache") {
    // Row b has cached its first s_b tokens (in one call each, separately), then gets tokens s_b..s_b+2.
    const std::vector<int> s = {0, 4, 10};
    Tensor k = Tensor::full({B, NH, Tmax, hs}, NAN), v = Tensor::full({B, NH, Tmax, hs}, NAN);
    ops::attention_cached(qkv, k, v, {0, 0, 0}, NH);  // fills 0..12 of every row
    for (int b = 0; b < B; b++)  // poison everything past s_b: it must not be read
      for (int h = 0; h < NH; h++)
        for (int64_t i = ((int64_t)(b * NH + h) * Tmax + s[b]) * hs; i < (int64_t)(b * NH + h + 1) * Tmax * hs; i++)
          k.data<float>()[i] = v.data<float>()[i] = NAN;
    Tensor next = Tensor::empty({B, 3, 3 * C});
    for (int b = 0; b < B; b++)
      std::copy(qkv.data<float>() + ((int64_t)b * T + s[b]) * 3 * C, qkv.data<float>() + ((int64_t)b * T + s[b] + 3) * 3 * C,
                next.data<float>() + (int64_t)b * 3 * 3 * C);
    const std::vector<float> out = ops::attention_cached(next, k, v, s, NH).to_vector();
    for (int b = 0; b < B; b++) check_close(out.data() + b * 3 * C, ref.data() + ((int64_t)b * T + s[b]) * C, 3 * C);
  }
  SECTION("errors: past the capacity, a start per row, no gradient") {
    Tensor k = Tensor::zeros({B, NH, Tmax, hs}), v = Tensor::zeros({B, NH, Tmax, hs});
    CHECK_THROWS_AS(ops::attention_cached(qkv, k, v, {0, 4, 0}, NH), Error);  // 4 + 13 > 16
    CHECK_THROWS_AS(ops::attention_cached(qkv, k, v, {0, 0}, NH), Error);
    Tensor small = Tensor::zeros({B, NH, Tmax, hs + 1});
    CHECK_THROWS_AS(ops::attention_cached(qkv, small, v, {0, 0, 0}, NH), Error);
  }
}

TEST_CASE("the generation ops refuse to run where a gradient is wanted", "[cached_ops]") {
  Tensor qkv = Tensor::zeros({1, 2, 12});
  qkv.set_requires_grad(true);
  Tensor k = Tensor::zeros({1, 2, 4, 2}), v = Tensor::zeros({1, 2, 4, 2});
  CHECK_THROWS_AS(ops::attention_cached(qkv, k, v, {0}, 2), Error);
  Tensor wte = Tensor::zeros({3, 4}), wpe = Tensor::zeros({4, 4});
  wte.set_requires_grad(true);
  const Tensor tok = Tensor::from_vector(std::vector<int32_t>{1, 2}, {1, 2});
  CHECK_THROWS_AS(ops::embedding_at(tok, tok, wte, wpe), Error);
  autograd::NoGradGuard no_grad;  // fine without recording
  CHECK(ops::attention_cached(qkv, k, v, {0}, 2).shape() == Shape{1, 2, 4});
  CHECK(ops::embedding_at(tok, tok, wte, wpe).shape() == Shape{1, 2, 4});
}
