// eval/eval_io.cpp
#include "eval/eval_io.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/check.h"
#include "data/clean.h"

namespace gptcu {

std::string read_file(const std::string& path) {
  GPTCU_USER_CHECK(std::filesystem::is_regular_file(path), path, ": no such file");
  std::ifstream f(path, std::ios::binary);
  GPTCU_USER_CHECK(f.good(), path, ": cannot read");
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::vector<std::string> read_lines(const std::string& path) {
  const std::string text = read_file(path);
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    GPTCU_USER_CHECK(is_valid_utf8(line), path, ":", lines.size() + 1, ": invalid UTF-8");
    lines.push_back(std::move(line));
    start = end + 1;
  }
  return lines;
}

std::vector<JsonLine> read_jsonl(const std::string& path) {
  std::vector<JsonLine> out;
  const std::vector<std::string> lines = read_lines(path);
  for (size_t i = 0; i < lines.size(); i++) {
    if (lines[i].find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = path + ":" + std::to_string(i + 1);
    nlohmann::json j = nlohmann::json::parse(lines[i], nullptr, /*allow_exceptions=*/false);
    GPTCU_USER_CHECK(!j.is_discarded(), where, ": not valid JSON");
    GPTCU_USER_CHECK(j.is_object(), where, ": not a JSON object");
    out.push_back({std::move(j), where});
  }
  return out;
}

std::string json_string(const JsonLine& line, std::initializer_list<const char*> keys) {
  std::string names;
  for (const char* k : keys) {
    const auto it = line.value.find(k);
    if (it != line.value.end()) {
      if (it->is_string()) return it->get<std::string>();
      GPTCU_USER_CHECK(it->is_number() || it->is_boolean(), line.where, ": field '", k, "' is not a string");
      return it->dump();
    }
    names += (names.empty() ? "'" : " or '") + std::string(k) + "'";
  }
  user_error(line.where, ": no field ", names);
}

std::string json_text(const nlohmann::json& j) {
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace gptcu
