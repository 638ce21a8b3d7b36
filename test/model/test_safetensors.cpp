// test/model/test_safetensors.cpp: .safetensors round trips, the byte layout checked by
// hand, and the errors for missing, truncated and corrupt files.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "core/check.h"
#include "model/safetensors.h"

using namespace gptcu;
using Catch::Matchers::Contains;

namespace {

std::string temp_path(const std::string& name) {
  // The pid keeps concurrent runs (other build dirs, parallel ctest) apart.
  return (std::filesystem::temp_directory_path() /
          ("gptcu_test_" + std::to_string(::getpid()) + "_" + name))
      .string();
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// A file made by hand: the 8-byte length, the header text padded to 8, then `data`.
std::string make_file(std::string header, const std::string& data) {
  header.append((8 - header.size() % 8) % 8, ' ');
  std::string out(8, '\0');
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(n >> (8 * i));
  return out + header + data;
}

// The UserError message of opening `bytes` as a safetensors file, or "" if it opens.
std::string open_error(const std::string& bytes) {
  std::string path = temp_path("bad.safetensors");
  write_bytes(path, bytes);
  std::string msg;
  try {
    SafetensorsFile f(path);
  } catch (const UserError& e) {
    msg = e.what();
  }
  std::filesystem::remove(path);
  return msg;
}

template <typename T>
std::vector<T> copy_out(const SafeTensorView& v) {
  std::vector<T> out(v.nbytes / sizeof(T));
  std::memcpy(out.data(), v.data, v.nbytes);
  return out;
}

}  // namespace

TEST_CASE("safetensors: round trip of several dtypes and shapes with metadata") {
  std::vector<float> f32(2 * 3 * 4);
  for (size_t i = 0; i < f32.size(); ++i) f32[i] = 0.5f * float(i) - 3.0f;
  std::vector<uint16_t> bf16 = {0x3f80, 0xc000, 0x7f80};  // 1, -2, inf; odd count: misaligns
  std::vector<double> f64 = {3.141592653589793};          // a 0-d scalar
  std::vector<int32_t> i32 = {-1, 0, 2147483647, -2147483647 - 1};
  std::vector<uint16_t> u16 = {0, 65535};
  std::vector<uint32_t> u32 = {4000000000u};
  std::vector<int64_t> empty_shape = {0, 5};
  std::vector<SafeTensorView> tensors = {
      {"h.0.attn.c_attn.weight", "F32", {2, 3, 4}, f32.data(), f32.size() * 4},
      {"bf16", "BF16", {3}, bf16.data(), 6},
      {"scalar", "F64", {}, f64.data(), 8},
      {"empty", "F32", empty_shape, nullptr, 0},
      {"i32", "I32", {2, 2}, i32.data(), 16},
      {"tokens", "U16", {2}, u16.data(), 4},
      {"u32", "U32", {1}, u32.data(), 4},
  };
  std::map<std::string, std::string> meta = {{"format", "pt"}, {"step", "123"}, {"名", "值"}};
  std::string path = temp_path("roundtrip.safetensors");
  write_safetensors(path, tensors, meta);

  SafetensorsFile f(path);
  CHECK(f.path() == path);
  CHECK(f.metadata() == meta);
  std::vector<std::string> names = {"h.0.attn.c_attn.weight", "bf16", "scalar", "empty",
                                    "i32", "tokens", "u32"};
  CHECK(f.names() == names);
  CHECK(f.contains("scalar"));
  CHECK_FALSE(f.contains("nope"));
  for (const SafeTensorView& t : tensors) {
    const SafeTensorView& r = f.get(t.name);
    CHECK(r.name == t.name);
    CHECK(r.dtype == t.dtype);
    CHECK(r.shape == t.shape);
    REQUIRE(r.nbytes == t.nbytes);
    if (t.nbytes) CHECK(std::memcmp(r.data, t.data, t.nbytes) == 0);
  }
  CHECK(f.get("scalar").shape.empty());
  CHECK(copy_out<double>(f.get("scalar"))[0] == f64[0]);
  CHECK(copy_out<float>(f.get("h.0.attn.c_attn.weight")) == f32);
  CHECK(copy_out<int32_t>(f.get("i32")) == i32);

  // The views stay valid when the file object moves.
  SafetensorsFile moved = std::move(f);
  CHECK(copy_out<uint32_t>(moved.get("u32")) == u32);

  try {
    moved.get("h.1.attn.c_attn.weight");
    FAIL("no error");
  } catch (const UserError& e) {
    CHECK_THAT(e.what(), Contains("h.1.attn.c_attn.weight"));
    CHECK_THAT(e.what(), Contains(path));
  }
  std::filesystem::remove(path);
}

TEST_CASE("safetensors: an empty file (no tensors, no metadata) round-trips") {
  std::string path = temp_path("empty.safetensors");
  write_safetensors(path, {});
  SafetensorsFile f(path);
  CHECK(f.names().empty());
  CHECK(f.metadata().empty());
  CHECK(read_bytes(path).size() == 16);  // 8 + "{}" padded to 8
  std::filesystem::remove(path);
}

TEST_CASE("safetensors: the byte layout, checked by hand") {
  float a[2] = {1.0f, -2.0f};
  uint16_t b[1] = {0x3f80};
  std::string path = temp_path("layout.safetensors");
  write_safetensors(path, {{"a", "F32", {2}, a, 8}, {"b", "BF16", {1, 1}, b, 2}}, {{"k", "v"}});
  std::string bytes = read_bytes(path);

  REQUIRE(bytes.size() >= 8);
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= uint64_t(uint8_t(bytes[i])) << (8 * i);
  CHECK((8 + n) % 8 == 0);
  REQUIRE(bytes.size() == 8 + n + 8 + 2);
  std::string header = bytes.substr(8, n);
  // Padding is spaces, after the JSON.
  std::string trimmed = header.substr(0, header.find_last_not_of(' ') + 1);
  CHECK(header.size() - trimmed.size() < 8);
  CHECK(trimmed ==
        R"({"__metadata__":{"k":"v"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
        R"("b":{"dtype":"BF16","shape":[1,1],"data_offsets":[8,10]}})");
  auto j = nlohmann::json::parse(header);
  CHECK(j["a"]["data_offsets"] == nlohmann::json({0, 8}));
  CHECK(j["__metadata__"]["k"] == "v");
  // The data: a's 8 bytes little-endian, then b's 2.
  const char* data = bytes.data() + 8 + n;
  float a_back[2];
  std::memcpy(a_back, data, 8);
  CHECK(a_back[0] == 1.0f);
  CHECK(a_back[1] == -2.0f);
  CHECK(uint8_t(data[8]) == 0x80);
  CHECK(uint8_t(data[9]) == 0x3f);
  std::filesystem::remove(path);
}

TEST_CASE("safetensors: reads a hand-made file (metadata last, header order kept)") {
  std::string data(12, '\0');
  data[4] = 7;  // y = [7] as I32, x = [0] as F32, z empty
  std::string hdr = R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                    R"("z":{"dtype":"U8","shape":[0],"data_offsets":[4,4]},)"
                    R"("y":{"dtype":"I32","shape":[2],"data_offsets":[4,12]},)"
                    R"("__metadata__":{"a":"b"}})";
  std::string path = temp_path("handmade.safetensors");
  write_bytes(path, make_file(hdr, data));
  SafetensorsFile f(path);
  CHECK(f.names() == std::vector<std::string>{"x", "z", "y"});
  CHECK(copy_out<int32_t>(f.get("y")) == std::vector<int32_t>{7, 0});
  CHECK(f.metadata().at("a") == "b");
  std::filesystem::remove(path);
}

TEST_CASE("safetensors: errors name the path and what is wrong") {
  // Missing.
  try {
    SafetensorsFile f("/nonexistent/model.safetensors");
    FAIL("no error");
  } catch (const UserError& e) {
    CHECK_THAT(e.what(), Contains("/nonexistent/model.safetensors"));
  }
  std::string ok_hdr = R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  std::string ok = make_file(ok_hdr, std::string(8, '\1'));
  REQUIRE(open_error(ok).empty());

  // Truncated: shorter than the length, shorter than the header, shorter than the data.
  CHECK_THAT(open_error(""), Contains("truncated"));
  CHECK_THAT(open_error(ok.substr(0, 5)), Contains("truncated"));
  CHECK_THAT(open_error(ok.substr(0, 20)), Contains("truncated"));
  std::string msg = open_error(ok.substr(0, ok.size() - 1));
  CHECK_THAT(msg, Contains("'w'"));
  CHECK_THAT(msg, Contains("bad.safetensors"));
  // An absurd header length.
  std::string huge = ok;
  huge[7] = '\x7f';
  CHECK_THAT(open_error(huge), Contains("header size"));

  // Corrupt JSON, or JSON of the wrong shape.
  CHECK_THAT(open_error(make_file(R"({"w":{"dtype":"F32",)", "")), Contains("JSON"));
  CHECK_THAT(open_error(make_file("[1, 2]", "")), Contains("JSON object"));
  CHECK_THAT(open_error(make_file(R"({"w":{"shape":[2],"data_offsets":[0,8]}})",
                                  std::string(8, 0))),
             Contains("dtype"));
  CHECK_THAT(open_error(make_file(R"({"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})",
                                  std::string(8, 0))),
             Contains("shape"));
  CHECK_THAT(open_error(make_file(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0]}})",
                                  std::string(8, 0))),
             Contains("data_offsets"));
  CHECK_THAT(open_error(make_file(R"({"w":{"dtype":"Q4","shape":[2],"data_offsets":[0,8]}})",
                                  std::string(8, 0))),
             Contains("unknown dtype 'Q4'"));
  CHECK_THAT(open_error(make_file(R"({"__metadata__":{"a":1}})", "")), Contains("__metadata__"));

  // Bad offsets: out of bounds, reversed, overlapping, a gap, trailing bytes, size mismatch.
  CHECK_THAT(open_error(make_file(R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})",
                                  std::string(8, 0))),
             Contains("past the end"));
  CHECK_THAT(open_error(make_file(R"({"w":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}})",
                                  std::string(8, 0))),
             Contains("reversed"));
  msg = open_error(make_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                             R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                             std::string(12, 0)));
  CHECK_THAT(msg, Contains("overlaps"));
  CHECK_THAT(msg, Contains("'b'"));
  CHECK_THAT(open_error(make_file(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                                  std::string(8, 0))),
             Contains("gap"));
  CHECK_THAT(open_error(make_file(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
                                  std::string(8, 0))),
             Contains("after the last tensor"));
  msg = open_error(make_file(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})",
                             std::string(8, 0)));
  CHECK_THAT(msg, Contains("'w'"));
  CHECK_THAT(msg, Contains("12 bytes"));
}

