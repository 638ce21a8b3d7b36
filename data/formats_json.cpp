// data/formats_json.cpp: detecting the shape of a JSON object and turning it into a Record.
#include "data/formats.h"

#include <algorithm>
#include <cctype>

#include "data/clean.h"

namespace gptcu {

namespace {

using json = nlohmann::json;

// Thrown by the helpers below, caught in record_from_json: the reason a record is unusable.
struct Missing {
  std::string why;
};

bool has(const json& j, const char* key) { return j.contains(key) && !j[key].is_null(); }

// A string field (numbers are taken as their JSON text, for answers like 42).
std::string text_of(const json& v, const std::string& what) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number()) return v.dump();
  throw Missing{what + " is not a string"};
}

std::string field(const json& j, const char* key, bool required = true) {
  if (!has(j, key)) {
    if (required) throw Missing{std::string("no '") + key + "'"};
    return "";
  }
  std::string s = text_of(j[key], std::string("'") + key + "'");
  if (required && s.find_first_not_of(" \t\r\n") == std::string::npos)
    throw Missing{std::string("empty '") + key + "'"};
  return s;
}

// ShareGPT's "from" and OpenAI's "role" vocabularies, case-insensitive.
std::string role_of(std::string from) {
  std::transform(from.begin(), from.end(), from.begin(), [](unsigned char c) { return std::tolower(c); });
  if (from == "human" || from == "user") return "user";
  if (from == "gpt" || from == "assistant" || from == "chatgpt" || from == "bing" || from == "bard" ||
      from == "model")
    return "assistant";
  if (from == "system") return "system";
  throw Missing{"unknown role '" + from + "'"};
}

// {"from","value"} or {"role","content"}.
Message turn_of(const json& t) {
  if (!t.is_object()) throw Missing{"a turn is not an object"};
  if (has(t, "from")) return {role_of(text_of(t["from"], "'from'")), text_of(t.value("value", json()), "'value'")};
  if (has(t, "role")) return {role_of(text_of(t["role"], "'role'")), text_of(t.value("content", json()), "'content'")};
  throw Missing{"a turn has neither 'from' nor 'role'"};
}

std::vector<Message> turns_of(const json& j, const char* key) {
  const json& list = j[key];
  if (!list.is_array()) throw Missing{std::string("'") + key + "' is not a list"};
  std::vector<Message> out;
  for (const json& t : list) out.push_back(turn_of(t));
  return out;
}

// A top-level "system" string goes first, unless the turns already start with one.
void add_system(const json& j, std::vector<Message>& turns) {
  const std::string system = field(j, "system", false);
  if (!system.empty() && (turns.empty() || turns.front().role != "system"))
    turns.insert(turns.begin(), Message{"system", system});
}

bool blank(const std::string& s) { return s.find_first_not_of(" \t\r\n") == std::string::npos; }

void require_dialogue(const std::vector<Message>& turns) {
  for (const Message& m : turns)
    if (m.role == "assistant" && !blank(m.content)) return;
  throw Missing{"no assistant turn"};
}

void require_prompt(const std::vector<Message>& turns) {
  if (turns.empty() || turns.back().role != "user") throw Missing{"the prompt does not end with a user turn"};
  if (blank(turns.back().content)) throw Missing{"empty last user turn"};
}

// chosen/rejected: a string, one turn object, or a list of turns ending with the reply. An
// empty reply is allowed (hh-rlhf prefers saying nothing in a few harmful conversations).
std::string reply_of(const json& j, const char* key) {
  if (!has(j, key)) throw Missing{std::string("no '") + key + "'"};
  const json& v = j[key];
  if (v.is_object()) return turn_of(v).content;
  if (v.is_array()) {
    if (v.empty()) throw Missing{std::string("'") + key + "' is an empty list"};
    const Message m = turn_of(v.back());
    if (m.role != "assistant") throw Missing{std::string("'") + key + "' does not end with an assistant turn"};
    return m.content;
  }
  return text_of(v, std::string("'") + key + "'");
}

void require_pair(const Record& r) {
  if (r.chosen == r.rejected) throw Missing{"'chosen' and 'rejected' are the same"};
}

void preference_from(const json& j, std::vector<Message> prompt, Record& r) {
  add_system(j, prompt);
  require_prompt(prompt);
  r.kind = RecordKind::preference;
  r.messages = std::move(prompt);
  r.chosen = reply_of(j, "chosen");
  r.rejected = reply_of(j, "rejected");
  require_pair(r);
}

void alpaca_from(const json& j, Record& r) {
  std::vector<Message> turns;
  add_system(j, turns);
  if (has(j, "history")) {
    const json& h = j["history"];
    if (!h.is_array()) throw Missing{"'history' is not a list"};
    for (const json& pair : h) {
      if (!pair.is_array() || pair.size() != 2) throw Missing{"'history' is not a list of [query, reply]"};
      turns.push_back({"user", text_of(pair[0], "a history query")});
      turns.push_back({"assistant", text_of(pair[1], "a history reply")});
    }
  }
  std::string user = field(j, "instruction", false);
  const std::string input = field(j, "input", false);
  if (!blank(input)) user += user.empty() ? input : "\n\n" + input;
  if (blank(user)) throw Missing{"empty 'instruction' and 'input'"};
  turns.push_back({"user", user});
  turns.push_back({"assistant", field(j, "output")});
  r.kind = RecordKind::dialogue;
  r.messages = std::move(turns);
}

