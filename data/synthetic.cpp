// data/synthetic.cpp
#include "data/synthetic.h"

#include "core/check.h"
#include "core/rng.h"

namespace gptcu {

std::string synth_addition_corpus(int lines, int max_operand, uint64_t seed) {
  GPTCU_USER_CHECK(lines > 0 && max_operand > 0, "synthetic corpus: lines and max operand must be positive");
  Rng rng(seed, /*stream=*/4);
  std::string out;
  for (int i = 0; i < lines; i++) {
    const uint64_t a = rng.next_below((uint64_t)max_operand + 1), b = rng.next_below((uint64_t)max_operand + 1);
    out += std::to_string(a) + "+" + std::to_string(b) + "=" + std::to_string(a + b) + "\n";
  }
  return out;
}

}  // namespace gptcu
