// model/safetensors.h: reading and writing Hugging Face .safetensors files.
//
// The layout (https://github.com/huggingface/safetensors):
//   u64 N (little-endian) | N bytes of UTF-8 JSON header, padded with spaces so that 8+N is a
//   multiple of 8 | raw tensor bytes
// with the header
//   {"__metadata__": {"key": "value", ...},
//    "name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...}
// where the offsets count from the first byte after the header. Tensors are stored
// row-major, little-endian, back to back in the order written, with no gaps.
//
//   write_safetensors("model.safetensors", {{"wte", "F32", {V, C}, ptr, V * C * 4}}, {{"step", "10"}});
//   SafetensorsFile f("model.safetensors");
//   const SafeTensorView& wte = f.get("wte");  // wte.data points into f's buffer
//
// dtypes: F64 F32 F16 BF16 F8_E4M3 F8_E5M2 I64 I32 I16 I8 U64 U32 U16 U8 BOOL.
// A tensor's data is NOT necessarily aligned to its element size (a BF16 tensor with an odd
// element count shifts everything after it): copy it out with memcpy.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace gptcu {

struct SafeTensorView {
  std::string name;
  std::string dtype;           // "F32", "BF16", ...
  std::vector<int64_t> shape;  // {} for a 0-d scalar (one element)
  const void* data;
  size_t nbytes;  // prod(shape) * safetensors_dtype_size(dtype)
};

// Bytes per element of a safetensors dtype name; 0 if the name is unknown.
size_t safetensors_dtype_size(const std::string& dtype);

// Writes the file at `path` (the caller handles atomic renames), flushes and fsyncs it.
// UserError on I/O failure naming the path; gptcu::Error on inconsistent views (unknown
// dtype, nbytes != prod(shape) * dtype size, duplicate or empty names).
void write_safetensors(const std::string& path, const std::vector<SafeTensorView>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

// A whole file read into memory; the views point into it (the object is movable, not copyable).
class SafetensorsFile {
 public:
  // UserError naming the path: missing file, truncated, bad header JSON, unknown dtype,
  // offsets out of bounds / overlapping / leaving gaps, nbytes != prod(shape) * dtype size.
  explicit SafetensorsFile(const std::string& path);
  SafetensorsFile(SafetensorsFile&&) = default;
  SafetensorsFile& operator=(SafetensorsFile&&) = default;
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::string& path() const { return path_; }
  std::vector<std::string> names() const;  // in file order (by data offset)
  bool contains(const std::string& name) const;
  const SafeTensorView& get(const std::string& name) const;  // UserError when absent
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

 private:
  std::string path_;
  std::vector<uint8_t> bytes_;  // the whole file
  std::vector<SafeTensorView> tensors_;  // in file order
  std::map<std::string, size_t> index_;  // name -> position in tensors_
  std::map<std::string, std::string> metadata_;
};

}  // namespace gptcu
