// test/kernels/test_residual_layernorm_cuda.cpp: the fused residual add + LayerNorm on CUDA. No CPU
// kernel fuses them: the reference is cpu::layernorm_forward (in double) of res = a + b, where res
// is what the kernel must store (the fp32 sum rounded to T). Also: the fused kernel's out, mean and
// rstd are bit for bit those of cuda::layernorm_forward on its res (the backward relies on it),
// and res may be written over a.
#include <catch2/catch.hpp>
#include <utility>
#include <vector>

#include "kernels/cpu/cpu_kernels.h"
#include "test/kernels/cuda_test_util.h"
#include "test/kernels/gradcheck.h"

TEMPLATE_TEST_CASE("residual_layernorm: CUDA matches residual add then the CPU LayerNorm",
                   "[cuda][residual_layernorm]", float, gptcu::bf16) {
  GPTCU_REQUIRE_GPU();
#ifdef GPTCU_HAVE_CUDA
  using namespace gptcu::test;
  using T = TestType;
  const double eps = 1e-5;
  std::vector<std::pair<int, int>> sizes;
  for (int N : {1, 7, 129})
    for (int C : {1, 3, 96, 100, 776, 1000, 1601}) sizes.push_back({N, C});
  sizes.push_back({3, 12300});  // no shared-memory row cache: a + b recomputed from global memory
  for (auto [N, C] : sizes) {
    INFO("N " << N << " C " << C);
    const size_t n = (size_t)N * C;
    const auto a = as_stored<T>(randn(n, 1, 2.0)), b = as_stored<T>(randn(n, 2));
    const auto w = as_stored<T>(randn(C, 3)), bias = as_stored<T>(randn(C, 4));
    std::vector<double> res_ref(n);
    for (size_t i = 0; i < n; i++) res_ref[i] = to_double(from_double<T>((float)a[i] + (float)b[i]));
    std::vector<double> out_ref(n), mean_ref(N), rstd_ref(N);
    gptcu::cpu::layernorm_forward(out_ref.data(), mean_ref.data(), rstd_ref.data(), res_ref.data(), w.data(),
                                  bias.data(), N, C, eps);

    DeviceBuffer<T> d_a(a), d_b(b), d_w(w), d_bias(bias);
    auto d_res = DeviceBuffer<T>::poisoned(n), d_out = DeviceBuffer<T>::poisoned(n);
    auto d_mean = DeviceBuffer<float>::poisoned(N), d_rstd = DeviceBuffer<float>::poisoned(N);
    gptcu::cuda::residual_layernorm_forward(d_res.get(), d_out.get(), d_mean.get(), d_rstd.get(), d_a.get(),
                                            d_b.get(), d_w.get(), d_bias.get(), N, C, (float)eps, nullptr);
    const auto res = d_res.download(), out = d_out.download(), mean = d_mean.download(), rstd = d_rstd.download();
    CHECK(res == res_ref);  // one fp32 add, rounded to T: exact
    check_close<T>("residual_layernorm out", out, out_ref);
    check_close<float>("residual_layernorm mean", mean, mean_ref);
    check_close<float>("residual_layernorm rstd", rstd, rstd_ref);

    auto d_out2 = DeviceBuffer<T>::poisoned(n);
    auto d_mean2 = DeviceBuffer<float>::poisoned(N), d_rstd2 = DeviceBuffer<float>::poisoned(N);
    gptcu::cuda::layernorm_forward(d_out2.get(), d_mean2.get(), d_rstd2.get(), d_res.get(), d_w.get(), d_bias.get(),
                                   N, C, (float)eps, nullptr);
    CHECK(d_out2.download() == out);
    CHECK(d_mean2.download() == mean);
    CHECK(d_rstd2.download() == rstd);

    // in place: res written over a
    DeviceBuffer<T> d_inplace(a);
    auto d_out3 = DeviceBuffer<T>::poisoned(n);
    gptcu::cuda::residual_layernorm_forward<T>(d_inplace.get(), d_out3.get(), nullptr, nullptr, d_inplace.get(),
                                               d_b.get(), d_w.get(), d_bias.get(), N, C, (float)eps, nullptr);
    CHECK(d_inplace.download() == res);
    CHECK(d_out3.download() == out);
  }
#endif
}
