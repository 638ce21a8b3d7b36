// eval/csv.cpp
#include "eval/csv.h"

#include "core/check.h"

namespace gptcu {

std::vector<std::vector<std::string>> parse_csv(std::string_view text, const std::string& name) {
  std::vector<int> lines;
  return parse_csv(text, name, lines);
}

std::vector<std::vector<std::string>> parse_csv(std::string_view text, const std::string& name,
                                                std::vector<int>& lines) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  std::vector<std::vector<std::string>> rows;
  lines.clear();
  std::vector<std::string> row;
  std::string field;
  int line = 1, row_line = 1;
  size_t i = 0;
  const size_t n = text.size();
  auto end_row = [&]() {
    row.push_back(std::move(field));
    field.clear();
    rows.push_back(std::move(row));
    row.clear();
    lines.push_back(row_line);
  };
  if (n == 0) return rows;
  while (true) {
    // at the start of a field
    if (i < n && text[i] == '"') {
      const int opened = line;
      i++;
      while (true) {
        GPTCU_USER_CHECK(i < n, name, ":", opened, ": a quoted field is never closed");
        if (text[i] == '"') {
          if (i + 1 < n && text[i + 1] == '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        if (text[i] == '\n') line++;
        field += text[i++];
      }
      const bool at_end = i == n || text[i] == ',' || text[i] == '\n' || (text[i] == '\r' && i + 1 < n && text[i + 1] == '\n');
      GPTCU_USER_CHECK(at_end, name, ":", line, ": text after the closing quote of a field");
    } else {
      while (i < n && text[i] != ',' && text[i] != '\n' && !(text[i] == '\r' && i + 1 < n && text[i + 1] == '\n'))
        field += text[i++];
    }
    if (i == n) {
      end_row();
      break;
    }
    if (text[i] == ',') {
      row.push_back(std::move(field));
      field.clear();
      i++;
      continue;
    }
    // a record ends: "\n" or "\r\n"
    i += text[i] == '\r' ? 2 : 1;
    end_row();
    line++;
    row_line = line;
    if (i == n) break;
  }
  return rows;
}

}  // namespace gptcu
