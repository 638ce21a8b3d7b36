// cli/sample_cmd.cpp: `gptcu sample`: one prompt continued, printed as text.
#include <algorithm>
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/sampling.h"

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
  add_sampling_options(cmd, args->opt);
  cmd->callback([args]() {
    SamplingModel m = load_sampling_model(args->checkpoint);
    std::vector<int32_t> ids = m.tokenizer.encode(args->prompt);
    GPTCU_USER_CHECK(!ids.empty(), "--prompt is empty");
    args->opt.stop_tokens = default_stop_tokens(m.tokenizer);  // <|endoftext|>, <|end|>
    args->opt.vocab_limit = m.tokenizer.vocab_size();
    const size_t prompt_len = ids.size();
    ids = generate(*m.model, ids, args->opt);
    const auto& stop = args->opt.stop_tokens;
    if (ids.size() > prompt_len && std::find(stop.begin(), stop.end(), ids.back()) != stop.end())
      ids.pop_back();  // stopped: not part of the text
    std::cout << m.tokenizer.decode(ids) << std::endl;
  });
}

}  // namespace gptcu::cli
