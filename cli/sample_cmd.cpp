// cli/sample_cmd.cpp: `gptcu sample`.
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "eval/generate.h"
#include "train/checkpoint.h"
#include "train/pretrain.h"

namespace gptcu::cli {

void register_sample(CLI::App& app) {
  struct Args {
    std::string checkpoint, prompt = "\n";
    SampleOptions opt;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("sample", "generate text from a checkpoint");
  cmd->add_option("--checkpoint", args->checkpoint, "a checkpoint directory, or a run directory (its newest checkpoint)")->required();
  cmd->add_option("--prompt", args->prompt, "text to continue");
  cmd->add_option("--max-new-tokens", args->opt.max_new_tokens, "tokens to generate")->check(CLI::Range(0, 1 << 30));
  cmd->add_option("--temperature", args->opt.temperature, "sampling temperature (0: greedy)")->check(CLI::Range(0.0, 100.0));
  cmd->add_option("--top-k", args->opt.top_k, "sample among the k most likely tokens (0: all)")->check(CLI::Range(0, 1 << 30));
  cmd->add_option("--seed", args->opt.seed, "random seed");
  cmd->callback([args]() {
    const std::string ckpt = find_latest_checkpoint(args->checkpoint);
    GPTCU_USER_CHECK(!ckpt.empty(), "no checkpoint found in '", args->checkpoint, "'");
    const Config config = checkpoint_config(ckpt);
    const BpeTokenizer tokenizer = checkpoint_tokenizer(ckpt);
    GPT model(gpt_config(config.model, tokenizer.vocab_size()));
    load_checkpoint(ckpt, model, nullptr, nullptr);
    std::vector<int32_t> ids = tokenizer.encode(args->prompt);
    GPTCU_USER_CHECK(!ids.empty(), "--prompt is empty");
    args->opt.stop_token = tokenizer.special_id("<|endoftext|>");
    args->opt.vocab_limit = tokenizer.vocab_size();
    ids = generate(model, ids, args->opt);
    if (ids.size() > 1 && ids.back() == args->opt.stop_token) ids.pop_back();  // stopped: not part of the text
    std::cout << tokenizer.decode(ids) << std::endl;
  });
}

}  // namespace gptcu::cli
