// test/kernels/test_matmul_cuda.cpp: the cuBLASLt linear layer (forward with the bias and GELU epilogues,
// backward with += into every gradient) and gemm_bf16, against the CPU reference in double. Tagged [cuda].
//
// Sizes include odd N, C and OC (odd bf16 leading dimensions: cuBLASLt is told the real alignment, and
// where it has no algorithm the fallback kernel must give the same result), C = 1, and OC not a
// multiple of 8 (the GELU epilogue's aux ld requirement: the separate GELU kernel then runs).
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "kernels/cpu/cpu_kernels.h"
#include "test/kernels/cuda_test_util.h"
#include "test/kernels/gradcheck.h"

#ifdef GPTCU_HAVE_CUDA
#include "kernels/cuda/matmul_cache.h"  // lt::fallback_count
#endif

TEMPLATE_TEST_CASE("linear: CUDA forward and backward match the CPU reference", "[cuda][matmul]", float,
                   gptcu::bf16) {
  GPTCU_REQUIRE_GPU();
#ifdef GPTCU_HAVE_CUDA
  using namespace gptcu::test;
  using gptcu::cpu::WeightLayout;
  struct Shape {
    int N, C, OC;
  };
  uint32_t seed = 1;
  for (Shape s : {Shape{1, 1, 1}, {1, 3, 5}, {7, 96, 200}, {33, 64, 7}, {129, 776, 1000}, {64, 768, 2304}}) {
    for (WeightLayout layout : {WeightLayout::in_out, WeightLayout::out_in}) {
      for (int variant = 0; variant < 3; variant++) {  // 0: no bias, 1: bias, 2: bias + GELU
        const int N = s.N, C = s.C, OC = s.OC;
        const bool with_bias = variant >= 1, with_gelu = variant == 2;
        INFO("N " << N << " C " << C << " OC " << OC << " layout " << (layout == WeightLayout::in_out ? "in_out" : "out_in")
                  << " bias " << with_bias << " gelu " << with_gelu);
        const auto inp = as_stored<TestType>(randn((size_t)N * C, seed++));
        const auto w = as_stored<TestType>(randn((size_t)C * OC, seed++, 1.0 / std::sqrt((double)C)));
        const auto bias = as_stored<TestType>(randn(OC, seed++));
        // outputs are O(1) (unit inputs, weights scaled by 1/sqrt(C)); gradients O(sqrt(rows summed))
        std::vector<double> pre_ref((size_t)N * OC), out_ref((size_t)N * OC);
        gptcu::cpu::linear_forward<double>(pre_ref.data(), inp.data(), w.data(), with_bias ? bias.data() : nullptr, N,
                                           C, OC, layout);
        if (with_gelu)
          gptcu::cpu::gelu_forward<double>(out_ref.data(), pre_ref.data(), (int64_t)N * OC);
        else
          out_ref = pre_ref;

        // 16-byte aligned rows everywhere: cuBLASLt must take every GEMM (no fallback kernel)
        const bool aligned = C % 8 == 0 && OC % 8 == 0;
        const uint64_t fallbacks0 = gptcu::cuda::lt::fallback_count();
        DeviceBuffer<TestType> d_inp(inp), d_w(w), d_bias(bias);
        auto d_out = DeviceBuffer<TestType>::poisoned((size_t)N * OC);
        auto d_pre = DeviceBuffer<TestType>::poisoned((size_t)N * OC);
        gptcu::cuda::linear_forward(d_out.get(), d_inp.get(), d_w.get(), with_bias ? d_bias.get() : nullptr, N, C, OC,
                                    layout, with_gelu ? d_pre.get() : nullptr, nullptr);
        check_close<TestType>("out", d_out.download(), out_ref);
        if (with_gelu) check_close<TestType>("gelu_pre", d_pre.download(), pre_ref);

        // backward (+= into random gradients)
        const auto dout = as_stored<TestType>(randn((size_t)N * OC, seed++));
        auto dinp_ref = as_stored<TestType>(randn((size_t)N * C, seed++));
        auto dw_ref = as_stored<TestType>(randn((size_t)C * OC, seed++));
        auto dbias_ref = as_stored<TestType>(randn(OC, seed++));
        DeviceBuffer<TestType> d_dout(dout), d_dinp(dinp_ref), d_dw(dw_ref), d_dbias(dbias_ref);
        gptcu::cpu::linear_backward<double>(dinp_ref.data(), dw_ref.data(), with_bias ? dbias_ref.data() : nullptr,
                                            dout.data(), inp.data(), w.data(), N, C, OC, layout);
        DeviceScratch scratch(gptcu::cuda::linear_backward_scratch_bytes(N, OC));
        gptcu::cuda::linear_backward(d_dinp.get(), d_dw.get(), with_bias ? d_dbias.get() : nullptr, scratch.get(),
                                     d_dout.get(), d_inp.get(), d_w.get(), N, C, OC, layout, nullptr);
        check_close<TestType>("dinp", d_dinp.download(), dinp_ref, 1.0 + std::sqrt((double)OC / C));
        check_close<TestType>("dw", d_dw.download(), dw_ref, std::sqrt((double)N));
        check_close<TestType>("dbias", d_dbias.download(), dbias_ref, std::sqrt((double)N));
        if (aligned) CHECK(gptcu::cuda::lt::fallback_count() == fallbacks0);
      }
    }
  }
  {  // a bias that is not 16-byte aligned (a slice of a larger buffer) stays out of the epilogue
    const int N = 9, C = 32, OC = 24;
    const auto inp = as_stored<TestType>(randn((size_t)N * C, 80)), w = as_stored<TestType>(randn((size_t)C * OC, 81));
    auto bias_buf = as_stored<TestType>(randn(OC + 1, 82));
    const std::vector<double> bias(bias_buf.begin() + 1, bias_buf.end());
    std::vector<double> pre_ref((size_t)N * OC), out_ref((size_t)N * OC);
    gptcu::cpu::linear_forward<double>(pre_ref.data(), inp.data(), w.data(), bias.data(), N, C, OC,
                                       WeightLayout::in_out);
    gptcu::cpu::gelu_forward<double>(out_ref.data(), pre_ref.data(), (int64_t)N * OC);
    DeviceBuffer<TestType> d_inp(inp), d_w(w), d_bias(bias_buf);
    auto d_out = DeviceBuffer<TestType>::poisoned((size_t)N * OC), d_pre = DeviceBuffer<TestType>::poisoned((size_t)N * OC);
    gptcu::cuda::linear_forward(d_out.get(), d_inp.get(), d_w.get(), d_bias.get() + 1, N, C, OC, WeightLayout::in_out,
                                d_pre.get(), nullptr);
    check_close<TestType>("out, unaligned bias", d_out.download(), out_ref);
    check_close<TestType>("gelu_pre, unaligned bias", d_pre.download(), pre_ref);
  }
  {  // a gradient may be nullptr; the others still accumulate
    const int N = 5, C = 8, OC = 16;
    const auto inp = as_stored<TestType>(randn((size_t)N * C, 90)), w = as_stored<TestType>(randn((size_t)C * OC, 91));
    const auto dout = as_stored<TestType>(randn((size_t)N * OC, 92));
    auto dw_ref = as_stored<TestType>(randn((size_t)C * OC, 93));
    DeviceBuffer<TestType> d_inp(inp), d_w(w), d_dout(dout), d_dw(dw_ref);
    gptcu::cpu::linear_backward<double>(nullptr, dw_ref.data(), nullptr, dout.data(), inp.data(), w.data(), N, C, OC,
                                        WeightLayout::out_in);
    gptcu::cuda::linear_backward<TestType>(nullptr, d_dw.get(), nullptr, nullptr, d_dout.get(), d_inp.get(), d_w.get(),
                                           N, C, OC, WeightLayout::out_in, nullptr);
    check_close<TestType>("dw only", d_dw.download(), dw_ref, std::sqrt((double)N));
  }
#endif
}

