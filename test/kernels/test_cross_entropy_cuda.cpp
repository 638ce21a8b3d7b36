// test/kernels/test_cross_entropy_cuda.cpp: the CUDA cross-entropy kernels (forward, backward, fused)
// and the weighted mean against the CPU reference in double. Tagged [cuda]; without a GPU it says so.
//
// Row lengths cover every path of cross_entropy.cu: the register-resident fused kernel with 1, 2, 4 and
// 8 vectors per thread, the two-read version (rows past 65536 bf16 / 32768 floats), and the scalar
// paths (logits one element off 16-byte alignment).
#include <catch2/catch.hpp>
#include <cmath>
#include <random>
#include <vector>

#include "kernels/cpu/cpu_kernels.h"
#include "test/kernels/cuda_test_util.h"
#include "test/kernels/gradcheck.h"

#ifdef GPTCU_HAVE_CUDA
namespace {

using namespace gptcu::test;

// targets in [0, V), every fifth one ignored (-1)
std::vector<int32_t> make_targets(int N, int V, uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_int_distribution<int> dist(0, V - 1);
  std::vector<int32_t> t(N);
  for (int i = 0; i < N; i++) t[i] = i % 5 == 3 ? -1 : dist(gen);
  return t;
}

// log sum_j<V exp(logits[i, j]) in double
std::vector<double> ref_lse(const std::vector<double>& logits, int N, int V, int Vp) {
  std::vector<double> lse(N);
  for (int i = 0; i < N; i++) {
    const double* x = logits.data() + (size_t)i * Vp;
    double m = -INFINITY, s = 0;
    for (int j = 0; j < V; j++) m = std::max(m, x[j]);
    for (int j = 0; j < V; j++) s += std::exp(x[j] - m);
    lse[i] = m + std::log(s);
  }
  return lse;
}

// A device copy of v starting `offset` elements into its allocation (offset 1: not 16-byte aligned).
template <typename T>
struct OffsetBuffer {
  DeviceBuffer<T> buf;
  size_t offset;
  OffsetBuffer(const std::vector<double>& v, size_t off) : buf(with_prefix(v, off)), offset(off) {}
  static std::vector<double> with_prefix(const std::vector<double>& v, size_t off) {
    std::vector<double> r(off, 0.0);
    r.insert(r.end(), v.begin(), v.end());
    return r;
  }
  T* get() const { return buf.get() + offset; }
  std::vector<double> download() const {
    const auto all = buf.download();
    return std::vector<double>(all.begin() + offset, all.end());
  }
};

struct Case {
  int N, V, Vp, offset;
};
// f32 vectors per row (Vp / 4) and bf16 (Vp / 8) pick: 1, 2, 4, 8 per thread of 1024, or two reads
const Case kCases[] = {{1, 7, 128, 0},        {7, 1, 128, 0},          {7, 1000, 1024, 0}, {3, 5000, 5120, 0},
                       {5, 16000, 16384, 0},  {4, 30000, 30080, 0},    {129, 50257, 50304, 0},
                       {3, 70000, 70016, 0},  {7, 1000, 1024, 1},      {2, 50257, 50304, 1}};

}  // namespace
#endif

