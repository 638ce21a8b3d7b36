// core/allocator.cpp: aligned CPU allocations with byte accounting.
#include "core/allocator.h"

#include <atomic>
#include <cstdlib>
#include <new>

#include "core/check.h"

namespace gptcu {
namespace {
constexpr size_t kAlign = 64;
std::atomic<int64_t> g_current{0}, g_peak{0}, g_count{0};
}  // namespace

void* device_alloc(Device device, size_t bytes) {
  if (!device.is_cpu()) throw Error("this build has no CUDA memory allocator yet (device " + device.str() + ")");
  const size_t rounded = (bytes + kAlign - 1) / kAlign * kAlign;
  void* p = std::aligned_alloc(kAlign, rounded == 0 ? kAlign : rounded);
  if (!p) throw std::bad_alloc();
  const int64_t now = g_current += (int64_t)bytes;
  int64_t peak = g_peak.load();
  while (now > peak && !g_peak.compare_exchange_weak(peak, now)) {
  }
  g_count++;
  return p;
}

void device_free(Device device, void* ptr, size_t bytes) {
  (void)device;
  std::free(ptr);
  g_current -= (int64_t)bytes;
}

MemoryStats memory_stats(Device device) {
  (void)device;
  return MemoryStats{g_current.load(), g_peak.load(), g_count.load()};
}

}  // namespace gptcu
