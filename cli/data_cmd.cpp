// cli/data_cmd.cpp: `gptcu data synth` (a generated corpus, no download needed) and
// `gptcu data prepare` (inputs -> cleaned, deduplicated, split token shards; data/prepare.h).
//
//   gptcu data prepare --config configs/shakespeare_gpt2.yaml        # prepare.* keys, into data.path
//   gptcu data prepare --input a.jsonl b.json.gz --out data/sft --tokenizer ../shared/data/tokenizers/gpt2
#include <fstream>
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "core/check.h"
#include "data/prepare.h"
#include "data/synthetic.h"
#include "train/config.h"

namespace gptcu::cli {

void register_data(CLI::App& app) {
  struct Args {
    std::string out;
    int lines = 20000, max_operand = 99;
    uint64_t seed = 1337;
  };
  auto args = std::make_shared<Args>();
  CLI::App* data = app.add_subcommand("data", "data preparation");
  data->require_subcommand(1);
  CLI::App* synth = data->add_subcommand("synth", "write a generated addition corpus (\"47+38=85\" per line)");
  synth->add_option("--out", args->out, "output text file")->required();
  synth->add_option("--lines", args->lines, "number of lines")->check(CLI::Range(1, 1 << 30));
  synth->add_option("--max-operand", args->max_operand, "largest operand")->check(CLI::Range(1, 1 << 30));
  synth->add_option("--seed", args->seed, "random seed");
  synth->callback([args]() {
    const std::string text = synth_addition_corpus(args->lines, args->max_operand, args->seed);
    std::ofstream out(args->out, std::ios::binary | std::ios::trunc);
    GPTCU_USER_CHECK(out.good(), "cannot write '", args->out, "'");
    out << text;
    out.flush();
    GPTCU_USER_CHECK(out.good(), "error writing '", args->out, "'");
    std::cout << "wrote " << args->lines << " lines (" << text.size() << " bytes) to " << args->out << "\n";
  });

  struct PrepareArgs {
    std::string config, out, tokenizer, kind;
    std::vector<std::string> inputs, sets;
    bool strict = false;
  };
  auto pargs = std::make_shared<PrepareArgs>();
  CLI::App* prepare = data->add_subcommand(
      "prepare", "clean, dedup, split and tokenize inputs (text, JSONL, JSON, YAML; .gz) into token shards");
  prepare->add_option("--config", pargs->config, "YAML config: prepare.* keys, output in data.path, data.tokenizer");
  prepare->add_option("--input", pargs->inputs, "input files (replace prepare.inputs)");
  prepare->add_option("--out", pargs->out, "output directory (replaces data.path)");
  prepare->add_option("--tokenizer", pargs->tokenizer, "byte, a GPT-2 directory or a .tiktoken file (replaces data.tokenizer)");
  prepare->add_option("--kind", pargs->kind, "auto | text | dialogue | preference | rl_prompt");
  prepare->add_flag("--strict", pargs->strict, "a malformed line or a record missing fields is an error");
  prepare->add_option("--set", pargs->sets, "override a config key, e.g. --set prepare.near_threshold=0.7");
  prepare->callback([pargs]() {
    std::vector<std::string> sets = pargs->sets;
    if (!pargs->kind.empty()) sets.push_back("prepare.kind=" + pargs->kind);
    if (pargs->strict) sets.push_back("prepare.strict=true");
    Config c = load_config(pargs->config, sets);
    // Paths are set as given (not parsed as YAML scalars).
    if (!pargs->inputs.empty()) c.prepare.inputs = pargs->inputs;
    if (!pargs->out.empty()) c.data.path = pargs->out;
    if (!pargs->tokenizer.empty()) c.data.tokenizer = pargs->tokenizer;
    const PrepareReport rep = run_prepare(c.prepare, c.data.tokenizer, c.data.path, c.data.val_fraction,
                                          c.model.block_size, std::cout);
    std::cout << rep.table() << "wrote " << c.data.path << "\n";
  });
}

}  // namespace gptcu::cli
