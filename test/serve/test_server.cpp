// test/serve/test_server.cpp: `gptcu serve`'s server on a loopback port, in this process,
// with a tiny randomly initialised model and the byte tokenizer plus the chat tokens (no
// checkpoint needed): chat and text completions, streamed and not, models, health, the web
// page, and every error status; concurrency (429 from a full queue), a client that disconnects
// mid-stream, and shutdown.
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <csignal>
#include <future>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "data/chat_template.h"
#include "serve/server.h"

using namespace gptcu;
using json = nlohmann::json;

namespace {

// A server on a free loopback port, running on its own thread until the fixture ends.
struct LiveServer {
  BpeTokenizer tok;
  std::unique_ptr<GPT> model;
  std::unique_ptr<Server> server;
  std::thread thread;
  int port = 0;

  // A long context lets the disconnect and queue tests run generations of thousands of tokens.
  explicit LiveServer(ServerOptions o = {}, int block = 2048) : tok(BpeTokenizer::bytes()) {
    std::signal(SIGPIPE, SIG_IGN);  // as `gptcu serve` does: a dead client is a failed write
    ChatTemplate::add_specials(tok);
    model = std::make_unique<GPT>(GPTConfig{2, 2, 32, block, tok.vocab_size()});
    model->init_weights(3);
    o.port = 0;
    o.model_name = "tiny";
    // no stop tokens unless a test asks: a random model would end its replies at random
    server = std::make_unique<Server>(*model, tok, o);
    port = server->bind();
    thread = std::thread([this] { server->run(); });
  }
  ~LiveServer() {
    server->stop();
    thread.join();
  }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(60, 0);
    return c;
  }
  httplib::Result post(const std::string& path, const std::string& body) const {
    return client().Post(path.c_str(), body, "application/json");
  }
};

std::string chat_body(const std::string& extra) {
  return R"({"model": "tiny", "messages": [{"role": "user", "content": "What is 1 + 2?"}])" + extra + "}";
}

// The JSON objects of an SSE body; `done` says whether it ended with "data: [DONE]".
std::vector<json> sse_events(const std::string& body, bool& done) {
  std::vector<json> events;
  done = false;
  size_t pos = 0;
  while (pos < body.size()) {
    const size_t end = body.find("\n\n", pos);
    REQUIRE(end != std::string::npos);  // every event ends with a blank line
    const std::string event = body.substr(pos, end - pos);
    pos = end + 2;
    REQUIRE(event.rfind("data: ", 0) == 0);
    REQUIRE_FALSE(done);  // nothing after [DONE]
    if (event == "data: [DONE]") done = true;
    else events.push_back(json::parse(event.substr(6)));
  }
  return events;
}

void check_error(const httplib::Result& r, int status, const std::string& code = "") {
  REQUIRE(r);
  INFO(r->body);
  CHECK(r->status == status);
  const json j = json::parse(r->body);
  REQUIRE(j.contains("error"));
  CHECK(j["error"]["message"].is_string());
  CHECK(j["error"]["type"].is_string());
  CHECK(j["error"].contains("param"));
  CHECK(j["error"].contains("code"));
  if (!code.empty()) CHECK(j["error"]["code"] == code);
}

}  // namespace

TEST_CASE("server: chat completion, plain and streamed", "[serve][server]") {
  LiveServer s;
  auto r = s.post("/v1/chat/completions", chat_body(R"(, "max_tokens": 8, "seed": 5, "temperature": 0.8)"));
  REQUIRE(r);
  REQUIRE(r->status == 200);
  CHECK(r->get_header_value("Content-Type") == "application/json");
  const json j = json::parse(r->body);
  CHECK(j["object"] == "chat.completion");
  CHECK(j["model"] == "tiny");
  CHECK(j["id"].get<std::string>().rfind("chatcmpl-", 0) == 0);
  CHECK(j["created"].is_number_integer());
  REQUIRE(j["choices"].size() == 1);
  CHECK(j["choices"][0]["message"]["role"] == "assistant");
  const std::string text = j["choices"][0]["message"]["content"];
  CHECK(j["choices"][0]["finish_reason"] == "length");  // no stop tokens: always 8 tokens
  CHECK(j["usage"]["completion_tokens"] == 8);
  CHECK(j["usage"]["prompt_tokens"].get<int>() > 14);
  CHECK(j["usage"]["total_tokens"] == j["usage"]["prompt_tokens"].get<int>() + 8);

  // the same request streamed: the same text, in chunks, ending with [DONE]
  r = s.post("/v1/chat/completions", chat_body(R"(, "max_tokens": 8, "seed": 5, "temperature": 0.8, "stream": true)"));
  REQUIRE(r);
  REQUIRE(r->status == 200);
  CHECK(r->get_header_value("Content-Type") == "text/event-stream");
  bool done = false;
  const std::vector<json> events = sse_events(r->body, done);
  CHECK(done);
  REQUIRE(events.size() >= 3);
  CHECK(events.front()["choices"][0]["delta"]["role"] == "assistant");
  std::string streamed;
  for (size_t i = 0; i < events.size(); i++) {
    CHECK(events[i]["object"] == "chat.completion.chunk");
    CHECK(events[i]["id"] == events[0]["id"]);
    const json& choice = events[i]["choices"][0];
    if (i + 1 < events.size()) CHECK(choice["finish_reason"].is_null());
    if (choice["delta"].contains("content")) streamed += choice["delta"]["content"].get<std::string>();
  }
  CHECK(events.back()["choices"][0]["finish_reason"] == "length");
  CHECK(streamed == text);
}

