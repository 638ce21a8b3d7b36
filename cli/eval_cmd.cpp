// cli/eval_cmd.cpp: `gptcu eval --checkpoint DIR --task answers --data PROMPTS.bin [--out result.json]`
//
// Task `answers`: held-out answer accuracy of a chat model on prompts with reference answers
// (a prompt shard from `gptcu data prepare --kind rl_prompt`, e.g. the built-in task's test set
// or GSM8K), greedy replies checked by a verifier (eval/answer_eval.h). Prints a short table and
// writes the numbers as JSON.
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "data/record_data.h"
#include "eval/answer_eval.h"
#include "train/checkpoint.h"
#include "train/post_common.h"
#include "train/pretrain.h"

namespace gptcu::cli {

void register_eval(CLI::App& app) {
  struct Args {
    std::string checkpoint, task = "answers", data, out, verifier = "exact";
    int max_prompts = 0, max_new_tokens = 32, batch_size = 64, samples = 1;
    float temperature = 0.0f;
    uint64_t seed = 1234;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("eval", "evaluate a checkpoint (task answers: held-out answer accuracy)");
  cmd->add_option("--checkpoint", args->checkpoint, "a checkpoint directory, or a run directory (its newest checkpoint)")->required();
  cmd->add_option("--task", args->task, "answers")->check(CLI::IsMember({"answers"}));
  cmd->add_option("--data", args->data, "prompt shard with answers (DATA/val_prompts.bin from data prepare --kind rl_prompt)")->required();
  cmd->add_option("--verifier", args->verifier, "exact | gsm8k")->check(CLI::IsMember({"exact", "gsm8k"}));
  cmd->add_option("--max-prompts", args->max_prompts, "evaluate at most this many prompts (0: all)")->check(CLI::Range(0, 1 << 30));
  cmd->add_option("--max-new-tokens", args->max_new_tokens, "reply length limit")->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--batch-size", args->batch_size, "prompts decoded together")->check(CLI::Range(1, 1 << 16));
  cmd->add_option("--temperature", args->temperature, "0: greedy replies; > 0: sampled replies (with --samples)")->check(CLI::Range(0.0, 100.0));
  cmd->add_option("--samples", args->samples, "sampled replies per prompt (accuracy = their mean)")->check(CLI::Range(1, 1 << 16));
  cmd->add_option("--seed", args->seed, "sampling seed");
  cmd->add_option("--out", args->out, "write the result as JSON to this file");
  cmd->callback([args]() {
    const std::string ckpt = resolve_checkpoint(args->checkpoint, "--checkpoint");
    const BpeTokenizer tok = checkpoint_tokenizer(ckpt);
    const bool head = checkpoint_config(ckpt).model.value_head;
    std::unique_ptr<GPT> model = load_model(ckpt, head);
    const PromptDataset prompts(args->data);
    AnswerEvalOptions opt;
    opt.max_prompts = args->max_prompts;
    opt.max_new_tokens = args->max_new_tokens;
    opt.batch_size = args->batch_size;
    opt.verifier = args->verifier;
    opt.temperature = args->temperature;
    opt.samples = args->samples;
    opt.seed = args->seed;
    const AnswerAccuracy a = answer_accuracy(*model, tok, prompts, opt);
    for (const auto& e : a.examples)
      std::cout << "  " << (e.right ? "right" : "wrong") << ": " << e.prompt << " -> " << e.reply << " (answer "
                << e.answer << ")\n";
    std::printf("task answers | %s | %lld prompts | %s | accuracy %.4f | mean reply %.1f tokens | ended %.1f%%",
                ckpt.c_str(), (long long)a.prompts,
                args->temperature > 0 ? ("temperature " + std::to_string(args->temperature).substr(0, 4) + ", " +
                                         std::to_string(a.replies / a.prompts) + " samples each").c_str()
                                      : "greedy",
                a.accuracy, a.mean_length, 100 * a.stopped);
    if (a.truncated) std::printf(" | %lld prompts truncated", (long long)a.truncated);
    std::printf("\n");
    if (!args->out.empty()) {
      const nlohmann::json j = {{"task", "answers"}, {"checkpoint", ckpt}, {"data", args->data},
                                {"verifier", args->verifier}, {"prompts", a.prompts},
                                {"temperature", args->temperature}, {"replies", a.replies}, {"accuracy", a.accuracy},
                                {"mean_length", a.mean_length}, {"stopped", a.stopped}, {"truncated", a.truncated}};
      write_file_atomic(args->out, j.dump(2) + "\n");
    }
  });
}

}  // namespace gptcu::cli
