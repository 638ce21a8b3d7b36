// kernels/cuda/device.cu: what the CUDA runtime says about the devices (no kernels here).
#include <cuda_runtime.h>

#include <map>
#include <mutex>
#include <string>

#include "kernels/cuda/cuda_kernels.h"

namespace gptcu::cuda {

int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no driver" error
    return 0;
  }
  return n;
}

const char* device_name(int index) {
  static std::mutex mutex;
  static std::map<int, std::string> names;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = names.find(index);
  if (it == names.end()) {
    cudaDeviceProp prop{};
    std::string name = cudaGetDeviceProperties(&prop, index) == cudaSuccess ? prop.name : "unknown CUDA device";
    it = names.emplace(index, name).first;
  }
  return it->second.c_str();
}

}  // namespace gptcu::cuda
