// cli/serve_cmd.cpp: `gptcu serve`: an OpenAI-compatible HTTP server for a checkpoint
// (serve/server.h), with a web chat at "/".
//
//   gptcu serve --checkpoint runs/task/sft --port 8000 [--host 127.0.0.1] [--max-batch 8]
//       [--max-queue 32] [--max-body-bytes 1048576] [--max-tokens-limit N] [--model-name NAME]
//   curl http://127.0.0.1:8000/v1/chat/completions -H 'Content-Type: application/json' \
//       -d '{"messages": [{"role": "user", "content": "What is 12 + 35?"}]}'
//
// SIGINT/SIGTERM stop it cleanly: running generations end, connections close, exit code 0.
// One log line per request on stderr.
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <iostream>
#include <memory>
#include <mutex>
#include <thread>

#include "cli/commands.h"
#include "cli/sampling.h"
#include "serve/server.h"

namespace gptcu::cli {

void register_serve(CLI::App& app) {
  struct Args {
    std::string checkpoint, model_name;
    ServerOptions server;
  };
  auto args = std::make_shared<Args>();
  ServerOptions& o = args->server;
  CLI::App* cmd = app.add_subcommand("serve", "an OpenAI-compatible HTTP server (/v1/chat/completions, /v1/completions) and a web chat");
  cmd->add_option("--checkpoint", args->checkpoint, "a checkpoint directory, or a run directory (its newest checkpoint)")->required();
  cmd->add_option("--port", o.port, "TCP port (0: any free one)")->required()->check(CLI::Range(0, 65535));
  cmd->add_option("--host", o.host, "address to listen on")->capture_default_str();
  cmd->add_option("--max-batch", o.max_batch, "requests decoded together")->capture_default_str()->check(CLI::Range(1, 4096));
  cmd->add_option("--max-queue", o.max_queue, "requests waiting for a batch; more are answered 429")->capture_default_str()->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--max-body-bytes", o.max_body_bytes, "larger request bodies are answered 413")->capture_default_str()->check(CLI::Range(64, 1 << 30));
  cmd->add_option("--max-tokens-limit", o.max_tokens_limit, "the largest max_tokens accepted (0: the model's context - 1)")->capture_default_str()->check(CLI::Range(0, 1 << 30));
  cmd->add_option("--model-name", args->model_name, "the model's name in replies (default: the checkpoint directory's name)");
  cmd->callback([args]() {
    // Signals go to one watcher thread (sigwait), so block them before any thread starts.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    signal(SIGPIPE, SIG_IGN);  // a client that left: a failed write, not a dead server

    SamplingModel m = load_sampling_model(args->checkpoint);
    ServerOptions o = args->server;
    o.model_name = args->model_name;
    if (o.model_name.empty()) {
      std::filesystem::path p(args->checkpoint);
      o.model_name = (p.has_filename() ? p.filename() : p.parent_path().filename()).string();
    }
    o.stop_tokens = default_stop_tokens(m.tokenizer);
    auto log_mu = std::make_shared<std::mutex>();
    o.log = [log_mu](const std::string& line) {
      std::lock_guard lock(*log_mu);
      std::cerr << line << std::endl;
    };
    Server server(*m.model, m.tokenizer, o);
    const int port = server.bind();  // UserError: in use
    std::cerr << "serving '" << o.model_name << "' on http://" << o.host << ":" << port << "/ (context "
              << m.model->config().block_size << " tokens, max batch " << o.max_batch << ", max queue " << o.max_queue
              << "); Ctrl-C stops" << std::endl;
    std::atomic<bool> signalled{false};
    std::thread watcher([&] {
      int sig = 0;
      sigwait(&stop_signals, &sig);
      if (!signalled.exchange(true)) std::cerr << "stopping (" << (sig == SIGINT ? "SIGINT" : "SIGTERM") << ")" << std::endl;
      server.stop();
    });
    server.run();
    if (!signalled.exchange(true)) pthread_kill(watcher.native_handle(), SIGTERM);  // run() ended on its own
    watcher.join();
    std::cerr << "stopped" << std::endl;
  });
}

}  // namespace gptcu::cli
