// kernels/philox.h: Philox-4x32-10 (Salmon et al., SC'11), the counter-based generator behind
// core/rng.h, as header-only functions that compile for the host and, under nvcc, the device
// (kernels/cuda/rng.cu draws the same numbers on the GPU). Every number is a pure function of
// (key, counter), so a CPU loop and GPU threads can draw them in any order.
#pragma once
#include <cmath>
#include <cstdint>

#if defined(__CUDACC__)
#define GPTCU_HD __host__ __device__ __forceinline__
#else
#define GPTCU_HD inline
#endif

namespace gptcu {

struct Philox4 {
  uint32_t x[4];
};

// One Philox-4x32-10 block: 128 random bits for counter ctr under key.
GPTCU_HD Philox4 philox4x32(uint64_t key, uint64_t ctr_lo, uint64_t ctr_hi = 0) {
  uint32_t c0 = (uint32_t)ctr_lo, c1 = (uint32_t)(ctr_lo >> 32);
  uint32_t c2 = (uint32_t)ctr_hi, c3 = (uint32_t)(ctr_hi >> 32);
  uint32_t k0 = (uint32_t)key, k1 = (uint32_t)(key >> 32);
  for (int round = 0; round < 10; round++) {
    const uint64_t p0 = (uint64_t)0xD2511F53u * c0;
    const uint64_t p1 = (uint64_t)0xCD9E8D57u * c2;
    const uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0;
    const uint32_t n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
    c1 = (uint32_t)p1;
    c3 = (uint32_t)p0;
    c0 = n0;
    c2 = n2;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return Philox4{{c0, c1, c2, c3}};
}

// uint32 -> uniform float in (0, 1]: never 0, so log() is safe.
GPTCU_HD float u32_to_unit(uint32_t u) { return ((float)(u >> 8) + 1.0f) * (1.0f / 16777216.0f); }

// The i-th standard normal of stream (key, base): four normals per Philox block
// (Box-Muller on two pairs), so element i uses block base + i/4, lane i%4.
GPTCU_HD float philox_normal(uint64_t key, uint64_t base, uint64_t i) {
  const Philox4 r = philox4x32(key, base + i / 4);
  const int pair = (int)(i % 4) / 2;
  const float u1 = u32_to_unit(r.x[2 * pair]);
  const float u2 = u32_to_unit(r.x[2 * pair + 1]);
  const float radius = sqrtf(-2.0f * logf(u1));
  const float angle = 6.2831853071795864f * u2;
  return (i % 2 == 0) ? radius * cosf(angle) : radius * sinf(angle);
}

}  // namespace gptcu
