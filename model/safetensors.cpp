// model/safetensors.cpp: the .safetensors writer and reader (layout in safetensors.h).
#include "model/safetensors.h"

#include "core/tensor.h"  // shape_str

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "core/check.h"

namespace gptcu {
namespace {

static_assert(std::endian::native == std::endian::little,
              "safetensors stores little-endian data; a big-endian host would need byte swaps");

using ordered_json = nlohmann::ordered_json;

// Hugging Face caps the header at 100 MB; so do we, so that a corrupt length fails cleanly.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;

// prod(shape) * elem, or false when a dimension is negative or the product overflows.
bool byte_count(const std::vector<int64_t>& shape, size_t elem, size_t& out) {
  size_t n = elem;
  for (int64_t d : shape) {
    if (d < 0 || __builtin_mul_overflow(n, static_cast<size_t>(d), &n)) return false;
  }
  out = n;
  return true;
}

void write_all(int fd, const void* data, size_t n, const std::string& path) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      int err = errno;
      ::close(fd);
      user_error("cannot write ", path, ": ", std::strerror(err));
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
}

}  // namespace

size_t safetensors_dtype_size(const std::string& dtype) {
  static const std::map<std::string, size_t> sizes = {
      {"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"F8_E4M3", 1}, {"F8_E5M2", 1},
      {"I64", 8}, {"I32", 4}, {"I16", 2}, {"I8", 1},   {"U64", 8},     {"U32", 4},
      {"U16", 2}, {"U8", 1},  {"BOOL", 1}};
  auto it = sizes.find(dtype);
  return it == sizes.end() ? 0 : it->second;
}

// ---- writing ----------------------------------------------------------------------------

void write_safetensors(const std::string& path, const std::vector<SafeTensorView>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  // The header: metadata first (as Python's safetensors writes it), then tensors in order.
  ordered_json header = ordered_json::object();
  if (!metadata.empty()) {
    ordered_json meta = ordered_json::object();
    for (const auto& [k, v] : metadata) meta[k] = v;
    header["__metadata__"] = meta;
  }
  std::set<std::string> seen;
  uint64_t offset = 0;
  for (const SafeTensorView& t : tensors) {
    size_t elem = safetensors_dtype_size(t.dtype);
    size_t expect = 0;
    GPTCU_CHECK(!t.name.empty() && t.name != "__metadata__", "bad tensor name '", t.name, "'");
    GPTCU_CHECK(seen.insert(t.name).second, "duplicate tensor name '", t.name, "'");
    GPTCU_CHECK(elem > 0, "tensor ", t.name, ": unknown safetensors dtype '", t.dtype, "'");
    GPTCU_CHECK(byte_count(t.shape, elem, expect) && expect == t.nbytes, "tensor ", t.name,
                ": nbytes ", t.nbytes, " does not match shape ", shape_str(t.shape), " of ",
                t.dtype);
    GPTCU_CHECK(t.data != nullptr || t.nbytes == 0, "tensor ", t.name, ": null data");
    header[t.name] = {{"dtype", t.dtype},
                      {"shape", t.shape},
                      {"data_offsets", {offset, offset + t.nbytes}}};
    offset += t.nbytes;
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const nlohmann::json::exception& e) {  // e.g. a name that is not valid UTF-8
    GPTCU_CHECK(false, "cannot encode the safetensors header for ", path, ": ", e.what());
  }
  text.append((8 - text.size() % 8) % 8, ' ');  // 8 + N is a multiple of 8
  uint64_t n = text.size();
  uint8_t len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(n >> (8 * i));

  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) user_error("cannot open ", path, " for writing: ", std::strerror(errno));
  write_all(fd, len, 8, path);
  write_all(fd, text.data(), text.size(), path);
  for (const SafeTensorView& t : tensors) write_all(fd, t.data, t.nbytes, path);
  if (::fsync(fd) != 0) {
    int err = errno;
    ::close(fd);
    user_error("cannot fsync ", path, ": ", std::strerror(err));
  }
  if (::close(fd) != 0) user_error("cannot close ", path, ": ", std::strerror(errno));
}

// ---- reading ----------------------------------------------------------------------------

