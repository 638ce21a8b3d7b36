// core/cuda.h: the CUDA device as core/ sees it: availability, the compute stream, copies
// between host and device, and a clear error when a GPU is asked for and none is there.
//
// One compute stream per device (created on first use, non-blocking): every kernel of every op
// goes on it, in program order, so nothing inside a training step needs an event or a
// synchronisation. Copies to the host synchronise that stream (they are the only syncs).
//
// All of this compiles without CUDA too (GPTCU_HAVE_CUDA unset): then cuda_available() is false
// and require_cuda() throws the one-line UserError a user of `device: cuda` sees.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/dtype.h"

typedef struct CUstream_st* cudaStream_t;

namespace gptcu {

// True when this build has CUDA kernels and the machine shows at least one GPU.
bool cuda_available();

// UserError unless `device` can be used: "device cuda:0 was asked for, but ..." naming why
// (no CUDA in this build, no GPU / driver, index out of range). Also makes it the current device.
void require_cuda(Device device);

// The compute stream of a CUDA device (sets the current device).
cudaStream_t cuda_stream(Device device);

// Waits for everything queued on the device's stream.
void cuda_synchronize(Device device);

// Copies `bytes` between host and device memory (or device to device) on the device's stream;
// a copy to the host waits until the data is there.
void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes);

// Bytes free for new allocations: cudaMemGetInfo's free on a GPU, the available RAM on the CPU.
int64_t free_memory(Device device);

// "NVIDIA H100 80GB HBM3, 79.1 GiB, compute capability 9.0"
std::string cuda_device_description(Device device);

}  // namespace gptcu
