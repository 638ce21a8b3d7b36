// test/kernels/test_bias_grad_cuda.cpp: the CUDA bias gradient against the dbias of the CPU
// linear_backward (run in double on the inputs rounded through T). Tagged [cuda]; without a GPU it
// says so and passes.
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "kernels/cpu/cpu_kernels.h"
#include "test/kernels/cuda_test_util.h"
#include "test/kernels/gradcheck.h"

TEMPLATE_TEST_CASE("bias_grad: CUDA matches the CPU reference", "[cuda][bias_grad]", float, gptcu::bf16) {
  GPTCU_REQUIRE_GPU();
#ifdef GPTCU_HAVE_CUDA
  using namespace gptcu::test;
  using T = TestType;
  // row chunks (cuda_common.cuh row_chunks): N = 4099: 129 of 32 rows (the last of 3);
  // N = 20000: 254 of 79 rows (the last of 13)
  for (int N : {1, 7, 129, 4099, 20000})
    for (int OC : {1, 3, 96, 100, 776, 1000, 3072}) {
      if ((size_t)N * OC > 20000000) continue;
      INFO("N " << N << " OC " << OC);
      const auto dout = as_stored<T>(randn((size_t)N * OC, 1)), dbias0 = as_stored<T>(randn(OC, 2));
      std::vector<double> dbias_ref = dbias0;
      gptcu::cpu::linear_backward<double>(nullptr, nullptr, dbias_ref.data(), dout.data(), nullptr, nullptr, N, 1, OC,
                                          gptcu::cpu::WeightLayout::in_out);
      DeviceBuffer<T> d_dout(dout), d_dbias(dbias0), d_dbias2(dbias0);
      DeviceScratch scratch(gptcu::cuda::bias_backward_scratch_bytes(N, OC));
      gptcu::cuda::bias_backward(d_dbias.get(), scratch.get(), d_dout.get(), N, OC, nullptr);
      const auto got = d_dbias.download();
      check_close<T>("dbias", got, dbias_ref, std::sqrt((double)N));  // a sum of N O(1) terms
      gptcu::cuda::bias_backward(d_dbias2.get(), scratch.get(), d_dout.get(), N, OC, nullptr);
      CHECK(d_dbias2.download() == got);  // fixed-order sums: the same bits
    }
#endif
}
