// cli/train_cmds.cpp: the training commands, one YAML config each (configs/*.yaml):
//
//   gptcu pretrain --config C   next-token prediction on a corpus          (train/pretrain.h)
//   gptcu sft      --config C   assistant-only loss on dialogues            (train/sft.h)
//   gptcu reward   --config C   reward model on preference pairs            (train/reward.h)
//   gptcu reward score --checkpoint RM --input pairs.jsonl [--out scores.jsonl]
//   gptcu dpo      --config C   direct preference optimisation              (train/dpo.h)
//   gptcu ppo      --config C   PPO with a critic, KL to a reference        (train/rl.h)
//   gptcu grpo     --config C   group-relative policy optimisation          (train/rl.h)
//
// Each takes --set KEY=VALUE overrides, --resume and --stop-after N, and ends with a "done:" line.
#include <cstdio>
#include <functional>
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "core/comm.h"
#include "core/ops.h"
#include "train/config.h"
#include "train/dpo.h"
#include "train/pretrain.h"
#include "train/reward.h"
#include "train/rl.h"
#include "train/sft.h"

namespace gptcu::cli {
namespace {

using Runner = std::function<TrainResult(const Config&, const TrainOptions&)>;

struct TrainArgs {
  std::string config;
  std::vector<std::string> sets;
  bool resume = false;
  int stop_after = 0;
  bool init_only = false;
};

void print_done(const TrainResult& r) {
  std::printf("done: step %lld | train loss %.4f", (long long)r.final_step, r.final_train_loss);
  if (r.final_val_loss >= 0) std::printf(" | val loss %.4f", r.final_val_loss);
  for (const Metric& m : r.final_eval) std::printf(" | %s %.4g", m.name.c_str(), m.value);
  std::printf(" | %.1f s training | %.0f tokens/s\n", r.train_seconds, r.tokens_per_second);
}

// Adds `name` with the common training options; `config_required` is false where a subcommand
// (reward score) may be given instead.
CLI::App* add_train_command(CLI::App& app, const char* name, const char* help, Runner runner,
                            bool config_required = true) {
  auto args = std::make_shared<TrainArgs>();
  CLI::App* cmd = app.add_subcommand(name, help);
  CLI::Option* config = cmd->add_option("--config", args->config, "YAML run config (configs/*.yaml)");
  if (config_required) config->required();
  cmd->add_option("--set", args->sets, "override a config key: --set train.lr=1e-3 (repeatable)");
  cmd->add_flag("--resume", args->resume, "continue from the newest checkpoint in run.dir");
  cmd->add_option("--stop-after", args->stop_after, "stop after this many steps (writes a checkpoint), e.g. for preemptible jobs")
      ->check(CLI::Range(1, 1 << 30));
  cmd->add_flag("--init-only", args->init_only,
                "write the starting weights (initialised, or loaded by model.init_from) as the step-0 checkpoint "
                "and stop, without training (e.g. for bench/torch_gpt2.py --init)")
      ->excludes("--stop-after")
      ->excludes("--resume");
  cmd->callback([args, runner, cmd, name]() {
    for (CLI::App* sub : cmd->get_subcommands())
      if (sub->parsed()) return;  // e.g. `reward score` ran instead
    GPTCU_USER_CHECK(!args->config.empty(), "gptcu ", name, ": --config is required");
    TrainOptions options;
    options.resume = args->resume;
    options.stop_after = args->stop_after;
    options.init_only = args->init_only;
    // Several ranks (scripts/launch.sh, mpirun, srun): rank 0 alone prints; errors still reach stderr.
    static std::ostream null_log(nullptr);  // no buffer: writes are dropped
    const bool rank0 = dist_env().rank == 0;
    if (!rank0) options.log = &null_log;
    const Config config = load_config(args->config, args->sets);
    // The GPU attention kernel (config key `attention`: auto | flash | interim), a process-wide
    // setting read by ops::attention; it has no effect on device: cpu.
    ops::set_attention_kernel(ops::parse_attention_kernel(config.attention));
    const TrainResult result = runner(config, options);
    if (rank0) print_done(result);
  });
  return cmd;
}

}  // namespace

void register_training(CLI::App& app) {
  add_train_command(app, "pretrain", "pretrain a GPT on a text corpus (next-token prediction)", run_pretrain);
  add_train_command(app, "sft", "supervised fine-tuning on dialogues (loss on assistant tokens only)", run_sft);
  CLI::App* reward = add_train_command(app, "reward", "train a reward model on preference pairs (or: reward score)",
                                       run_reward, /*config_required=*/false);
  struct ScoreArgs {
    std::string checkpoint, input, out;
    int batch_size = 16;
  };
  auto sa = std::make_shared<ScoreArgs>();
  CLI::App* score = reward->add_subcommand("score", "score preference pairs with a reward model; prints pairwise accuracy");
  score->add_option("--checkpoint", sa->checkpoint, "a reward checkpoint or run directory")->required();
  score->add_option("--input", sa->input, "preference pairs (JSONL prompt/chosen/rejected, hh-rlhf, ...; .gz ok)")->required();
  score->add_option("--out", sa->out, "write {chosen_score, rejected_score} per pair to this JSONL file");
  score->add_option("--batch-size", sa->batch_size, "pairs per forward pass")->check(CLI::Range(1, 1 << 16));
  score->callback([sa]() { score_pairs_file(sa->checkpoint, sa->input, sa->out, sa->batch_size, std::cout); });
  add_train_command(app, "dpo", "direct preference optimisation against a frozen reference", run_dpo);
  add_train_command(app, "ppo", "PPO from rewards (verifier or reward model), critic and KL penalty", run_ppo);
  add_train_command(app, "grpo", "GRPO: group-relative advantages, no critic", run_grpo);
}

}  // namespace gptcu::cli
