// serve/server.cpp: the HTTP routes of `gptcu serve` (see serve/server.h).
#include "serve/server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include "core/check.h"
#include "data/chat_template.h"
#include "serve/dialogue.h"
#include "serve/openai_api.h"
#include "serve/scheduler.h"
#include "serve/web_page.h"

namespace gptcu {

using json = nlohmann::json;

namespace {

int64_t unix_time() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void reply_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

void reply_error(httplib::Response& res, const ApiError& e) { reply_json(res, e.status, error_body(e)); }

// The chat template when the tokenizer has its special tokens, else null.
std::unique_ptr<ChatTemplate> chat_template_if_any(const BpeTokenizer& tok) {
  for (const char* s : {kSystemToken, kUserToken, kAssistantToken, kEndToken})
    if (tok.special_id(s) < 0) return nullptr;
  return std::make_unique<ChatTemplate>(tok);
}

}  // namespace

struct Server::Impl {
  Impl(GPT& m, const BpeTokenizer& t, ServerOptions o)
      : model(m), tok(t), opt(std::move(o)), chat(chat_template_if_any(t)), scheduler(m, t, opt.max_batch, opt.max_queue) {
    const int block = model.config().block_size;
    GPTCU_USER_CHECK(block >= 2, "the model's context (", block, ") is too small to serve");
    GPTCU_USER_CHECK(opt.max_tokens_limit >= 0, "max tokens limit must be >= 0, got ", opt.max_tokens_limit);
    max_tokens = opt.max_tokens_limit == 0 ? block - 1 : std::min(opt.max_tokens_limit, block - 1);
    seed_base = (uint64_t)std::chrono::steady_clock::now().time_since_epoch().count();
    routes();
  }

  GPT& model;
  const BpeTokenizer& tok;
  const ServerOptions opt;
  const std::unique_ptr<ChatTemplate> chat;
  Scheduler scheduler;
  httplib::Server http;
  int max_tokens = 0;  // the largest max_tokens a request may ask for
  uint64_t seed_base = 0;
  std::atomic<uint64_t> requests{0};
  std::atomic<bool> stopping{false};
  std::atomic<int> run_state{0};
  int listen_socket = -1;         // the bound socket, seen in httplib's socket options callback  // 0: run() not called, 1: running, 2: returned
  const int64_t started = unix_time();

