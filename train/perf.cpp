// train/perf.cpp: see train/perf.h.
#include "train/perf.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "core/cuda.h"

#ifdef GPTCU_HAVE_CUDA
#include <cuda_runtime.h>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/cuda_kernels.h"
#endif

namespace gptcu {

double model_flops_per_token(const GPTConfig& c, int T) {
  const double N = (double)GPT::count_parameters(c);
  return 6.0 * N + 6.0 * c.n_layer * (double)T * c.n_embd;
}

double measure_gemm_tflops(Device device) {
#ifdef GPTCU_HAVE_CUDA
  GPTCU_CHECK(!device.is_cpu(), "measure_gemm_tflops on the CPU");
  constexpr int M = 8192, N = 8192, K = 8192, kWarmup = 3, kRuns = 10;
  cudaStream_t s = cuda_stream(device);
  Tensor a = Tensor::empty({M, K}, DType::bf16, device), b = Tensor::empty({K, N}, DType::bf16, device),
         c = Tensor::empty({M, N}, DType::bf16, device);
  cuda::fill_normal(a.data<bf16>(), a.numel(), /*key=*/0x9e3779b9, 0, 0.0f, 1.0f, s);
  cuda::fill_normal(b.data<bf16>(), b.numel(), /*key=*/0x7f4a7c15, 0, 0.0f, 1.0f, s);
  for (int i = 0; i < kWarmup; i++) cuda::gemm_bf16(c.data<bf16>(), a.data<bf16>(), b.data<bf16>(), M, N, K, s);
  std::vector<cudaEvent_t> ev(2 * kRuns);
  for (auto& e : ev) GPTCU_CUDA_CHECK(cudaEventCreate(&e));
  for (int i = 0; i < kRuns; i++) {
    GPTCU_CUDA_CHECK(cudaEventRecord(ev[2 * i], s));
    cuda::gemm_bf16(c.data<bf16>(), a.data<bf16>(), b.data<bf16>(), M, N, K, s);
    GPTCU_CUDA_CHECK(cudaEventRecord(ev[2 * i + 1], s));
  }
  GPTCU_CUDA_CHECK(cudaStreamSynchronize(s));
  std::vector<float> ms(kRuns);
  for (int i = 0; i < kRuns; i++) GPTCU_CUDA_CHECK(cudaEventElapsedTime(&ms[i], ev[2 * i], ev[2 * i + 1]));
  for (auto& e : ev) cudaEventDestroy(e);
  std::nth_element(ms.begin(), ms.begin() + kRuns / 2, ms.end());
  return 2.0 * M * N * K / (ms[kRuns / 2] * 1e-3) / 1e12;
#else
  (void)device;
  throw Error("measure_gemm_tflops in a build without CUDA");
#endif
}

double datasheet_bf16_tflops(const std::string& name) {
  // Dense (no sparsity) bf16 tensor-core peaks from NVIDIA's datasheets, most specific name first.
  static const std::vector<std::pair<const char*, double>> table = {
      {"H100 PCIe", 756.0}, {"H100 NVL", 835.0}, {"H100", 989.4}, {"H800", 989.4}, {"H200", 989.4},
      {"GH200", 989.4},     {"B200", 2250.0},    {"A100", 312.0}, {"A800", 312.0}, {"L40S", 362.1},
      {"L40", 181.0},       {"L4", 121.0},        {"A10", 125.0},      {"RTX 4090", 165.2}};
  for (const auto& [key, tflops] : table)
    if (name.find(key) != std::string::npos) return tflops;
  return 0;
}

}  // namespace gptcu
