// test/kernels/test_residual_cuda.cpp: the CUDA residual kernels against the CPU reference.
// Tagged [cuda]; on a machine without a GPU (or a build without nvcc) it says so and passes.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/cpu/cpu_kernels.h"
#include "test/kernels/gradcheck.h"

#ifdef GPTCU_HAVE_CUDA
#include <cuda_runtime.h>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/cuda_kernels.h"

namespace {
float* to_device(const std::vector<float>& h) {
  float* d = nullptr;
  REQUIRE(cudaMalloc(&d, h.size() * sizeof(float)) == cudaSuccess);
  REQUIRE(cudaMemcpy(d, h.data(), h.size() * sizeof(float), cudaMemcpyHostToDevice) == cudaSuccess);
  return d;
}
std::vector<float> to_host(const float* d, size_t n) {
  std::vector<float> h(n);
  REQUIRE(cudaMemcpy(h.data(), d, n * sizeof(float), cudaMemcpyDeviceToHost) == cudaSuccess);
  return h;
}
}  // namespace
#endif

TEST_CASE("CUDA check macros name the call, the error, the file and the line", "[cuda][check]") {
#ifndef GPTCU_HAVE_CUDA
  WARN("skipped: this build has no CUDA kernels (GPTCU_CUDA=OFF or no nvcc)");
#else
  // runs with or without a GPU: no machine has device 9999 (and without a driver the call
  // fails too, with another error)
  try {
    GPTCU_CUDA_CHECK(cudaSetDevice(9999));
    FAIL("cudaSetDevice(9999) succeeded");
  } catch (const gptcu::CudaError& e) {
    const std::string msg = e.what();
    CHECK_THAT(msg, Catch::Contains("cudaSetDevice(9999)") && Catch::Contains("test_residual_cuda.cpp:") &&
                        Catch::Contains("CUDA error cuda"));
  }
  cudaGetLastError();
#endif
}

TEST_CASE("residual: CUDA matches the CPU reference", "[cuda][residual]") {
#ifndef GPTCU_HAVE_CUDA
  WARN("skipped: this build has no CUDA kernels (GPTCU_CUDA=OFF or no nvcc)");
#else
  if (gptcu::cuda::device_count() == 0) {
    WARN("skipped: no CUDA device on this machine");
    return;
  }
  for (int64_t n : {1, 7, 1000, 65537}) {
    using gptcu::test::randn;
    using gptcu::test::to_float;
    const auto a = to_float(randn(n, 1)), b = to_float(randn(n, 2)), dout = to_float(randn(n, 3));
    std::vector<float> out_ref(n), da_ref(n, 0.5f), db_ref(n, -0.25f);
    gptcu::cpu::residual_forward(out_ref.data(), a.data(), b.data(), n);
    gptcu::cpu::residual_backward(da_ref.data(), db_ref.data(), dout.data(), n);
    float* d_out = to_device(std::vector<float>(n, NAN));  // poisoned: unwritten elements fail
    float *d_a = to_device(a), *d_b = to_device(b), *d_dout = to_device(dout);
    float *d_da = to_device(std::vector<float>(n, 0.5f)), *d_db = to_device(std::vector<float>(n, -0.25f));
    gptcu::cuda::residual_forward(d_out, d_a, d_b, n, nullptr);
    gptcu::cuda::residual_backward(d_da, d_db, d_dout, n, nullptr);
    REQUIRE(cudaDeviceSynchronize() == cudaSuccess);
    CHECK(to_host(d_out, n) == out_ref);  // one add per element: bitwise equal
    CHECK(to_host(d_da, n) == da_ref);
    CHECK(to_host(d_db, n) == db_ref);
    for (float* p : {d_out, d_a, d_b, d_dout, d_da, d_db}) cudaFree(p);
  }
#endif
}
