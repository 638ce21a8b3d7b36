// test/kernels/test_softmax_cuda.cpp: the CUDA softmax kernels against the CPU reference (run in
// double on the inputs rounded through T). Tagged [cuda]; without a GPU it says so and passes.
#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "kernels/cpu/cpu_kernels.h"
#include "test/kernels/cuda_test_util.h"
#include "test/kernels/gradcheck.h"

TEMPLATE_TEST_CASE("softmax: CUDA matches the CPU reference", "[cuda][softmax]", float, gptcu::bf16) {
  GPTCU_REQUIRE_GPU();
#ifdef GPTCU_HAVE_CUDA
  using namespace gptcu::test;
  using T = TestType;
  std::vector<std::pair<int, int>> sizes;
  for (int N : {1, 7, 129})
    for (int C : {1, 3, 96, 100, 776, 1000, 1601}) sizes.push_back({N, C});
  sizes.push_back({3, 50304});  // a padded GPT-2 vocabulary row: many elements per thread
  sizes.push_back({2, 50257});  // odd: the scalar path
  for (auto [N, C] : sizes) {
    INFO("N " << N << " C " << C);
    const size_t n = (size_t)N * C;
    auto inp = randn(n, 1, 2.0);
    // every third row causally masked as attention does: columns past (7 i) % C are -inf
    for (int i = 2; i < N; i += 3)
      for (int c = (7 * i) % C + 1; c < C; c++) inp[(size_t)i * C + c] = -INFINITY;
    inp = as_stored<T>(inp);

    std::vector<double> out_ref(n);
    gptcu::cpu::softmax_forward(out_ref.data(), inp.data(), N, C);
    auto d_out = DeviceBuffer<T>::poisoned(n);
    DeviceBuffer<T> d_inp(inp);
    gptcu::cuda::softmax_forward(d_out.get(), d_inp.get(), N, C, nullptr);
    // probabilities are about 1 / C: that is their scale; each is accurate to a few ulps relative
    check_close<T>("softmax out", d_out.download(), out_ref, 1.0 / C);

    // backward on the stored probabilities, into a gradient that starts random (+=)
    const auto y = as_stored<T>(out_ref), dout = as_stored<T>(randn(n, 2));
    const auto dinp0 = as_stored<T>(randn(n, 3, 1.0 / C));
    std::vector<double> dinp_ref = dinp0;
    gptcu::cpu::softmax_backward(dinp_ref.data(), dout.data(), y.data(), N, C);
    DeviceBuffer<T> d_y(y), d_dout(dout), d_dinp(dinp0);
    gptcu::cuda::softmax_backward(d_dinp.get(), d_dout.get(), d_y.get(), N, C, nullptr);
    // dinp0 + y * (dout - dot): the error of dot (absolute, ~1e-7 in fp32) comes in times y, so
    // each row is checked with the scale of its largest probability (about 1 / C unless masked)
    const auto dinp = d_dinp.download();
    for (int i = 0; i < N; i++) {
      const auto row = [&](const std::vector<double>& v) {
        return std::vector<double>(v.begin() + (size_t)i * C, v.begin() + (size_t)(i + 1) * C);
      };
      const auto y_row = row(y);
      check_close<T>("softmax dinp, row " + std::to_string(i), row(dinp), row(dinp_ref),
                     *std::max_element(y_row.begin(), y_row.end()));
    }
  }
#endif
}