  void routes();
  Scheduler::Request prepare(const CompletionRequest& r, uint64_t number);
  void complete(const httplib::Request& req, httplib::Response& res, bool chat_api);
};

// A validated request -> the scheduler's prompt and sampling options. Without max_tokens, the
// oldest turns of a dialogue are dropped to leave half the context (at most the limit) for the
// reply, which then gets what is left. ApiError 400 when the prompt and max_tokens (or one
// token) cannot fit the context, or max_tokens is above the limit.
Scheduler::Request Server::Impl::prepare(const CompletionRequest& r, uint64_t number) {
  const int block = model.config().block_size;
  if (r.max_tokens && *r.max_tokens > max_tokens)
    throw ApiError(400, "max_tokens (" + std::to_string(*r.max_tokens) + ") is above this server's limit (" +
                            std::to_string(max_tokens) + ")", "invalid_request_error", "max_tokens");
  // room kept for the reply: max_tokens, or by default half the context (at most the limit)
  const int reserve = r.max_tokens.value_or(std::min(max_tokens, std::max(1, block / 2)));
  Scheduler::Request s;
  if (r.chat) {
    if (!chat)
      throw ApiError(400, "this model's tokenizer has no chat tokens (" + std::string(kUserToken) +
                              "...): use /v1/completions", "invalid_request_error", "messages");
    s.prompt = fit_dialogue(*chat, r.messages, (size_t)(block - reserve)).tokens;  // oldest turns dropped
  } else {
    s.prompt = tok.encode(r.prompt);
  }
  // without max_tokens, a reply shorter than the reserve is still better than none
  const int needed = (int)s.prompt.size() + (r.max_tokens ? *r.max_tokens : 1);
  if (needed > block)
    throw ApiError(400, "the prompt (" + std::to_string(s.prompt.size()) + " tokens)" +
                            (r.max_tokens ? " and max_tokens (" + std::to_string(*r.max_tokens) + ")" : std::string()) +
                            " do not fit the model's context of " + std::to_string(block) + " tokens",
                   "invalid_request_error", r.chat ? "messages" : "prompt", "context_length_exceeded");
  s.opt.max_new_tokens = r.max_tokens ? *r.max_tokens : std::min(max_tokens, block - (int)s.prompt.size());
  s.opt.temperature = r.temperature;
  s.opt.top_p = r.top_p;
  s.opt.seed = r.seed ? *r.seed : seed_base + 0x9E3779B97F4A7C15ull * number;
  s.opt.stop_tokens = opt.stop_tokens;
  s.opt.vocab_limit = tok.vocab_size();
  s.stop = r.stop;
  return s;
}

void Server::Impl::complete(const httplib::Request& req, httplib::Response& res, bool chat_api) {
  try {
    const CompletionRequest r = chat_api ? parse_chat_request(req.body) : parse_completion_request(req.body);
    const uint64_t number = ++requests;  // this request's id and default seed, unique under concurrency
    Scheduler::Request sr = prepare(r, number);
    if (stopping) throw ApiError(503, "the server is shutting down", "server_error");
    const std::shared_ptr<Scheduler::Job> job = scheduler.submit(std::move(sr));
    if (!job)
      throw ApiError(429, "too many requests: " + std::to_string(opt.max_queue) + " are already waiting; retry later",
                     "rate_limit_error", "", "queue_full");
    const std::string id = (chat_api ? "chatcmpl-" : "cmpl-") + std::to_string(number);
    const int64_t created = unix_time();
    if (!r.stream) {
      const Scheduler::Result out = job->wait();
      if (out.finish_reason == "error") throw ApiError(500, "generation failed: " + out.error, "server_error");
      if (out.finish_reason == "cancelled") throw ApiError(503, "the server is shutting down", "server_error");
      reply_json(res, 200, completion_body(r, id, opt.model_name, created, out.text, out.finish_reason,
                                           {out.prompt_tokens, out.completion_tokens}));
      return;
    }
    // Server-sent events: [role chunk,] one chunk per text piece, the finish chunk, [DONE].
    struct StreamState {
      CompletionRequest r;
      std::shared_ptr<Scheduler::Job> job;
      std::string id;
      bool started = false;
    };
    auto st = std::make_shared<StreamState>(StreamState{r, job, id});
    const std::string model_name = opt.model_name;
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider(
        "text/event-stream",
        [st, model_name, created](size_t, httplib::DataSink& sink) {
          const auto send = [&](const std::string& s) {
            if (sink.write(s.data(), s.size())) return true;
            st->job->cancel();  // the client has gone: free its row
            return false;
          };
          if (!st->started) {
            st->started = true;
            return !st->r.chat || send(sse(role_chunk(st->id, model_name, created)));
          }
          std::string piece;
          if (st->job->next(piece)) return send(sse(chunk_body(st->r, st->id, model_name, created, piece, std::nullopt)));
          const Scheduler::Result out = st->job->wait();
          std::string tail;
          if (out.finish_reason == "error" || out.finish_reason == "cancelled")
            tail = sse(error_body(ApiError(500, out.finish_reason == "error" ? "generation failed: " + out.error
                                                                              : "the server is shutting down",
                                           "server_error")));
          else
            tail = sse(chunk_body(st->r, st->id, model_name, created, "", out.finish_reason));
          if (st->r.include_usage)
            tail += sse(usage_chunk(st->r, st->id, model_name, created, {out.prompt_tokens, out.completion_tokens}));
          if (!send(tail + std::string(kSseDone))) return false;
          sink.done();
          return true;
        },
        [st](bool) { st->job->cancel(); });  // a no-op when the job has ended
  } catch (const ApiError& e) {
    reply_error(res, e);
  }
}

void Server::Impl::routes() {
  // Each admitted request holds a worker thread while it waits; keep-alive connections too.
  const size_t threads = (size_t)opt.max_batch + (size_t)opt.max_queue + 8;
  http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http.set_payload_max_length(opt.max_body_bytes);
  http.set_tcp_nodelay(true);            // small SSE chunks go out at once (no Nagle + delayed-ACK 40 ms)
  http.set_keep_alive_max_count(1000);   // a client's connection serves many requests
  // httplib sets SO_REUSEPORT by default, which lets a second server bind a port in use;
  // SO_REUSEADDR alone still allows a quick restart and makes "port in use" an error.
  http.set_socket_options([this](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    listen_socket = sock;  // for bind() to raise the backlog
  });
  http.Post("/v1/chat/completions", [this](const httplib::Request& q, httplib::Response& s) { complete(q, s, true); });
  http.Post("/v1/completions", [this](const httplib::Request& q, httplib::Response& s) { complete(q, s, false); });
  http.Get("/v1/models", [this](const httplib::Request&, httplib::Response& s) { reply_json(s, 200, models_body(opt.model_name, started)); });
  http.Get("/health", [this](const httplib::Request&, httplib::Response& s) {
    reply_json(s, 200, {{"status", "ok"}, {"model", opt.model_name}, {"context", model.config().block_size},
                        {"max_tokens_limit", max_tokens}, {"queued", scheduler.queued()}, {"running", scheduler.running()},
                        {"cancelled", scheduler.cancelled()}});
  });
  http.Get("/", [](const httplib::Request&, httplib::Response& s) {
    const std::string_view page = web_page();
    s.set_content(page.data(), page.size(), "text/html; charset=utf-8");
  });
  // httplib's own errors (no route, a body over the limit) get OpenAI's error body too.
  http.set_error_handler([](const httplib::Request& q, httplib::Response& s) {
    if (!s.body.empty()) return;
    if (s.status == 404) reply_error(s, ApiError(404, "unknown route: " + q.method + " " + q.path, "invalid_request_error", "", "unknown_url"));
    else if (s.status == 413) reply_error(s, ApiError(413, "the request body is too large", "invalid_request_error", "", "request_too_large"));
    else reply_error(s, ApiError(s.status, "HTTP error " + std::to_string(s.status), "invalid_request_error"));
  });
  http.set_exception_handler([](const httplib::Request&, httplib::Response& s, std::exception_ptr ep) {
    std::string what = "unknown error";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    reply_error(s, ApiError(500, "internal error: " + what, "server_error"));
  });
  if (opt.log)
    http.set_logger([log = opt.log](const httplib::Request& q, const httplib::Response& s) {
      log(q.method + " " + q.path + " " + std::to_string(s.status));
    });
}

Server::Server(GPT& model, const BpeTokenizer& tok, ServerOptions opt) : impl_(std::make_unique<Impl>(model, tok, std::move(opt))) {}

Server::~Server() { stop(); }

int Server::bind() {
  const ServerOptions& o = impl_->opt;
  const int port = o.port == 0 ? impl_->http.bind_to_any_port(o.host) : (impl_->http.bind_to_port(o.host, o.port) ? o.port : -1);
  GPTCU_USER_CHECK(port > 0, "cannot listen on ", o.host, ":", o.port, " (the port is in use, or the address is not this machine's)");
  // httplib 0.11 listens with a backlog of 5: a burst of new connections overflows it and the
  // kernel drops their SYNs (a 1 s, then 3 s retransmit; seen as p99 latency in the load test).
  // Calling listen() again on the listening socket raises the backlog.
  if (impl_->listen_socket >= 0) ::listen(impl_->listen_socket, SOMAXCONN);
  return port;
}

void Server::run() {
  impl_->run_state = 1;
  if (!impl_->stopping) impl_->http.listen_after_bind();
  impl_->run_state = 2;
}

void Server::stop() {
  if (impl_->stopping.exchange(true)) return;
  impl_->scheduler.stop();  // ends every waiting connection's job first
  // httplib's stop() does nothing until listen has begun: a run() that has just started
  // would then accept forever, so wait for it to be listening (or to have returned)
  while (impl_->run_state == 1 && !impl_->http.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  impl_->http.stop();
}

}  // namespace gptcu
