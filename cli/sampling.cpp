// cli/sampling.cpp
#include "cli/sampling.h"

#include "data/chat_template.h"
#include "train/checkpoint.h"
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
  SamplingModel m{checkpoint_tokenizer(ckpt), nullptr};
  GPTConfig gc = gpt_config(checkpoint_config(ckpt).model, m.tokenizer.vocab_size());
  // a PPO policy carries a value head that its config.yaml does not ask for: build what the
  // checkpoint holds (any other mismatch is load_checkpoint's one-line error)
  GPTConfig with_head = gc;
  with_head.value_head = true;
  if (checkpoint_model(ckpt) == with_head.str()) gc = with_head;
  m.model = std::make_unique<GPT>(gc);
  load_checkpoint(ckpt, *m.model, nullptr, nullptr);
  return m;
}

std::vector<int32_t> default_stop_tokens(const BpeTokenizer& tok) {
  std::vector<int32_t> stop;
  for (const char* s : {kEndOfText, kEndToken})
    if (const int32_t id = tok.special_id(s); id >= 0) stop.push_back(id);
  return stop;
}

}  // namespace gptcu::cli
