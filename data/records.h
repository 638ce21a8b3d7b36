// data/records.h: every accepted input format read into one Record type.
//
//   ReadStats stats;
//   read_records("data/alpaca.json.gz", ReadOptions{}, stats, [&](Record&& r) { ... });
//
// A Record is plain text, a dialogue, a preference pair or an RL prompt. The format comes from
// the file name, with ".gz" stripped (compression itself is detected from the magic bytes):
//   .jsonl            one JSON object per line (blank lines skipped)
//   .json             a JSON array of objects; or, when the first character is not '[', a
//                     sequence of objects (JSONL content, or one pretty-printed object)
//   .yml / .yaml      chatterbot corpus {categories, conversations: [[turn, turn, ...], ...]}:
//                     turns alternate user/assistant starting with user
//   anything else     plain text, cut by ReadOptions::text_unit: "file" (one record), "paragraph"
//                     (split at blank lines, i.e. lines that are empty or only spaces/tabs), or
//                     "line" (each non-blank line); blank units are skipped
// ReadOptions::format overrides the guess ("text", "jsonl", "json", "yaml").
//
// The shape of each JSON object is detected from its keys (first match wins):
//   {"conversations": [{"from","value"}...], "chosen", "rejected"}   preference (LLaMA-Factory,
//        MedicalGPT); chosen/rejected a string or a {"from","value"} / {"role","content"} turn
//   {"conversations": [{"from","value"}...]} (+ "system")             dialogue (ShareGPT);
//        from: human/user -> user; gpt/assistant/chatgpt/bing/bard/model -> assistant; system
//   {"messages": [{"role","content"}...]} (+ "chosen","rejected")     dialogue (OpenAI/HF), or
//        preference when chosen and rejected are present
//   {"instruction", "input", "output"} (+ "system", "history")       dialogue (Alpaca): user =
//        instruction + "\n\n" + input (input when non-empty); history [[q, a], ...] goes first
//   {"prompt", "chosen", "rejected"}                                  preference; prompt is a
//        string (one user turn) or a list of messages; + optional "system"
//   {"chosen", "rejected"}                                            preference, hh-rlhf
//        transcripts "\n\nHuman: ...\n\nAssistant: ...": the prompt is the longest common prefix
//        cut back to its last "\n\nAssistant:", parsed into turns; the rest are the replies
//   {"question", "answer"}                                            rl_prompt (GSM8K): answer =
//        the text after the last "#### " (solution = the full answer), or the whole answer
//   {"prompt", "answer"}                                              rl_prompt
//   {"text"}                                                          text
// Prompts of preference and rl_prompt records end with a user turn, and the two replies of a
// preference differ (one may be empty: hh-rlhf sometimes prefers saying nothing); dialogues
// need at least one non-empty assistant turn (other turns may be empty). Text fields are taken as they are: cleaning is clean.h's job.
//
// Errors: a missing or unreadable file, or a truncated/corrupt .gz, is a UserError. Bad data
// inside a readable file is counted and skipped: JSON that does not parse (or a YAML file that
// does not) is `malformed`; an object of no known shape, or with a field of the wrong type or
// empty, is `missing_fields`; the first max_errors_shown of them are kept as "path:line: reason".
// With strict, the first one is a UserError with that text. JSON text is UTF-8 by definition:
// lines with invalid UTF-8 are repaired (U+FFFD) before parsing and counted in invalid_utf8.
// Reading no records at all is not an error here; the caller decides.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace gptcu {

struct Message {
  std::string role;  // "system" | "user" | "assistant"
  std::string content;
};

enum class RecordKind { text, dialogue, preference, rl_prompt };
const char* kind_name(RecordKind k);

struct Record {
  RecordKind kind = RecordKind::text;
  std::string text;               // text
  std::vector<Message> messages;  // dialogue: all turns; preference, rl_prompt: the prompt turns
  std::string chosen, rejected;   // preference: the two candidate assistant replies
  std::string answer;             // rl_prompt: the reference answer (GSM8K: after "#### ")
  std::string solution;           // rl_prompt: the full worked solution, when there is one
  std::string source;             // "path:line" (where it starts), or "path:#index" for an
                                  // element of a JSON array (0-based)
};

struct ReadOptions {
  std::string text_unit = "paragraph";  // file | paragraph | line
  std::string format = "auto";          // auto | text | jsonl | json | yaml
  bool strict = false;
  int max_errors_shown = 5;
};

// read_records adds to these, so one ReadStats can gather several files.
struct ReadStats {
  int64_t records = 0;         // records given to the sink
  int64_t malformed = 0;       // JSON lines/elements (or YAML files) that do not parse
  int64_t missing_fields = 0;  // objects of no known shape or with bad/empty fields
  int64_t invalid_utf8 = 0;    // JSON lines/elements repaired before parsing
  int64_t bytes = 0;           // uncompressed bytes read
  std::vector<std::string> examples;  // the first few "path:line: reason"
};

void read_records(const std::string& path, const ReadOptions& opt, ReadStats& stats,
                  const std::function<void(Record&&)>& sink);

// A canonical text of the record for hashing (exact dedup, split) and near-dedup shingles:
// the kind, then each field, messages as "role: content". Fields are separated by U+001E,
// which cleaning removes (a control character), so two different cleaned records never share
// a key.
std::string record_key(const Record& r);

// The record's contents as one plain text: the text, or every message's content, then chosen,
// rejected and answer, joined by blank lines (no roles). For reports, or near-dedup on content
// alone; filter_record (filters.h) measures the fields one by one.
std::string record_text(const Record& r);

}  // namespace gptcu
