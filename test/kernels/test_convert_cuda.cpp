// test/kernels/test_convert_cuda.cpp: the CUDA dtype conversions and fill. There is no CPU kernel
// for them: the reference is the host conversion of kernels/bf16.h (round to nearest-even), and
// every result must be exactly equal.
#include <catch2/catch.hpp>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels/cpu/cpu_kernels.h"
#include "test/kernels/cuda_test_util.h"
#include "test/kernels/gradcheck.h"

namespace {
// exact equality, reporting the first difference (no NaN in these inputs)
void check_equal(const char* what, const std::vector<double>& got, const std::vector<double>& want) {
  REQUIRE(got.size() == want.size());
  size_t bad = got.size();
  for (size_t i = 0; i < got.size() && bad == got.size(); i++)
    if (!(got[i] == want[i])) bad = i;
  INFO(what << " (n=" << got.size() << "): first difference at " << bad << ": got "
            << (bad < got.size() ? got[bad] : 0.0) << " want " << (bad < got.size() ? want[bad] : 0.0));
  CHECK(bad == got.size());
}
}  // namespace

TEMPLATE_TEST_CASE("convert: float_to, to_float and fill on CUDA", "[cuda][convert]", float, gptcu::bf16) {
  GPTCU_REQUIRE_GPU();
#ifdef GPTCU_HAVE_CUDA
  using namespace gptcu::test;
  using T = TestType;
  for (int64_t n : {1, 7, 1000, 65537, 1 << 20}) {
    INFO("n " << n);
    auto x = as_stored<float>(randn(n, 1, 10.0));
    // values that round to infinity, denormals, signed zeros, ties
    const std::vector<double> special = {INFINITY, -INFINITY, FLT_MAX, -FLT_MAX, 1e-40, -1e-40, 0.0, -0.0,
                                         1.00390625 /* 1 + 2^-8: a bf16 tie */, 1.01171875 /* 1 + 3 * 2^-8 */};
    for (size_t i = 0; i < special.size() && i < x.size(); i++) x[(i * 7919) % n] = special[i];
    x = as_stored<float>(x);
    const auto x_t = as_stored<T>(x);  // what float_to must produce, and the input of to_float

    // float_to: fp32 in, T out
    DeviceBuffer<float> d_x(x);
    auto d_t = DeviceBuffer<T>::poisoned(n);
    gptcu::cuda::float_to(d_t.get(), d_x.get(), n, nullptr);
    check_equal("float_to", d_t.download(), x_t);

    // to_float: T in, fp32 out (exact)
    DeviceBuffer<T> d_xt(x_t);
    auto d_f = DeviceBuffer<float>::poisoned(n);
    gptcu::cuda::to_float(d_f.get(), d_xt.get(), n, nullptr);
    check_equal("to_float", d_f.download(), x_t);

    // fill
    const float value = 0.3f;
    auto d_fill = DeviceBuffer<T>::poisoned(n);
    gptcu::cuda::fill(d_fill.get(), value, n, nullptr);
    check_equal("fill", d_fill.download(), as_stored<T>(std::vector<double>(n, (double)value)));

    if (n > 1) {  // one element past 16-byte alignment: the scalar path; element 0 stays poisoned
      const int64_t m = n - 1;
      auto d_t1 = DeviceBuffer<T>::poisoned(n);
      gptcu::cuda::float_to(d_t1.get() + 1, d_x.get() + 1, m, nullptr);
      auto got = d_t1.download();
      CHECK(std::isnan(got[0]));
      check_equal("float_to, unaligned", std::vector<double>(got.begin() + 1, got.end()),
                  std::vector<double>(x_t.begin() + 1, x_t.end()));
      auto d_f1 = DeviceBuffer<float>::poisoned(n);
      gptcu::cuda::to_float(d_f1.get() + 1, d_xt.get() + 1, m, nullptr);
      got = d_f1.download();
      CHECK(std::isnan(got[0]));
      check_equal("to_float, unaligned", std::vector<double>(got.begin() + 1, got.end()),
                  std::vector<double>(x_t.begin() + 1, x_t.end()));
      auto d_fill1 = DeviceBuffer<T>::poisoned(n);
      gptcu::cuda::fill(d_fill1.get() + 1, value, m, nullptr);
      got = d_fill1.download();
      CHECK(std::isnan(got[0]));
      check_equal("fill, unaligned", std::vector<double>(got.begin() + 1, got.end()),
                  as_stored<T>(std::vector<double>(m, (double)value)));
    }
  }
#endif
}
