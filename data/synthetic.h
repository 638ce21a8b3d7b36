// data/synthetic.h: corpora the project generates itself (seeded), so that the demo and the
// tests need no download. For now: addition facts, one per line ("47+38=85").
#pragma once
#include <cstdint>
#include <string>

namespace gptcu {

// `lines` lines "a+b=c\n" with a, b uniform in [0, max_operand], from the counter-based RNG.
std::string synth_addition_corpus(int lines, int max_operand, uint64_t seed);

}  // namespace gptcu
