// serve/server.h: `gptcu serve`: an OpenAI-compatible HTTP server (cpp-httplib) over one model.
//
//   ServerOptions o;  o.port = 0;  o.stop_tokens = {eot, end};  o.model_name = "sft";
//   Server server(model, tokenizer, o);
//   int port = server.bind();                 // UserError when the address is taken
//   std::thread t([&] { server.run(); });     // serves until stop()
//   ...  server.stop();  t.join();
//
// Routes:
//   POST /v1/chat/completions, POST /v1/completions   (serve/openai_api.h; "stream": true
//        answers with server-sent events ending in "data: [DONE]")
//   GET  /v1/models, GET /health, GET / (the web chat page, serve/web/index.html)
// Errors carry OpenAI's body {"error": {...}}: 400 bad JSON or field (and a prompt that does
// not fit the context with max_tokens), 404 unknown route, 413 body over max_body_bytes, 429
// queue full, 500 a failed generation. Each request becomes a Scheduler job
// (serve/scheduler.h); a streaming client that disconnects cancels its row.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "data/bpe_tokenizer.h"
#include "model/gpt.h"

namespace gptcu {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8000;                     // 0: any free port (bind() returns it)
  int max_batch = 8;                   // requests decoded together
  int max_queue = 32;                  // requests waiting beyond the batch; more: 429
  size_t max_body_bytes = 1 << 20;     // larger request bodies: 413
  int max_tokens_limit = 0;            // the largest max_tokens accepted (0: block_size - 1)
  std::string model_name = "gptcu";    // what /v1/models and replies call the model
  std::vector<int32_t> stop_tokens;    // a reply ends after one of these (<|end|>, <|endoftext|>)
  std::function<void(const std::string&)> log;  // one line per request, when set
};

class Server {
 public:
  // `model` and `tok` must outlive the server. /v1/chat/completions needs the chat special
  // tokens in `tok` (data/chat_template.h); without them it answers 400.
  Server(GPT& model, const BpeTokenizer& tok, ServerOptions opt);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds host:port; returns the port. UserError (one line) when it cannot be bound.
  int bind();
  // Serves until stop(); call after bind(), on any thread.
  void run();
  // From any thread (a signal watcher, a test): ends the running generations, closes the
  // listening socket and lets run() return.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gptcu
