// data/formats.h (internal to data/): the per-format readers behind read_records (records.h).
//
//   records.cpp        read_records: picks the format, plain text units, record_key
//   formats_json.cpp   JSONL and JSON files; one JSON object -> one Record by its keys
//   formats_yaml.cpp   chatterbot YAML corpora
#pragma once
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "data/gzip_reader.h"
#include "data/records.h"

namespace gptcu {

// What a reader needs: where records go and where problems are counted.
struct ReadContext {
  const std::string& path;
  const ReadOptions& opt;
  ReadStats& stats;
  const std::function<void(Record&&)>& sink;

  void emit(Record&& r, std::string source);
  // Counts one bad line/element/file in `counter` (stats.malformed or stats.missing_fields) and
  // keeps "where: reason" among the examples; with opt.strict, throws it as a UserError.
  void bad(int64_t& counter, const std::string& where, const std::string& reason);
};

void read_jsonl(InputFile& in, ReadContext& ctx);
void read_json(InputFile& in, ReadContext& ctx);
void read_chatterbot_yaml(InputFile& in, ReadContext& ctx);

// Fills r (all but r.source) and returns "", or returns why the object is not a record
// (no known shape, a field of the wrong type, a required field empty).
std::string record_from_json(const nlohmann::json& obj, Record& r);
// An hh-rlhf pair of transcripts "\n\nHuman: ...\n\nAssistant: ..." -> a preference record.
std::string record_from_transcripts(const std::string& chosen, const std::string& rejected, Record& r);

// Removes a UTF-8 byte order mark at the start of s.
void strip_bom(std::string& s);

}  // namespace gptcu
