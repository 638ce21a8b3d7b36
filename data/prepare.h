// data/prepare.h: `gptcu data prepare`: inputs in any supported format -> token shards.
//
//   read (every format of data/records.h, plain or .gz)
//     -> clean (NFKC, control characters, whitespace, invalid UTF-8 repaired or dropped)
//     -> filter (length, repetition) -> dedup (exact, then MinHash near-duplicates)
//     -> split (train / val / test by a hash of the record)
//     -> tokenize (chat template for dialogues) -> shards in OUT/ + OUT/meta.json
//
// What gets written depends on the records (or on `kind` when set):
//   text        -> OUT/{train,val,test}_NNNNNN.bin            token stream, <|endoftext|> before each document
//   dialogue    -> the same + .mask.bin beside each shard      1 on assistant tokens (SFT targets)
//   preference  -> OUT/{split}_pairs.bin                        (prompt, chosen, rejected) records
//   rl_prompt   -> OUT/{split}_prompts.bin + {split}_prompts.jsonl  prompt tokens; answers beside them
// The layouts are documented in docs/data-format.md. Records of another kind than the one
// written are counted and skipped. OUT/meta.json records the tokenizer, the special-token ids,
// the shards and the report; OUT/tokenizer.tiktoken (+ .meta.json) is the exact tokenizer used
// (chat specials included), so trainers and `gptcu sample` decode with the right vocabulary.
#pragma once
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

namespace gptcu {

struct PrepareConfig {
  std::vector<std::string> inputs;   // files (plain or .gz)
  std::string kind = "auto";         // auto | text | dialogue | preference | rl_prompt
  std::string text_unit = "paragraph";  // plain text records: file | paragraph | line
  bool strict = false;               // a malformed line or a record missing fields is fatal
  std::string normalize = "nfkc";    // nfkc | nfc | none
  std::string invalid_utf8 = "repair";  // repair | drop
  bool dedup_exact = true;
  bool dedup_near = true;
  double near_threshold = 0.8;       // estimated Jaccard of 5-character shingles
  int64_t min_chars = 1;             // in code points
  int64_t max_chars = 0;             // 0: no limit
  double max_dup_line_fraction = 0.3;
  double max_top_ngram_fraction = 0.2;
  double test_fraction = 0.0;        // the val fraction is data.val_fraction
  int64_t max_tokens = 0;            // longer sequences are dropped and counted; 0: the model's block_size + 1
  int64_t shard_tokens = 100000000;
  std::string system_prompt;         // given to dialogues that have none ("": none)
  int threads = 0;                   // tokenizing threads, 0: all cores
};

struct PrepareReport {
  int64_t files = 0, records_read = 0, malformed = 0, missing_fields = 0, other_kind = 0;
  int64_t repaired_utf8 = 0, dropped_utf8 = 0, changed_by_cleaning = 0;
  int64_t filtered_too_short = 0, filtered_too_long = 0, filtered_repetition = 0;
  int64_t exact_duplicates = 0, near_duplicates = 0, too_many_tokens = 0;
  int64_t kept[3] = {0, 0, 0};       // records per split (train, val, test)
  int64_t tokens[3] = {0, 0, 0};
  int64_t target_tokens[3] = {0, 0, 0};  // tokens with mask 1 (dialogues)
  std::string kind;                  // what was written
  std::vector<std::string> examples; // the first few "path:line: reason" problems
  double seconds = 0;
  std::string table() const;         // the printed report
};

// Runs the whole pipeline into out_dir with the tokenizer `tokenizer_spec` (see
// BpeTokenizer::load). val_fraction splits off validation. Progress lines (records/s, MB/s,
// ETA) go to log. UserError: no inputs, a missing file, nothing left to write, strict-mode
// problems, an out_dir that holds something other than a previous prepare's output.
PrepareReport run_prepare(const PrepareConfig& cfg, const std::string& tokenizer_spec,
                          const std::string& out_dir, double val_fraction, int block_size,
                          std::ostream& log);

}  // namespace gptcu
