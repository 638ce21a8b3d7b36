// kernels/bench/kernel_bench.h: the kernel benchmark driver behind `gptcu bench kernels`.
//
//   gptcu bench kernels [--op NAME ...] [--csv FILE] [--tokens N ...] [--runs 50] [--warmup 5] [--dtype bf16|f32]
//
// At start it measures the two ceilings of the GPU it runs on: device-to-device copy bandwidth
// (cudaMemcpyAsync of 1 GiB, bytes read + bytes written) and a cuBLAS bf16 GEMM rate
// (gptcu::cuda::gemm_bf16, 8192 x 8192 x 8192, random inputs). Then, for every op of
// kernels/cuda/cuda_kernels.h that the training step uses, at GPT-2 124M shapes (C = 768,
// NH = 12, V = Vp = 50304, T = min(N, 1024), B = N / T for each N = B*T of --tokens, default 8192
// and 65536), it prints the shape, the median time (5 warm-ups, then 50 timed runs, each after an
// L2 flush, cudaEvents around the op alone on one stream), the achieved rate (GB/s over the op's
// minimal traffic for memory-bound ops, TFLOP/s for matmuls and attention) and that rate as a
// percentage of the measured ceiling. The flash attention kernel is timed apart from those, at the
// FlashAttention papers' setting (16k tokens per batch, C = NH*hs = 2048, T = 512 ... 8192, hs 64
// and 128; bf16 only, so not run under --dtype f32; kernel_bench.cpp). --csv writes the same rows to a file
// (op,shape,dtype,median_us,rate,unit,pct_peak); bench/torch_kernels.py writes the same rows for
// PyTorch and bench/compare_kernels.py puts the two side by side.
//
// This header has no CUDA types: cli/bench_cmd.cpp includes it in every build and checks the
// options with check_kernel_bench_options(); run_kernel_bench() exists only in builds with CUDA
// (the library gptcu_kernel_bench, compile definition GPTCU_KERNEL_BENCH=1).
#pragma once
#include <cstdint>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