TEMPLATE_TEST_CASE("cross_entropy: CUDA forward and backward match the CPU reference", "[cuda][cross_entropy]", float,
                   gptcu::bf16) {
  GPTCU_REQUIRE_GPU();
#ifdef GPTCU_HAVE_CUDA
  uint32_t seed = 100;
  for (const Case& c : kCases) {
    const int N = c.N, V = c.V, Vp = c.Vp;
    INFO("N " << N << " V " << V << " Vp " << Vp << " offset " << c.offset);
    const size_t n = (size_t)N * Vp;
    const auto logits = as_stored<TestType>(randn(n, seed++, 2.0));
    const auto targets = make_targets(N, V, seed++);
    std::vector<double> losses_ref(N);
    gptcu::cpu::cross_entropy_forward<double>(losses_ref.data(), logits.data(), targets.data(), N, V, Vp);
    const auto lse_ref = ref_lse(logits, N, V, Vp);

    OffsetBuffer<TestType> d_logits(logits, c.offset);
    DeviceInts d_targets(targets);
    auto d_losses = DeviceBuffer<float>::poisoned(N), d_lse = DeviceBuffer<float>::poisoned(N);
    gptcu::cuda::cross_entropy_forward(d_losses.get(), d_lse.get(), d_logits.get(), d_targets.get(), N, V, Vp,
                                       nullptr);
    // fp32 arithmetic on exactly the stored logits: fp32 tolerance for both dtypes
    check_close<float>("losses", d_losses.download(), losses_ref);
    check_close<float>("lse", d_lse.download(), lse_ref);

    // backward: += into small random gradients (so that errors in p ~ 1/V show), padding untouched
    const auto dlosses = as_stored<float>(randn(N, seed++));
    const auto dlogits0 = as_stored<TestType>(randn(n, seed++, 1e-3));
    auto dlogits_ref = dlogits0;
    gptcu::cpu::cross_entropy_backward<double>(dlogits_ref.data(), dlosses.data(), logits.data(), targets.data(), N,
                                               V, Vp);
    OffsetBuffer<TestType> d_dlogits(dlogits0, c.offset);
    DeviceBuffer<float> d_dlosses(dlosses);
    gptcu::cuda::cross_entropy_backward(d_dlogits.get(), d_dlosses.get(), d_logits.get(), d_lse.get(),
                                        d_targets.get(), N, V, Vp, nullptr);
    check_close<TestType>("dlogits", d_dlogits.download(), dlogits_ref, 1e-3);
  }
#endif
}

TEMPLATE_TEST_CASE("cross_entropy_fused: CUDA matches forward + backward of the CPU reference, in place too",
                   "[cuda][cross_entropy]", float, gptcu::bf16) {
  GPTCU_REQUIRE_GPU();
#ifdef GPTCU_HAVE_CUDA
  uint32_t seed = 200;
  int case_index = 0;
  for (const Case& c : kCases) {
    const int N = c.N, V = c.V, Vp = c.Vp;
    const bool with_weights = case_index++ % 2 == 0;
    INFO("N " << N << " V " << V << " Vp " << Vp << " offset " << c.offset << " weights " << with_weights);
    const size_t n = (size_t)N * Vp;
    const auto logits = as_stored<TestType>(randn(n, seed++, 2.0));
    const auto targets = make_targets(N, V, seed++);
    std::vector<double> weights(N, 1.0);
    if (with_weights)
      for (int i = 0; i < N; i++) weights[i] = (double)(float)(0.25 + 0.1 * (i % 7));
    const float scale = 1.0f / (float)N;
    // reference: losses, and dlogits = scale * w * (p - onehot) = the backward onto zeros with dloss = scale * w
    std::vector<double> losses_ref(N), coef(N), dlogits_ref(n, 0.0);
    gptcu::cpu::cross_entropy_forward<double>(losses_ref.data(), logits.data(), targets.data(), N, V, Vp);
    for (int i = 0; i < N; i++) coef[i] = (double)scale * weights[i];
    gptcu::cpu::cross_entropy_backward<double>(dlogits_ref.data(), coef.data(), logits.data(), targets.data(), N, V,
                                               Vp);
    // p (~1/V) is compared relative to itself: atol is a thousandth of the largest coefficient
    double max_coef = 0;
    for (double x : coef) max_coef = std::max(max_coef, x);
    const double atol_scale = 1e-3 * max_coef;

    DeviceInts d_targets(targets);
    DeviceBuffer<float> d_weights(weights);
    const float* w = with_weights ? d_weights.get() : nullptr;
    {  // out of place, into a poisoned buffer: every element (padding too) must be written
      OffsetBuffer<TestType> d_logits(logits, c.offset), d_out(std::vector<double>(n, NAN), c.offset);
      auto d_losses = DeviceBuffer<float>::poisoned(N);
      gptcu::cuda::cross_entropy_fused(d_losses.get(), d_out.get(), d_logits.get(), d_targets.get(), w, scale, N, V,
                                       Vp, nullptr);
      check_close<float>("fused losses", d_losses.download(), losses_ref);
      check_close<TestType>("fused dlogits", d_out.download(), dlogits_ref, atol_scale);
      check_close<TestType>("logits unchanged", d_logits.download(), logits);
    }
    {  // in place: dlogits == logits
      OffsetBuffer<TestType> d_buf(logits, c.offset);
      auto d_losses = DeviceBuffer<float>::poisoned(N);
      gptcu::cuda::cross_entropy_fused(d_losses.get(), d_buf.get(), d_buf.get(), d_targets.get(), w, scale, N, V, Vp,
                                       nullptr);
      check_close<float>("fused in-place losses", d_losses.download(), losses_ref);
      check_close<TestType>("fused in-place dlogits", d_buf.download(), dlogits_ref, atol_scale);
    }
  }
#endif
}

