// kernels/cuda/cuda_kernels.h: the CUDA kernels, one op per file in kernels/cuda/, each the GPU
// twin of kernels/cpu/<op>.cpp with the same argument order and the same backward rule
// (gradients are accumulated with +=). Pointers are device pointers; every launch goes on
// `stream` and is followed by a check of the last error.
//
// This folder is compiled for sm_80 and sm_90 whenever nvcc is present (GPTCU_CUDA=AUTO).
// The CUDA backend issue fills it; for now it holds the residual add, the smallest op, so
// that the CUDA build, its flags and its link are exercised from day one.
#pragma once
#include <cstdint>

typedef struct CUstream_st* cudaStream_t;

namespace gptcu::cuda {

// Number of visible CUDA devices (0 when there is no driver or no GPU; never throws).
int device_count();

// residual.cu: out = a + b, and da += dout, db += dout (n elements, f32)
// out = a + alpha * b;  da += dout, db += alpha * dout
void residual_forward(float* out, const float* a, const float* b, int64_t n, cudaStream_t stream, float alpha = 1.0f);
void residual_backward(float* da, float* db, const float* dout, int64_t n, cudaStream_t stream, float alpha = 1.0f);

}  // namespace gptcu::cuda