namespace gptcu::bench {

struct KernelBenchOptions {
  std::vector<std::string> ops;        // only these ops (names as in kernel_bench_ops()); empty = all
  std::vector<int64_t> tokens;         // N = B*T values; empty = {8192, 65536}
  std::string csv_path;                // also write the rows here ("" = no CSV)
  int warmup = 5;                      // untimed runs before the timed ones
  int runs = 50;                       // timed runs; the median is reported
  std::string dtype = "bf16";          // storage type of activations and parameters: bf16 or f32
  int device = 0;                      // CUDA device index
};

// A mistake in the options (unknown op, bad --tokens): the CLI reports it as a one-line error.
struct KernelBenchUsageError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

// Every op the benchmark knows, in the order it runs them. "peak_copy" and "peak_gemm" are the
// two ceilings; they always run (the percentages need them) but may be named to run only them.
// (bench/torch_kernels.py reads this list and kernel_bench_group's from this file: keep their form.)
inline const std::vector<std::string>& kernel_bench_ops() {
  static const std::vector<std::string> ops = {
      "peak_copy",          "peak_gemm",
      "residual_forward",   "residual_backward",
      "gelu_forward",       "gelu_backward",
      "layernorm_forward",  "layernorm_backward",
      "residual_layernorm_forward",
      "softmax_forward",    "softmax_backward",
      "cross_entropy_forward", "cross_entropy_backward", "cross_entropy_fused",
      "weighted_mean_forward", "weighted_mean_backward",
      "embedding_forward",  "embedding_backward",
      "bias_backward",
      "linear_forward",     "linear_forward_gelu", "linear_backward",
      "attention_interim_forward", "attention_interim_backward",
      "flash_attention_forward", "flash_attention_backward", "flash_attention_fwdbwd",
      "sum_squares",        "adamw_update",
  };
  return ops;
}

// Names for --op that stand for several ops: "attention" = every attention row (the interim
// kernel's and the flash kernel's).
inline std::vector<std::string> kernel_bench_group(const std::string& name) {
  if (name == "attention")
    return {"attention_interim_forward", "attention_interim_backward", "flash_attention_forward",
            "flash_attention_backward", "flash_attention_fwdbwd"};
  return {};
}

// Whether op runs under --op `selected` (empty = all): named itself or through a group.
inline bool kernel_bench_selected(const std::vector<std::string>& selected, const std::string& op) {
  if (selected.empty()) return true;
  for (const auto& s : selected) {
    if (s == op) return true;
    for (const auto& g : kernel_bench_group(s))
      if (g == op) return true;
  }
  return false;
}

// The flash attention rows' shapes (FlashAttention-2 paper, fig. 5): 16k tokens per batch
// (B = 16384 / T), C = NH * hs = 2048, causal. bench/torch_kernels.py's FLASH_SHAPES is the same.
struct FlashBenchShape {
  int B, NH, T, hs;
};
inline std::vector<FlashBenchShape> flash_bench_shapes() {
  std::vector<FlashBenchShape> v;
  for (int hs : {64, 128})
    for (int T : {512, 1024, 2048, 4096, 8192}) v.push_back({16384 / T, 2048 / hs, T, hs});
  return v;
}
inline std::string flash_bench_shape_str(const FlashBenchShape& s) {
  return "B=" + std::to_string(s.B) + " NH=" + std::to_string(s.NH) + " T=" + std::to_string(s.T) +
         " hs=" + std::to_string(s.hs);
}

// GPT-2 124M's fixed sizes, shared by the benchmark and its shape strings.
constexpr int kBenchC = 768, kBenchNH = 12, kBenchLayers = 12, kBenchV = 50304, kBenchVp = 50304,
              kBenchMaxT = 1024;

// The sequence length used for N = B*T tokens: T = min(N, 1024), B = N / T.
inline int64_t bench_seq_len(int64_t tokens) { return tokens < kBenchMaxT ? tokens : kBenchMaxT; }

// Fills the defaults (tokens) and throws KernelBenchUsageError naming the first problem.
inline void check_kernel_bench_options(KernelBenchOptions& o) {
  if (o.tokens.empty()) o.tokens = {8192, 65536};
  for (const auto& op : o.ops) {
    bool known = !kernel_bench_group(op).empty();
    for (const auto& k : kernel_bench_ops()) known = known || k == op;
    if (!known) {
      std::string all;
      for (const auto& k : kernel_bench_ops()) all += (all.empty() ? "" : ", ") + k;
      throw KernelBenchUsageError("--op '" + op + "' is not a benchmarked op (known: " + all +
                                  "; attention = all the attention rows)");
    }
  }
  for (int64_t n : o.tokens) {
    if (n < 1 || n > (int64_t(1) << 24))
      throw KernelBenchUsageError("--tokens " + std::to_string(n) + ": must be between 1 and 16777216");
    if (n % bench_seq_len(n) != 0)
      throw KernelBenchUsageError("--tokens " + std::to_string(n) + ": must be at most " +
                                  std::to_string(kBenchMaxT) + " or a multiple of it (T = " +
                                  std::to_string(kBenchMaxT) + ", B = tokens / T)");
  }
  if (o.warmup < 0) throw KernelBenchUsageError("--warmup must be >= 0");
  if (o.runs < 1) throw KernelBenchUsageError("--runs must be >= 1");
  if (o.dtype != "bf16" && o.dtype != "f32")
    throw KernelBenchUsageError("--dtype '" + o.dtype + "': must be bf16 or f32");
}

// Runs the benchmark on device o.device, printing the table to `out` as each row completes.
// Needs a CUDA GPU (the caller checks gptcu::cuda::device_count() first); CUDA failures throw
// gptcu::CudaError, device out-of-memory gptcu::CudaOutOfMemory (a std::bad_alloc).
void run_kernel_bench(const KernelBenchOptions& o, std::ostream& out);

}  // namespace gptcu::bench
