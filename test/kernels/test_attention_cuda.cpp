// test/kernels/test_attention_cuda.cpp: the interim CUDA causal attention (permute, batched cuBLASLt GEMMs,
// causal softmax) against cpu::attention_forward/backward in double. Tagged [cuda].
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "kernels/cpu/cpu_kernels.h"
#include "test/kernels/cuda_test_util.h"
#include "test/kernels/gradcheck.h"

TEMPLATE_TEST_CASE("attention: CUDA forward and backward match the CPU reference", "[cuda][attention]", float,
                   gptcu::bf16) {
  GPTCU_REQUIRE_GPU();
#ifdef GPTCU_HAVE_CUDA
  using namespace gptcu::test;
  uint32_t seed = 1;
  for (int T : {1, 7, 64, 129}) {
    for (int NH : {1, 4}) {
      for (int hs : {8, 64}) {
        const int B = 2, C = NH * hs;
        INFO("B " << B << " T " << T << " NH " << NH << " hs " << hs);
        const size_t nqkv = (size_t)B * T * 3 * C, nout = (size_t)B * T * C, natt = (size_t)B * NH * T * T;
        const auto qkv = as_stored<TestType>(randn(nqkv, seed++));
        std::vector<double> out_ref(nout), att_ref(natt);
        gptcu::cpu::attention_forward<double>(out_ref.data(), att_ref.data(), qkv.data(), B, T, C, NH);

        DeviceBuffer<TestType> d_qkv(qkv);
        auto d_out = DeviceBuffer<TestType>::poisoned(nout), d_att = DeviceBuffer<TestType>::poisoned(natt);
        DeviceScratch scratch(gptcu::cuda::attention_scratch_bytes(B, T, C, NH));
        gptcu::cuda::attention_forward(d_out.get(), d_att.get(), scratch.get(), d_qkv.get(), B, T, C, NH, nullptr);
        const auto att = d_att.download();
        // probabilities <= 1 (exactly 0 above the diagonal); out a convex mix of unit-normal v
        check_close<TestType>("att", att, att_ref);
        check_close<TestType>("out", d_out.download(), out_ref);

        // backward from the kernel's own att (what the trainer passes), += into random dqkv
        const auto dout = as_stored<TestType>(randn(nout, seed++));
        auto dqkv_ref = as_stored<TestType>(randn(nqkv, seed++));
        DeviceBuffer<TestType> d_dout(dout), d_dqkv(dqkv_ref);
        gptcu::cpu::attention_backward<double>(dqkv_ref.data(), dout.data(), qkv.data(), att.data(), B, T, C, NH);
        gptcu::cuda::attention_backward(d_dqkv.get(), scratch.get(), d_dout.get(), d_qkv.get(), d_att.get(), B, T, C,
                                        NH, nullptr);
        // dv sums up to T rows of att * dout (the first keys collect from every query): typical size 2
        check_close<TestType>("dqkv", d_dqkv.download(), dqkv_ref, 2.0);
      }
    }
  }
#endif
}
