// cli/pretrain_cmd.cpp: `gptcu pretrain`.
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "train/config.h"
#include "train/pretrain.h"

namespace gptcu::cli {

void register_pretrain(CLI::App& app) {
  struct Args {
    std::string config;
    std::vector<std::string> sets;
    bool resume = false;
    int stop_after = 0;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("pretrain", "pretrain a GPT on a text corpus (next-token prediction)");
  cmd->add_option("--config", args->config, "YAML run config (configs/*.yaml)")->required();
  cmd->add_option("--set", args->sets, "override a config key: --set train.lr=1e-3 (repeatable)");
  cmd->add_flag("--resume", args->resume, "continue from the newest checkpoint in run.dir");
  cmd->add_option("--stop-after", args->stop_after, "stop after this many steps (writes a checkpoint), e.g. for preemptible jobs")
      ->check(CLI::Range(1, 1 << 30));
  cmd->callback([args]() {
    const Config config = load_config(args->config, args->sets);
    TrainOptions options;
    options.resume = args->resume;
    options.stop_after = args->stop_after;
    const TrainResult r = run_pretrain(config, options);
    std::printf("done: step %lld | train loss %.4f | val loss %.4f | %.1f s training | %.0f tokens/s\n",
                (long long)r.final_step, r.final_train_loss, r.final_val_loss, r.train_seconds,
                r.tokens_per_second);
  });
}

}  // namespace gptcu::cli
