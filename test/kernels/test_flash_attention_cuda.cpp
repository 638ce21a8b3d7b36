// test/kernels/test_flash_attention_cuda.cpp: the flash-attention kernels (kernels/cuda/
// flash_attention_*.cu) against the fp64 CPU reference (cpu::attention_forward / backward in
// double on the bf16 inputs), with flash-attention's own tolerance rule: for every output (out,
// lse, dQ, dK, dV) the kernel's max abs error against the fp64 reference must be no worse than
// 2x the max abs error of a naive bf16 attention (below: every op rounds its output to bf16, as a
// PyTorch-style matmul -> scale -> softmax -> matmul in bf16 does) against the same reference,
// plus a tiny atol (1e-5) for outputs the naive version gets exactly right (T = 1: out = v).
// The fp64 gradient check of the CPU reference is in test_attention.cpp.
// Tagged [cuda]; on a machine without a GPU (or a build without nvcc) it says so and passes.
#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/bf16.h"
#include "kernels/cpu/cpu_kernels.h"
#include "test/kernels/gradcheck.h"

#include "test/kernels/cuda_test_util.h"

#ifdef GPTCU_HAVE_CUDA
#include <stdexcept>

#include "kernels/cuda/cuda_kernels.h"
#endif

namespace {

// x rounded to bf16 (nearest-even) and back
float rb(double x) { return gptcu::bf16_to_float(gptcu::float_to_bf16((float)x)); }

// One attention's results: out (B, T, C), lse (B, NH, T) and the gradient (B, T, 3C) alone
// (what the backward adds into dqkv).
struct AttentionResult {
  std::vector<double> out, lse, grad;
};

// The fp64 reference: the CPU kernels in double, and the log-sum-exp computed here.
AttentionResult reference(const std::vector<double>& qkv, const std::vector<double>& dout, int B, int T, int C,
                          int NH) {
  AttentionResult r;
  r.out.resize((size_t)B * T * C);
  std::vector<double> att((size_t)B * NH * T * T);
  gptcu::cpu::attention_forward(r.out.data(), att.data(), qkv.data(), B, T, C, NH);
  r.grad.assign(qkv.size(), 0.0);
  gptcu::cpu::attention_backward(r.grad.data(), dout.data(), qkv.data(), att.data(), B, T, C, NH);
  const int hs = C / NH;
  const double scale = 1.0 / std::sqrt((double)hs);
  r.lse.resize((size_t)B * NH * T);
  std::vector<double> s(T);
  for (int b = 0; b < B; b++)
    for (int h = 0; h < NH; h++)
      for (int t = 0; t < T; t++) {
        const double* q = &qkv[((size_t)b * T + t) * 3 * C + h * hs];
        double m = -INFINITY;
        for (int j = 0; j <= t; j++) {
          const double* k = &qkv[((size_t)b * T + j) * 3 * C + C + h * hs];
          double dot = 0;
          for (int c = 0; c < hs; c++) dot += q[c] * k[c];
          s[j] = dot * scale;
          m = std::max(m, s[j]);
        }
        double sum = 0;
        for (int j = 0; j <= t; j++) sum += std::exp(s[j] - m);
        r.lse[((size_t)b * NH + h) * T + t] = m + std::log(sum);
      }
  return r;
}

// A naive bf16 attention: fp32 arithmetic, and every intermediate that a naive bf16 GPU
// implementation writes to memory rounded to bf16: the scores Q K^T, the scaled scores, the
// probabilities, the output; in the backward dP = dO V^T, the softmax gradient, dS (after the
// scale), dQ, dK, dV. lse is the fp32 log-sum-exp of the bf16 scaled scores.
AttentionResult naive_bf16(const std::vector<double>& qkv, const std::vector<double>& dout, int B, int T, int C,
                           int NH) {
  const int hs = C / NH;
  const float scale = rb(1.0 / std::sqrt((double)hs));
  AttentionResult r;
  r.out.assign((size_t)B * T * C, 0.0);
  r.lse.assign((size_t)B * NH * T, 0.0);
  r.grad.assign(qkv.size(), 0.0);
#pragma omp parallel for collapse(2) schedule(static)
  for (int b = 0; b < B; b++) {
    for (int h = 0; h < NH; h++) {
      auto Q = [&](int t, int c) { return (float)qkv[((size_t)b * T + t) * 3 * C + h * hs + c]; };
      auto K = [&](int t, int c) { return (float)qkv[((size_t)b * T + t) * 3 * C + C + h * hs + c]; };
      auto V = [&](int t, int c) { return (float)qkv[((size_t)b * T + t) * 3 * C + 2 * C + h * hs + c]; };
      auto dO = [&](int t, int c) { return (float)dout[((size_t)b * T + t) * C + h * hs + c]; };
      std::vector<float> P((size_t)T * T, 0.0f), dS((size_t)T * T, 0.0f);
      std::vector<float> dq((size_t)T * hs, 0.0f), dk((size_t)T * hs, 0.0f), dv((size_t)T * hs, 0.0f);
      std::vector<float> s(T), o(hs), dp(T);
      for (int i = 0; i < T; i++) {
        float m = -INFINITY;
        for (int j = 0; j <= i; j++) {
          float acc = 0;
          for (int c = 0; c < hs; c++) acc += Q(i, c) * K(j, c);
          s[j] = rb(rb(acc) * scale);
          m = std::max(m, s[j]);
        }
        float sum = 0;
        for (int j = 0; j <= i; j++) sum += std::exp(s[j] - m);
        r.lse[((size_t)b * NH + h) * T + i] = m + std::log(sum);
        for (int j = 0; j <= i; j++) P[(size_t)i * T + j] = rb(std::exp(s[j] - m) / sum);
        std::fill(o.begin(), o.end(), 0.0f);
        for (int j = 0; j <= i; j++)
          for (int c = 0; c < hs; c++) o[c] += P[(size_t)i * T + j] * V(j, c);
        for (int c = 0; c < hs; c++) r.out[((size_t)b * T + i) * C + h * hs + c] = rb(o[c]);
        // backward of row i
        float dot = 0;
        for (int j = 0; j <= i; j++) {
          float acc = 0;
          for (int c = 0; c < hs; c++) acc += dO(i, c) * V(j, c);
          dp[j] = rb(acc);
          dot += P[(size_t)i * T + j] * dp[j];
        }
        for (int j = 0; j <= i; j++) {
          const float p = P[(size_t)i * T + j];
          dS[(size_t)i * T + j] = rb(rb(p * (dp[j] - dot)) * scale);
        }
      }
      for (int i = 0; i < T; i++)
        for (int j = 0; j <= i; j++) {
          const float p = P[(size_t)i * T + j], ds = dS[(size_t)i * T + j];
          for (int c = 0; c < hs; c++) {
            dv[(size_t)j * hs + c] += p * dO(i, c);
            dq[(size_t)i * hs + c] += ds * K(j, c);
            dk[(size_t)j * hs + c] += ds * Q(i, c);
          }
        }
      for (int t = 0; t < T; t++)
        for (int c = 0; c < hs; c++) {
          const size_t row = ((size_t)b * T + t) * 3 * C + h * hs + c;
          r.grad[row] = rb(dq[(size_t)t * hs + c]);
          r.grad[row + C] = rb(dk[(size_t)t * hs + c]);
          r.grad[row + 2 * C] = rb(dv[(size_t)t * hs + c]);
        }
    }
  }
  return r;
}

// max |got - want| over the elements i with keep(i); NaN (an unwritten, poisoned element) wins
template <typename Keep>
double max_err(const std::vector<double>& got, const std::vector<double>& want, Keep keep) {
  REQUIRE(got.size() == want.size());
  double worst = 0;
  for (size_t i = 0; i < got.size(); i++) {
    if (!keep(i)) continue;
    const double e = std::abs(got[i] - want[i]);
    if (std::isnan(e)) return std::numeric_limits<double>::quiet_NaN();
    worst = std::max(worst, e);
  }
  return worst;
}
double max_err(const std::vector<double>& got, const std::vector<double>& want) {
  return max_err(got, want, [](size_t) { return true; });
}

// flash-attention's rule: no worse than 2x the naive bf16 attention, plus a tiny atol
void check_vs_naive(const char* what, double kernel_err, double naive_err) {
  const double atol = 1e-5;
  INFO(what << ": kernel max error " << kernel_err << ", naive bf16 max error " << naive_err << " (bound "
            << 2 * naive_err + atol << ")");
  CHECK(kernel_err <= 2 * naive_err + atol);
}

}  // namespace

