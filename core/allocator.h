// core/allocator.h: raw memory for tensors.
//
// CPU: 64-byte aligned allocations (cache lines, AVX-512 loads). The CUDA caching
// allocator joins here with the CUDA backend. Both report current and peak bytes.
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/dtype.h"

namespace gptcu {

struct MemoryStats {
  int64_t current_bytes = 0;
  int64_t peak_bytes = 0;
  int64_t allocations = 0;
};

void* device_alloc(Device device, size_t bytes);  // zero bytes -> a valid non-null pointer
void device_free(Device device, void* ptr, size_t bytes);
MemoryStats memory_stats(Device device);

}  // namespace gptcu