SafetensorsFile::SafetensorsFile(const std::string& path) : path_(path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) user_error("safetensors file not found: ", path);
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) user_error("cannot open safetensors file: ", path);
  std::streamoff size = in.tellg();
  if (size < 0) user_error("cannot read safetensors file: ", path);
  bytes_.resize(static_cast<size_t>(size));
  in.seekg(0);
  if (size > 0 && !in.read(reinterpret_cast<char*>(bytes_.data()), size))
    user_error("cannot read safetensors file: ", path);

  auto bad = [&](const auto&... what) { user_error("bad safetensors file ", path, ": ", what...); };
  if (bytes_.size() < 8) bad("truncated (", bytes_.size(), " bytes, less than the 8-byte header size)");
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= static_cast<uint64_t>(bytes_[i]) << (8 * i);
  if (n > kMaxHeaderBytes) bad("header size ", n, " is implausible (corrupt file?)");
  if (n > bytes_.size() - 8)
    bad("truncated (header says ", n, " bytes, file has ", bytes_.size() - 8, " after the size)");
  const uint8_t* hbegin = bytes_.data() + 8;
  const uint8_t* data = hbegin + n;
  const size_t data_size = bytes_.size() - 8 - n;

  ordered_json header;
  try {
    header = ordered_json::parse(hbegin, hbegin + n);
  } catch (const nlohmann::json::exception& e) {
    bad("header is not valid JSON: ", e.what());
  }
  if (!header.is_object()) bad("header is not a JSON object");

  struct Span {
    uint64_t begin, end;
    size_t index;
  };
  std::vector<Span> spans;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) bad("__metadata__ is not a JSON object");
      for (const auto& [k, v] : entry.items()) {
        if (!v.is_string()) bad("__metadata__ value for '", k, "' is not a string");
        metadata_[k] = v.get<std::string>();
      }
      continue;
    }
    auto bad_tensor = [&](const auto&... what) { bad("tensor '", name, "': ", what...); };
    if (!entry.is_object()) bad_tensor("entry is not a JSON object");
    if (!entry.contains("dtype") || !entry["dtype"].is_string()) bad_tensor("missing dtype");
    if (!entry.contains("shape") || !entry["shape"].is_array()) bad_tensor("missing shape");
    if (!entry.contains("data_offsets") || !entry["data_offsets"].is_array() ||
        entry["data_offsets"].size() != 2 || !entry["data_offsets"][0].is_number_unsigned() ||
        !entry["data_offsets"][1].is_number_unsigned())
      bad_tensor("data_offsets must be [begin, end]");

    SafeTensorView t;
    t.name = name;
    t.dtype = entry["dtype"].get<std::string>();
    for (const auto& d : entry["shape"]) {
      if (!d.is_number_unsigned() || d.get<uint64_t>() > uint64_t(INT64_MAX))
        bad_tensor("shape must hold non-negative integers");
      t.shape.push_back(d.get<int64_t>());
    }
    uint64_t begin = entry["data_offsets"][0].get<uint64_t>();
    uint64_t end = entry["data_offsets"][1].get<uint64_t>();
    size_t elem = safetensors_dtype_size(t.dtype);
    if (elem == 0) bad_tensor("unknown dtype '", t.dtype, "'");
    if (begin > end) bad_tensor("data_offsets [", begin, ", ", end, "] are reversed");
    if (end > data_size)
      bad_tensor("data_offsets [", begin, ", ", end, "] run past the end of the data (",
                 data_size, " bytes; truncated file?)");
    size_t expect = 0;
    if (!byte_count(t.shape, elem, expect) || expect != end - begin)
      bad_tensor("shape ", shape_str(t.shape), " of ", t.dtype, " needs ", expect,
                 " bytes, data_offsets give ", end - begin);
    t.data = data + begin;
    t.nbytes = end - begin;
    spans.push_back({begin, end, tensors_.size()});
    tensors_.push_back(std::move(t));
  }

  // File order is data order; stable, so empty tensors sharing an offset keep header order.
  std::stable_sort(spans.begin(), spans.end(),
                   [](const Span& a, const Span& b) { return a.begin < b.begin; });
  uint64_t pos = 0;
  std::vector<SafeTensorView> ordered;
  for (const Span& s : spans) {
    const std::string& name = tensors_[s.index].name;
    if (s.begin < pos) bad("tensor '", name, "' overlaps the tensor before it");
    if (s.begin > pos) bad("gap of ", s.begin - pos, " bytes before tensor '", name, "'");
    pos = s.end;
    index_[name] = ordered.size();
    ordered.push_back(std::move(tensors_[s.index]));
  }
  if (pos != data_size) bad(data_size - pos, " bytes after the last tensor");
  tensors_ = std::move(ordered);
}

std::vector<std::string> SafetensorsFile::names() const {
  std::vector<std::string> out;
  for (const SafeTensorView& t : tensors_) out.push_back(t.name);
  return out;
}

bool SafetensorsFile::contains(const std::string& name) const { return index_.count(name) > 0; }

const SafeTensorView& SafetensorsFile::get(const std::string& name) const {
  auto it = index_.find(name);
  if (it == index_.end()) user_error("no tensor '", name, "' in ", path_);
  return tensors_[it->second];
}

}  // namespace gptcu
