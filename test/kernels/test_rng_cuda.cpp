// test/kernels/test_rng_cuda.cpp: cuda::fill_normal draws the numbers of the CPU's
// Rng::fill_normal (core/rng.h) for the same key and counter.
//
// Tolerance: the Philox bits and the uniforms are integer-exact on both sides, and sqrtf and the
// products are correctly rounded on both, but logf, cosf and sinf are CUDA's on the GPU and
// glibc's on the CPU (CUDA documents up to 1 ulp for logf, 2 for sinf/cosf; glibc's are within 1),
// so bit-exact equality cannot be promised. A float must be within kMaxUlps ulps of the CPU's,
// measured on the scale of its terms, |std * z| + |mean| (mean + std * z may cancel to near 0);
// a bf16 within that plus half a bf16 step. The share of bit-exact values is reported.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "core/rng.h"
#include "kernels/bf16.h"
#include "test/kernels/cuda_test_util.h"

namespace {
constexpr double kMaxUlps = 8;
}  // namespace

TEMPLATE_TEST_CASE("fill_normal: CUDA draws the numbers of Rng::fill_normal", "[cuda][rng]", float, gptcu::bf16) {
  GPTCU_REQUIRE_GPU();
#ifdef GPTCU_HAVE_CUDA
  using namespace gptcu::test;
  using T = TestType;
  struct Case {
    int64_t n;
    uint64_t counter;
    float mean, std;
  };
  // odd n (a last Philox block only partly used); a counter about to wrap around 2^64
  for (const Case c : {Case{1, 0, 0.0f, 1.0f}, Case{3, 5, 0.0f, 1.0f}, Case{4099, 123456789, 0.0f, 0.02f},
                       Case{1000001, ~0ull - 7, 0.5f, 2.0f}}) {
    INFO("n " << c.n << " counter " << c.counter << " mean " << c.mean << " std " << c.std);
    gptcu::Rng rng(1234, 7);
    rng.set_counter(c.counter);
    std::vector<float> ref(c.n);
    rng.fill_normal(ref.data(), c.n, c.mean, c.std);
    CHECK(rng.counter() == c.counter + (uint64_t)(c.n + 3) / 4);

    auto d_out = DeviceBuffer<T>::poisoned(c.n);
    gptcu::cuda::fill_normal(d_out.get(), c.n, rng.key(), c.counter, c.mean, c.std, nullptr);
    const auto got = d_out.download();
    const bool is_f32 = std::is_same_v<T, float>;
    int64_t exact = 0, worst_at = 0;
    double worst = 0;  // the largest |got - ref| / allowed
    for (int64_t i = 0; i < c.n; i++) {
      const double want = is_f32 ? ref[i] : gptcu::bf16_to_float(gptcu::float_to_bf16(ref[i]));
      const double f32_err = kMaxUlps * std::ldexp(1.0, -23) * (std::abs(ref[i] - c.mean) + std::abs(c.mean));
      const double allowed = is_f32 ? f32_err : f32_err + std::ldexp(1.0, -9) * (std::abs(ref[i]) + f32_err);
      const double r = got[i] == ref[i] ? 0.0 : std::abs(got[i] - ref[i]) / allowed;  // ref = mean: z = 0
      exact += got[i] == want;
      if (!(r <= worst)) worst = r, worst_at = i;  // NaN (unwritten) wins
    }
    INFO("element " << worst_at << ": got " << got[worst_at] << " want " << ref[worst_at] << ", " << worst
                    << "x the tolerance");
    WARN("fill_normal (" << dtype_label<T>() << ", n=" << c.n << "): " << exact << " of " << c.n
                         << " bit-exact; worst error " << worst << "x the tolerance");
    CHECK(worst <= 1.0);
  }
#endif
}
