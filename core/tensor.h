// core/tensor.h: the Tensor, a reference-counted handle to (storage, dtype, device, shape).
//
// Contiguous row-major always. Views exist only where they are free: reshape() and a slice
// of the leading dimension share storage. Copying a Tensor copies the handle (like
// std::shared_ptr); clone() copies the data. No hidden host/device copies.
//
// Autograd state lives on the TensorImpl: requires_grad, and the gradient tensor that
// backward() accumulates into (see core/autograd.h).
#pragma once
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "core/check.h"
#include "core/dtype.h"

namespace gptcu {

using Shape = std::vector<int64_t>;
std::string shape_str(const Shape& s);
int64_t shape_numel(const Shape& s);

struct Storage {
  void* ptr = nullptr;
  size_t bytes = 0;
  Device device;
  Storage(size_t bytes, Device device);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
};

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  size_t offset = 0;  // bytes into storage
  Shape shape;
  DType dtype = DType::f32;
  bool requires_grad = false;
  std::shared_ptr<TensorImpl> grad;  // same shape/dtype/device; null until first accumulation
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // ---- factories ----
  static Tensor empty(const Shape& shape, DType dtype = DType::f32, Device device = {});
  static Tensor zeros(const Shape& shape, DType dtype = DType::f32, Device device = {});
  static Tensor full(const Shape& shape, float value, Device device = {});
  static Tensor from_vector(const std::vector<float>& v, const Shape& shape);
  static Tensor from_vector(const std::vector<int32_t>& v, const Shape& shape);

  // ---- metadata ----
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return impl().shape; }
  int dim() const { return (int)impl().shape.size(); }
  int64_t size(int d) const;  // negative d counts from the end
  int64_t numel() const { return shape_numel(impl().shape); }
  size_t nbytes() const { return (size_t)numel() * dtype_size(dtype()); }
  DType dtype() const { return impl().dtype; }
  Device device() const { return impl().storage->device; }
  std::string str() const;  // "f32[4, 8] cpu"

  // ---- data ----
  void* raw() const { return (char*)impl().storage->ptr + impl().offset; }
  template <typename T>
  T* data() const {
    GPTCU_CHECK(dtype() == dtype_of<T>(), "tensor is ", str(), ", asked for ", dtype_name(dtype_of<T>()));
    return static_cast<T*>(raw());
  }
  float item() const;                 // a one-element f32 or bf16 tensor, on any device (a GPU one is copied back)
  std::vector<float> to_vector() const;  // f32 or bf16, any device: the values as floats on the host
  Tensor clone() const;               // a deep copy on the same device, no autograd history
  void copy_from(const Tensor& src);  // same shape/dtype, any devices; no autograd
  void fill(float value);             // f32 or bf16, any device; no autograd
  void zero();                        // any dtype, any device

  // ---- devices and dtypes (copies, no autograd; the same tensor when nothing changes) ----
  Tensor to(Device device) const;
  Tensor to(DType dtype) const;  // between f32 and bf16 (round to nearest-even), on its device
  Tensor to(Device device, DType dtype) const { return to(device).to(dtype); }

  // ---- views (autograd-aware: see core/ops.h for reshape with a gradient) ----
  Tensor view(const Shape& shape) const;  // same storage, no autograd record
  Tensor slice0(int64_t begin, int64_t end) const;  // rows [begin, end) of dim 0, shared storage

  // ---- autograd ----
  bool requires_grad() const { return impl().requires_grad; }
  Tensor& set_requires_grad(bool on = true);
  Tensor grad() const { return Tensor(impl().grad); }  // may be undefined
  Tensor grad_or_zeros();    // the gradient buffer, allocated and zeroed on first use
  void clear_grad() { impl().grad.reset(); }

  TensorImpl& impl() const {
    GPTCU_CHECK(impl_ != nullptr, "use of an undefined tensor");
    return *impl_;
  }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }

 private:
  std::shared_ptr<TensorImpl> impl_;
};

// Shape check used by ops: throws gptcu::Error naming the op and both shapes.
void check_shape(const Tensor& t, const Shape& expected, const char* what);

}  // namespace gptcu
