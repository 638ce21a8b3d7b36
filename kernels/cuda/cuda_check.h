// kernels/cuda/cuda_check.h: the CUDA members of the check-macro family (core/check.h has
// the plain ones). Header-only and free of core/ so that kernels/cuda/ can use it too.
//
//   GPTCU_CUDA_CHECK(cudaMalloc(&p, n));   GPTCU_CUBLAS_CHECK(cublasLtMatmul(...));
//   kernel<<<grid, block, 0, stream>>>(...); GPTCU_CUDA_CHECK_LAUNCH();
//
// A failure throws gptcu::CudaError naming the call, the error, the file and the line; an
// out-of-memory error throws gptcu::CudaOutOfMemory, a std::bad_alloc, which the CLI reports
// as "out of memory" (exit code 3) like a host allocation failure.
#pragma once
#include <cuda_runtime.h>

#include <new>
#include <stdexcept>
#include <string>

namespace gptcu {

struct CudaError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct CudaOutOfMemory : std::bad_alloc {
  explicit CudaOutOfMemory(std::string msg) : msg_(std::move(msg)) {}
  const char* what() const noexcept override { return msg_.c_str(); }

 private:
  std::string msg_;
};

namespace detail {
[[noreturn]] inline void throw_cuda(cudaError_t err, const char* expr, const char* file, int line) {
  const std::string msg = std::string("CUDA error ") + cudaGetErrorName(err) + " (" + cudaGetErrorString(err) +
                          ") in " + expr + " at " + file + ":" + std::to_string(line);
  if (err == cudaErrorMemoryAllocation) throw CudaOutOfMemory(msg);
  throw CudaError(msg);
}
}  // namespace detail

}  // namespace gptcu

#define GPTCU_CUDA_CHECK(expr)                                                       \
  do {                                                                               \
    const cudaError_t gptcu_err_ = (expr);                                           \
    if (gptcu_err_ != cudaSuccess) ::gptcu::detail::throw_cuda(gptcu_err_, #expr, __FILE__, __LINE__); \
  } while (0)

// After a kernel launch: a bad configuration shows up here, not at the next sync.
#define GPTCU_CUDA_CHECK_LAUNCH() GPTCU_CUDA_CHECK(cudaGetLastError())

// cuBLAS / cuBLASLt status codes (include <cublasLt.h> or <cublas_v2.h> first).
#define GPTCU_CUBLAS_CHECK(expr)                                                              \
  do {                                                                                        \
    const cublasStatus_t gptcu_st_ = (expr);                                                  \
    if (gptcu_st_ != CUBLAS_STATUS_SUCCESS)                                                   \
      throw ::gptcu::CudaError(std::string("cuBLAS error ") + cublasGetStatusString(gptcu_st_) + \
                               " in " #expr " at " + __FILE__ + ":" + std::to_string(__LINE__)); \
  } while (0)

// NCCL result codes (include <nccl.h> first).
#define GPTCU_NCCL_CHECK(expr)                                                                   \
  do {                                                                                           \
    const ncclResult_t gptcu_nr_ = (expr);                                                       \
    if (gptcu_nr_ != ncclSuccess)                                                                \
      throw ::gptcu::CudaError(std::string("NCCL error ") + ncclGetErrorString(gptcu_nr_) +      \
                               " in " #expr " at " + __FILE__ + ":" + std::to_string(__LINE__)); \
  } while (0)
