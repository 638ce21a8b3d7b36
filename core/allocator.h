// core/allocator.h: raw memory for tensors.
//
// CPU: 64-byte aligned allocations (cache lines, AVX-512 loads).
// CUDA: a caching allocator. A freed block goes to a free list of its rounded size (multiples of
// 512 bytes up to 1 MiB, of 2 MiB above) instead of back to the driver, and the next request of
// that size takes it, so that a training step with fixed shapes calls cudaMalloc only during the
// first step. All work runs on one stream per device (core/cuda.h), so a block freed while kernels
// that use it are still queued can be handed out at once: the next user's kernels queue behind.
// When cudaMalloc fails, the cached blocks are released and it is tried once more; then the
// request fails with OutOfMemory naming the bytes asked for and free.
//
// Both report current bytes (held by tensors), peak bytes, and allocation counts; CUDA also the
// bytes reserved from the driver and the number of cudaMalloc calls.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/dtype.h"

namespace gptcu {

struct MemoryStats {
  int64_t current_bytes = 0;   // held by live tensors (requested sizes)
  int64_t peak_bytes = 0;      // the most current_bytes ever was (since the last reset)
  int64_t allocations = 0;     // requests served
  int64_t reserved_bytes = 0;  // CUDA: obtained from the driver (in use + cached)
  int64_t driver_allocs = 0;   // CUDA: cudaMalloc calls made
};

void* device_alloc(Device device, size_t bytes);  // zero bytes -> a valid non-null pointer
void device_free(Device device, void* ptr, size_t bytes);
MemoryStats memory_stats(Device device);
void reset_peak_memory(Device device);
// CUDA: returns every cached (unused) block to the driver.
void release_cached_memory(Device device);

// Private pools, for CUDA graphs (train/cuda_graph.h). A captured graph replays into the
// addresses it was captured with, so its temporaries must never be handed to another tensor
// while the graph lives. Between begin_private_pool and end_private_pool, every block allocated
// on the device, and every block freed there, belongs to the pool: freed pool blocks are reused
// only by later allocations inside the pool. After end_private_pool the pool's blocks stay
// reserved; release_private_pool(id) (once the graph is destroyed) gives its free blocks back to
// the cache, and blocks still held go back there when freed. CPU: no-ops.
int begin_private_pool(Device device);
void end_private_pool(Device device);
void release_private_pool(Device device, int id);

// "1.50 GiB", "512.0 KiB": for memory reports and errors
std::string format_bytes(double bytes);

}  // namespace gptcu
