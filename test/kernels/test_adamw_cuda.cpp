// test/kernels/test_adamw_cuda.cpp: the CUDA optimizer kernels (sum_squares, adamw_update) against the
// CPU reference (cpu::sum_squares in double, cpu::adamw_update per chunk in fp32). Tagged [cuda].
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/cpu/cpu_kernels.h"
#include "test/kernels/cuda_test_util.h"
#include "test/kernels/gradcheck.h"

#ifdef GPTCU_HAVE_CUDA
namespace {

using namespace gptcu::test;

// The chunk list on the device.
struct DeviceChunks {
  gptcu::cuda::AdamWChunk* p = nullptr;
  explicit DeviceChunks(const std::vector<gptcu::cuda::AdamWChunk>& h) {
    REQUIRE(cudaMalloc(&p, h.size() * sizeof(h[0])) == cudaSuccess);
    REQUIRE(cudaMemcpy(p, h.data(), h.size() * sizeof(h[0]), cudaMemcpyHostToDevice) == cudaSuccess);
  }
  ~DeviceChunks() { cudaFree(p); }
  DeviceChunks(const DeviceChunks&) = delete;
  DeviceChunks& operator=(const DeviceChunks&) = delete;
};

std::vector<float> floats(const std::vector<double>& v) { return std::vector<float>(v.begin(), v.end()); }
std::vector<double> doubles(const std::vector<float>& v) { return std::vector<double>(v.begin(), v.end()); }

}  // namespace
#endif

TEMPLATE_TEST_CASE("sum_squares: CUDA matches the CPU reference and is deterministic", "[cuda][adamw]", float,
                   gptcu::bf16) {
  GPTCU_REQUIRE_GPU();
#ifdef GPTCU_HAVE_CUDA
  for (int64_t n : {1, 7, 1000, 65537, (1 << 20) + 3, 1 << 24}) {
    INFO("n " << n);
    const auto g = as_stored<TestType>(randn(n, (uint32_t)n, 0.1));
    const double ref = gptcu::cpu::sum_squares(floats(g).data(), n);
    DeviceBuffer<TestType> d_g(g);
    auto d_out = DeviceBuffer<float>::poisoned(1);
    DeviceScratch scratch(gptcu::cuda::grad_norm_scratch_bytes(n));
    gptcu::cuda::sum_squares(d_out.get(), scratch.get(), d_g.get(), n, nullptr);
    const auto got = d_out.download();
    // fp32 partial sums of squares (all positive): fp32 tolerance
    check_close<float>("sum of squares", got, {ref}, 0.0);
    gptcu::cuda::sum_squares(d_out.get(), scratch.get(), d_g.get(), n, nullptr);
    CHECK(d_out.download()[0] == got[0]);  // bit-identical on a second run
  }
  {  // an unaligned start takes the scalar path
    const int64_t n = 1001;
    const auto g = as_stored<TestType>(randn(n + 1, 7, 0.1));
    const double ref = gptcu::cpu::sum_squares(floats(g).data() + 1, n);
    DeviceBuffer<TestType> d_g(g);
    auto d_out = DeviceBuffer<float>::poisoned(1);
    DeviceScratch scratch(gptcu::cuda::grad_norm_scratch_bytes(n));
    gptcu::cuda::sum_squares(d_out.get(), scratch.get(), d_g.get() + 1, n, nullptr);
    check_close<float>("sum of squares, unaligned", d_out.download(), {ref}, 0.0);
  }
#endif
}

// T = bf16: params are the rounded fp32 master weights; T = float: params are the master (master null).
TEMPLATE_TEST_CASE("adamw_update: CUDA matches cpu::adamw_update chunk by chunk", "[cuda][adamw]", float,
                   gptcu::bf16) {
  GPTCU_REQUIRE_GPU();
#ifdef GPTCU_HAVE_CUDA
  using gptcu::cuda::AdamWChunk;
  constexpr bool with_master = std::is_same_v<TestType, gptcu::bf16>;
  // odd sizes, one of the largest size, different weight decays
  const std::vector<AdamWChunk> chunks = {
      {0, 1, 0.1f}, {1, 7, 0.0f}, {8, 1000, 0.1f}, {1008, gptcu::cuda::adamw_chunk_elems, 0.01f}, {66544, 3, 0.0f}};
  const int64_t n = 66547;
  const float lr = 1e-2f, b1 = 0.9f, b2 = 0.95f, eps = 1e-8f;
  const int step = 3;

  const auto master0 = as_stored<float>(randn(n, 1, 0.5));
  const auto grads = as_stored<TestType>(randn(n, 2, 0.01));
  const auto m0 = as_stored<float>(randn(n, 3, 0.01));
  std::vector<double> v0 = randn(n, 4, 1e-2);
  for (double& x : v0) x = (double)(float)(x * x);
  double norm_sq_d = 0;
  for (double g : grads) norm_sq_d += g * g;
  const float norm_sq = (float)norm_sq_d;
  const float norm = std::sqrt(norm_sq);
  // the params a bf16 run starts from: the master rounded
  const auto params0 = with_master ? as_stored<TestType>(master0) : master0;

  for (int variant = 0; variant < 4; variant++) {  // clip off, clip on, clip above the norm, NaN norm
    const float clip = variant == 0 ? 0.0f : variant == 1 ? 0.5f * norm : 2.0f * norm;
    const float nsq = variant == 3 ? NAN : norm_sq;
    INFO("variant " << variant << " (norm " << norm << ", clip " << clip << ")");

    // reference: the same float arithmetic as the kernel's prologue, then cpu::adamw_update per chunk
    const float scale = (clip > 0.0f && norm > clip) ? clip / norm : 1.0f;
    auto p_ref = floats(master0), m_ref = floats(m0), v_ref = floats(v0);
    const auto g_f = floats(grads);
    if (variant != 3)
      for (const AdamWChunk& c : chunks)
        gptcu::cpu::adamw_update(p_ref.data() + c.begin, g_f.data() + c.begin, m_ref.data() + c.begin,
                                 v_ref.data() + c.begin, c.size, lr, b1, b2, eps, c.weight_decay, step, scale);

    DeviceBuffer<TestType> d_params(params0), d_grads(grads);
    DeviceBuffer<float> d_master(master0), d_m(m0), d_v(v0), d_nsq(std::vector<double>{nsq});
    DeviceChunks d_chunks(chunks);
    gptcu::cuda::adamw_update(d_params.get(), with_master ? d_master.get() : nullptr, d_grads.get(), d_m.get(),
                              d_v.get(), d_chunks.p, (int)chunks.size(), lr, b1, b2, eps, step, clip, d_nsq.get(),
                              nullptr);
    if (variant == 3) {  // not finite: nothing changes, bit for bit
      CHECK(d_params.download() == params0);
      CHECK(d_master.download() == master0);
      CHECK(d_m.download() == m0);
      CHECK(d_v.download() == v0);
      continue;
    }
    // fp32 arithmetic on both sides (the GPU may contract into FMAs): fp32 tolerance, at the magnitude of
    // each array
    check_close<float>("m", d_m.download(), doubles(m_ref), 1e-2);
    check_close<float>("v", d_v.download(), doubles(v_ref), 1e-4);
    if (with_master) {
      check_close<float>("master", d_master.download(), doubles(p_ref), 0.5);
      check_close<TestType>("params (rounded master)", d_params.download(), as_stored<TestType>(doubles(p_ref)), 0.5);
    } else {
      check_close<float>("params", d_params.download(), doubles(p_ref), 0.5);
    }
  }
#endif
}
