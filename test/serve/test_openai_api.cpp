// test/serve/test_openai_api.cpp: request validation and reply JSON (serve/openai_api.h), stop
// strings over streamed text (serve/stop_filter.h), dialogues fitted to the context
// (serve/dialogue.h).
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "data/chat_template.h"
#include "serve/dialogue.h"
#include "serve/openai_api.h"
#include "serve/stop_filter.h"

using namespace gptcu;
using json = nlohmann::json;

namespace {
// The ApiError a body raises: its status and param ("" when none was thrown).
std::pair<int, std::string> error_of(bool chat, const std::string& body) {
  try {
    chat ? parse_chat_request(body) : parse_completion_request(body);
  } catch (const ApiError& e) {
    return {e.status, e.param};
  }
  return {0, ""};
}
}  // namespace

TEST_CASE("parse_chat_request: fields and defaults", "[serve][api]") {
  const auto r = parse_chat_request(R"({"model": "m", "messages": [{"role": "developer", "content": "Be brief."},
      {"role": "user", "content": [{"type": "text", "text": "Hi "}, {"type": "text", "text": "there"}]}],
      "temperature": 0, "top_p": 0.5, "max_tokens": 7, "stop": "\n", "seed": 42, "n": 1, "stream": true,
      "presence_penalty": 0, "user": "ignored"})");
  CHECK(r.chat);
  CHECK(r.model == "m");
  REQUIRE(r.messages.size() == 2);
  CHECK(r.messages[0].role == "system");
  CHECK(r.messages[1].content == "Hi there");
  CHECK(r.temperature == 0.0f);
  CHECK(r.top_p == 0.5f);
  CHECK(r.max_tokens == 7);
  CHECK(r.stop == std::vector<std::string>{"\n"});
  CHECK(r.seed == 42u);
  CHECK(r.stream);
  const auto d = parse_chat_request(R"({"messages": [{"role": "user", "content": "x"}], "stop": null, "max_tokens": null})");
  CHECK(d.temperature == 1.0f);
  CHECK(d.top_p == 1.0f);
  CHECK_FALSE(d.max_tokens.has_value());
  CHECK_FALSE(d.seed.has_value());
  CHECK(d.stop.empty());
  CHECK_FALSE(d.stream);
  CHECK(parse_chat_request(R"({"messages": [{"role": "user", "content": "x"}], "stop": ["a", "bc"],
      "max_completion_tokens": 3, "seed": -1})").stop.size() == 2);
}

TEST_CASE("parse requests: each bad field is a 400 naming it", "[serve][api]") {
  const std::string ok = R"("messages": [{"role": "user", "content": "x"}])";
  using P = std::pair<int, std::string>;
  CHECK(error_of(true, "{\"messages\": [") == P{400, ""});  // not JSON
  CHECK(error_of(true, "[1, 2]") == P{400, ""});            // not an object
  CHECK(error_of(true, "{}") == P{400, "messages"});
  CHECK(error_of(true, R"({"messages": []})") == P{400, "messages"});
  CHECK(error_of(true, R"({"messages": "hi"})") == P{400, "messages"});
  CHECK(error_of(true, R"({"messages": [{"role": "robot", "content": "x"}]})") == P{400, "messages[0].role"});
  CHECK(error_of(true, R"({"messages": [{"role": "user"}]})") == P{400, "messages[0].content"});
  CHECK(error_of(true, R"({"messages": [{"role": "user", "content": [{"type": "image_url"}]}]})") == P{400, "messages[0].content"});
  CHECK(error_of(true, "{" + ok + R"(, "temperature": 2.5})") == P{400, "temperature"});
  CHECK(error_of(true, "{" + ok + R"(, "temperature": "hot"})") == P{400, "temperature"});
  CHECK(error_of(true, "{" + ok + R"(, "top_p": 0})") == P{400, "top_p"});
  CHECK(error_of(true, "{" + ok + R"(, "max_tokens": 0})") == P{400, "max_tokens"});
  CHECK(error_of(true, "{" + ok + R"(, "max_tokens": 2.5})") == P{400, "max_tokens"});
  CHECK(error_of(true, "{" + ok + R"(, "stop": ["a", "b", "c", "d", "e"]})") == P{400, "stop"});
  CHECK(error_of(true, "{" + ok + R"(, "stop": [""]})") == P{400, "stop"});
  CHECK(error_of(true, "{" + ok + R"(, "stop": 5})") == P{400, "stop"});
  CHECK(error_of(true, "{" + ok + R"(, "stop": ")" + std::string(300, 'x') + "\"}") == P{400, "stop"});
  CHECK(error_of(true, R"({"messages": [{"role": "user", "content": [{"type": 1, "text": "x"}]}]})") == P{400, "messages[0].content"});
  CHECK(error_of(true, R"({"messages": [{"role": "user", "content": [{"type": "text", "text": "x"}]}]})") == P{0, ""});
  CHECK(error_of(true, "{" + ok + R"(, "seed": "x"})") == P{400, "seed"});
  CHECK(error_of(true, "{" + ok + R"(, "n": 2})") == P{400, "n"});
  CHECK(error_of(true, "{" + ok + R"(, "stream": "yes"})") == P{400, "stream"});
  CHECK(error_of(true, "{" + ok + R"(, "model": 3})") == P{400, "model"});
  CHECK(error_of(true, "{" + ok + R"(, "stream_options": true})") == P{400, "stream_options"});
  CHECK(error_of(true, "{" + ok + R"(, "stream_options": {"include_usage": 1}})") == P{400, "stream_options"});
  CHECK(parse_chat_request("{" + ok + R"(, "stream_options": {"include_usage": true}})").include_usage);
  CHECK(error_of(true, "{" + ok + "}") == P{0, ""});
  // completions
  CHECK(parse_completion_request(R"({"prompt": ["once"]})").prompt == "once");
  CHECK_FALSE(parse_completion_request(R"({"prompt": "x"})").chat);
  CHECK(error_of(false, "{}") == P{400, "prompt"});
  CHECK(error_of(false, R"({"prompt": ""})") == P{400, "prompt"});
  CHECK(error_of(false, R"({"prompt": ["a", "b"]})") == P{400, "prompt"});
  CHECK(error_of(false, R"({"prompt": [1, 2, 3]})") == P{400, "prompt"});
}

