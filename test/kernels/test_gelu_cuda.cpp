// test/kernels/test_gelu_cuda.cpp: the CUDA GELU kernels against the CPU reference (run in double).
// Tagged [cuda]; on a machine without a GPU (or a build without nvcc) it says so and passes.
#include <catch2/catch.hpp>
#include <cstdint>
#include <vector>

#include "kernels/cpu/cpu_kernels.h"
#include "test/kernels/cuda_test_util.h"
#include "test/kernels/gradcheck.h"

TEMPLATE_TEST_CASE("gelu: CUDA matches the CPU reference", "[cuda][gelu]", float, gptcu::bf16) {
  GPTCU_REQUIRE_GPU();
#ifdef GPTCU_HAVE_CUDA
  using namespace gptcu::test;
  using T = TestType;
  // 7: only the scalar tail; 65537: vectors and a tail of one; 1 << 20: many grid-stride steps
  for (int64_t n : {1, 7, 1000, 65537, 1 << 20}) {
    INFO("n " << n);
    const auto inp = as_stored<T>(randn(n, 1, 2.0)), dout = as_stored<T>(randn(n, 2));
    const auto g0 = as_stored<T>(randn(n, 3));
    std::vector<double> out_ref(n), dinp_ref = g0;
    gptcu::cpu::gelu_forward(out_ref.data(), inp.data(), n);
    gptcu::cpu::gelu_backward(dinp_ref.data(), dout.data(), inp.data(), n);

    auto d_out = DeviceBuffer<T>::poisoned(n);
    DeviceBuffer<T> d_inp(inp), d_dout(dout), d_dinp(g0);
    gptcu::cuda::gelu_forward(d_out.get(), d_inp.get(), n, nullptr);
    gptcu::cuda::gelu_backward(d_dinp.get(), d_dout.get(), d_inp.get(), n, nullptr);
    check_close<T>("gelu forward", d_out.download(), out_ref);
    check_close<T>("gelu backward", d_dinp.download(), dinp_ref);

    if (n > 1) {  // pointers one element past 16-byte alignment: the scalar path
      const int64_t m = n - 1;
      std::vector<double> out1(m), dinp1(g0.begin() + 1, g0.end());
      gptcu::cpu::gelu_forward(out1.data(), inp.data() + 1, m);
      gptcu::cpu::gelu_backward(dinp1.data(), dout.data() + 1, inp.data() + 1, m);
      auto d_out1 = DeviceBuffer<T>::poisoned(n);
      DeviceBuffer<T> d_dinp1(g0);
      gptcu::cuda::gelu_forward(d_out1.get() + 1, d_inp.get() + 1, m, nullptr);
      gptcu::cuda::gelu_backward(d_dinp1.get() + 1, d_dout.get() + 1, d_inp.get() + 1, m, nullptr);
      const auto got_out = d_out1.download(), got_dinp = d_dinp1.download();
      check_close<T>("gelu forward, unaligned", std::vector<double>(got_out.begin() + 1, got_out.end()), out1);
      check_close<T>("gelu backward, unaligned", std::vector<double>(got_dinp.begin() + 1, got_dinp.end()), dinp1);
    }
  }
#endif
}
