// test/data/shard_fixtures.h: helpers shared by the data tests: a fresh temporary directory per
// test, raw file writing for hand-made (llm.c-style or broken) shards, a one-line-error check.
#pragma once
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "core/check.h"

namespace gptcu::test {

// f() throws a one-line UserError whose message contains `needle`.
template <typename F>
void check_user_error(F&& f, const std::string& needle) {
  try {
    f();
    FAIL("no UserError (expected one mentioning '" << needle << "')");
  } catch (const UserError& e) {
    INFO("message: " << e.what());
    CHECK(std::string(e.what()).find(needle) != std::string::npos);
    CHECK(std::string(e.what()).find('\n') == std::string::npos);  // one line
  }
}

// A new empty directory under the system temp dir, removed with its contents at scope exit.
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& name)
      : path(std::filesystem::temp_directory_path() / ("gptcu_" + name + "_" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string operator/(const std::string& f) const { return (path / f).string(); }
};

// The 256-int32 header of a shard: magic, version, count, then `extra` from [3] on.
inline std::vector<int32_t> shard_header(int32_t magic, int32_t version, int32_t count,
                                         std::vector<int32_t> extra = {}) {
  std::vector<int32_t> h(256, 0);
  h[0] = magic, h[1] = version, h[2] = count;
  for (size_t i = 0; i < extra.size(); i++) h[3 + i] = extra[i];
  return h;
}

// Appends the raw bytes of v (little-endian on every host we run on) to a byte vector.
template <typename T>
void append_bytes(std::vector<char>& out, const std::vector<T>& v) {
  const size_t at = out.size();
  out.resize(at + v.size() * sizeof(T));
  if (!v.empty()) std::memcpy(out.data() + at, v.data(), v.size() * sizeof(T));
}

inline void write_file(const std::string& path, const std::vector<char>& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), (std::streamsize)bytes.size());
}

inline std::vector<char> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<char>(std::istreambuf_iterator<char>(in), {});
}

// The stream 0, 1, 2, ... n-1 (each token's value is its position: windows are easy to check).
inline std::vector<int32_t> iota_tokens(int32_t begin, int32_t n) {
  std::vector<int32_t> v((size_t)n);
  for (int32_t i = 0; i < n; i++) v[(size_t)i] = begin + i;
  return v;
}

}  // namespace gptcu::test
