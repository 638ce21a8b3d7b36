// cli/sampling.cpp
#include "cli/sampling.h"

#include "data/chat_template.h"
#include "train/checkpoint.h"
#include "train/post_common.h"
#include "train/pretrain.h"

namespace gptcu::cli {

void add_sampling_options(CLI::App* cmd, SampleOptions& opt) {
  cmd->add_option("--max-new-tokens", opt.max_new_tokens, "tokens to generate")->check(CLI::Range(0, 1 << 30));
  cmd->add_option("--temperature", opt.temperature, "sampling temperature (0: greedy)")->check(CLI::Range(0.0, 100.0));
  cmd->add_option("--top-k", opt.top_k, "sample among the k most likely tokens (0: all)")->check(CLI::Range(0, 1 << 30));
  cmd->add_option("--top-p", opt.top_p, "nucleus: sample among the most likely tokens holding this probability (1: all)")
      ->check(CLI::Range(1e-9, 1.0));
  cmd->add_option("--seed", opt.seed, "random seed");
}

SamplingModel load_sampling_model(const std::string& path) {
  const std::string ckpt = find_latest_checkpoint(path);
  GPTCU_USER_CHECK(!ckpt.empty(), "no checkpoint found in '", path, "'");
  // a PPO policy or a reward model carries a value head: build the model the checkpoint holds
  SamplingModel m{checkpoint_tokenizer(ckpt), load_model(ckpt, checkpoint_config(ckpt).model.value_head)};
  return m;
}

std::vector<int32_t> default_stop_tokens(const BpeTokenizer& tok) {
  std::vector<int32_t> stop;
  for (const char* s : {kEndOfText, kEndToken})
    if (const int32_t id = tok.special_id(s); id >= 0) stop.push_back(id);
  return stop;
}

}  // namespace gptcu::cli
