// cli/eval_tasks.h: the tasks of `gptcu eval` (cli/eval_cmd.cpp parses the options and calls
// one of these). Each task prints a short table and writes its numbers as JSON to
// EvalArgs::out, by default CHECKPOINT/eval_TASK.json (or ./eval_TASK.json without a checkpoint).
#pragma once
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "data/bpe_tokenizer.h"
#include "model/gpt.h"

namespace gptcu::cli {

struct EvalArgs {
  std::string checkpoint, task = "answers", data, out, verifier, tokenize = "13a", split = "val";
  std::string prompt_format = "chat", predictions, hyp, hyp_out;
  std::vector<std::string> refs;
  int max_prompts = 0, max_new_tokens = 0, batch_size = 0, samples = 1;  // 0: the task's default
  int64_t max_tokens = 0;
  float temperature = 0.0f;
  uint64_t seed = 1234;
};

// A checkpoint loaded for evaluation: its resolved path, tokenizer and model.
struct LoadedModel {
  std::string checkpoint;
  BpeTokenizer tok;
  std::unique_ptr<GPT> model;
};
// UserError when --checkpoint is missing (`task` names who needs it) or is no checkpoint.
LoadedModel load_eval_model(const EvalArgs& a, const std::string& task);

// Table rows (name, value), printed under "eval TASK", and the JSON result written to the
// task's output file (printed last).
using Rows = std::vector<std::pair<std::string, std::string>>;
void report(const EvalArgs& a, const std::string& checkpoint, const Rows& rows, nlohmann::json result);
std::string fmt(double v, int decimals = 4);

// --data, or a UserError saying that the task needs it and what it is.
const std::string& need_data(const EvalArgs& a, const char* what);
// The option's value when set (> 0), else the task's default.
int or_default(int value, int fallback);

void eval_answers(const EvalArgs& a);
void eval_gsm8k(const EvalArgs& a);
void eval_perplexity(const EvalArgs& a);
void eval_bleu(const EvalArgs& a);
void eval_classify(const EvalArgs& a);
void eval_choice(const EvalArgs& a);
void eval_reward_accuracy(const EvalArgs& a);  // cli/eval_reward.cpp

}  // namespace gptcu::cli
