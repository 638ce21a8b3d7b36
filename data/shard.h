// data/shard.h: token shard files (llm.c's .bin layout), their writers and memory-mapped readers.
//
// Every shard is a header of 256 little-endian int32 then a payload (docs/data-format.md):
//   [0] magic 20240520   [1] version   [2] count   [3..255] kind-specific, 0 when unused
//   version 1  uint16 tokens, count = tokens                  (exactly llm.c's GPT-2 shards)
//   version 2  uint32 tokens, count = tokens                  (vocabulary > 65536)
//   version 3  uint8 loss mask, count = tokens, 1 = target    (NAME.mask.bin beside NAME.bin)
//   version 4  records: count = records, [3] fields per record F, [4] token width in bytes;
//              payload = records*F uint32 lengths, then all tokens, record by record
// The readers also accept llm.c's Llama-3 shards (magic 20240801, version 7, uint32 tokens).
//
//   ShardWriter w("out", "train", {.vocab_size = 50257, .with_mask = true});
//   w.add(doc_tokens, doc_mask);              // repeated; documents stay whole within a shard
//   w.finish();                               // out/train_000000.bin (+ .mask.bin), ...
//   TokenShard s("out/train_000000.bin");     // mmap, header checked against the file size
//   int32_t t = s[17];
//
// Files are written to NAME.tmp and renamed when complete, so a crash never leaves a
// valid-looking partial shard; readers map the file and never read the payload at open.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <vector>

namespace gptcu {

constexpr int32_t kShardMagic = 20240520;
constexpr int kShardHeaderInts = 256;
constexpr size_t kShardHeaderBytes = kShardHeaderInts * sizeof(int32_t);
enum ShardVersion : int32_t { kShardTokensU16 = 1, kShardTokensU32 = 2, kShardMask = 3, kShardRecords = 4 };
// Record shards: fields per record of each kind.
constexpr int kPreferenceFields = 3;  // prompt, chosen, rejected
constexpr int kPromptFields = 1;      // prompt (answers in the NAME.answers.jsonl sidecar)

// Token width in bytes for a vocabulary: 2 (uint16) up to 65536 ids, else 4.
int token_width_for(int64_t vocab_size);
// "DIR/NAME.bin" -> "DIR/NAME.mask.bin" / "DIR/NAME.answers.jsonl".
std::string mask_path_for(const std::string& token_shard_path);
std::string answers_path_for(const std::string& record_shard_path);

// A file mapped read-only into memory (nothing is read until a page is touched). Move-only.
class MappedFile {
 public:
  explicit MappedFile(const std::string& path);  // UserError: missing, unreadable, a directory
  ~MappedFile();
  MappedFile(MappedFile&& o) noexcept;
  MappedFile& operator=(MappedFile&& o) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }
  // Tell the kernel accesses will be scattered: no read-ahead (madvise MADV_RANDOM). A loader
  // reading random windows of a few KiB otherwise pulls in ~2 MiB around each.
  void advise_random() const;

 private:
  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

// ---------------------------------------------------------------- readers

// A token shard (version 1 or 2, or llm.c's Llama-3 layout). Thread-safe for reading.
class TokenShard {
 public:
  // UserError (one line, naming the path): shorter than the header, bad magic, a version that
  // is not a token shard, or a size that disagrees with the header's count.
  explicit TokenShard(const std::string& path);

  int64_t size() const { return count_; }
  int width() const { return width_; }  // bytes per token: 2 or 4
  const std::string& path() const { return file_.path(); }
  int32_t operator[](int64_t i) const;
  void copy(int64_t begin, int64_t n, int32_t* out) const;  // tokens [begin, begin+n)
  const MappedFile& file() const { return file_; }

 private:
  MappedFile file_;
  int64_t count_ = 0;
  int width_ = 2;
};

// A loss-mask shard (version 3): one byte per token of the token shard beside it.
class MaskShard {
 public:
  explicit MaskShard(const std::string& path);  // UserError as for TokenShard
  int64_t size() const { return count_; }
  const std::string& path() const { return file_.path(); }
  uint8_t operator[](int64_t i) const;
  void copy(int64_t begin, int64_t n, uint8_t* out) const;
  const MappedFile& file() const { return file_; }

