// test/kernels/test_residual_cuda.cpp: the CUDA residual kernels against the CPU reference.
// Tagged [cuda]; on a machine without a GPU (or a build without nvcc) it says so and passes.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/cpu/cpu_kernels.h"
#include "test/kernels/gradcheck.h"

#include "test/kernels/cuda_test_util.h"

#ifdef GPTCU_HAVE_CUDA
#include <cuda_runtime.h>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/cuda_kernels.h"

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

TEMPLATE_TEST_CASE("residual: CUDA matches the CPU reference", "[cuda][residual]", float, gptcu::bf16) {
  GPTCU_REQUIRE_GPU();
#ifdef GPTCU_HAVE_CUDA
  using namespace gptcu::test;
  for (int64_t n : {1, 7, 1000, 65537, 1 << 20}) {
    const auto a = as_stored<TestType>(randn(n, 1)), b = as_stored<TestType>(randn(n, 2));
    const auto dout = as_stored<TestType>(randn(n, 3)), ga = as_stored<TestType>(randn(n, 4));
    const auto gb = as_stored<TestType>(randn(n, 5));
    const double alpha = 0.5;
    std::vector<double> out_ref(n), da_ref = ga, db_ref = gb;
    gptcu::cpu::residual_forward(out_ref.data(), a.data(), b.data(), n, alpha);
    gptcu::cpu::residual_backward(da_ref.data(), db_ref.data(), dout.data(), n, alpha);
    auto d_out = DeviceBuffer<TestType>::poisoned(n);
    DeviceBuffer<TestType> d_a(a), d_b(b), d_dout(dout), d_da(ga), d_db(gb);
    gptcu::cuda::residual_forward(d_out.get(), d_a.get(), d_b.get(), n, (float)alpha, nullptr);
    gptcu::cuda::residual_backward(d_da.get(), d_db.get(), d_dout.get(), n, (float)alpha, nullptr);
    // one add per element: within one rounding of T
    check_close<TestType>("residual forward", d_out.download(), out_ref);
    check_close<TestType>("residual backward da", d_da.download(), da_ref);
    check_close<TestType>("residual backward db", d_db.download(), db_ref);
  }
#endif
}
