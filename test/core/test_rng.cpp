// test/core/test_rng.cpp: the counter-based RNG.
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "core/rng.h"

using gptcu::philox4x32;
using gptcu::Rng;

TEST_CASE("philox4x32-10 matches the Random123 known-answer vectors", "[rng]") {
  // kat_vectors from Random123 (philox4x32 10 rounds): ctr, key -> output
  auto a = philox4x32(0, 0, 0);
  CHECK(a.x[0] == 0x6627e8d5u);
  CHECK(a.x[1] == 0xe169c58du);
  CHECK(a.x[2] == 0xbc57ac4cu);
  CHECK(a.x[3] == 0x9b00dbd8u);
  auto b = philox4x32(~0ull, ~0ull, ~0ull);
  CHECK(b.x[0] == 0x408f276du);
  CHECK(b.x[1] == 0x41c83b0eu);
  CHECK(b.x[2] == 0xa20bc7c6u);
  CHECK(b.x[3] == 0x6d5451fdu);
  // ctr = {243f6a88, 85a308d3, 13198a2e, 03707344}, key = {a4093822, 299f31d0} (digits of pi)
  auto c = philox4x32(0x299f31d0a4093822ull, 0x85a308d3243f6a88ull, 0x0370734413198a2eull);
  CHECK(c.x[0] == 0xd16cfe09u);
  CHECK(c.x[1] == 0x94fdccebu);
  CHECK(c.x[2] == 0x5001e420u);
  CHECK(c.x[3] == 0x24126ea1u);
}

TEST_CASE("Rng is reproducible and streams are independent", "[rng]") {
  Rng a(42), b(42), c(42, 1), d(43);
  std::vector<uint32_t> va, vb, vc, vd;
  for (int i = 0; i < 64; i++) {
    va.push_back(a.next_u32());
    vb.push_back(b.next_u32());
    vc.push_back(c.next_u32());
    vd.push_back(d.next_u32());
  }
  CHECK(va == vb);
  CHECK(va != vc);
  CHECK(va != vd);
  // the state is (key, counter): restoring the counter replays the sequence
  Rng e(42);
  e.set_counter(10);
  CHECK(e.next_u32() == va[10]);
}

TEST_CASE("fill_normal: moments, and element i independent of how the fill is split", "[rng]") {
  const int64_t n = 200000;
  std::vector<float> x(n);
  Rng r(7);
  r.fill_normal(x.data(), n, 1.0f, 2.0f);
  double s = 0, s2 = 0;
  for (float v : x) s += v, s2 += (double)v * v;
  const double mean = s / n, var = s2 / n - mean * mean;
  CHECK(std::abs(mean - 1.0) < 0.03);  // 5 sigma of the mean estimate is 0.022
  CHECK(std::abs(std::sqrt(var) - 2.0) < 0.03);
  CHECK(r.counter() == (uint64_t)n / 4);
  // counter-based: element i is a pure function of (key, base, i), as a GPU thread computes it
  for (int64_t i : {0, 1, 2, 3, 4, 99999, 199999})
    CHECK(x[i] == 1.0f + 2.0f * gptcu::philox_normal(Rng(7).key(), 0, (uint64_t)i));
}

TEST_CASE("next_below stays in range and covers it", "[rng]") {
  Rng r(3);
  std::vector<int> hits(10, 0);
  for (int i = 0; i < 10000; i++) {
    const uint64_t v = r.next_below(10);
    REQUIRE(v < 10);
    hits[v]++;
  }
  for (int h : hits) CHECK(h > 850);  // expected 1000 each
}
