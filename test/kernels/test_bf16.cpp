// test/kernels/test_bf16.cpp: the host bf16 conversions (kernels/bf16.h), which must round exactly as
// CUDA's __float2bfloat16_rn does (to nearest, ties to even), since host and GPU values are compared
// bit for bit (checkpoints, tests).
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <limits>

#include "kernels/bf16.h"

using gptcu::bf16;
using gptcu::bf16_to_float;
using gptcu::float_to_bf16;

namespace {
float from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
}  // namespace

TEST_CASE("bf16: exact values survive, others round to nearest with ties to even", "[bf16]") {
  for (float x : {0.0f, -0.0f, 1.0f, -2.5f, 0.15625f, 65536.0f})
    CHECK(bf16_to_float(float_to_bf16(x)) == x);  // values with at most 8 significant bits
  CHECK(float_to_bf16(1.0f).bits == 0x3f80);
  CHECK(float_to_bf16(-2.0f).bits == 0xc000);
  // 1 + 2^-8 is half-way between 1 and 1 + 2^-7: the tie goes to the even mantissa (1)
  CHECK(float_to_bf16(from_bits(0x3f808000u)).bits == 0x3f80);
  // 1 + 3*2^-8 is half-way between 1 + 2^-7 (odd) and 1 + 2^-6 (even): up
  CHECK(float_to_bf16(from_bits(0x3f818000u)).bits == 0x3f82);
  // just above half-way rounds up, just below rounds down
  CHECK(float_to_bf16(from_bits(0x3f808001u)).bits == 0x3f81);
  CHECK(float_to_bf16(from_bits(0x3f807fffu)).bits == 0x3f80);
  // relative error of any normal value: at most 2^-8 (8 significant bits)
  for (float x = 1e-20f; x < 1e20f; x *= 1.37f)
    CHECK(std::abs(bf16_to_float(float_to_bf16(x)) - x) <= x * (1.0f / 256));  // half a bf16 ulp: 2^-8 relative
}

TEST_CASE("bf16: infinities, overflow and NaN", "[bf16]") {
  const float inf = std::numeric_limits<float>::infinity();
  CHECK(bf16_to_float(float_to_bf16(inf)) == inf);
  CHECK(bf16_to_float(float_to_bf16(-inf)) == -inf);
  CHECK(bf16_to_float(float_to_bf16(std::numeric_limits<float>::max())) == inf);  // rounds past the largest bf16
  CHECK(std::isnan(bf16_to_float(float_to_bf16(std::nanf("")))));
  CHECK(std::isnan(bf16_to_float(float_to_bf16(from_bits(0x7f800001u)))));  // a NaN whose payload is in the low bits
}
