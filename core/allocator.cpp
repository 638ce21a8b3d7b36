// core/allocator.cpp: aligned CPU allocations and the CUDA caching allocator (core/allocator.h).
#include "core/allocator.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <new>
#include <string>
#include <vector>

#include "core/check.h"
#include "core/cuda.h"

#ifdef GPTCU_HAVE_CUDA
#include <cuda_runtime.h>

#include "kernels/cuda/cuda_check.h"
#endif

namespace gptcu {

std::string format_bytes(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (bytes >= 1024 && u < 4) bytes /= 1024, u++;
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.2f %s", bytes, units[u]);
  return buf;
}

namespace {

// Counters of one device (the CPU's are lock-free; the CUDA ones are updated under its lock).
struct Counters {
  std::atomic<int64_t> current{0}, peak{0}, count{0}, reserved{0}, driver{0};
  void add(int64_t bytes) {
    const int64_t now = current += bytes;
    int64_t p = peak.load();
    while (now > p && !peak.compare_exchange_weak(p, now)) {
    }
    count++;
  }
  MemoryStats stats() const {
    return MemoryStats{current.load(), peak.load(), count.load(), reserved.load(), driver.load()};
  }
};

constexpr size_t kCpuAlign = 64;
Counters g_cpu;

#ifdef GPTCU_HAVE_CUDA
// The rounded size a request of `bytes` occupies (and the free list it returns to).
size_t cuda_block_size(size_t bytes) {
  constexpr size_t small = 512, large = 2u << 20;
  if (bytes <= (1u << 20)) return bytes == 0 ? small : (bytes + small - 1) / small * small;
  return (bytes + large - 1) / large * large;
}

struct CudaPool {
  std::mutex mutex;
  std::map<size_t, std::vector<void*>> free_blocks;  // rounded size -> cached blocks
  Counters counters;
  // Private pools (CUDA graphs): the open one (0: none), each pool's free blocks, and the owner
  // of every block a pool has taken (a block of a released pool is erased when freed).
  int open_pool = 0, next_pool = 1;
  std::map<int, std::map<size_t, std::vector<void*>>> private_free;
  std::map<void*, int> owner;

