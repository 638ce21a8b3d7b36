// cli/main.cpp: the `gptcu` command.
//
//   gptcu pretrain --config configs/shakespeare_char.yaml [--set train.lr=1e-3 ...] [--resume] [--stop-after N]
//   gptcu sft|reward|dpo|ppo|grpo --config ...   post-training (cli/train_cmds.cpp)
//   gptcu reward score --checkpoint RM --input pairs.jsonl
//   gptcu eval --checkpoint DIR --task answers --data prompts.bin   (cli/eval_cmd.cpp)
//   gptcu sample --checkpoint runs/shakespeare_char --prompt "ROMEO:" [--max-new-tokens N] [--temperature T] [--top-k K] [--top-p P] [--seed S]
//   gptcu generate --checkpoint RUN --input prompts.txt|.jsonl --out out.jsonl [--chat] [--batch-size N] [sampling options]
//   gptcu chat --checkpoint RUN [--system TEXT] [sampling options]      (cli/chat_cmd.cpp)
//   gptcu serve --checkpoint RUN --port N [--host H] [--max-batch N] ...  (cli/serve_cmd.cpp)
//   gptcu tokenizer train --input FILE... --vocab-size N --out PREFIX   (cli/tokenizer_cmd.cpp)
//   gptcu tokenizer encode|decode|bench --tokenizer PATH ...
//   gptcu bench kernels [--op NAME] [--csv FILE] [--tokens N ...]    (cli/bench_cmd.cpp; needs a CUDA GPU)
//   gptcu version
//
// Every user mistake (bad config, missing file, bad data) ends as one line "error: ..." on
// stderr and exit code 1; a bug as "internal error: ..." and exit code 2; out of memory as
// exit code 3. Nothing here aborts or prints a stack trace.
#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>
#include <new>

#include "cli/commands.h"
#include "core/check.h"

int main(int argc, char** argv) {
  CLI::App app{"gptcu: train GPT models from scratch in C++/CUDA (pretrain, SFT, reward model, DPO, PPO, GRPO, sample)", "gptcu"};
  gptcu::cli::register_training(app);
  gptcu::cli::register_eval(app);
  gptcu::cli::register_sample(app);
  gptcu::cli::register_generate(app);
  gptcu::cli::register_chat(app);
  gptcu::cli::register_serve(app);
  gptcu::cli::register_data(app);
  gptcu::cli::register_tokenizer(app);
  gptcu::cli::register_bench(app);
  app.add_subcommand("version", "print the version")->callback([]() { std::cout << "gptcu " << GPTCU_VERSION << "\n"; });
  try {
    app.parse(argc, argv);
    if (app.get_subcommands().empty()) {
      std::cerr << "error: no command given (pretrain, sft, reward, dpo, ppo, grpo, eval, sample, generate, chat, serve, data, tokenizer, bench, version; see gptcu --help)\n";
      return 1;
    }
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help
    std::cerr << "error: " << e.what() << " (see gptcu --help)\n";
    return 1;
  } catch (const gptcu::UserError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  } catch (const std::filesystem::filesystem_error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  } catch (const gptcu::OutOfMemory& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 3;
  } catch (const std::bad_alloc&) {
    std::cerr << "error: out of memory (try a smaller train.batch_size or model)\n";
    return 3;
  } catch (const std::exception& e) {
    std::cerr << "internal error: " << e.what() << "\n";
    return 2;
  }
  return 0;
}
