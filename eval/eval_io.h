// eval/eval_io.h: the inputs of the eval tasks read strictly: any problem is a one-line
// UserError naming the file (and line), because a score over silently skipped lines misleads.
//
//   std::vector<std::string> hyps = read_lines("hyp.txt");          // one segment per line
//   for (const JsonLine& l : read_jsonl("test.jsonl"))              // one object per line
//     std::string text = json_string(l, {"text", "prompt"});        // the first key present
#pragma once
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace gptcu {

// The whole file as bytes. UserError: missing or unreadable.
std::string read_file(const std::string& path);

// The lines of a UTF-8 text file, without their "\n" (a last line without one counts; a file
// ending in "\n" has no empty last line). UserError: missing or unreadable, invalid UTF-8
// (path:line).
std::vector<std::string> read_lines(const std::string& path);

struct JsonLine {
  nlohmann::json value;  // an object
  std::string where;     // "path:line"
};

// The objects of a JSONL file; blank lines are skipped. UserError: missing file, invalid
// UTF-8, a line that is not JSON or not an object (path:line).
std::vector<JsonLine> read_jsonl(const std::string& path);

// The string value of the first of `keys` present in the object (numbers and booleans are
// written as JSON writes them). UserError "path:line: ..." when none is present or it is of
// another type.
std::string json_string(const JsonLine& line, std::initializer_list<const char*> keys);

// `j` as indented JSON text for a result file. Strings a model wrote may end inside a UTF-8
// character (a reply cut at max_new_tokens); such bytes become U+FFFD instead of an exception.
std::string json_text(const nlohmann::json& j);

}  // namespace gptcu