TEST_CASE("reply, chunk, model and error JSON", "[serve][api]") {
  CompletionRequest chat;
  chat.chat = true;
  const json c = completion_body(chat, "chatcmpl-1", "m", 100, "47", "stop", {10, 3});
  CHECK(c["object"] == "chat.completion");
  CHECK(c["choices"][0]["message"]["content"] == "47");
  CHECK(c["choices"][0]["message"]["role"] == "assistant");
  CHECK(c["choices"][0]["finish_reason"] == "stop");
  CHECK(c["usage"]["total_tokens"] == 13);
  const json k = chunk_body(chat, "chatcmpl-1", "m", 100, "4", std::nullopt);
  CHECK(k["object"] == "chat.completion.chunk");
  CHECK(k["choices"][0]["delta"]["content"] == "4");
  CHECK(k["choices"][0]["finish_reason"].is_null());
  CHECK(chunk_body(chat, "i", "m", 1, "", std::string("length"))["choices"][0]["delta"] == json::object());
  CHECK(role_chunk("i", "m", 1)["choices"][0]["delta"]["role"] == "assistant");
  const json u = usage_chunk(chat, "i", "m", 1, {4, 2});
  CHECK(u["choices"].empty());
  CHECK(u["usage"]["total_tokens"] == 6);
  CompletionRequest text;
  const json t = completion_body(text, "cmpl-1", "m", 100, "abc", "length", {1, 2});
  CHECK(t["object"] == "text_completion");
  CHECK(t["choices"][0]["text"] == "abc");
  CHECK(chunk_body(text, "i", "m", 1, "x", std::nullopt)["choices"][0]["text"] == "x");
  CHECK(models_body("m", 5)["data"][0]["id"] == "m");
  const json e = error_body(ApiError(429, "full", "rate_limit_error", "", "queue_full"));
  CHECK(e["error"]["message"] == "full");
  CHECK(e["error"]["type"] == "rate_limit_error");
  CHECK(e["error"]["param"].is_null());
  CHECK(e["error"]["code"] == "queue_full");
  CHECK(sse(json{{"a", 1}}) == "data: {\"a\":1}\n\n");
  CHECK(sse(json{{"a", std::string("\xE4")}}) == "data: {\"a\":\"\xEF\xBF\xBD\"}\n\n");  // never throws
}

TEST_CASE("StopFilter: cuts at the first stop string, across pieces", "[serve][stop]") {
  // the released text always equals the full text cut at the first stop string
  const std::vector<std::string> stops = {"\n\n", "END", "ab"};
  const std::string full = "x\ny EN and then a then\n\nmore END";
  for (size_t piece = 1; piece <= 4; piece++) {
    INFO("pieces of " << piece << " bytes");
    StopFilter f(stops);
    std::string out;
    for (size_t i = 0; i < full.size() && !f.stopped(); i += piece) out += f.push(full.substr(i, piece));
    out += f.finish();
    CHECK(f.stopped());
    CHECK(out == "x\ny EN and then a then");
  }
  StopFilter held({"END"});
  CHECK(held.push("abc E") == "abc ");  // "E" may begin "END"
  CHECK(held.push("N") == "");
  CHECK(held.push("x") == "ENx");       // it did not
  CHECK(held.push("EN") == "");
  CHECK(held.finish() == "EN");         // the generation ended: release it
  CHECK_FALSE(held.stopped());
  StopFilter none({});
  CHECK(none.push("anything") == "anything");
}

TEST_CASE("fit_dialogue drops the oldest turns, keeps the system message", "[serve][dialogue]") {
  BpeTokenizer tok = BpeTokenizer::bytes();
  ChatTemplate::add_specials(tok);
  const ChatTemplate chat(tok);
  const std::vector<Message> msgs = {{"system", "sys"}, {"user", "first question"}, {"assistant", "first answer"},
                                     {"user", "second"},  {"assistant", "two"},           {"user", "third"}};
  const FittedPrompt all = fit_dialogue(chat, msgs, 1000);
  CHECK(all.dropped == 0);
  CHECK(all.tokens == chat.prompt(msgs));
  // room for the system message and the last two turns only
  const std::vector<Message> last = {msgs[0], msgs[3], msgs[4], msgs[5]};
  const FittedPrompt cut = fit_dialogue(chat, msgs, chat.prompt(last).size());
  CHECK(cut.dropped == 2);
  CHECK(cut.tokens == chat.prompt(last));
  // nothing fits: the system message and the last message stay, over budget
  const FittedPrompt tight = fit_dialogue(chat, msgs, 5);
  CHECK(tight.dropped == 4);
  CHECK(tight.tokens == chat.prompt({msgs[0], msgs[5]}));
  // no system message
  const std::vector<Message> plain(msgs.begin() + 1, msgs.end());
  CHECK(fit_dialogue(chat, plain, chat.prompt({msgs[5]}).size()).dropped == 4);
}