TEST_CASE("server: completions, stop strings, models, health, web page", "[serve][server]") {
  LiveServer s;
  auto r = s.post("/v1/completions", R"({"prompt": "Once upon", "max_tokens": 6, "seed": 1})");
  REQUIRE(r);
  REQUIRE(r->status == 200);
  json j = json::parse(r->body);
  CHECK(j["object"] == "text_completion");
  CHECK(j["choices"][0]["text"].is_string());
  CHECK(j["usage"]["prompt_tokens"] == 9);  // bytes
  CHECK(j["usage"]["completion_tokens"] == 6);
  const std::string full = j["choices"][0]["text"];
  // a stop string taken from the reply itself (its first ASCII character after the first byte)
  // ends the reply just before it
  size_t at = 1;
  while (at < full.size() && (unsigned char)full[at] >= 0x80) at++;
  if (at < full.size()) {
    const std::string stop = full.substr(at, 1);
    r = s.post("/v1/completions", R"({"prompt": "Once upon", "max_tokens": 6, "seed": 1, "stop": )" + json(stop).dump() + "}");
    REQUIRE(r);
    j = json::parse(r->body);
    CHECK(j["choices"][0]["finish_reason"] == "stop");
    CHECK(j["choices"][0]["text"] == full.substr(0, full.find(stop)));
  } else {
    WARN("no ASCII character in the reply: the stop-string check did not run");
  }
  r = s.post("/v1/completions", R"({"prompt": "Once upon", "max_tokens": 6, "stream": true,
                                     "stream_options": {"include_usage": true}})");
  REQUIRE(r);
  bool done = false;
  const auto events = sse_events(r->body, done);
  CHECK(done);
  REQUIRE(events.size() >= 2);
  CHECK(events.back()["object"] == "text_completion");
  CHECK(events.back()["choices"].empty());  // the usage chunk
  CHECK(events.back()["usage"]["completion_tokens"] == 6);
  CHECK(events[events.size() - 2]["choices"][0]["finish_reason"] == "length");

  r = s.client().Get("/v1/models");
  REQUIRE(r);
  CHECK(r->status == 200);
  j = json::parse(r->body);
  CHECK(j["object"] == "list");
  CHECK(j["data"][0]["id"] == "tiny");
  r = s.client().Get("/health");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(json::parse(r->body)["status"] == "ok");
  r = s.client().Get("/");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->get_header_value("Content-Type") == "text/html; charset=utf-8");
  CHECK(r->body.find("/v1/chat/completions") != std::string::npos);
  CHECK(r->body.find("</html>") != std::string::npos);
}