TEST_CASE("gemm_bf16: CUDA matches a double GEMM", "[cuda][matmul]") {
  GPTCU_REQUIRE_GPU();
#ifdef GPTCU_HAVE_CUDA
  using namespace gptcu::test;
  struct Shape {
    int M, N, K;
  };
  uint32_t seed = 500;
  for (Shape s : {Shape{1, 1, 1}, {7, 129, 33}, {128, 256, 64}, {300, 200, 1000}}) {
    INFO("M " << s.M << " N " << s.N << " K " << s.K);
    const auto a = as_stored<gptcu::bf16>(randn((size_t)s.M * s.K, seed++));
    const auto b = as_stored<gptcu::bf16>(randn((size_t)s.K * s.N, seed++));
    std::vector<double> c_ref((size_t)s.M * s.N);
    // C = A (M, K) @ B (K, N): a linear layer with in_out weights B
    gptcu::cpu::linear_forward<double>(c_ref.data(), a.data(), b.data(), nullptr, s.M, s.K, s.N,
                                       gptcu::cpu::WeightLayout::in_out);
    DeviceBuffer<gptcu::bf16> d_a(a), d_b(b);
    auto d_c = DeviceBuffer<gptcu::bf16>::poisoned((size_t)s.M * s.N);
    const uint64_t fallbacks0 = gptcu::cuda::lt::fallback_count();
    gptcu::cuda::gemm_bf16(d_c.get(), d_a.get(), d_b.get(), s.M, s.N, s.K, nullptr);
    check_close<gptcu::bf16>("C", d_c.download(), c_ref, std::sqrt((double)s.K));
    if (s.N % 8 == 0 && s.K % 8 == 0) CHECK(gptcu::cuda::lt::fallback_count() == fallbacks0);
  }
#endif
}
