// cli/sampling.h: what `gptcu sample` and `gptcu generate` share: the sampling flags, the model
// and tokenizer of a checkpoint, and the stop tokens.
#pragma once
#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

#include "data/bpe_tokenizer.h"
#include "eval/generate.h"
#include "model/gpt.h"

namespace gptcu::cli {

// --max-new-tokens, --temperature, --top-k, --top-p, --seed into opt.
void add_sampling_options(CLI::App* cmd, SampleOptions& opt);

struct SamplingModel {
  BpeTokenizer tokenizer;
  std::unique_ptr<GPT> model;
};
// The newest checkpoint of `path` (a checkpoint or a run directory) with its own tokenizer.
SamplingModel load_sampling_model(const std::string& path);

// <|endoftext|>, and <|end|> (the end of a chat turn) when the tokenizer has them.
std::vector<int32_t> default_stop_tokens(const BpeTokenizer& tok);

}  // namespace gptcu::cli