TEST_CASE("weighted_mean: CUDA matches a double reference, deterministic", "[cuda][cross_entropy]") {
  GPTCU_REQUIRE_GPU();
#ifdef GPTCU_HAVE_CUDA
  uint32_t seed = 300;
  for (int N : {1, 7, 129, 65537}) {
    for (int variant = 0; variant < 3; variant++) {  // 0: no mask, 1: fractional mask, 2: every target ignored
      INFO("N " << N << " variant " << variant);
      std::vector<double> losses = randn(N, seed++);
      for (double& x : losses) x = (double)(float)std::abs(x) * 3;
      std::vector<int32_t> targets = make_targets(N, 100, seed++);
      if (variant == 2) targets.assign(N, -1);
      std::vector<double> mask(N);
      std::mt19937 gen(seed++);
      std::uniform_real_distribution<double> u(0.0, 1.0);
      for (double& m : mask) m = (double)(float)u(gen);
      const bool use_mask = variant == 1;

      std::vector<double> w_ref(N);
      double count = 0, total = 0;
      for (int i = 0; i < N; i++) {
        w_ref[i] = targets[i] < 0 ? 0.0 : (use_mask ? mask[i] : 1.0);
        count += w_ref[i];
        total += w_ref[i] * losses[i];
      }
      const double out_ref = count != 0 ? total / count : 0.0;

      DeviceBuffer<float> d_losses(losses), d_mask(mask);
      DeviceInts d_targets(targets);
      auto d_out = DeviceBuffer<float>::poisoned(1), d_count = DeviceBuffer<float>::poisoned(1);
      auto d_w = DeviceBuffer<float>::poisoned(N);
      gptcu::cuda::weighted_mean_forward(d_out.get(), d_w.get(), d_count.get(), d_losses.get(), d_targets.get(),
                                         use_mask ? d_mask.get() : nullptr, N, nullptr);
      const auto out1 = d_out.download();
      check_close<float>("mean", out1, {out_ref});
      check_close<float>("count", d_count.download(), {count});
      check_close<float>("weights", d_w.download(), w_ref);
      // the same bits on a second run
      gptcu::cuda::weighted_mean_forward(d_out.get(), d_w.get(), d_count.get(), d_losses.get(), d_targets.get(),
                                         use_mask ? d_mask.get() : nullptr, N, nullptr);
      CHECK(d_out.download()[0] == out1[0]);

      // backward: dlosses += dout * w / count (nothing when count is 0)
      const auto dl0 = as_stored<float>(randn(N, seed++));
      const double dout = 0.75;
      std::vector<double> dl_ref = dl0;
      if (count != 0)
        for (int i = 0; i < N; i++) dl_ref[i] += dout * w_ref[i] / count;
      DeviceBuffer<float> d_dl(dl0), d_dout(std::vector<double>{dout});
      gptcu::cuda::weighted_mean_backward(d_dl.get(), d_dout.get(), d_w.get(), d_count.get(), N, nullptr);
      check_close<float>("dlosses", d_dl.download(), dl_ref);
    }
  }
#endif
}
