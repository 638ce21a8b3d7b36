// train/rl_math.h: the host-side arithmetic of RL post-training (PPO and GRPO): advantages,
// returns, whitening and the adaptive KL coefficient. Plain vectors, no autograd: these run
// once per rollout batch on small arrays (B x T response tokens), between the sampler and the
// loss ops of core/ops.h (policy_loss, value_loss).
//
// Layout: every (B, T) array is row-major, B rows of T tokens; mask 1 marks a response token.
#pragma once
#include <cstdint>
#include <vector>

namespace gptcu {

// GAE (Schulman et al. 2016) over each row's masked tokens (mask 1 = a response token; masks are a contiguous
// prefix per row after left alignment: treat the tokens where mask==1 in order and the value after the last one as 0):
//   delta_t = r_t + gamma * V_{t+1} - V_t ;  A_t = delta_t + gamma * lambda * A_{t+1};  returns = A + V
// rewards, values, mask (B, T); advantages and returns are resized to (B, T), 0 where mask == 0.
void gae(const std::vector<float>& rewards, const std::vector<float>& values, const std::vector<float>& mask,
         int B, int T, float gamma, float lambda, std::vector<float>& advantages, std::vector<float>& returns);

// (x - mean) / (std + 1e-8) over the masked entries (mask != 0), in place; shift_mean=false adds the mean
// back (keeps it, as TRL does when whitening rewards); unmasked entries set to 0. std is the sample standard
// deviation (n - 1, as TRL's masked_var; 0 for a single entry). An empty mask is an error.
void whiten(std::vector<float>& x, const std::vector<float>& mask, bool shift_mean = true);

// GRPO: rewards of groups of G consecutive samples -> (r - mean_group) / (std_group + eps); scale_std=false: only
// centred. std_group is the sample standard deviation (n - 1, as torch.std in TRL's GRPO; 0 when G == 1).
std::vector<float> group_advantages(const std::vector<float>& rewards, int G, bool scale_std = true,
                                    float eps = 1e-4f);

// Adaptive KL controller (Ziegler et al. 2019): coef *= 1 + clip(kl/target - 1, -0.2, 0.2) * n_steps / horizon
struct AdaptiveKl {
  double coef, target, horizon;
  void update(double kl, int64_t n_steps);
};

}  // namespace gptcu
