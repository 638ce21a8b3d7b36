// test/core/test_tensor.cpp: Tensor storage, views and checks.
#include <catch2/catch.hpp>

#include "core/allocator.h"
#include "core/tensor.h"

using namespace gptcu;

TEST_CASE("tensor factories and metadata", "[tensor]") {
  Tensor t = Tensor::zeros({2, 3});
  CHECK(t.numel() == 6);
  CHECK(t.dim() == 2);
  CHECK(t.size(-1) == 3);
  CHECK(t.nbytes() == 24);
  CHECK(t.str() == "f32[2, 3] cpu");
  for (float v : t.to_vector()) CHECK(v == 0.0f);
  CHECK(reinterpret_cast<uintptr_t>(t.raw()) % 64 == 0);  // aligned for vector loads
  Tensor i = Tensor::from_vector(std::vector<int32_t>{1, 2, 3}, {3});
  CHECK(i.dtype() == DType::i32);
  CHECK_THROWS_AS(i.data<float>(), Error);  // wrong element type
  CHECK_THROWS_AS(Tensor::from_vector(std::vector<float>{1, 2}, {3}), Error);
}

TEST_CASE("views share storage; clone does not", "[tensor]") {
  Tensor t = Tensor::from_vector(std::vector<float>{0, 1, 2, 3, 4, 5}, {3, 2});
  Tensor v = t.view({6});
  Tensor s = t.slice0(1, 3);  // rows 1..2
  CHECK(s.shape() == Shape{2, 2});
  CHECK(s.to_vector() == std::vector<float>{2, 3, 4, 5});
  Tensor c = t.clone();
  t.data<float>()[2] = 42;
  CHECK(v.data<float>()[2] == 42);
  CHECK(s.data<float>()[0] == 42);
  CHECK(c.data<float>()[2] == 2);
  CHECK_THROWS_AS(t.view({4}), Error);
  CHECK_THROWS_AS(t.slice0(2, 4), Error);
}

TEST_CASE("memory accounting tracks live bytes and the peak", "[tensor]") {
  const MemoryStats before = memory_stats(Device{});
  {
    Tensor big = Tensor::empty({1 << 20});
    const MemoryStats during = memory_stats(Device{});
    CHECK(during.current_bytes - before.current_bytes == 4 << 20);
    CHECK(during.peak_bytes >= during.current_bytes);
  }
  CHECK(memory_stats(Device{}).current_bytes == before.current_bytes);
}

TEST_CASE("devices parse, and bad names are user errors", "[tensor]") {
  CHECK(Device::parse("cpu").is_cpu());
  CHECK(Device::parse("cuda:1").index == 1);
  CHECK(Device::parse("cuda").kind == Device::cuda);
  CHECK_THROWS_AS(Device::parse("gpu"), UserError);
  CHECK_THROWS_AS(Device::parse("cuda:x"), UserError);
}