TEST_CASE("server: errors are OpenAI error bodies with the right status", "[serve][server]") {
  ServerOptions o;
  o.max_body_bytes = 2048;
  o.max_tokens_limit = 100;
  LiveServer s(o, 256);
  check_error(s.post("/v1/chat/completions", "{\"messages\": [1,"), 400);
  check_error(s.post("/v1/chat/completions", "{}"), 400);
  check_error(s.post("/v1/chat/completions", chat_body(R"(, "n": 3)")), 400);
  check_error(s.post("/v1/chat/completions", chat_body(R"(, "max_tokens": 101)")), 400);  // over the limit
  check_error(s.post("/v1/completions", R"({"prompt": ")" + std::string(250, 'x') + R"(", "max_tokens": 10})"), 400,
              "context_length_exceeded");
  check_error(s.post("/v1/completions", R"({"prompt": ")" + std::string(256, 'x') + R"("})"), 400,
              "context_length_exceeded");  // not even one new token fits
  check_error(s.post("/v1/completions", R"({"prompt": ")" + std::string(4000, 'x') + R"("})"), 413, "request_too_large");
  // without max_tokens a long prompt gets the rest of the context
  auto r = s.post("/v1/completions", R"({"prompt": ")" + std::string(200, 'x') + R"("})");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(json::parse(r->body)["usage"]["completion_tokens"] == 256 - 200);
  // a long dialogue loses its oldest turns: half the context stays free for the reply
  json msgs = json::array({{{"role", "system"}, {"content", "sys"}}});
  for (int i = 0; i < 10; i++)
    msgs.push_back({{"role", i % 2 ? "assistant" : "user"}, {"content", "message number " + std::to_string(i) + " is here"}});
  r = s.post("/v1/chat/completions", json{{"messages", msgs}}.dump());
  REQUIRE(r);
  CHECK(r->status == 200);
  const int prompt_tokens = json::parse(r->body)["usage"]["prompt_tokens"];
  CHECK(prompt_tokens <= 128);
  CHECK(prompt_tokens > 40);  // the system message and the last turn at least
  check_error(s.client().Get("/v1/nothing"), 404, "unknown_url");
  check_error(s.post("/v1/embeddings", "{}"), 404);
  // still serving
  r = s.post("/v1/completions", R"({"prompt": "ok", "max_tokens": 2})");
  REQUIRE(r);
  CHECK(r->status == 200);
}

TEST_CASE("server: a full queue answers 429, the admitted requests are served", "[serve][server]") {
  ServerOptions o;
  o.max_batch = 1;
  o.max_queue = 1;
  LiveServer s(o);
  const auto long_request = [&] { return s.post("/v1/completions", R"({"prompt": "go", "max_tokens": 2000})"); };
  // one request decoding (2000 tokens: over a second here) ...
  auto first = std::async(std::launch::async, long_request);
  for (int i = 0; i < 500; i++) {
    const auto h = s.client().Get("/health");
    REQUIRE(h);
    if (json::parse(h->body)["running"] == 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  // ... then 5 more at once: one waits in the queue, four find it full
  std::vector<std::future<httplib::Result>> replies;
  for (int i = 0; i < 5; i++) replies.push_back(std::async(std::launch::async, long_request));
  replies.push_back(std::move(first));
  int ok = 0, full = 0;
  for (auto& f : replies) {
    const httplib::Result r = f.get();
    REQUIRE(r);
    if (r->status == 200) {
      ok++;
      CHECK(json::parse(r->body)["usage"]["completion_tokens"] == 2000);
    } else {
      check_error(r, 429, "queue_full");
      full++;
    }
  }
  CHECK(ok == 2);
  CHECK(full == 4);
}

TEST_CASE("server: a client that disconnects mid-stream frees its row; the server goes on", "[serve][server]") {
  LiveServer s;
  // a raw socket: send a streamed request for 2000 tokens, read the first events, then close
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t)s.port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(connect(fd, (sockaddr*)&addr, sizeof(addr)) == 0);
  const std::string body = R"({"prompt": "go", "max_tokens": 2000, "stream": true})";
  const std::string request = "POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                              "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  REQUIRE(write(fd, request.data(), request.size()) == (ssize_t)request.size());
  std::string got;
  char buf[4096];
  while (got.find("data: ") == std::string::npos) {
    const ssize_t n = read(fd, buf, sizeof(buf));
    REQUIRE(n > 0);
    got.append(buf, (size_t)n);
  }
  CHECK(got.rfind("HTTP/1.1 200", 0) == 0);
  close(fd);
  // the row is cancelled (long before its 2000 tokens) and the decode thread is free again
  json health;
  for (int i = 0; i < 200; i++) {
    const auto h = s.client().Get("/health");
    REQUIRE(h);
    health = json::parse(h->body);
    if (health["running"] == 0 && health["cancelled"] == 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(health["running"] == 0);
  CHECK(health["cancelled"] == 1);
  const auto r = s.post("/v1/chat/completions", chat_body(R"(, "max_tokens": 4)"));
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(json::parse(r->body)["usage"]["completion_tokens"] == 4);
}

TEST_CASE("server: a port in use is a one-line UserError; stop() ends run()", "[serve][server]") {
  LiveServer a;
  BpeTokenizer tok = BpeTokenizer::bytes();
  ChatTemplate::add_specials(tok);
  GPT model(GPTConfig{1, 1, 8, 16, tok.vocab_size()});
  ServerOptions o;
  o.port = a.port;
  Server b(model, tok, o);
  try {
    b.bind();
    FAIL("bound a port in use");
  } catch (const UserError& e) {
    CHECK(std::string(e.what()).find(std::to_string(a.port)) != std::string::npos);
    CHECK(std::string(e.what()).find('\n') == std::string::npos);
  }
}
