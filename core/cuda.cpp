// core/cuda.cpp: see core/cuda.h.
#include "core/cuda.h"

#include <unistd.h>

#include <cstring>
#include <mutex>
#include <sstream>
#include <vector>

#include "core/check.h"

#ifdef GPTCU_HAVE_CUDA
#include <cuda_runtime.h>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/cuda_kernels.h"
#endif

namespace gptcu {

#ifdef GPTCU_HAVE_CUDA

bool cuda_available() { return cuda::device_count() > 0; }

void require_cuda(Device device) {
  GPTCU_CHECK(!device.is_cpu(), "require_cuda(", device.str(), ")");
  const int n = cuda::device_count();
  GPTCU_USER_CHECK(n > 0, "device ", device.str(),
                   " was asked for, but this machine shows no CUDA GPU (no driver, or CUDA_VISIBLE_DEVICES hides "
                   "them); use device: cpu");
  GPTCU_USER_CHECK(device.index < n, "device ", device.str(), " was asked for, but this machine shows ", n,
                   " CUDA GPU(s): cuda:0 to cuda:", n - 1);
  GPTCU_CUDA_CHECK(cudaSetDevice(device.index));
}

cudaStream_t cuda_stream(Device device) {
  static std::mutex mutex;
  static std::vector<cudaStream_t> streams;
  GPTCU_CHECK(!device.is_cpu(), "cuda_stream(", device.str(), ")");
  std::lock_guard<std::mutex> lock(mutex);
  if ((int)streams.size() <= device.index) streams.resize(device.index + 1, nullptr);
  GPTCU_CUDA_CHECK(cudaSetDevice(device.index));
  if (!streams[device.index]) GPTCU_CUDA_CHECK(cudaStreamCreateWithFlags(&streams[device.index], cudaStreamNonBlocking));
  return streams[device.index];
}

void cuda_synchronize(Device device) { GPTCU_CUDA_CHECK(cudaStreamSynchronize(cuda_stream(device))); }

void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes) {
  if (bytes == 0) return;
  if (dst_device.is_cpu() && src_device.is_cpu()) {
    std::memmove(dst, src, bytes);
    return;
  }
  const Device gpu = dst_device.is_cpu() ? src_device : dst_device;
  cudaStream_t stream = cuda_stream(gpu);
  const cudaMemcpyKind kind = dst_device.is_cpu()   ? cudaMemcpyDeviceToHost
                              : src_device.is_cpu() ? cudaMemcpyHostToDevice
                                                    : cudaMemcpyDeviceToDevice;
  GPTCU_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, kind, stream));
  // Host memory here is pageable. Host -> device: the driver has staged the source by the time
  // cudaMemcpyAsync returns (CUDA's "API synchronization behavior"), so the host buffer may be
  // reused at once and there is nothing to wait for: a training step uploads its batch without
  // stalling the GPU. Device -> host: the caller reads the result, so wait for it.
  if (kind == cudaMemcpyDeviceToHost) GPTCU_CUDA_CHECK(cudaStreamSynchronize(stream));
}

std::string cuda_device_description(Device device) {
  cudaDeviceProp prop{};
  GPTCU_CUDA_CHECK(cudaGetDeviceProperties(&prop, device.index));
  std::ostringstream os;
  os.precision(1);
  os << std::fixed << prop.name << ", " << prop.totalGlobalMem / (1024.0 * 1024 * 1024) << " GiB, compute capability "
     << prop.major << "." << prop.minor;
  return os.str();
}

int64_t free_memory(Device device) {
  if (device.is_cpu()) return (int64_t)sysconf(_SC_AVPHYS_PAGES) * (int64_t)sysconf(_SC_PAGE_SIZE);
  require_cuda(device);
  size_t free_b = 0, total_b = 0;
  GPTCU_CUDA_CHECK(cudaMemGetInfo(&free_b, &total_b));
  return (int64_t)free_b;
}

#else  // no CUDA in this build

int64_t free_memory(Device device) {
  if (!device.is_cpu()) require_cuda(device);
  return (int64_t)sysconf(_SC_AVPHYS_PAGES) * (int64_t)sysconf(_SC_PAGE_SIZE);
}

bool cuda_available() { return false; }

void require_cuda(Device device) {
  user_error("device ", device.str(),
             " was asked for, but this gptcu was built without CUDA (no nvcc at build time, or GPTCU_CUDA=OFF); use "
             "device: cpu");
}

cudaStream_t cuda_stream(Device device) {
  require_cuda(device);
  return nullptr;
}

void cuda_synchronize(Device device) { require_cuda(device); }

void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes) {
  if (!dst_device.is_cpu()) require_cuda(dst_device);
  if (!src_device.is_cpu()) require_cuda(src_device);
  std::memmove(dst, src, bytes);
}

std::string cuda_device_description(Device device) {
  require_cuda(device);
  return "";
}

#endif

}  // namespace gptcu
