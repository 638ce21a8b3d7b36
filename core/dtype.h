// core/dtype.h: element types and devices.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "kernels/bf16.h"

namespace gptcu {

enum class DType : uint8_t { f32, bf16, i32, u16, u32, f64 };

inline size_t dtype_size(DType t) {
  switch (t) {
    case DType::f32: return 4;
    case DType::bf16: return 2;
    case DType::i32: return 4;
    case DType::u16: return 2;
    case DType::u32: return 4;
    case DType::f64: return 8;
  }
  return 0;
}

inline const char* dtype_name(DType t) {
  switch (t) {
    case DType::f32: return "f32";
    case DType::bf16: return "bf16";
    case DType::i32: return "i32";
    case DType::u16: return "u16";
    case DType::u32: return "u32";
    case DType::f64: return "f64";
  }
  return "?";
}

// The C++ type behind a DType, for Tensor::data<T>() checks.
template <typename T> constexpr DType dtype_of();
template <> constexpr DType dtype_of<float>() { return DType::f32; }
template <> constexpr DType dtype_of<double>() { return DType::f64; }
template <> constexpr DType dtype_of<int32_t>() { return DType::i32; }
template <> constexpr DType dtype_of<uint16_t>() { return DType::u16; }
template <> constexpr DType dtype_of<uint32_t>() { return DType::u32; }
template <> constexpr DType dtype_of<bf16>() { return DType::bf16; }

struct Device {
  enum Kind : uint8_t { cpu, cuda } kind = cpu;
  int index = 0;
  bool operator==(const Device&) const = default;
  bool is_cpu() const { return kind == cpu; }
  std::string str() const { return kind == cpu ? "cpu" : "cuda:" + std::to_string(index); }
  static Device parse(const std::string& s);  // "cpu", "cuda", "cuda:N"; UserError otherwise
};

}  // namespace gptcu
