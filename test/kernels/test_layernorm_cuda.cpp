// test/kernels/test_layernorm_cuda.cpp: the CUDA LayerNorm kernels against the CPU reference (run
// in double on the inputs rounded through T). Tagged [cuda]; without a GPU it says so and passes.
#include <catch2/catch.hpp>
#include <cmath>
#include <utility>
#include <vector>

#include "kernels/cpu/cpu_kernels.h"
#include "test/kernels/cuda_test_util.h"
#include "test/kernels/gradcheck.h"

namespace {
// (N, C): odd sizes, vector and scalar paths (bf16 vectors need C % 8 == 0, fp32 C % 4 == 0),
// C = 1601 (fewer rows per block for the shared-memory row cache), C = 12300 (no cache: the
// later passes re-read global memory), N = 4099 (many row chunks in the dw/db sums).
std::vector<std::pair<int, int>> layernorm_sizes() {
  std::vector<std::pair<int, int>> sizes;
  for (int N : {1, 7, 129})
    for (int C : {1, 3, 96, 100, 776, 1000, 1601}) sizes.push_back({N, C});
  sizes.push_back({3, 12300});
  sizes.push_back({4099, 96});
  sizes.push_back({4099, 3});
  return sizes;
}
}  // namespace

TEMPLATE_TEST_CASE("layernorm: CUDA matches the CPU reference", "[cuda][layernorm]", float, gptcu::bf16) {
  GPTCU_REQUIRE_GPU();
#ifdef GPTCU_HAVE_CUDA
  using namespace gptcu::test;
  using T = TestType;
  const double eps = 1e-5;
  for (auto [N, C] : layernorm_sizes()) {
    INFO("N " << N << " C " << C);
    const size_t n = (size_t)N * C;
    auto inp = randn(n, 1, 2.0);
    for (auto& x : inp) x += 3.0;  // a mean far from 0: the two-pass variance matters
    inp = as_stored<T>(inp);
    const auto w = as_stored<T>(randn(C, 2)), b = as_stored<T>(randn(C, 3));

    // forward
    std::vector<double> out_ref(n), mean_ref(N), rstd_ref(N);
    gptcu::cpu::layernorm_forward(out_ref.data(), mean_ref.data(), rstd_ref.data(), inp.data(), w.data(), b.data(),
                                  N, C, eps);
    auto d_out = DeviceBuffer<T>::poisoned(n);
    auto d_mean = DeviceBuffer<float>::poisoned(N), d_rstd = DeviceBuffer<float>::poisoned(N);
    DeviceBuffer<T> d_inp(inp), d_w(w), d_b(b);
    gptcu::cuda::layernorm_forward(d_out.get(), d_mean.get(), d_rstd.get(), d_inp.get(), d_w.get(), d_b.get(), N, C,
                                   (float)eps, nullptr);
    check_close<T>("layernorm out", d_out.download(), out_ref);
    check_close<float>("layernorm mean", d_mean.download(), mean_ref);  // fp32 statistics for any T
    check_close<float>("layernorm rstd", d_rstd.download(), rstd_ref);

    // backward, from the fp32 statistics both sides see, into gradients that start random (+=)
    const auto mean32 = as_stored<float>(mean_ref), rstd32 = as_stored<float>(rstd_ref);
    const auto dout = as_stored<T>(randn(n, 4)), dinp0 = as_stored<T>(randn(n, 5));
    const auto dw0 = as_stored<T>(randn(C, 6)), db0 = as_stored<T>(randn(C, 7));
    std::vector<double> dinp_ref = dinp0, dw_ref = dw0, db_ref = db0;
    gptcu::cpu::layernorm_backward(dinp_ref.data(), dw_ref.data(), db_ref.data(), dout.data(), inp.data(), w.data(),
                                   mean32.data(), rstd32.data(), N, C);
    DeviceBuffer<T> d_dout(dout), d_dinp(dinp0), d_dw(dw0), d_db(db0);
    DeviceBuffer<float> d_mean32(mean32), d_rstd32(rstd32);
    DeviceScratch scratch(gptcu::cuda::layernorm_backward_scratch_bytes(N, C));
    gptcu::cuda::layernorm_backward(d_dinp.get(), d_dw.get(), d_db.get(), scratch.get(), d_dout.get(), d_inp.get(),
                                    d_w.get(), d_mean32.get(), d_rstd32.get(), N, C, nullptr);
    check_close<T>("layernorm dinp", d_dinp.download(), dinp_ref);
    // dw, db: sums over N rows of O(1) terms, so O(sqrt N)
    const auto dw_got = d_dw.download();
    check_close<T>("layernorm dw", dw_got, dw_ref, std::sqrt((double)N));
    check_close<T>("layernorm db", d_db.download(), db_ref, std::sqrt((double)N));

    // the same call again: the same bits (fixed-order sums); and a gradient left out is skipped
    DeviceBuffer<T> d_dw2(dw0), d_db2(db0);
    gptcu::cuda::layernorm_backward<T>(nullptr, d_dw2.get(), nullptr, scratch.get(), d_dout.get(), d_inp.get(),
                                       d_w.get(), d_mean32.get(), d_rstd32.get(), N, C, nullptr);
    CHECK(d_dw2.download() == dw_got);
    CHECK(d_db2.download() == db0);
  }
#endif
}
