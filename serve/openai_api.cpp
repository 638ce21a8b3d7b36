// serve/openai_api.cpp: OpenAI request validation and reply JSON (see serve/openai_api.h).
#include "serve/openai_api.h"

#include <cmath>

namespace gptcu {
namespace {

using json = nlohmann::json;

[[noreturn]] void bad(const std::string& param, const std::string& message) { throw ApiError(400, message, "invalid_request_error", param); }

json parse_object(std::string_view body) {
  json j;
  try {
    j = json::parse(body);
  } catch (const json::parse_error& e) {
    throw ApiError(400, std::string("the request body is not valid JSON (") + e.what() + ")");
  }
  if (!j.is_object()) throw ApiError(400, "the request body must be a JSON object");
  return j;
}

// j[key] when present and not null
const json* field(const json& j, const char* key) {
  const auto it = j.find(key);
  return it == j.end() || it->is_null() ? nullptr : &*it;
}

double number(const json& j, const char* key, double lo, double hi, bool lo_open) {
  const json* v = field(j, key);
  if (!v) return NAN;
  if (!v->is_number()) bad(key, std::string("'") + key + "' must be a number");
  const double x = v->get<double>();
  if (!(lo_open ? x > lo : x >= lo) || !(x <= hi))
    bad(key, std::string("'") + key + "' must be in " + (lo_open ? "(" : "[") + json(lo).dump() + ", " + json(hi).dump() + "], got " + v->dump());
  return x;
}

// Text content: a string, or a list of {"type": "text", "text": ...} parts (concatenated).
std::string content_text(const json& c, const std::string& param) {
  if (c.is_string()) return c.get<std::string>();
  if (!c.is_array()) bad(param, "'" + param + "' must be a string or a list of text parts");
  std::string text;
  for (const json& part : c) {
    if (!part.is_object() || !part.contains("type") || part["type"] != "text" || !part.contains("text") || !part["text"].is_string())
      bad(param, "'" + param + "' parts must be {\"type\": \"text\", \"text\": string} (only text is supported)");
    text += part["text"].get<std::string>();
  }
  return text;
}

// The fields both endpoints share.
void parse_common(const json& j, CompletionRequest& r) {
  if (const json* v = field(j, "model")) {
    if (!v->is_string()) bad("model", "'model' must be a string");
    r.model = v->get<std::string>();
  }
  for (const char* key : {"max_tokens", "max_completion_tokens"}) {
    const json* v = field(j, key);
    if (!v) continue;
    if (!v->is_number_integer() || v->get<int64_t>() < 1 || v->get<int64_t>() > (1 << 30))
      bad(key, std::string("'") + key + "' must be an integer >= 1, got " + v->dump());
    r.max_tokens = (int)v->get<int64_t>();
  }
  if (const double t = number(j, "temperature", 0, 2, false); !std::isnan(t)) r.temperature = (float)t;
  if (const double p = number(j, "top_p", 0, 1, true); !std::isnan(p)) r.top_p = (float)p;
  if (const json* v = field(j, "stop")) {
    if (v->is_string()) r.stop = {v->get<std::string>()};
    else if (v->is_array() && v->size() <= 4) {
      for (const json& s : *v) {
        if (!s.is_string()) bad("stop", "'stop' must be a string or a list of strings");
        r.stop.push_back(s.get<std::string>());
      }
    } else bad("stop", "'stop' must be a string or a list of up to 4 strings");
    for (const std::string& s : r.stop)
      if (s.empty() || s.size() > 256) bad("stop", "'stop' strings must be 1 to 256 bytes");
  }
  if (const json* v = field(j, "seed")) {
    if (!v->is_number_integer()) bad("seed", "'seed' must be an integer");
    r.seed = v->is_number_unsigned() ? v->get<uint64_t>() : (uint64_t)v->get<int64_t>();
  }
  if (const json* v = field(j, "n"); v && !(v->is_number_integer() && v->get<int64_t>() == 1))
    bad("n", "only n = 1 is supported, got " + v->dump());
  if (const json* v = field(j, "stream")) {
    if (!v->is_boolean()) bad("stream", "'stream' must be a boolean");
    r.stream = v->get<bool>();
  }
  if (const json* v = field(j, "stream_options")) {
    const json* u = v->is_object() ? field(*v, "include_usage") : nullptr;
    if (!v->is_object() || (u && !u->is_boolean()))
      bad("stream_options", "'stream_options' must be an object {\"include_usage\": boolean}");
    r.include_usage = u && u->get<bool>();
  }
}

json usage_json(Usage u) {
  return {{"prompt_tokens", u.prompt_tokens}, {"completion_tokens", u.completion_tokens},
          {"total_tokens", u.prompt_tokens + u.completion_tokens}};
}

json finish(const std::optional<std::string>& reason) { return reason ? json(*reason) : json(nullptr); }

}  // namespace

json error_body(const ApiError& e) {
  return {{"error",
           {{"message", e.what()},
            {"type", e.type},
            {"param", e.param.empty() ? json(nullptr) : json(e.param)},
            {"code", e.code.empty() ? json(nullptr) : json(e.code)}}}};
}

CompletionRequest parse_chat_request(std::string_view body) {
  const json j = parse_object(body);
  CompletionRequest r;
  r.chat = true;
  const json* msgs = field(j, "messages");
  if (!msgs) bad("messages", "'messages' is required");
  if (!msgs->is_array() || msgs->empty()) bad("messages", "'messages' must be a non-empty list");
  for (size_t i = 0; i < msgs->size(); i++) {
    const json& m = (*msgs)[i];
    const std::string at = "messages[" + std::to_string(i) + "]";
    if (!m.is_object()) bad(at, "'" + at + "' must be an object");
    const json* role = field(m, "role");
    if (!role || !role->is_string()) bad(at + ".role", "'" + at + ".role' must be a string");
    std::string rs = role->get<std::string>();
    if (rs == "developer") rs = "system";
    if (rs != "system" && rs != "user" && rs != "assistant")
      bad(at + ".role", "'" + at + ".role' must be system, user or assistant, got " + role->dump());
    const json* content = field(m, "content");
    if (!content) bad(at + ".content", "'" + at + ".content' is required");
    r.messages.push_back({rs, content_text(*content, at + ".content")});
  }
  parse_common(j, r);
  return r;
}

CompletionRequest parse_completion_request(std::string_view body) {
  const json j = parse_object(body);
  CompletionRequest r;
  const json* p = field(j, "prompt");
  if (!p) bad("prompt", "'prompt' is required");
  if (p->is_array() && p->size() == 1 && (*p)[0].is_string()) p = &(*p)[0];
  if (!p->is_string()) bad("prompt", "'prompt' must be a string (or a list of one string)");
  r.prompt = p->get<std::string>();
  if (r.prompt.empty()) bad("prompt", "'prompt' is empty");
  parse_common(j, r);
  return r;
}

json completion_body(const CompletionRequest& req, const std::string& id, const std::string& model, int64_t created,
                     const std::string& text, const std::string& finish_reason, Usage usage) {
  json choice = {{"index", 0}, {"finish_reason", finish_reason}};
  if (req.chat) choice["message"] = {{"role", "assistant"}, {"content", text}};
  else choice["text"] = text, choice["logprobs"] = nullptr;
  return {{"id", id},
          {"object", req.chat ? "chat.completion" : "text_completion"},
          {"created", created},
          {"model", model},
          {"choices", json::array({choice})},
          {"usage", usage_json(usage)}};
}

json chunk_body(const CompletionRequest& req, const std::string& id, const std::string& model, int64_t created,
                const std::string& text, const std::optional<std::string>& finish_reason) {
  json choice = {{"index", 0}, {"finish_reason", finish(finish_reason)}};
  if (req.chat) choice["delta"] = text.empty() ? json::object() : json{{"content", text}};
  else choice["text"] = text, choice["logprobs"] = nullptr;
  return {{"id", id},
          {"object", req.chat ? "chat.completion.chunk" : "text_completion"},
          {"created", created},
          {"model", model},
          {"choices", json::array({choice})}};
}

json role_chunk(const std::string& id, const std::string& model, int64_t created) {
  return {{"id", id},
          {"object", "chat.completion.chunk"},
          {"created", created},
          {"model", model},
          {"choices", json::array({{{"index", 0}, {"delta", {{"role", "assistant"}, {"content", ""}}}, {"finish_reason", nullptr}}})}};
}

json usage_chunk(const CompletionRequest& req, const std::string& id, const std::string& model, int64_t created, Usage usage) {
  return {{"id", id},
          {"object", req.chat ? "chat.completion.chunk" : "text_completion"},
          {"created", created},
          {"model", model},
          {"choices", json::array()},
          {"usage", usage_json(usage)}};
}

json models_body(const std::string& model, int64_t created) {
  return {{"object", "list"},
          {"data", json::array({{{"id", model}, {"object", "model"}, {"created", created}, {"owned_by", "gptcu"}}})}};
}

std::string sse(const json& j) {
  return "data: " + j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n\n";
}

}  // namespace gptcu
