// core/rng.h: a seeded, counter-based random number generator (Philox-4x32-10).
//
// Every random number is a pure function of (seed, stream, counter), so a CPU loop and a
// GPU thread can draw the same numbers in any order, and the whole state of a generator is
// two integers that a checkpoint saves. Philox-4x32-10 is the generator of Salmon et al.,
// "Parallel random numbers: as easy as 1, 2, 3" (SC'11), also used by cuRAND and PyTorch.
#pragma once
#include <cmath>
#include <cstdint>

#include "kernels/philox.h"

namespace gptcu {

// A generator: key from (seed, stream), plus a counter of Philox blocks consumed.
// Streams separate independent uses (init, data order, sampling) of one seed.
class Rng {
 public:
  Rng() = default;
  Rng(uint64_t seed, uint64_t stream = 0) : key_(mix(seed, stream)), counter_(0) {}

  uint64_t key() const { return key_; }
  uint64_t counter() const { return counter_; }
  void set_counter(uint64_t c) { counter_ = c; }

  // 32 random bits (one Philox block each: simple, and cheap next to what we use it for).
  uint32_t next_u32() { return philox4x32(key_, counter_++).x[0]; }
  uint64_t next_u64() {
    const Philox4 r = philox4x32(key_, counter_++);
    return ((uint64_t)r.x[1] << 32) | r.x[0];
  }
  // Uniform in [0, n) (multiply-high, bias below 2^-32 for the n we use).
  uint64_t next_below(uint64_t n) { return (uint64_t)(((unsigned __int128)next_u64() * n) >> 64); }
  // Uniform float in [0, 1).
  float next_float() { return (float)(next_u32() >> 8) * (1.0f / 16777216.0f); }
  // Fill x[0..n) with N(mean, std^2); consumes ceil(n/4) blocks, same numbers as a GPU fill.
  void fill_normal(float* x, int64_t n, float mean, float std) {
    for (int64_t i = 0; i < n; i++) x[i] = mean + std * philox_normal(key_, counter_, (uint64_t)i);
    counter_ += (uint64_t)(n + 3) / 4;
  }

 private:
  static uint64_t mix(uint64_t seed, uint64_t stream) {
    // splitmix64 of seed ^ stream-tag, so nearby seeds/streams give unrelated keys
    uint64_t z = seed ^ (stream * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint64_t key_ = 0;
  uint64_t counter_ = 0;
};

}  // namespace gptcu
