// cli/commands.h: one function per subcommand, registering its options and callback.
#pragma once
#include <CLI/CLI.hpp>

namespace gptcu::cli {
void register_training(CLI::App& app);  // pretrain, sft, reward, dpo, ppo, grpo (cli/train_cmds.cpp)
void register_eval(CLI::App& app);      // eval (cli/eval_cmd.cpp)
void register_sample(CLI::App& app);
void register_generate(CLI::App& app);  // batched completions of a prompt file (cli/generate_cmd.cpp)
void register_chat(CLI::App& app);   // terminal chat (cli/chat_cmd.cpp)
void register_serve(CLI::App& app);  // OpenAI-compatible HTTP server (cli/serve_cmd.cpp)
void register_data(CLI::App& app);
void register_tokenizer(CLI::App& app);  // tokenizer train|encode|decode|bench (cli/tokenizer_cmd.cpp)
void register_bench(CLI::App& app);      // bench kernels: the CUDA kernel benchmark (cli/bench_cmd.cpp)
}  // namespace gptcu::cli