TEST_CASE("safetensors: writing checks its inputs and reports I/O failures") {
  float x[2] = {1, 2};
  CHECK_THROWS_AS(write_safetensors(temp_path("w.safetensors"), {{"x", "F32", {3}, x, 8}}), Error);
  CHECK_THROWS_AS(write_safetensors(temp_path("w.safetensors"), {{"x", "F31", {2}, x, 8}}), Error);
  CHECK_THROWS_AS(write_safetensors(temp_path("w.safetensors"),
                                    {{"x", "F32", {2}, x, 8}, {"x", "F32", {2}, x, 8}}),
                  Error);
  std::filesystem::remove(temp_path("w.safetensors"));
  try {
    write_safetensors("/nonexistent/dir/w.safetensors", {{"x", "F32", {2}, x, 8}});
    FAIL("no error");
  } catch (const UserError& e) {
    CHECK_THAT(e.what(), Contains("/nonexistent/dir/w.safetensors"));
  }
}

// Parity with Hugging Face's Python safetensors, run by bench/check_safetensors.py (hidden
// from the default run: it needs a file the script writes). The script writes py.safetensors
// with numpy; this test reads it and writes cpp.safetensors, which the script then reads.
TEST_CASE("safetensors: parity with the Python package", "[.][parity]") {
  const char* dir = std::getenv("GPTCU_SAFETENSORS_PARITY_DIR");
  if (!dir) {
    WARN("GPTCU_SAFETENSORS_PARITY_DIR not set; run bench/check_safetensors.py");
    return;
  }
  // The same tensors as in the script.
  std::vector<float> f32 = {-1.0f, -0.5f, 0.0f, 0.5f, 1.0f, 1.5f};
  std::vector<double> f64 = {3.25};
  std::vector<int32_t> i32 = {-1, 0, 2147483647, -2147483647 - 1};
  std::vector<uint16_t> u16 = {0, 1, 65535, 7};
  std::vector<int64_t> i64 = {int64_t(1) << 40};
  std::vector<uint8_t> u8 = {0, 1, 2, 3, 4};
  std::vector<SafeTensorView> expect = {
      {"f32", "F32", {2, 3}, f32.data(), 24}, {"f64", "F64", {}, f64.data(), 8},
      {"i32", "I32", {2, 2}, i32.data(), 16}, {"u16", "U16", {4}, u16.data(), 8},
      {"i64", "I64", {1}, i64.data(), 8},     {"empty", "F32", {0, 3}, nullptr, 0},
      {"u8", "U8", {5}, u8.data(), 5},
  };
  SafetensorsFile f(std::string(dir) + "/py.safetensors");
  CHECK(f.metadata().at("writer") == "python");
  CHECK(f.names().size() == expect.size());
  for (const SafeTensorView& t : expect) {
    INFO(t.name);
    REQUIRE(f.contains(t.name));
    const SafeTensorView& r = f.get(t.name);
    CHECK(r.dtype == t.dtype);
    CHECK(r.shape == t.shape);
    REQUIRE(r.nbytes == t.nbytes);
    if (t.nbytes) CHECK(std::memcmp(r.data, t.data, t.nbytes) == 0);
  }
  write_safetensors(std::string(dir) + "/cpp.safetensors", expect, {{"writer", "gptcu"}});
}