TEST_CASE("flash attention: supported head dims and argument errors", "[cuda][attention][flash]") {
#ifndef GPTCU_HAVE_CUDA
  WARN("skipped: this build has no CUDA kernels (GPTCU_CUDA=OFF or no nvcc)");
#else
  // host-side checks only: these run without a GPU (nothing is launched)
  using namespace gptcu::cuda;
  CHECK(flash_attention_supported(64));
  CHECK(flash_attention_supported(128));
  CHECK_FALSE(flash_attention_supported(32));
  CHECK_FALSE(flash_attention_supported(96));
  CHECK_THROWS_AS(flash_attention_forward(nullptr, nullptr, nullptr, 1, 8, 96, 3, nullptr), std::invalid_argument);
  CHECK_THROWS_AS(flash_attention_backward(nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, 1, 8, 100, 3,
                                           nullptr),
                  std::invalid_argument);
  CHECK(flash_attention_backward_scratch_bytes(2, 100, 128, 2) >= 2 * 2 * 100 * sizeof(float));
#endif
}

TEST_CASE("flash attention: CUDA forward and backward within 2x a naive bf16 attention of fp64",
          "[cuda][attention][flash]") {
  GPTCU_REQUIRE_GPU();
#ifdef GPTCU_HAVE_CUDA
  using namespace gptcu::test;
  using gptcu::bf16;
  const int B = 2, NH = 2;
  for (int hs : {64, 128}) {
    for (int T : {1, 7, 64, 129, 1000, 1024}) {
      const int C = NH * hs;
      INFO("B=" << B << " T=" << T << " NH=" << NH << " hs=" << hs);
      const uint32_t seed = 1000u * T + hs;
      const auto qkv = as_stored<bf16>(randn((size_t)B * T * 3 * C, seed));
      const auto dout = as_stored<bf16>(randn((size_t)B * T * C, seed + 1));
      const auto dqkv0 = as_stored<bf16>(randn((size_t)B * T * 3 * C, seed + 2));  // "+=" starts here
      const AttentionResult ref = reference(qkv, dout, B, T, C, NH);
      const AttentionResult naive = naive_bf16(qkv, dout, B, T, C, NH);

      DeviceBuffer<bf16> d_qkv(qkv), d_dout(dout), d_dqkv(dqkv0), d_dqkv2(dqkv0);
      DeviceBuffer<bf16> d_grad(std::vector<double>(qkv.size(), 0.0));  // from zero: the gradient alone
      auto d_out = DeviceBuffer<bf16>::poisoned((size_t)B * T * C);
      auto d_lse = DeviceBuffer<float>::poisoned((size_t)B * NH * T);
      DeviceScratch scratch(gptcu::cuda::flash_attention_backward_scratch_bytes(B, T, C, NH));
      gptcu::cuda::flash_attention_forward(d_out.get(), d_lse.get(), d_qkv.get(), B, T, C, NH, nullptr);
      gptcu::cuda::flash_attention_backward(d_grad.get(), scratch.get(), d_dout.get(), d_qkv.get(), d_out.get(),
                                            d_lse.get(), B, T, C, NH, nullptr);
      gptcu::cuda::flash_attention_backward(d_dqkv.get(), scratch.get(), d_dout.get(), d_qkv.get(), d_out.get(),
                                            d_lse.get(), B, T, C, NH, nullptr);
      const auto out = d_out.download(), lse = d_lse.download(), grad = d_grad.download(), dqkv = d_dqkv.download();

      check_vs_naive("out", max_err(out, ref.out), max_err(naive.out, ref.out));
      check_vs_naive("lse", max_err(lse, ref.lse), max_err(naive.lse, ref.lse));

      // The gradient alone (dqkv from zero): the discriminating check. (From a random dqkv0 the
      // final bf16 rounding of dqkv0 + grad, up to 0.016 for |dqkv0| ~ 4, dominates both errors.)
      // Expect the tightest margin at small T: D = rowsum(dO * O) from the bf16-rounded out (as
      // flash-attention 2 does) shifts every dS of a row the same way. The numpy emulation of
      // this kernel's arithmetic (scripts/flash_attention_emulate.py) stayed within the bound on
      // 40 seeds x 4 heads at T = 7 (worst 1.00x the bound at hs=64); with a single head, one draw
      // of 24 failed (hs=128, T=7: dq error 9.5e-3 against a naive 4.3e-3).
      const char* names[3] = {"dq", "dk", "dv"};
      for (int part = 0; part < 3; part++) {
        auto in_part = [&](size_t i) { return (int)((i % (3 * (size_t)C)) / C) == part; };
        check_vs_naive(names[part], max_err(grad, ref.grad, in_part), max_err(naive.grad, ref.grad, in_part));
      }

      // "+=" from a random dqkv0: the reference dqkv0 + grad; the naive version rounds its bf16
      // gradient into the bf16 dqkv0 (read, add, write), as the kernel does with its fp32 gradient.
      std::vector<double> want(dqkv0.size()), naive_dqkv(dqkv0.size());
      for (size_t i = 0; i < want.size(); i++) {
        want[i] = dqkv0[i] + ref.grad[i];
        naive_dqkv[i] = rb(dqkv0[i] + naive.grad[i]);
      }
      const char* acc_names[3] = {"dqkv0 + dq", "dqkv0 + dk", "dqkv0 + dv"};
      for (int part = 0; part < 3; part++) {
        auto in_part = [&](size_t i) { return (int)((i % (3 * (size_t)C)) / C) == part; };
        check_vs_naive(acc_names[part], max_err(dqkv, want, in_part), max_err(naive_dqkv, want, in_part));
      }

      // deterministic: a second backward from the same dqkv0 gives the same bits
      gptcu::cuda::flash_attention_backward(d_dqkv2.get(), scratch.get(), d_dout.get(), d_qkv.get(), d_out.get(),
                                            d_lse.get(), B, T, C, NH, nullptr);
      const auto dqkv2 = d_dqkv2.download();
      CHECK(std::equal(dqkv.begin(), dqkv.end(), dqkv2.begin()));
    }
  }
#endif
}