  // Returns cached blocks to the driver (caller holds the lock).
  void release_locked() {
    for (auto& [size, blocks] : free_blocks) {
      for (void* p : blocks) {
        cudaFree(p);
        counters.reserved -= (int64_t)size;
      }
    }
    free_blocks.clear();
  }
};

CudaPool& cuda_pool(int index) {
  static std::mutex mutex;
  static std::map<int, CudaPool> pools;
  std::lock_guard<std::mutex> lock(mutex);
  return pools[index];  // std::map: references stay valid as pools are added
}

void* cuda_alloc(Device device, size_t bytes) {
  require_cuda(device);  // a clear error when there is no GPU; sets the current device
  CudaPool& pool = cuda_pool(device.index);
  const size_t size = cuda_block_size(bytes);
  std::lock_guard<std::mutex> lock(pool.mutex);
  if (pool.open_pool) {  // a private pool first reuses its own free blocks
    auto& own = pool.private_free[pool.open_pool][size];
    if (!own.empty()) {
      void* p = own.back();
      own.pop_back();
      pool.counters.add((int64_t)bytes);
      return p;
    }
  }
  auto it = pool.free_blocks.find(size);
  if (it != pool.free_blocks.end() && !it->second.empty()) {
    void* p = it->second.back();
    it->second.pop_back();
    if (pool.open_pool) pool.owner[p] = pool.open_pool;
    pool.counters.add((int64_t)bytes);
    return p;
  }
  void* p = nullptr;
  cudaError_t err = cudaMalloc(&p, size);
  // While a CUDA graph is being captured, a sync or a cudaFree would break the capture and could
  // free blocks still in use by queued work: fail at once; the eager rerun retries safely.
  if (err == cudaErrorMemoryAllocation && !pool.open_pool) {  // give the cache back and try once more
    cudaGetLastError();
    cudaStreamSynchronize(cuda_stream(device));
    pool.release_locked();
    err = cudaMalloc(&p, size);
  }
  if (err == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    size_t free_b = 0, total_b = 0;
    cudaMemGetInfo(&free_b, &total_b);
    throw OutOfMemory("out of GPU memory on " + device.str() + ": asked for " + format_bytes((double)bytes) + ", " +
                      format_bytes((double)free_b) + " free of " + format_bytes((double)total_b) + " (gptcu holds " +
                      format_bytes((double)pool.counters.current.load()) +
                      " in tensors); try a smaller train.batch_size or model");
  }
  GPTCU_CUDA_CHECK(err);
  if (pool.open_pool) pool.owner[p] = pool.open_pool;
  pool.counters.reserved += (int64_t)size;
  pool.counters.driver++;
  pool.counters.add((int64_t)bytes);
  return p;
}

void cuda_free(Device device, void* ptr, size_t bytes) {
  CudaPool& pool = cuda_pool(device.index);
  std::lock_guard<std::mutex> lock(pool.mutex);
  pool.counters.current -= (int64_t)bytes;
  const size_t size = cuda_block_size(bytes);
  auto it = pool.owner.find(ptr);
  int id = it != pool.owner.end() ? it->second : 0;
  if (id == 0 && pool.open_pool) {
    // freed while a pool is open: a graph being captured may have used it, so the pool adopts it
    id = pool.owner[ptr] = pool.open_pool;
  }
  if (id != 0 && pool.private_free.count(id)) {
    pool.private_free[id][size].push_back(ptr);
    return;
  }
  if (it != pool.owner.end()) pool.owner.erase(it);  // its pool was released
  pool.free_blocks[size].push_back(ptr);
}
#endif

}  // namespace

void* device_alloc(Device device, size_t bytes) {
  if (!device.is_cpu()) {
#ifdef GPTCU_HAVE_CUDA
    return cuda_alloc(device, bytes);
#else
    require_cuda(device);  // throws: this build has no CUDA
#endif
  }
  const size_t rounded = (bytes + kCpuAlign - 1) / kCpuAlign * kCpuAlign;
  void* p = std::aligned_alloc(kCpuAlign, rounded == 0 ? kCpuAlign : rounded);
  if (!p)
    throw OutOfMemory("out of host memory: asked for " + format_bytes((double)bytes) + " (gptcu holds " +
                      format_bytes((double)g_cpu.current.load()) + "); try a smaller train.batch_size or model");
  g_cpu.add((int64_t)bytes);
  return p;
}

void device_free(Device device, void* ptr, size_t bytes) {
#ifdef GPTCU_HAVE_CUDA
  if (!device.is_cpu()) return cuda_free(device, ptr, bytes);
#endif
  std::free(ptr);
  g_cpu.current -= (int64_t)bytes;
}

MemoryStats memory_stats(Device device) {
#ifdef GPTCU_HAVE_CUDA
  if (!device.is_cpu()) {
    CudaPool& pool = cuda_pool(device.index);
    std::lock_guard<std::mutex> lock(pool.mutex);
    return pool.counters.stats();
  }
#endif
  return g_cpu.stats();
}

int begin_private_pool(Device device) {
#ifdef GPTCU_HAVE_CUDA
  if (!device.is_cpu()) {
    CudaPool& pool = cuda_pool(device.index);
    std::lock_guard<std::mutex> lock(pool.mutex);
    GPTCU_CHECK(pool.open_pool == 0, "begin_private_pool: pool ", pool.open_pool, " is still open on ", device.str());
    pool.open_pool = pool.next_pool++;
    pool.private_free[pool.open_pool];  // exists from now until released
    return pool.open_pool;
  }
#endif
  (void)device;
  return 0;
}

void end_private_pool(Device device) {
#ifdef GPTCU_HAVE_CUDA
  if (!device.is_cpu()) {
    CudaPool& pool = cuda_pool(device.index);
    std::lock_guard<std::mutex> lock(pool.mutex);
    pool.open_pool = 0;
  }
#endif
  (void)device;
}

void release_private_pool(Device device, int id) {
#ifdef GPTCU_HAVE_CUDA
  if (!device.is_cpu() && id != 0) {
    CudaPool& pool = cuda_pool(device.index);
    std::lock_guard<std::mutex> lock(pool.mutex);
    if (pool.open_pool == id) pool.open_pool = 0;
    auto it = pool.private_free.find(id);
    if (it == pool.private_free.end()) return;
    for (auto& [size, blocks] : it->second) {
      for (void* p : blocks) {
        pool.owner.erase(p);
        pool.free_blocks[size].push_back(p);
      }
    }
    pool.private_free.erase(it);  // blocks of the pool still held go to the cache when freed
  }
#endif
  (void)device;
  (void)id;
}

void reset_peak_memory(Device device) {
#ifdef GPTCU_HAVE_CUDA
  if (!device.is_cpu()) {
    Counters& c = cuda_pool(device.index).counters;
    c.peak = c.current.load();
    return;
  }
#endif
  g_cpu.peak = g_cpu.current.load();
}

void release_cached_memory(Device device) {
#ifdef GPTCU_HAVE_CUDA
  if (!device.is_cpu()) {
    CudaPool& pool = cuda_pool(device.index);
    std::lock_guard<std::mutex> lock(pool.mutex);
    cudaStreamSynchronize(cuda_stream(device));
    pool.release_locked();
  }
#else
  (void)device;
#endif
}

}  // namespace gptcu
