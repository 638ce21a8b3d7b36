// train/schedule.cpp
#include "train/schedule.h"

#include <cmath>

#include "core/check.h"

namespace gptcu {

double LrSchedule::at(int step) const {
  if (step < warmup) return lr * (double)(step + 1) / (double)warmup;
  if (kind == "constant") return lr;
  if (step >= decay_steps) return min_lr;
  const double progress = (double)(step - warmup) / (double)std::max(1, decay_steps - warmup);
  if (kind == "linear") return lr + (min_lr - lr) * progress;
  GPTCU_CHECK(kind == "cosine", "unknown LR schedule '", kind, "'");
  const double coeff = 0.5 * (1.0 + std::cos(M_PI * progress));  // 1 -> 0
  return min_lr + coeff * (lr - min_lr);
}

}  // namespace gptcu
