// kernels/bench/harness.h: the timing harness of the kernel benchmark (kernels/bench/kernel_bench.h):
// device buffers, random inputs, the L2 flush, the median of cudaEvent timings, and the table/CSV
// rows. Host code only (it calls the CUDA runtime and the functions of cuda_kernels.h).
//
// One measurement (Harness::time_us):
//   warm-up:  `warmup` times { flush L2; launch }
//   timed:    `runs` times   { flush L2; record start; launch; record stop }   (all on one stream)
//   then one synchronisation; the median of the stop - start intervals, in microseconds.
// The flush is a cudaMemsetAsync over a buffer twice the size of the L2 cache, so every timed
// launch starts with its inputs in device memory, as in a training step where the previous op
// touched other tensors. Only the op's own launches lie between the events.
#pragma once
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <functional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "kernels/bench/kernel_bench.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/cuda_kernels.h"

namespace gptcu::bench {

// n elements of T in device memory (cudaMalloc), freed at the end of the scope; converts to T*.
// Contents are undefined until filled.
template <typename T>
class DevBuf {
 public:
  DevBuf() = default;
  explicit DevBuf(size_t n) : n_(n) {
    void* p = nullptr;
    GPTCU_CUDA_CHECK(cudaMalloc(&p, std::max<size_t>(n, 1) * sizeof(T)));
    p_ = static_cast<T*>(p);
  }
  ~DevBuf() {
    if (p_) cudaFree(p_);
  }
  DevBuf(const DevBuf&) = delete;
  DevBuf& operator=(const DevBuf&) = delete;
  DevBuf(DevBuf&& o) noexcept : p_(std::exchange(o.p_, nullptr)), n_(o.n_) {}
  DevBuf& operator=(DevBuf&& o) noexcept {
    std::swap(p_, o.p_);
    std::swap(n_, o.n_);
    return *this;
  }
  T* get() const { return p_; }
  operator T*() const { return p_; }  // NOLINT: pass a DevBuf where the API wants a pointer
  size_t size() const { return n_; }

 private:
  T* p_ = nullptr;
  size_t n_ = 0;
};

class Harness {
 public:
  Harness(const KernelBenchOptions& o, std::ostream& out);
  ~Harness();
  Harness(const Harness&) = delete;
  Harness& operator=(const Harness&) = delete;

  cudaStream_t stream() const { return stream_; }
  const std::string& dtype() const { return opts_.dtype; }
  // Was this op asked for (--op, itself or through a group such as "attention"), or were all?
  bool wants(const std::string& op) const;

  // Median time of `launch` in microseconds (the method at the top of this file).
  double time_us(const std::function<void()>& launch);

  // Times `launch` and prints one row. A memory-bound op gives the minimal bytes it must move
  // (each input read once, each output written once; read-modify-write counted twice); a
  // compute-bound one its floating-point operations. The percentage is of the measured ceiling.
  void row_bytes(const std::string& op, const std::string& shape, double bytes, const std::function<void()>& launch);
  void row_flops(const std::string& op, const std::string& shape, double flops, const std::function<void()>& launch);

  // The two ceilings (peak_copy, peak_gemm); run before any other row.
  void measure_peaks();

  // Random inputs: normal(mean, std) through cuda::fill_normal (a new key per call); integers
  // uniform in [lo, hi) made on the host (returned) and copied up; a constant through cuda::fill.
  template <typename T>
  void normal(T* p, size_t n, float mean = 0.0f, float std = 1.0f);
  std::vector<int32_t> ints(int32_t* p, size_t n, int32_t lo, int32_t hi);
  template <typename T>
  void constant(T* p, size_t n, float value);
  // Waits for the stream (after setup work, before timing).
  void sync();

 private:
  void print_header();
  void emit(const std::string& op, const std::string& shape, double us, double rate, const char* unit, double pct);
  void flush_l2();

  KernelBenchOptions opts_;
  std::ostream& out_;
  std::ofstream csv_;
  cudaStream_t stream_ = nullptr;
  std::vector<cudaEvent_t> events_;
  DevBuf<unsigned char> flush_;
  int flush_value_ = 0;
  uint64_t next_key_ = 0x5eed;
  double peak_gbps_ = 0, peak_tflops_ = 0;
};

}  // namespace gptcu::bench
