// data/split.h: the 64-bit hash shared by dedup and split, and deterministic train/val/test splits.
//
//   uint64_t h = hash64(text, seed);                       // XXH64 of the bytes
//   SplitName s = split_of(record_key(r), 0.05, 0.01, 1);  // same record -> same split, always
//
// hash64 is XXH64 (Yann Collet's xxHash, 64-bit variant), written out here and checked against
// the reference library's outputs in test/data/test_dedup.cpp: fast (several GB/s), well mixed
// in every bit, and the same on every platform (little-endian reads done byte by byte).
// split_of maps the top 53 bits of hash64(key, seed) to u in [0, 1): u < test -> test,
// u < test + val -> val, else train. It depends only on (key, fractions, seed), never on the
// order or number of records, so adding data never moves an existing record to another split.
#pragma once
#include <cstdint>
#include <string_view>

namespace gptcu {

uint64_t hash64(std::string_view bytes, uint64_t seed = 0);

// splitmix64's finalizer: a bijective 64-bit mixer (seeds hash families, mixes integer keys).
inline uint64_t mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

// Named SplitName because data/text_dataset.h already has `enum class Split { train, val }`.
enum class SplitName { train, val, test };
const char* split_name(SplitName s);

// UserError unless 0 <= val_fraction, 0 <= test_fraction and val_fraction + test_fraction <= 1.
SplitName split_of(std::string_view key, double val_fraction, double test_fraction, uint64_t seed);

}  // namespace gptcu