 private:
  MappedFile file_;
  int64_t count_ = 0;
};

// A record shard (version 4): `size()` records of `fields()` token lists each. Opening reads
// the length table (records*F uint32) to index the records; the tokens stay mapped.
class RecordShard {
 public:
  explicit RecordShard(const std::string& path);  // UserError as for TokenShard
  int64_t size() const { return (int64_t)starts_.size() - 1; }
  int fields() const { return fields_; }
  int width() const { return width_; }
  int64_t num_tokens() const { return starts_.back(); }
  const std::string& path() const { return file_.path(); }
  int64_t length(int64_t record, int field) const;
  std::vector<int32_t> get(int64_t record, int field) const;

 private:
  const uint32_t* lengths() const;
  MappedFile file_;
  int fields_ = 0;
  int width_ = 2;
  std::vector<uint64_t> starts_;  // token offset of each record's first field; back() = total
};

// ---------------------------------------------------------------- writers

struct ShardWriterOptions {
  int64_t vocab_size = 0;                 // ids must be in [0, vocab_size); > 65536 -> uint32
  int64_t shard_tokens = 100'000'000;     // roll over to a new shard at this many tokens
  bool with_mask = false;                 // also write NAME.mask.bin beside each NAME.bin
};

// Writes DIR/PREFIX_000000.bin, DIR/PREFIX_000001.bin, ... A shard holds at most
// shard_tokens tokens; a document that does not fit in the current shard starts a new one,
// and only a document longer than shard_tokens is split (into full shards plus a rest).
// Tokens stream to NAME.tmp, renamed to NAME when the shard is complete. The destructor
// removes the .tmp files of a writer that was never finished.
class ShardWriter {
 public:
  ShardWriter(const std::string& dir, const std::string& prefix, ShardWriterOptions options);
  ~ShardWriter();
  ShardWriter(const ShardWriter&) = delete;
  ShardWriter& operator=(const ShardWriter&) = delete;

  // One document. With with_mask, mask is one 0/1 byte per token (empty = all 1); without, it
  // must be empty. UserError: an id outside [0, vocab_size), a mask byte other than 0 or 1.
  void add(std::span<const int32_t> tokens, std::span<const uint8_t> mask = {});
  void finish();  // completes the last shard; no more add()

  const std::vector<std::string>& files() const { return files_; }  // completed token shards
  int64_t tokens_written() const { return tokens_written_; }

 private:
  void open_shard();
  void close_shard();
  void write_chunk(std::span<const int32_t> tokens, std::span<const uint8_t> mask);
  std::string dir_, prefix_;
  std::string pattern_;  // DIR/PREFIX_*.bin, for messages
  ShardWriterOptions opt_;
  int width_;
  std::FILE* tok_ = nullptr;
  std::FILE* mask_ = nullptr;
  std::string tok_path_, mask_path_;  // final names of the open shard
  int64_t in_shard_ = 0;              // tokens in the open shard
  int64_t tokens_written_ = 0;
  bool finished_ = false;
  std::vector<std::string> files_;
  std::vector<uint8_t> scratch_;
};

enum class RecordShardKind { preference, prompt };

// Writes one record shard at PATH (DIR/NAME.bin): preference pairs (F = 3) or RL prompts
// (F = 1, with each prompt's reference answer in DIR/NAME.answers.jsonl, line i =
// {"answer": "..."} of record i). Tokens stream to PATH.tokens.tmp; finish() writes header +
// length table + tokens to PATH.tmp and renames it (then the sidecar, the same way).
class RecordShardWriter {
 public:
  RecordShardWriter(const std::string& path, RecordShardKind kind, int64_t vocab_size);
  ~RecordShardWriter();
  RecordShardWriter(const RecordShardWriter&) = delete;
  RecordShardWriter& operator=(const RecordShardWriter&) = delete;

  void add_preference(std::span<const int32_t> prompt, std::span<const int32_t> chosen,
                      std::span<const int32_t> rejected);                 // kind preference
  void add_prompt(std::span<const int32_t> prompt, const std::string& answer);  // kind prompt
  void finish();

  int64_t records() const { return (int64_t)lengths_.size() / fields_; }
  const std::string& path() const { return path_; }

 private:
  void add_field(std::span<const int32_t> tokens);
  std::string path_;
  RecordShardKind kind_;
  int fields_;
  int64_t vocab_size_;
  int width_;
  std::FILE* tokens_ = nullptr;  // PATH.tokens.tmp
  std::vector<uint32_t> lengths_;
  std::string answers_;  // JSONL of the prompt kind
  bool finished_ = false;
  std::vector<uint8_t> scratch_;
};

}  // namespace gptcu
