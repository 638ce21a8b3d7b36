// cli/bench_cmd.cpp: `gptcu bench kernels`, the CUDA kernel benchmark (kernels/bench/kernel_bench.h).
//
//   gptcu bench kernels [--op NAME ...] [--csv FILE] [--tokens N ...] [--runs 50] [--warmup 5] [--dtype bf16|f32]
//
// Prints the measured ceilings of the GPU (copy bandwidth, cuBLAS bf16 GEMM rate), then one row per
// op and shape: op, shape, median microseconds, GB/s or TFLOP/s, % of the ceiling. --csv writes the
// same rows; bench/torch_kernels.py writes PyTorch's and bench/compare_kernels.py compares them.
// Without a GPU, or in a build without CUDA, it is a one-line error (exit code 1).
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "core/check.h"
#include "kernels/bench/kernel_bench.h"
#ifdef GPTCU_KERNEL_BENCH
#include "kernels/cuda/cuda_kernels.h"
#endif

namespace gptcu::cli {

namespace {

void run_bench_kernels(bench::KernelBenchOptions opts) {
  try {
    bench::check_kernel_bench_options(opts);
#ifdef GPTCU_KERNEL_BENCH
    GPTCU_USER_CHECK(gptcu::cuda::device_count() > 0, "bench kernels needs a CUDA GPU; none found");
    bench::run_kernel_bench(opts, std::cout);
#else
    throw UserError("bench kernels needs a CUDA GPU; this gptcu was built without CUDA (no nvcc, or GPTCU_CUDA=OFF)");
#endif
  } catch (const bench::KernelBenchUsageError& e) {
    throw UserError(std::string("bench kernels: ") + e.what());
  }
}

}  // namespace

void register_bench(CLI::App& app) {
  auto* bench = app.add_subcommand("bench", "benchmarks: `bench kernels` times every CUDA kernel of the training step");
  bench->require_subcommand(1);
  auto opts = std::make_shared<bench::KernelBenchOptions>();
  auto* k = bench->add_subcommand(
      "kernels",
      "time every CUDA kernel of the training step at GPT-2 124M shapes (flash attention at the FlashAttention-2 "
      "paper's): median us, GB/s or TFLOP/s, % of the measured peak (device-to-device copy, cuBLAS bf16 GEMM)");
  k->add_option("--op", opts->ops,
                "only this op (repeatable; default: all; attention = every attention row; an unknown name lists them)");
  k->add_option("--csv", opts->csv_path, "also write the rows to this CSV file (op,shape,dtype,median_us,rate,unit,pct_peak)");
  k->add_option("--tokens", opts->tokens, "N = B*T values (T = min(N, 1024)); default 8192 65536");
  k->add_option("--runs", opts->runs, "timed runs per op, the median is reported")->capture_default_str();
  k->add_option("--warmup", opts->warmup, "untimed runs before them")->capture_default_str();
  k->add_option("--dtype", opts->dtype, "storage type of activations and parameters: bf16 or f32")->capture_default_str();
  k->add_option("--device", opts->device, "CUDA device index")->capture_default_str();
  k->callback([opts]() { run_bench_kernels(*opts); });
}

}  // namespace gptcu::cli
