// kernels/bench/harness.cpp: the timing harness of the kernel benchmark (method in harness.h).
#include "kernels/bench/harness.h"

#include <cinttypes>
#include <cstdio>
#include <random>

namespace gptcu::bench {

namespace {

std::string format(const char* fmt, double a, double b, double c) {
  char buf[128];
  std::snprintf(buf, sizeof buf, fmt, a, b, c);
  return buf;
}

}  // namespace

Harness::Harness(const KernelBenchOptions& o, std::ostream& out) : opts_(o), out_(out) {
  GPTCU_CUDA_CHECK(cudaSetDevice(opts_.device));
  GPTCU_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  events_.resize(2 * (size_t)opts_.runs);
  for (auto& e : events_) GPTCU_CUDA_CHECK(cudaEventCreate(&e));
  int l2 = 0;
  GPTCU_CUDA_CHECK(cudaDeviceGetAttribute(&l2, cudaDevAttrL2CacheSize, opts_.device));
  flush_ = DevBuf<unsigned char>(2 * (size_t)std::max(l2, 1 << 20));
  if (!opts_.csv_path.empty()) {
    csv_.open(opts_.csv_path);
    if (!csv_) throw KernelBenchUsageError("--csv " + opts_.csv_path + ": cannot open the file for writing");
    csv_ << "op,shape,dtype,median_us,rate,unit,pct_peak\n" << std::flush;
  }
  print_header();
}

Harness::~Harness() {
  for (auto& e : events_) cudaEventDestroy(e);
  if (stream_) cudaStreamDestroy(stream_);
}

bool Harness::wants(const std::string& op) const {
  return kernel_bench_selected(opts_.ops, op);
}

void Harness::print_header() {
  cudaDeviceProp p{};
  GPTCU_CUDA_CHECK(cudaGetDeviceProperties(&p, opts_.device));
  char line[512];
  std::snprintf(line, sizeof line,
                "gptcu bench kernels: %s (sm_%d%d, %d SMs, %.0f GiB, L2 %.0f MiB), dtype %s\n"
                "median of %d runs after %d warm-ups, the L2 flushed (%.0f MiB written) before each run; "
                "rates over each op's minimal traffic (GB/s) or its FLOPs (TFLOP/s)\n",
                p.name, p.major, p.minor, p.multiProcessorCount, p.totalGlobalMem / 1073741824.0,
                p.l2CacheSize / 1048576.0, opts_.dtype.c_str(), opts_.runs, opts_.warmup, flush_.size() / 1048576.0);
  out_ << line;
  std::snprintf(line, sizeof line, "%-28s %-36s %11s %10s %-8s %7s\n", "op", "shape", "median us", "rate", "unit",
                "% peak");
  out_ << line << std::flush;
}

void Harness::flush_l2() {
  GPTCU_CUDA_CHECK(cudaMemsetAsync(flush_.get(), flush_value_++ & 0xff, flush_.size(), stream_));
}

void Harness::sync() { GPTCU_CUDA_CHECK(cudaStreamSynchronize(stream_)); }

double Harness::time_us(const std::function<void()>& launch) {
  for (int i = 0; i < opts_.warmup; i++) {
    flush_l2();
    launch();
  }
  for (int i = 0; i < opts_.runs; i++) {
    flush_l2();
    GPTCU_CUDA_CHECK(cudaEventRecord(events_[2 * i], stream_));
    launch();
    GPTCU_CUDA_CHECK(cudaEventRecord(events_[2 * i + 1], stream_));
  }
  sync();
  std::vector<double> us(opts_.runs);
  for (int i = 0; i < opts_.runs; i++) {
    float ms = 0;
    GPTCU_CUDA_CHECK(cudaEventElapsedTime(&ms, events_[2 * i], events_[2 * i + 1]));
    us[i] = 1e3 * ms;
  }
  std::sort(us.begin(), us.end());
  const size_t n = us.size();
  return n % 2 ? us[n / 2] : 0.5 * (us[n / 2 - 1] + us[n / 2]);
}

void Harness::emit(const std::string& op, const std::string& shape, double us, double rate, const char* unit,
                   double pct) {
  char line[512];
  std::snprintf(line, sizeof line, "%-28s %-36s %11.1f %10.1f %-8s %7.1f\n", op.c_str(), shape.c_str(), us, rate, unit,
                pct);
  out_ << line << std::flush;
  if (csv_.is_open()) {
    csv_ << op << ',' << shape << ',' << opts_.dtype << ',' << format("%.3f,%.3f", us, rate, 0) << ',' << unit << ','
         << format("%.2f", pct, 0, 0) << '\n'
         << std::flush;
  }
}

void Harness::row_bytes(const std::string& op, const std::string& shape, double bytes,
                        const std::function<void()>& launch) {
  sync();  // setup work (fills, a forward before its backward) stays out of the timing
  const double us = time_us(launch);
  const double gbps = bytes / us / 1e3;
  emit(op, shape, us, gbps, "GB/s", peak_gbps_ > 0 ? 100.0 * gbps / peak_gbps_ : 0.0);
}

void Harness::row_flops(const std::string& op, const std::string& shape, double flops,
                        const std::function<void()>& launch) {
  sync();
  const double us = time_us(launch);
  const double tflops = flops / us / 1e6;
  emit(op, shape, us, tflops, "TFLOP/s", peak_tflops_ > 0 ? 100.0 * tflops / peak_tflops_ : 0.0);
}

void Harness::measure_peaks() {
  {
    // Device-to-device copy: bytes read + bytes written. 1 GiB, or a quarter of the free memory.
    size_t free_b = 0, total_b = 0;
    GPTCU_CUDA_CHECK(cudaMemGetInfo(&free_b, &total_b));
    const size_t n = std::min<size_t>(size_t(1) << 30, free_b / 4);
    DevBuf<unsigned char> src(n), dst(n);
    GPTCU_CUDA_CHECK(cudaMemsetAsync(src.get(), 0x5a, n, stream_));
    sync();
    const double us = time_us([&] {
      GPTCU_CUDA_CHECK(cudaMemcpyAsync(dst.get(), src.get(), n, cudaMemcpyDeviceToDevice, stream_));
    });
    peak_gbps_ = 2.0 * n / us / 1e3;
    emit("peak_copy", "bytes=" + std::to_string(n), us, peak_gbps_, "GB/s", 100.0);
  }
  {
    // cuBLAS bf16 GEMM, C (M, N) = A (M, K) @ B (K, N), random inputs (zeros run faster than real data).
    const int M = 8192, N = 8192, K = 8192;
    DevBuf<bf16> a((size_t)M * K), b((size_t)K * N), c((size_t)M * N);
    normal(a.get(), a.size());
    normal(b.get(), b.size());
    sync();
    const double us = time_us([&] { cuda::gemm_bf16(c, a, b, M, N, K, stream_); });
    peak_tflops_ = 2.0 * M * N * K / us / 1e6;
    emit("peak_gemm", "M=8192 N=8192 K=8192 bf16", us, peak_tflops_, "TFLOP/s", 100.0);
  }
}

template <typename T>
void Harness::normal(T* p, size_t n, float mean, float std) {
  cuda::fill_normal(p, (int64_t)n, next_key_++, 0, mean, std, stream_);
}

template <typename T>
void Harness::constant(T* p, size_t n, float value) {
  cuda::fill(p, value, (int64_t)n, stream_);
}

std::vector<int32_t> Harness::ints(int32_t* p, size_t n, int32_t lo, int32_t hi) {
  std::mt19937_64 rng(next_key_++);
  std::uniform_int_distribution<int32_t> dist(lo, hi - 1);
  std::vector<int32_t> h(n);
  for (auto& x : h) x = dist(rng);
  sync();
  GPTCU_CUDA_CHECK(cudaMemcpy(p, h.data(), n * sizeof(int32_t), cudaMemcpyHostToDevice));
  return h;
}

template void Harness::normal<float>(float*, size_t, float, float);
template void Harness::normal<bf16>(bf16*, size_t, float, float);
template void Harness::constant<float>(float*, size_t, float);
template void Harness::constant<bf16>(bf16*, size_t, float);

}  // namespace gptcu::bench
