// test/kernels/cuda_test_util.h: helpers for the CUDA kernel tests (CUDA against the CPU reference).
//
//   GPTCU_REQUIRE_GPU();                  at the top of a [cuda] test: WARN "skipped: ..." and return
//                                         when the build has no CUDA or the machine no GPU
//   DeviceBuffer<T> d(host_doubles);      upload, converted to T (float or gptcu::bf16)
//   DeviceBuffer<T> out = DeviceBuffer<T>::poisoned(n);   NaN everywhere: unwritten elements fail
//   std::vector<double> h = d.download(); sync, then back to the host as doubles
//   as_stored<T>(v)                       v rounded through T (what the kernel actually reads)
//   check_close<T>("what", got, ref, scale)   |got - ref| <= atol + rtol |ref| with the per-dtype
//                                         tolerance of DESIGN.md (fp32 rtol 1e-5, bf16 rtol 1e-2),
//                                         atol = rtol * scale (scale: the typical magnitude)
//
// The CPU reference runs in double on the inputs rounded through T, so the comparison measures the
// kernel's own error, not the rounding of its inputs.
#pragma once
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <string>
#include <type_traits>
#include <vector>

#include "kernels/bf16.h"

#ifdef GPTCU_HAVE_CUDA
#include <cuda_runtime.h>

#include "kernels/cuda/cuda_kernels.h"

#define GPTCU_REQUIRE_GPU()                                  \
  do {                                                       \
    if (gptcu::cuda::device_count() == 0) {                  \
      WARN("skipped: no CUDA device on this machine");       \
      return;                                                \
    }                                                        \
  } while (0)
#else
#define GPTCU_REQUIRE_GPU()                                                     \
  do {                                                                          \
    WARN("skipped: this build has no CUDA kernels (GPTCU_CUDA=OFF or no nvcc)"); \
    return;                                                                     \
  } while (0)
#endif

namespace gptcu::test {

template <typename T>
inline T from_double(double x) {
  if constexpr (std::is_same_v<T, gptcu::bf16>)
    return gptcu::float_to_bf16((float)x);
  else
    return (T)x;
}
template <typename T>
inline double to_double(T x) {
  if constexpr (std::is_same_v<T, gptcu::bf16>)
    return gptcu::bf16_to_float(x);
  else
    return (double)x;
}

// v rounded through T and back: the values a kernel reading T actually sees.
template <typename T>
inline std::vector<double> as_stored(const std::vector<double>& v) {
  std::vector<double> r(v.size());
  for (size_t i = 0; i < v.size(); i++) r[i] = to_double(from_double<T>(v[i]));
  return r;
}

template <typename T>
constexpr double rtol_of() {
  return std::is_same_v<T, gptcu::bf16> ? 1e-2 : 1e-5;
}
template <typename T>
constexpr const char* dtype_label() {
  return std::is_same_v<T, gptcu::bf16> ? "bf16" : "f32";
}

// Fails (with the worst element quoted) unless every |got - ref| <= rtol * (scale + |ref|).
template <typename T>
inline void check_close(const std::string& what, const std::vector<double>& got, const std::vector<double>& ref,
                        double scale = 1.0, double rtol_factor = 1.0) {
  REQUIRE(got.size() == ref.size());
  const double rtol = rtol_of<T>() * rtol_factor, atol = rtol * scale;
  double worst = 0;
  size_t at = 0;
  for (size_t i = 0; i < got.size(); i++) {
    const double r = std::abs(got[i] - ref[i]) / (atol + rtol * std::abs(ref[i]));
    if (!(r <= worst)) worst = r, at = i;  // NaN (an unwritten, poisoned element) always wins
  }
  INFO(what << " (" << dtype_label<T>() << ", n=" << got.size() << "): worst element " << at << " got " << got[at]
            << " want " << ref[at] << ", error " << worst << "x the tolerance (atol " << atol << ", rtol " << rtol
            << ")");
  CHECK(worst <= 1.0);
}

#ifdef GPTCU_HAVE_CUDA
template <typename T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(size_t n) : n_(n) {
    REQUIRE(cudaMalloc(&p_, (n ? n : 1) * sizeof(T)) == cudaSuccess);
  }
  explicit DeviceBuffer(const std::vector<double>& host) : DeviceBuffer(host.size()) { upload(host); }
  static DeviceBuffer poisoned(size_t n) {
    DeviceBuffer b(n);
    b.upload(std::vector<double>(n, NAN));
    return b;
  }
  ~DeviceBuffer() {
    if (p_) cudaFree(p_);
  }
  DeviceBuffer(DeviceBuffer&& o) noexcept : p_(o.p_), n_(o.n_) { o.p_ = nullptr; }
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    std::swap(p_, o.p_);
    std::swap(n_, o.n_);
    return *this;
  }
  void upload(const std::vector<double>& host) {
    REQUIRE(host.size() == n_);
    std::vector<T> h(n_);
    for (size_t i = 0; i < n_; i++) h[i] = from_double<T>(host[i]);
    REQUIRE(cudaMemcpy(p_, h.data(), n_ * sizeof(T), cudaMemcpyHostToDevice) == cudaSuccess);
  }
  std::vector<double> download() const {
    REQUIRE(cudaDeviceSynchronize() == cudaSuccess);
    std::vector<T> h(n_);
    REQUIRE(cudaMemcpy(h.data(), p_, n_ * sizeof(T), cudaMemcpyDeviceToHost) == cudaSuccess);
    std::vector<double> r(n_);
    for (size_t i = 0; i < n_; i++) r[i] = to_double(h[i]);
    return r;
  }
  T* get() const { return p_; }
  size_t size() const { return n_; }

 private:
  T* p_ = nullptr;
  size_t n_ = 0;
};

// int32 (token ids, targets) on the device
class DeviceInts {
 public:
  explicit DeviceInts(const std::vector<int32_t>& h) : n_(h.size()) {
    REQUIRE(cudaMalloc(&p_, (n_ ? n_ : 1) * sizeof(int32_t)) == cudaSuccess);
    REQUIRE(cudaMemcpy(p_, h.data(), n_ * sizeof(int32_t), cudaMemcpyHostToDevice) == cudaSuccess);
  }
  ~DeviceInts() { cudaFree(p_); }
  DeviceInts(const DeviceInts&) = delete;
  DeviceInts& operator=(const DeviceInts&) = delete;
  int32_t* get() const { return p_; }

 private:
  int32_t* p_ = nullptr;
  size_t n_ = 0;
};

// Scratch memory of a given byte size (for the *_scratch_bytes() kernels), poisoned with 0xff.
class DeviceScratch {
 public:
  explicit DeviceScratch(size_t bytes) {
    REQUIRE(cudaMalloc(&p_, bytes ? bytes : 1) == cudaSuccess);
    REQUIRE(cudaMemset(p_, 0xff, bytes ? bytes : 1) == cudaSuccess);
  }
  ~DeviceScratch() { cudaFree(p_); }
  DeviceScratch(const DeviceScratch&) = delete;
  DeviceScratch& operator=(const DeviceScratch&) = delete;
  void* get() const { return p_; }

 private:
  void* p_ = nullptr;
};
#endif

}  // namespace gptcu::test
