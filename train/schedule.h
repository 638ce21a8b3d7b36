// train/schedule.h: learning-rate schedules.
//
// Linear warm-up from 0 over `warmup` steps (lr * (step+1) / warmup, as nanoGPT does), then
// cosine or linear decay from lr to min_lr at step `decay_steps`, then min_lr; or constant.
// `step` is 0-based: the step about to be taken.
#pragma once
#include <string>

namespace gptcu {

struct LrSchedule {
  std::string kind = "cosine";  // cosine | linear | constant
  double lr = 6e-4;
  double min_lr = 6e-5;
  int warmup = 0;
  int decay_steps = 1000;
  double at(int step) const;
};

}  // namespace gptcu
