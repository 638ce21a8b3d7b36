// core/tensor.cpp: Tensor storage, factories and views.
#include "core/tensor.h"

#include <cstring>
#include <sstream>

#include "core/allocator.h"
#include "core/cuda.h"

#ifdef GPTCU_HAVE_CUDA
#include <cuda_runtime.h>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/cuda_kernels.h"
#endif

namespace gptcu {

std::string shape_str(const Shape& s) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < s.size(); i++) os << (i ? ", " : "") << s[i];
  os << "]";
  return os.str();
}

int64_t shape_numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

Storage::Storage(size_t bytes_, Device device_) : bytes(bytes_), device(device_) {
  ptr = device_alloc(device, bytes);
}
Storage::~Storage() { device_free(device, ptr, bytes); }

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
  for (int64_t d : shape) GPTCU_CHECK(d >= 0, "negative dimension in ", shape_str(shape));
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>((size_t)shape_numel(shape) * dtype_size(dtype), device);
  impl->shape = shape;
  impl->dtype = dtype;
  return Tensor(impl);
}

Tensor Tensor::zeros(const Shape& shape, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  t.zero();
  return t;
}

Tensor Tensor::full(const Shape& shape, float value, Device device) {
  Tensor t = empty(shape, DType::f32, device);
  t.fill(value);
  return t;
}

Tensor Tensor::from_vector(const std::vector<float>& v, const Shape& shape) {
  GPTCU_CHECK((int64_t)v.size() == shape_numel(shape), v.size(), " values for shape ", shape_str(shape));
  Tensor t = empty(shape, DType::f32);
  std::memcpy(t.raw(), v.data(), v.size() * sizeof(float));
  return t;
}

Tensor Tensor::from_vector(const std::vector<int32_t>& v, const Shape& shape) {
  GPTCU_CHECK((int64_t)v.size() == shape_numel(shape), v.size(), " values for shape ", shape_str(shape));
  Tensor t = empty(shape, DType::i32);
  std::memcpy(t.raw(), v.data(), v.size() * sizeof(int32_t));
  return t;
}

int64_t Tensor::size(int d) const {
  const int n = dim();
  if (d < 0) d += n;
  GPTCU_CHECK(d >= 0 && d < n, "dimension ", d, " of ", str());
  return impl().shape[d];
}

std::string Tensor::str() const {
  if (!defined()) return "undefined";
  return std::string(dtype_name(dtype())) + shape_str(shape()) + " " + device().str();
}

float Tensor::item() const {
  GPTCU_CHECK(numel() == 1, "item() of ", str());
  return to_vector()[0];
}

std::vector<float> Tensor::to_vector() const {
  GPTCU_CHECK(dtype() == DType::f32 || dtype() == DType::bf16, "to_vector() of ", str());
  const Tensor host = to(Device{}).to(DType::f32);
  const float* p = host.data<float>();
  return std::vector<float>(p, p + numel());
}

Tensor Tensor::clone() const {
  Tensor t = empty(shape(), dtype(), device());
  t.copy_from(*this);
  return t;
}

void Tensor::copy_from(const Tensor& src) {
  GPTCU_CHECK(src.shape() == shape() && src.dtype() == dtype(), "copy ", src.str(), " into ", str());
  copy_bytes(raw(), device(), src.raw(), src.device(), nbytes());
}

void Tensor::fill(float value) {
  if (!device().is_cpu()) {
#ifdef GPTCU_HAVE_CUDA
    cudaStream_t s = cuda_stream(device());
    if (dtype() == DType::f32) return cuda::fill(data<float>(), value, numel(), s);
    if (dtype() == DType::bf16) return cuda::fill(data<bf16>(), value, numel(), s);
#endif
    GPTCU_CHECK(false, "fill on ", str());
  }
  if (dtype() == DType::bf16) {
    bf16* p = data<bf16>();
    for (int64_t i = 0, n = numel(); i < n; i++) p[i] = float_to_bf16(value);
    return;
  }
  float* p = data<float>();
  for (int64_t i = 0, n = numel(); i < n; i++) p[i] = value;
}

void Tensor::zero() {
  if (!device().is_cpu()) {
#ifdef GPTCU_HAVE_CUDA
    GPTCU_CUDA_CHECK(cudaMemsetAsync(raw(), 0, nbytes(), cuda_stream(device())));
    return;
#endif
  }
  std::memset(raw(), 0, nbytes());
}

Tensor Tensor::to(Device device) const {
  if (device == this->device()) return *this;
  Tensor t = empty(shape(), dtype(), device);
  t.copy_from(*this);
  return t;
}

Tensor Tensor::to(DType dt) const {
  if (dt == dtype()) return *this;
  const bool f32_bf16 = (dtype() == DType::f32 && dt == DType::bf16) || (dtype() == DType::bf16 && dt == DType::f32);
  GPTCU_CHECK(f32_bf16, "conversion of ", str(), " to ", dtype_name(dt));
  Tensor t = empty(shape(), dt, device());
  const int64_t n = numel();
  if (!device().is_cpu()) {
#ifdef GPTCU_HAVE_CUDA
    cudaStream_t s = cuda_stream(device());
    if (dt == DType::bf16) cuda::float_to(t.data<bf16>(), data<float>(), n, s);
    else cuda::to_float(t.data<float>(), data<bf16>(), n, s);
    return t;
#endif
  }
  if (dt == DType::bf16) {
    const float* a = data<float>();
    bf16* b = t.data<bf16>();
    for (int64_t i = 0; i < n; i++) b[i] = float_to_bf16(a[i]);
  } else {
    const bf16* a = data<bf16>();
    float* b = t.data<float>();
    for (int64_t i = 0; i < n; i++) b[i] = bf16_to_float(a[i]);
  }
  return t;
}

Tensor Tensor::view(const Shape& shape) const {
  GPTCU_CHECK(shape_numel(shape) == numel(), "view ", str(), " as ", shape_str(shape));
  auto impl2 = std::make_shared<TensorImpl>(impl());
  impl2->shape = shape;
  impl2->requires_grad = false;
  impl2->grad.reset();
  return Tensor(impl2);
}

Tensor Tensor::slice0(int64_t begin, int64_t end) const {
  GPTCU_CHECK(dim() >= 1 && 0 <= begin && begin <= end && end <= size(0), "slice0(", begin, ", ", end, ") of ", str());
  auto impl2 = std::make_shared<TensorImpl>(impl());
  const int64_t row = numel() / std::max<int64_t>(size(0), 1);
  impl2->offset += (size_t)(begin * row) * dtype_size(dtype());
  impl2->shape[0] = end - begin;
  impl2->requires_grad = false;
  impl2->grad.reset();
  return Tensor(impl2);
}

Tensor& Tensor::set_requires_grad(bool on) {
  impl().requires_grad = on;
  return *this;
}

Tensor Tensor::grad_or_zeros() {
  TensorImpl& t = impl();
  if (!t.grad) t.grad = Tensor::zeros(t.shape, t.dtype, device()).impl_;
  return Tensor(t.grad);
}

void check_shape(const Tensor& t, const Shape& expected, const char* what) {
  GPTCU_CHECK(t.shape() == expected, what, ": expected shape ", shape_str(expected), ", got ", t.str());
}

}  // namespace gptcu
