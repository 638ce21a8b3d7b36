// kernels/cpu/blas.h: the one BLAS entry point of the CPU kernels (OpenBLAS's cblas),
// overloaded for float (training) and double (gradient tests).
#pragma once
#include <cblas.h>

namespace gptcu::cpu {

// Row-major C (M, N) = A (M, K) @ B (K, N) + beta * C, with optional transposes of A and B
// and leading dimensions (so strided slices, e.g. one head of a packed qkv, need no copy).
inline void gemm(bool trans_a, bool trans_b, int M, int N, int K, const float* A, int lda,
                 const float* B, int ldb, float beta, float* C, int ldc) {
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
              trans_b ? CblasTrans : CblasNoTrans, M, N, K, 1.0f, A, lda, B, ldb, beta, C, ldc);
}
inline void gemm(bool trans_a, bool trans_b, int M, int N, int K, const double* A, int lda,
                 const double* B, int ldb, double beta, double* C, int ldc) {
  cblas_dgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
              trans_b ? CblasTrans : CblasNoTrans, M, N, K, 1.0, A, lda, B, ldb, beta, C, ldc);
}

}  // namespace gptcu::cpu
