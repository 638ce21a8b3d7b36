// eval/answer_eval.h: held-out answer accuracy of a chat model on prompts with reference
// answers (the built-in task, GSM8K): greedy replies through the KV-cache sampler, each checked
// by a verifier (eval/verifier.h). PPO and GRPO evaluate with it; so does `gptcu eval --task answers`.
//
//   PromptDataset test("data/task/rl_test/train_prompts.bin");
//   AnswerAccuracy a = answer_accuracy(model, tok, test, {.max_prompts = 200});
//   // a.accuracy, a.mean_length, a.stopped, a.examples
// With a temperature, each prompt gets `samples` sampled replies (seeded) and the accuracy is
// their mean: a finer measure of what RL changes than the greedy reply alone.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/bpe_tokenizer.h"
#include "data/record_data.h"
#include "model/gpt.h"

namespace gptcu {

struct AnswerEvalOptions {
  int max_prompts = 0;          // 0: all
  int max_new_tokens = 32;
  int batch_size = 64;
  std::string verifier = "exact";  // exact | gsm8k
  int examples = 3;             // (prompt, reply, answer, right) kept for the log
  // 0: greedy replies. > 0: `samples` replies per prompt drawn at this temperature, and the
  // accuracy is their mean (pass@1 estimated from samples, as RL papers report it).
  float temperature = 0.0f;
  int samples = 1;
  uint64_t seed = 1234;
};

struct AnswerAccuracy {
  int64_t prompts = 0;
  int64_t replies = 0;     // prompts x samples
  double accuracy = 0;     // fraction of replies the verifier accepts
  double mean_length = 0;  // reply tokens, the stop token included
  double stopped = 0;      // fraction of replies that ended with <|end|>
  int64_t truncated = 0;   // prompts cut from the left to leave room for the reply
  struct Example {
    std::string prompt, reply, answer;
    bool right;
  };
  std::vector<Example> examples;
  // per prompt, in order: how many of its replies the verifier accepted (0 or 1 when greedy),
  // so that two checkpoints can be compared prompt by prompt (a paired test)
  std::vector<int> right_per_prompt;
};

// True when `reply` gives the reference answer, by the named verifier (UserError if unknown).
bool verify_answer(const std::string& verifier, const std::string& reply, const std::string& answer);

AnswerAccuracy answer_accuracy(GPT& model, const BpeTokenizer& tok, const PromptDataset& prompts,
                               const AnswerEvalOptions& opt);
// The same over prompts already in memory (`gptcu eval --task gsm8k` reads GSM8K's JSONL);
// `name` is what the empty-set error names.
AnswerAccuracy answer_accuracy(GPT& model, const BpeTokenizer& tok, const std::vector<PromptRecord>& prompts,
                               const AnswerEvalOptions& opt, const std::string& name);

}  // namespace gptcu
