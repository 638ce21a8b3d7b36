// eval/csv.h: a CSV reader (RFC 4180), for multiple-choice sets such as CMMLU.
//
//   std::vector<std::vector<std::string>> rows = parse_csv(text, "agronomy.csv");
//
// Fields are separated by ',' and records by "\n" or "\r\n". A field that starts with '"' is
// quoted: it runs to the next lone '"', may hold commas, newlines and doubled quotes ("" -> ").
// A UTF-8 byte order mark at the start is dropped; a last line without a newline counts; an
// empty line is a record of one empty field (callers skip those). UserError naming
// `name:line`: a quoted field never closed, text between a closing quote and the next comma.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace gptcu {

std::vector<std::vector<std::string>> parse_csv(std::string_view text, const std::string& name);

// Each record's first line number (1-based), parallel to parse_csv's rows: for messages.
std::vector<std::vector<std::string>> parse_csv(std::string_view text, const std::string& name,
                                                std::vector<int>& lines);

}  // namespace gptcu
