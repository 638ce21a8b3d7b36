// train/rl_math.cpp: GAE, whitening, group-relative advantages and the adaptive KL controller
// (see rl_math.h). Statistics are accumulated in double.
#include "train/rl_math.h"

#include <algorithm>
#include <cmath>

#include "core/check.h"

namespace gptcu {
namespace {
// Mean and sample standard deviation (n - 1; 0 when n == 1) of the x[i] with keep(i), n >= 1.
template <typename Keep>
void mean_std(const std::vector<float>& x, size_t begin, size_t end, Keep keep, double& mean, double& std) {
  double sum = 0;
  int64_t n = 0;
  for (size_t i = begin; i < end; i++)
    if (keep(i)) sum += x[i], n++;
  mean = sum / n;
  double ss = 0;
  for (size_t i = begin; i < end; i++)
    if (keep(i)) ss += (x[i] - mean) * (x[i] - mean);
  std = n > 1 ? std::sqrt(ss / (n - 1)) : 0.0;
}
}  // namespace

void gae(const std::vector<float>& rewards, const std::vector<float>& values, const std::vector<float>& mask,
         int B, int T, float gamma, float lambda, std::vector<float>& advantages, std::vector<float>& returns) {
  const size_t n = (size_t)B * T;
  GPTCU_CHECK(rewards.size() == n && values.size() == n && mask.size() == n, "gae: rewards ", rewards.size(),
              ", values ", values.size(), ", mask ", mask.size(), " vs B*T = ", n);
  advantages.assign(n, 0.0f);
  returns.assign(n, 0.0f);
  for (int b = 0; b < B; b++) {
    // Walk the row's masked tokens backwards; after the last one the value and advantage are 0.
    double next_value = 0, next_adv = 0;
    for (int t = T - 1; t >= 0; t--) {
      const size_t i = (size_t)b * T + t;
      if (mask[i] == 0) continue;
      const double delta = rewards[i] + (double)gamma * next_value - values[i];
      const double adv = delta + (double)gamma * lambda * next_adv;
      advantages[i] = (float)adv;
      returns[i] = (float)(adv + values[i]);
      next_value = values[i];
      next_adv = adv;
    }
  }
}

void whiten(std::vector<float>& x, const std::vector<float>& mask, bool shift_mean) {
  GPTCU_CHECK(x.size() == mask.size(), "whiten: ", x.size(), " values vs a mask of ", mask.size());
  auto keep = [&](size_t i) { return mask[i] != 0; };
  GPTCU_CHECK(std::any_of(mask.begin(), mask.end(), [](float m) { return m != 0; }),
              "whiten: the mask selects no entry");
  double mean, std;
  mean_std(x, 0, x.size(), keep, mean, std);
  for (size_t i = 0; i < x.size(); i++) {
    if (!keep(i)) {
      x[i] = 0;
      continue;
    }
    const double w = (x[i] - mean) / (std + 1e-8);
    x[i] = (float)(shift_mean ? w : w + mean);
  }
}

std::vector<float> group_advantages(const std::vector<float>& rewards, int G, bool scale_std, float eps) {
  GPTCU_CHECK(G >= 1 && rewards.size() % G == 0, "group_advantages: ", rewards.size(),
              " rewards are not groups of ", G);
  std::vector<float> adv(rewards.size());
  for (size_t g = 0; g < rewards.size(); g += G) {
    double mean, std;
    mean_std(rewards, g, g + G, [](size_t) { return true; }, mean, std);
    for (size_t i = g; i < g + G; i++)
      adv[i] = (float)(scale_std ? (rewards[i] - mean) / (std + eps) : rewards[i] - mean);
  }
  return adv;
}

void AdaptiveKl::update(double kl, int64_t n_steps) {
  GPTCU_CHECK(target > 0 && horizon > 0, "AdaptiveKl: target ", target, " and horizon ", horizon, " must be > 0");
  const double error = std::clamp(kl / target - 1.0, -0.2, 0.2);
  coef *= 1.0 + error * (double)n_steps / horizon;
}

}  // namespace gptcu
