// cli/eval_cmd.cpp: `gptcu eval --checkpoint DIR --task NAME [options]`, the options of every
// task and the dispatch to cli/eval_tasks.cpp / cli/eval_reward.cpp.
//
//   answers          held-out answer accuracy on a prompt shard (data prepare --kind rl_prompt)
//   gsm8k            exact match of the final answer on GSM8K's JSONL ({question, answer}) or
//                    the built-in task's rl_test.jsonl ({prompt, answer})
//   perplexity       a text file, a token shard or a prepared directory's shards
//   bleu             corpus BLEU (sacrebleu's): generated replies to prompts with references, or
//                    existing outputs with --hyp FILE --ref FILE [--ref FILE2 ...] (no checkpoint)
//   classify         accuracy / precision / recall / F1 of replies to labelled prompts, or of
//                    --predictions FILE (no checkpoint)
//   choice           multiple-choice accuracy by log-likelihood (CMMLU's CSV layout)
//   reward-accuracy  a reward model on held-out preference pairs
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/eval_tasks.h"

namespace gptcu::cli {

void register_eval(CLI::App& app) {
  auto args = std::make_shared<EvalArgs>();
  CLI::App* cmd = app.add_subcommand(
      "eval", "evaluate a checkpoint: answers, gsm8k, perplexity, bleu, classify, choice, reward-accuracy");
  cmd->add_option("--checkpoint", args->checkpoint, "a checkpoint directory, or a run directory (its newest checkpoint)");
  cmd->add_option("--task", args->task, "answers | gsm8k | perplexity | bleu | classify | choice | reward-accuracy")
      ->check(CLI::IsMember({"answers", "gsm8k", "perplexity", "bleu", "classify", "choice", "reward-accuracy"}));
  cmd->add_option("--data", args->data,
                  "the task's input: prompt shard (answers), JSONL (gsm8k, bleu, classify), text file / .bin shard / "
                  "prepared directory (perplexity), CSV file or directory (choice), preference file / shard / prepared "
                  "directory (reward-accuracy)");
  cmd->add_option("--out", args->out, "the JSON result (default CHECKPOINT/eval_TASK.json, or ./eval_TASK.json)");
  cmd->add_option("--hyp", args->hyp, "bleu: existing outputs, one segment per line (no checkpoint needed)");
  cmd->add_option("--ref", args->refs, "bleu: reference file(s) for --hyp, line i of each for segment i")->expected(1, -1);
  cmd->add_option("--hyp-out", args->hyp_out, "bleu: also write the generated replies here, one per line");
  cmd->add_option("--tokenize", args->tokenize, "bleu tokenizer, as sacrebleu's -tok: 13a (English) | zh | char | none")
      ->check(CLI::IsMember({"13a", "zh", "char", "none"}));
  cmd->add_option("--predictions", args->predictions, "classify: JSONL {label, prediction} to score (no checkpoint needed)");
  cmd->add_option("--verifier", args->verifier, "answers, gsm8k: exact | gsm8k (default exact for answers, gsm8k for gsm8k)")
      ->check(CLI::IsMember({"exact", "gsm8k"}));
  cmd->add_option("--split", args->split, "perplexity, reward-accuracy on a prepared directory: val | train")
      ->check(CLI::IsMember({"val", "train"}));
  cmd->add_option("--prompt-format", args->prompt_format, "choice: chat (the chat template) | plain (<|endoftext|> question)")
      ->check(CLI::IsMember({"chat", "plain"}));
  cmd->add_option("--max-prompts", args->max_prompts, "use at most this many examples (0: all)")->check(CLI::Range(0, 1 << 30));
  cmd->add_option("--max-tokens", args->max_tokens, "perplexity: score at most this many tokens (0: all)")
      ->check(CLI::Range((int64_t)0, (int64_t)1 << 50));
  cmd->add_option("--max-new-tokens", args->max_new_tokens, "reply length limit (default: answers 32, gsm8k 256, bleu 128, classify 16)")
      ->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--batch-size", args->batch_size, "sequences per forward pass (default: task-specific)")->check(CLI::Range(1, 1 << 16));
  cmd->add_option("--temperature", args->temperature, "0: greedy replies; > 0: sampled replies")->check(CLI::Range(0.0, 100.0));
  cmd->add_option("--samples", args->samples, "answers, gsm8k: sampled replies per prompt (accuracy = their mean)")
      ->check(CLI::Range(1, 1 << 16));
  cmd->add_option("--seed", args->seed, "sampling seed");
  cmd->callback([args]() {
    const std::string& t = args->task;
    if (t == "answers") eval_answers(*args);
    else if (t == "gsm8k") eval_gsm8k(*args);
    else if (t == "perplexity") eval_perplexity(*args);
    else if (t == "bleu") eval_bleu(*args);
    else if (t == "classify") eval_classify(*args);
    else if (t == "choice") eval_choice(*args);
    else eval_reward_accuracy(*args);
  });
}

}  // namespace gptcu::cli