std::string trim(std::string_view s) {
  const size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return "";
  const size_t e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

}  // namespace

std::string record_from_transcripts(const std::string& chosen, const std::string& rejected, Record& r) {
  static const std::string kHuman = "\n\nHuman:", kAssistant = "\n\nAssistant:";
  const size_t common = (size_t)(std::mismatch(chosen.begin(), chosen.begin() + (std::ptrdiff_t)std::min(chosen.size(), rejected.size()),
                                               rejected.begin()).first - chosen.begin());
  const size_t cut = std::string_view(chosen).substr(0, common).rfind(kAssistant);
  if (cut == std::string::npos) return "chosen and rejected share no prompt ending in '\\n\\nAssistant:'";
  // The prompt: turns between markers, in order.
  const std::string_view prompt(chosen.data(), cut);
  std::vector<Message> turns;
  size_t pos = 0;
  if (prompt.substr(0, kHuman.size()) != kHuman) return "the transcript does not start with '\\n\\nHuman:'";
  while (pos < prompt.size()) {
    const bool human = prompt.substr(pos, kHuman.size()) == kHuman;
    pos += human ? kHuman.size() : kAssistant.size();
    const size_t next = std::min(prompt.find(kHuman, pos), prompt.find(kAssistant, pos));
    const size_t end = next == std::string_view::npos ? prompt.size() : next;
    turns.push_back({human ? "user" : "assistant", trim(prompt.substr(pos, end - pos))});
    pos = end;
  }
  if (turns.back().role != "user" || turns.back().content.empty()) return "the prompt does not end with a Human turn";
  r.kind = RecordKind::preference;
  r.messages = std::move(turns);
  r.chosen = trim(std::string_view(chosen).substr(cut + kAssistant.size()));
  r.rejected = trim(std::string_view(rejected).substr(cut + kAssistant.size()));
  if (r.chosen == r.rejected) return "'chosen' and 'rejected' have the same reply";
  return "";
}

std::string record_from_json(const json& j, Record& r) {
  if (!j.is_object()) return "not a JSON object";
  try {
    const bool pair = has(j, "chosen") && has(j, "rejected");
    if (has(j, "conversations") || has(j, "messages")) {
      const char* key = has(j, "conversations") ? "conversations" : "messages";
      std::vector<Message> turns = turns_of(j, key);
      if (pair) {
        preference_from(j, std::move(turns), r);
      } else {
        add_system(j, turns);
        require_dialogue(turns);
        r.kind = RecordKind::dialogue;
        r.messages = std::move(turns);
      }
    } else if (has(j, "instruction") || (has(j, "input") && has(j, "output"))) {
      alpaca_from(j, r);
    } else if (pair && has(j, "prompt")) {
      std::vector<Message> prompt;
      if (j["prompt"].is_array()) {
        prompt = turns_of(j, "prompt");
      } else {
        prompt.push_back({"user", field(j, "prompt")});
      }
      preference_from(j, std::move(prompt), r);
    } else if (pair) {
      return record_from_transcripts(text_of(j["chosen"], "'chosen'"), text_of(j["rejected"], "'rejected'"), r);
    } else if (has(j, "answer") && (has(j, "question") || has(j, "prompt"))) {
      r.kind = RecordKind::rl_prompt;
      r.messages = {{"user", field(j, has(j, "question") ? "question" : "prompt")}};
      add_system(j, r.messages);
      const std::string answer = field(j, "answer");
      const size_t mark = answer.rfind("#### ");
      if (mark != std::string::npos) {
        r.answer = trim(std::string_view(answer).substr(mark + 5));
        r.solution = answer;
        if (r.answer.empty()) return "empty answer after '#### '";
      } else {
        r.answer = trim(answer);
      }
    } else if (has(j, "text")) {
      r.kind = RecordKind::text;
      r.text = field(j, "text");
    } else {
      std::string keys;
      for (const auto& [k, v] : j.items()) keys += (keys.empty() ? "" : ", ") + k;
      return "no known fields (keys: " + keys + ")";
    }
  } catch (const Missing& m) {
    return m.why;
  }
  return "";
}

// ---- files ---------------------------------------------------------------------------------

namespace {

// Parses one JSON text (repairing invalid UTF-8 first: nlohmann rejects it) and emits the record.
void parse_and_emit(std::string& text, const std::string& where, ReadContext& ctx) {
  if (!is_valid_utf8(text)) {
    text = repair_utf8(text);
    ctx.stats.invalid_utf8++;
  }
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    std::string why = e.what();  // "[json.exception.parse_error.101] parse error at ..."
    const size_t b = why.find("] ");
    ctx.bad(ctx.stats.malformed, where, b == std::string::npos ? why : why.substr(b + 2));
    return;
  }
  Record r;
  const std::string why = record_from_json(j, r);
  if (!why.empty()) {
    ctx.bad(ctx.stats.missing_fields, where, why);
    return;
  }
  ctx.emit(std::move(r), where);
}

