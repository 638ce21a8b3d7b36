// kernels/bf16.h: bfloat16 as a plain 16-bit storage type that host C++ and CUDA share.
//
// gptcu::bf16 has the bit layout of CUDA's __nv_bfloat16 (the top 16 bits of an IEEE fp32),
// so a device buffer of bf16 is handed to a kernel as __nv_bfloat16* (kernels/cuda/cuda_common.cuh
// maps one to the other). On the host it is only storage: convert to float to compute.
// Rounding is to nearest, ties to even, as __float2bfloat16_rn does; NaN stays NaN.
#pragma once
#include <cstdint>
#include <cstring>

namespace gptcu {

struct bf16 {
  uint16_t bits = 0;
};

inline float bf16_to_float(bf16 h) {
  const uint32_t u = (uint32_t)h.bits << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

inline bf16 float_to_bf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7f800000u) == 0x7f800000u && (u & 0x007fffffu) != 0)  // NaN: keep it quiet and NaN
    return bf16{(uint16_t)((u >> 16) | 0x0040u)};
  const uint32_t rounding = 0x7fffu + ((u >> 16) & 1u);  // to nearest, ties to even
  return bf16{(uint16_t)((u + rounding) >> 16)};
}

}  // namespace gptcu
