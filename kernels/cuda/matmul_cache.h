// kernels/cuda/matmul_cache.h: one (strided-batched) GEMM through cuBLASLt, internal to
// kernels/cuda/ (matmul.cu and attention.cu call it; nothing outside kernels/cuda/ includes it).
//
// The problem is stated in cuBLASLt's own column-major terms, for each batch index:
//   D (m, n) = alpha * op(A) (m, k) @ op(B) (k, n) + beta * D  [+ bias (m) per row] [-> GELU, pre-GELU to aux]
// An operand that is not transposed is stored (rows, cols) = (m, k) for A, (k, n) for B; a transposed
// one is stored (k, m) / (n, k). Column-major: element (r, c) of a stored matrix is at ptr[c * ld + r].
// A row-major (R, C) matrix with row stride ld is the column-major (C, R) matrix with the same ld.
//
// matmul_cache.cu keeps one cuBLASLt handle and one 32 MiB workspace per device (created on first
// use, keyed by the current device, never freed) and the algorithm of each problem key (sizes,
// transposes, leading dimensions, batch strides, types, epilogue, pointer alignments), chosen by
// cublasLtMatmulAlgoGetHeuristic once. The workspace is shared by every stream of a device: calls
// on different streams of one device must not overlap in time (the trainer uses one stream).
// When cuBLASLt has no algorithm for a problem (or k == 0), a simple tiled CUDA kernel computes it
// instead, with the same epilogues: slow but any size, any alignment.
#pragma once
#include <library_types.h>

#include <cstdint>
#include <type_traits>

#include "kernels/bf16.h"

typedef struct CUstream_st* cudaStream_t;

namespace gptcu::cuda::lt {

enum class Epilogue { none, bias, gelu_aux, gelu_aux_bias };

struct Operand {
  const void* ptr = nullptr;
  bool trans = false;
  int64_t ld = 0;
  int64_t batch_stride = 0;  // elements between batch items
};

struct Gemm {
  int m = 0, n = 0, k = 0;
  int batch = 1;
  cudaDataType_t ab_type = CUDA_R_32F;  // A and B
  cudaDataType_t d_type = CUDA_R_32F;   // D (= C), bias and aux
  Operand a, b;
  void* d = nullptr;
  int64_t ldd = 0;
  int64_t stride_d = 0;
  float alpha = 1.0f, beta = 0.0f;  // beta != 0: D is read (in place, C = D)
  Epilogue epilogue = Epilogue::none;
  const void* bias = nullptr;  // (m), d_type; with Epilogue::bias / gelu_aux_bias (batch must be 1)
  void* aux = nullptr;         // (m, n) ld aux_ld, d_type: the pre-GELU values (batch must be 1)
  int64_t aux_ld = 0;
};

// Runs g on `stream` (cuBLASLt, or the fallback kernel). Throws gptcu::CudaError on a CUDA/cuBLAS error.
void gemm(const Gemm& g, cudaStream_t stream);
// Runs g through cuBLASLt and returns true, or returns false having done nothing when cuBLASLt has no
// algorithm for it (the caller then splits the work differently, e.g. an epilogue into a separate kernel).
bool try_gemm(const Gemm& g, cudaStream_t stream);
// Deterministic mode (train.deterministic): the algorithm search excludes split-K reductions
// (CUBLASLT_REDUCTION_SCHEME_NONE); the mode is part of the algorithm cache key.
void set_deterministic(bool on);
bool deterministic();
// How many calls took the fallback kernel so far (all devices): the tests check that aligned shapes don't.
uint64_t fallback_count();

// Whether cuBLASLt's GELU_AUX epilogues accept this aux buffer: ld divisible by 8 (the documented
// requirement) and a 16-byte aligned pointer. Otherwise the caller runs the bias epilogue into the
// pre-activation buffer and applies GELU separately.
bool gelu_aux_ok(const void* aux, int64_t aux_ld);
// Whether a bias pointer may go to the BIAS epilogues: 16-byte aligned. The heuristic's alignment
// preferences cover A, B, C and D only, so an algorithm may assume an aligned bias; a bias that is a
// slice of a larger buffer goes in another way (matmul.cu broadcasts it into D and uses beta = 1).
bool bias_ok(const void* bias);

template <typename T>
constexpr cudaDataType_t data_type() {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, gptcu::bf16>, "float or bf16 storage");
  if constexpr (std::is_same_v<T, gptcu::bf16>)
    return CUDA_R_16BF;
  else
    return CUDA_R_32F;
}

}  // namespace gptcu::cuda::lt
