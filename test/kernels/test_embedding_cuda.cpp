// test/kernels/test_embedding_cuda.cpp: the CUDA token + position embedding against the CPU
// reference (run in double on the inputs rounded through T). Tagged [cuda]; without a GPU it says
// so and passes.
#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <random>
#include <vector>

#include "kernels/cpu/cpu_kernels.h"
#include "test/kernels/cuda_test_util.h"
#include "test/kernels/gradcheck.h"

namespace {
struct EmbeddingSize {
  int B, T, C, V;
};
}  // namespace

TEMPLATE_TEST_CASE("embedding: CUDA matches the CPU reference", "[cuda][embedding]", float, gptcu::bf16) {
  GPTCU_REQUIRE_GPU();
#ifdef GPTCU_HAVE_CUDA
  using namespace gptcu::test;
  using T = TestType;
  // (4, 200, 96, 7): half the 800 positions hold token 0, a run longer than the 256 threads that
  // measure it; (3, 65, 776, 50), (2, 33, 100, 1000): vector and scalar paths, mostly short runs
  for (const EmbeddingSize s : {EmbeddingSize{1, 1, 1, 1}, EmbeddingSize{2, 3, 3, 5}, EmbeddingSize{4, 200, 96, 7},
                                EmbeddingSize{3, 65, 776, 50}, EmbeddingSize{2, 33, 100, 1000},
                                EmbeddingSize{7, 129, 1000, 300}}) {
    const int B = s.B, T_ = s.T, C = s.C, V = s.V, maxT = s.T + 3, n = B * T_;
    INFO("B " << B << " T " << T_ << " C " << C << " V " << V);
    std::mt19937 gen(42);
    std::vector<int32_t> tokens(n), positions(n);
    for (int i = 0; i < n; i++) tokens[i] = gen() % 2 == 0 ? 0 : (int32_t)(gen() % V);
    for (int b = 0; b < B; b++)
      for (int t = 0; t < T_; t++) positions[b * T_ + t] = (t + 2 * b) % maxT;
    const auto wte = as_stored<T>(randn((size_t)V * C, 1)), wpe = as_stored<T>(randn((size_t)maxT * C, 2));
    DeviceBuffer<T> d_wte(wte), d_wpe(wpe);
    DeviceInts d_tokens(tokens), d_positions(positions);

    // forward, positions t and given positions
    for (const bool given : {false, true}) {
      INFO("positions given " << given);
      std::vector<double> out_ref((size_t)n * C);
      gptcu::cpu::embedding_forward(out_ref.data(), tokens.data(), wte.data(), wpe.data(), B, T_, C,
                                    given ? positions.data() : nullptr);
      auto d_out = DeviceBuffer<T>::poisoned((size_t)n * C);
      gptcu::cuda::embedding_forward(d_out.get(), d_tokens.get(), d_wte.get(), d_wpe.get(), B, T_, C,
                                     given ? d_positions.get() : nullptr, nullptr);
      check_close<T>("embedding out", d_out.download(), out_ref);
    }

    // backward into gradients that start random (+=)
    const auto dout = as_stored<T>(randn((size_t)n * C, 3));
    const auto dwte0 = as_stored<T>(randn((size_t)V * C, 4)), dwpe0 = as_stored<T>(randn((size_t)maxT * C, 5));
    std::vector<double> dwte_ref = dwte0, dwpe_ref = dwpe0;
    gptcu::cpu::embedding_backward(dwte_ref.data(), dwpe_ref.data(), dout.data(), tokens.data(), B, T_, C);
    DeviceBuffer<T> d_dout(dout), d_dwte(dwte0), d_dwpe(dwpe0);
    DeviceScratch scratch(gptcu::cuda::embedding_backward_scratch_bytes(B, T_, C));
    gptcu::cuda::embedding_backward(d_dwte.get(), d_dwpe.get(), scratch.get(), d_dout.get(), d_tokens.get(), B, T_, C,
                                    nullptr);
    // a token's gradient is a sum of as many O(1) rows as it occurs: O(sqrt(count))
    std::map<int32_t, int> count;
    for (int32_t t : tokens) count[t]++;
    int most = 0;
    for (auto [tok, k] : count) most = std::max(most, k);
    const auto dwte = d_dwte.download();
    check_close<T>("embedding dwte", dwte, dwte_ref, std::sqrt((double)most));
    check_close<T>("embedding dwpe", d_dwpe.download(), dwpe_ref, std::sqrt((double)B));

    // again: the same bits (no atomics); dwpe left out is skipped, and dwte left out needs no scratch
    DeviceBuffer<T> d_dwte2(dwte0), d_dwpe2(dwpe0);
    gptcu::cuda::embedding_backward<T>(d_dwte2.get(), nullptr, scratch.get(), d_dout.get(), d_tokens.get(), B, T_, C,
                                       nullptr);
    CHECK(d_dwte2.download() == dwte);
    CHECK(d_dwpe2.download() == dwpe0);
    gptcu::cuda::embedding_backward<T>(nullptr, d_dwpe2.get(), nullptr, d_dout.get(), d_tokens.get(), B, T_, C,
                                       nullptr);
    check_close<T>("embedding dwpe alone", d_dwpe2.download(), dwpe_ref, std::sqrt((double)B));
  }
#endif
}