bool is_blank(std::string_view s) { return s.find_first_not_of(" \t\r\n") == std::string_view::npos; }

// Top-level JSON values of a stream, one at a time, without parsing them: the elements of an
// array ("[a, b, ...]"), or a sequence of values separated by whitespace. It tracks only strings
// and bracket depth, so a malformed element is skipped while its neighbours still read.
class JsonValueScanner {
 public:
  explicit JsonValueScanner(InputFile& in) : in_(in), buf_(1 << 16) {}

  // Returns false at the end; the value's text and first line in value/line. Throws
  // Broken{reason} where the structure itself is broken (then nothing more can be read).
  struct Broken {
    std::string why;
  };
  bool next(std::string& value, int64_t& line) {
    value.clear();
    int c = skip_space();
    if (first_) {
      first_ = false;
      if (c == 0xEF && peek() == 0xBB) {  // a UTF-8 BOM
        get(), get();
        c = skip_space();
      }
      if (c == '[') {
        array_ = true;
        c = skip_space();
        if (c == ']') return finish();
        return scan_value(c, value, line);
      }
    }
    if (ended_) {
      if (c != -1) throw Broken{"data after the end of the array"};
      return false;
    }
    if (!array_) return c == -1 ? false : scan_value(c, value, line);
    if (c == ']') return finish();
    if (c != ',') throw Broken{c == -1 ? "unterminated array (missing ']')" : "expected ',' or ']' between elements"};
    return scan_value(skip_space(), value, line);
  }
  bool array() const { return array_; }
  int64_t line() const { return line_; }

 private:
  bool finish() {
    ended_ = true;
    if (skip_space() != -1) throw Broken{"data after the end of the array"};
    return false;
  }
  int get() {
    if (pos_ == end_) {
      end_ = in_.read(buf_.data(), buf_.size());
      pos_ = 0;
      if (end_ == 0) return -1;
    }
    const int c = (unsigned char)buf_[pos_++];
    if (c == '\n') line_++;
    return c;
  }
  int peek() {
    if (pos_ == end_) {
      end_ = in_.read(buf_.data(), buf_.size());
      pos_ = 0;
      if (end_ == 0) return -1;
    }
    return (unsigned char)buf_[pos_];
  }
  int skip_space() {
    int c = get();
    while (c == ' ' || c == '\t' || c == '\n' || c == '\r') c = get();
    return c;
  }
  bool scan_value(int c, std::string& value, int64_t& line) {
    if (c == -1) throw Broken{"unexpected end of data"};
    line = line_;
    if (c == ',' || c == ']' || c == '}') throw Broken{std::string("unexpected '") + (char)c + "'"};
    if (c == '{' || c == '[' || c == '"') {
      int depth = 0;
      bool in_string = false, escaped = false;
      for (;; c = get()) {
        if (c == -1) throw Broken{"unterminated value starting at line " + std::to_string(line)};
        value += (char)c;
        if (in_string) {
          if (escaped) escaped = false;
          else if (c == '\\') escaped = true;
          else if (c == '"') in_string = false;
        } else if (c == '"') {
          in_string = true;
        } else if (c == '{' || c == '[') {
          depth++;
        } else if (c == '}' || c == ']') {
          depth--;
        }
        if (depth == 0 && !in_string) return true;
      }
    }
    // A bare scalar (number, true, false, null): up to the next separator.
    value += (char)c;
    for (int p = peek(); p != -1 && p != ',' && p != ']' && p != ' ' && p != '\n' && p != '\t' && p != '\r'; p = peek())
      value += (char)get();
    return true;
  }

  InputFile& in_;
  std::vector<char> buf_;
  size_t pos_ = 0, end_ = 0;
  int64_t line_ = 1;
  bool first_ = true, array_ = false, ended_ = false;
};

}  // namespace

void read_jsonl(InputFile& in, ReadContext& ctx) {
  LineReader lines(in);
  std::string line;
  while (lines.next(line)) {
    if (lines.line_number() == 1) strip_bom(line);
    if (is_blank(line)) continue;
    parse_and_emit(line, ctx.path + ":" + std::to_string(lines.line_number()), ctx);
  }
}

void read_json(InputFile& in, ReadContext& ctx) {
  JsonValueScanner scanner(in);
  std::string value;
  int64_t line = 0, index = 0;
  try {
    while (scanner.next(value, line)) {
      // Array elements are named by index (what a JSON tool shows), other values by line.
      const std::string where = scanner.array() ? ctx.path + ":#" + std::to_string(index) : ctx.path + ":" + std::to_string(line);
      parse_and_emit(value, where, ctx);
      index++;
    }
  } catch (const JsonValueScanner::Broken& b) {
    ctx.bad(ctx.stats.malformed, ctx.path + ":" + std::to_string(scanner.line()), b.why);
  }
}

}  // namespace gptcu
