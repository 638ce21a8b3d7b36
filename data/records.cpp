// data/records.cpp: read_records (the format from the file name, plain-text units) and the
// record helpers. The JSON and YAML readers are in formats_json.cpp and formats_yaml.cpp.
#include "data/records.h"

#include <filesystem>

#include "core/check.h"
#include "data/formats.h"

namespace gptcu {

const char* kind_name(RecordKind k) {
  switch (k) {
    case RecordKind::text: return "text";
    case RecordKind::dialogue: return "dialogue";
    case RecordKind::preference: return "preference";
    case RecordKind::rl_prompt: return "rl_prompt";
  }
  return "?";
}

void ReadContext::emit(Record&& r, std::string source) {
  r.source = std::move(source);
  stats.records++;
  sink(std::move(r));
}

void ReadContext::bad(int64_t& counter, const std::string& where, const std::string& reason) {
  counter++;
  const std::string message = where + ": " + reason;
  GPTCU_USER_CHECK(!opt.strict, message);
  if ((int)stats.examples.size() < opt.max_errors_shown) stats.examples.push_back(message);
}

void strip_bom(std::string& s) {
  if (s.compare(0, 3, "\xEF\xBB\xBF") == 0) s.erase(0, 3);
}

namespace {

bool is_blank(std::string_view s) { return s.find_first_not_of(" \t\r\n") == std::string_view::npos; }

std::string guess_format(const std::string& path) {
  std::string name = std::filesystem::path(path).filename().string();
  if (name.size() > 3 && name.compare(name.size() - 3, 3, ".gz") == 0) name.resize(name.size() - 3);
  const std::string ext = std::filesystem::path(name).extension().string();
  if (ext == ".jsonl") return "jsonl";
  if (ext == ".json") return "json";
  if (ext == ".yml" || ext == ".yaml") return "yaml";
  return "text";
}

void read_text(InputFile& in, ReadContext& ctx) {
  const std::string& unit = ctx.opt.text_unit;
  const auto emit_text = [&](std::string text, int64_t line) {
    Record r;
    r.kind = RecordKind::text;
    r.text = std::move(text);
    ctx.emit(std::move(r), ctx.path + ":" + std::to_string(line));
  };
  if (unit == "file") {
    std::string all = read_all(in);
    strip_bom(all);
    if (!is_blank(all)) emit_text(std::move(all), 1);
    return;
  }
  LineReader lines(in);
  std::string line, paragraph;
  int64_t first = 0;  // the line a paragraph starts at; 0: none open
  while (lines.next(line)) {
    if (lines.line_number() == 1) strip_bom(line);
    if (unit == "line") {
      if (!is_blank(line)) emit_text(std::move(line), lines.line_number());
    } else if (is_blank(line)) {
      if (first) emit_text(std::move(paragraph), first);
      paragraph.clear();
      first = 0;
    } else {
      if (first) paragraph += '\n';
      else first = lines.line_number();
      paragraph += line;
    }
  }
  if (first) emit_text(std::move(paragraph), first);
}

}  // namespace

void read_records(const std::string& path, const ReadOptions& opt, ReadStats& stats,
                  const std::function<void(Record&&)>& sink) {
  GPTCU_USER_CHECK(opt.text_unit == "file" || opt.text_unit == "paragraph" || opt.text_unit == "line",
                   "text_unit must be file, paragraph or line, not '", opt.text_unit, "'");
  const std::string format = opt.format == "auto" ? guess_format(path) : opt.format;
  GPTCU_USER_CHECK(format == "text" || format == "jsonl" || format == "json" || format == "yaml",
                   "input format must be auto, text, jsonl, json or yaml, not '", opt.format, "'");
  GPTCU_USER_CHECK(!std::filesystem::is_directory(path), "cannot read ", path, ": it is a directory");
  InputFile in(path);
  ReadContext ctx{path, opt, stats, sink};
  if (format == "jsonl") read_jsonl(in, ctx);
  else if (format == "json") read_json(in, ctx);
  else if (format == "yaml") read_chatterbot_yaml(in, ctx);
  else read_text(in, ctx);
  stats.bytes += in.bytes();
}

std::string record_key(const Record& r) {
  constexpr char kSep = '\x1e';
  std::string key = kind_name(r.kind);
  key += kSep;
  if (r.kind == RecordKind::text) return key + r.text;
  for (const Message& m : r.messages) {
    key += m.role;
    key += ": ";
    key += m.content;
    key += kSep;
  }
  if (r.kind == RecordKind::preference) key += kSep + r.chosen + kSep + r.rejected;
  if (r.kind == RecordKind::rl_prompt) key += kSep + r.answer;
  return key;
}

std::string record_text(const Record& r) {
  if (r.kind == RecordKind::text) return r.text;
  std::string out;
  const auto add = [&](const std::string& s) {
    if (s.empty()) return;
    if (!out.empty()) out += "\n\n";
    out += s;
  };
  for (const Message& m : r.messages) add(m.content);
  add(r.chosen);
  add(r.rejected);
  add(r.answer);
  return out;
}

}  // namespace gptcu
