// cli/data_cmd.cpp: `gptcu data synth` (a generated corpus, no download needed), `gptcu data
// task` (the generated post-training task, data/synthetic.h) and `gptcu data prepare` (inputs ->
// cleaned, deduplicated, split token shards; data/prepare.h).
//
//   gptcu data task --out data/task --seed 1 --sft 5000 --kinds add,sub,reverse
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

  struct TaskArgs {
    std::string out;
    TaskOptions opt;
    TaskCounts counts;
  };
  auto targs = std::make_shared<TaskArgs>();
  CLI::App* task = data->add_subcommand(
      "task", "write the generated post-training task (arithmetic and word problems, English and Chinese): "
              "pretrain, sft, prefs, rl_train, rl_test JSONL files");
  task->add_option("--out", targs->out, "output directory")->required();
  task->add_option("--seed", targs->opt.seed, "random seed");
  task->add_option("--pretrain", targs->counts.pretrain, "problems in pretrain.jsonl (text)")->check(CLI::NonNegativeNumber);
  task->add_option("--sft", targs->counts.sft, "dialogues in sft.jsonl")->check(CLI::NonNegativeNumber);
  task->add_option("--prefs", targs->counts.prefs, "pairs in prefs.jsonl")->check(CLI::NonNegativeNumber);
  task->add_option("--rl-train", targs->counts.rl_train, "prompts in rl_train.jsonl")->check(CLI::NonNegativeNumber);
  task->add_option("--rl-test", targs->counts.rl_test, "held-out prompts in rl_test.jsonl")->check(CLI::NonNegativeNumber);
  task->add_option("--kinds", targs->opt.kinds, "comma-separated subset of add,sub,mul,reverse,upper,first,last,len")
      ->delimiter(',');
  task->add_option("--max-operand", targs->opt.max_operand, "largest arithmetic operand");
  task->add_option("--zh-fraction", targs->opt.zh_fraction, "share of problems phrased in Chinese");
  task->add_option("--test-fraction", targs->opt.test_fraction, "share of problems held out for rl_test");
  task->callback([targs]() {
    const TaskSummary s = write_task_files(targs->out, targs->opt, targs->counts);
    std::cout << s.table() << "wrote " << targs->out << "\n";
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
