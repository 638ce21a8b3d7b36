// serve/openai_api.h: the OpenAI wire format of `gptcu serve`: request parsing and validation,
// and the JSON of replies, streamed chunks and errors. Pure functions, no I/O.
//
//   CompletionRequest r = parse_chat_request(body);      // ApiError (400) naming the bad field
//   json reply = completion_body(r, id, model, created, text, "stop", {12, 5});
//   std::string event = sse(chunk_body(r, id, model, created, "Hel", std::nullopt));
//
// Accepted fields (others are ignored, as OpenAI's own clients send extras; null = absent):
//   /v1/chat/completions  messages (required: [{"role": system|developer|user|assistant,
//                         "content": string or [{"type": "text", "text": ...}]}])
//   /v1/completions       prompt (required: a string, or a list of exactly one string)
//   both                  model (string), max_tokens / max_completion_tokens (integer >= 1),
//                         temperature (number in [0, 2]), top_p (number in (0, 1]),
//                         stop (string or list of up to 4 non-empty strings), seed (integer),
//                         n (1 only), stream (boolean), stream_options.include_usage (boolean:
//                         a last chunk with "usage" and no choices, as OpenAI sends it)
// Replies follow OpenAI's objects: chat.completion / chat.completion.chunk (a first chunk with
// the role, one per text piece, a last one with finish_reason, then "data: [DONE]"), and
// text_completion for both the reply and the chunks of /v1/completions.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "data/records.h"

namespace gptcu {

// An HTTP error with OpenAI's error body {"error": {"message", "type", "param", "code"}}.
struct ApiError : std::runtime_error {
  ApiError(int status, const std::string& message, std::string type = "invalid_request_error", std::string param = "",
           std::string code = "")
      : std::runtime_error(message), status(status), type(std::move(type)), param(std::move(param)), code(std::move(code)) {}
  int status;
  std::string type, param, code;  // empty param/code: null in the body
};

nlohmann::json error_body(const ApiError& e);

struct CompletionRequest {
  bool chat = false;                // /v1/chat/completions (messages) or /v1/completions (prompt)
  std::string model;                // as sent ("" when absent)
  std::vector<Message> messages;    // chat ("developer" is read as "system")
  std::string prompt;               // completions
  std::optional<int> max_tokens;    // absent: the server's choice
  float temperature = 1.0f;
  float top_p = 1.0f;
  std::vector<std::string> stop;    // stop strings (never part of the reply)
  std::optional<uint64_t> seed;     // absent: the server draws one
  bool stream = false;
  bool include_usage = false;       // stream_options.include_usage
};

// ApiError 400 (param = the field) for a body that is not a JSON object or a bad field.
CompletionRequest parse_chat_request(std::string_view body);
CompletionRequest parse_completion_request(std::string_view body);

struct Usage {
  int prompt_tokens = 0, completion_tokens = 0;
};

// The whole reply: chat.completion (choices[0].message) or text_completion (choices[0].text).
nlohmann::json completion_body(const CompletionRequest& req, const std::string& id, const std::string& model,
                               int64_t created, const std::string& text, const std::string& finish_reason, Usage usage);
// One streamed chunk: `text` as choices[0].delta.content (chat) or choices[0].text, and
// finish_reason (null until the last chunk). For chat, role_chunk() is the first chunk.
nlohmann::json chunk_body(const CompletionRequest& req, const std::string& id, const std::string& model, int64_t created,
                          const std::string& text, const std::optional<std::string>& finish_reason);
nlohmann::json role_chunk(const std::string& id, const std::string& model, int64_t created);
// The chunk after the last one when stream_options.include_usage: empty choices, the usage.
nlohmann::json usage_chunk(const CompletionRequest& req, const std::string& id, const std::string& model, int64_t created,
                           Usage usage);
// GET /v1/models
nlohmann::json models_body(const std::string& model, int64_t created);

// "data: <json>\n\n" (one server-sent event; invalid UTF-8 replaced, never thrown)
std::string sse(const nlohmann::json& j);
inline constexpr std::string_view kSseDone = "data: [DONE]\n\n";

}  // namespace gptcu
