// data/shard.cpp
#include "data/shard.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/check.h"

namespace gptcu {

static_assert(std::endian::native == std::endian::little, "shards are little-endian; so is every supported host");

namespace {

constexpr int32_t kLlmcLlama3Magic = 20240801;  // llm.c's Llama-3 shards: uint32 tokens
constexpr int32_t kLlmcLlama3Version = 7;
using Header = std::array<int32_t, kShardHeaderInts>;

const char* version_name(int32_t v) {
  switch (v) {
    case kShardTokensU16: return "a uint16 token shard";
    case kShardTokensU32: return "a uint32 token shard";
    case kShardMask: return "a loss-mask shard";
    case kShardRecords: return "a record shard";
    default: return "an unknown kind";
  }
}

// The header of a mapped shard after the checks every kind shares (size, magic). Returns the
// version, with llm.c's Llama-3 layout reported as kShardTokensU32.
int32_t read_header(const MappedFile& f, Header& h) {
  GPTCU_USER_CHECK(f.size() >= kShardHeaderBytes, "shard '", f.path(), "' has ", f.size(),
                   " bytes, fewer than the ", kShardHeaderBytes, "-byte header (truncated, or not a shard)");
  std::memcpy(h.data(), f.data(), kShardHeaderBytes);
  const bool llama3 = h[0] == kLlmcLlama3Magic && h[1] == kLlmcLlama3Version;
  GPTCU_USER_CHECK(h[0] == kShardMagic || llama3, "'", f.path(), "' is not a shard: magic number ", h[0],
                   ", expected ", kShardMagic);
  GPTCU_USER_CHECK(h[2] >= 0, "shard '", f.path(), "' has a negative count ", h[2], " in its header");
  return llama3 ? kShardTokensU32 : h[1];
}

void check_version(const MappedFile& f, int32_t version, std::initializer_list<int32_t> wanted, const char* want) {
  const bool ok = std::find(wanted.begin(), wanted.end(), version) != wanted.end();
  GPTCU_USER_CHECK(ok, "shard '", f.path(), "' is ", version_name(version), " (version ", version,
                   "), expected ", want);
}

void check_size(const MappedFile& f, uint64_t expected, const char* what) {
  GPTCU_USER_CHECK(f.size() >= expected, "shard '", f.path(), "' is truncated: its header announces ", what,
                   " (", expected, " bytes with the header) but the file has ", f.size());
  GPTCU_USER_CHECK(f.size() == expected, "shard '", f.path(), "' has ", f.size(), " bytes, more than the ",
                   expected, " its header announces (", what, ")");
}

void write_all(std::FILE* f, const void* p, size_t bytes, const std::string& path) {
  if (bytes == 0) return;  // p may be null (an empty vector's data())
  GPTCU_USER_CHECK(std::fwrite(p, 1, bytes, f) == bytes, "cannot write '", path, "': ", std::strerror(errno));
}

std::FILE* open_write(const std::string& path, const char* mode) {
  std::FILE* f = std::fopen(path.c_str(), mode);
  GPTCU_USER_CHECK(f != nullptr, "cannot create '", path, "': ", std::strerror(errno));
  return f;
}

// Flush, fsync and close a completed temporary file, then rename it to its final name.
void commit(std::FILE* f, const std::string& tmp, const std::string& path) {
  const bool ok = std::fflush(f) == 0 && ::fsync(fileno(f)) == 0;
  const int err = errno;
  std::fclose(f);
  GPTCU_USER_CHECK(ok, "cannot write '", tmp, "': ", std::strerror(err));
  GPTCU_USER_CHECK(std::rename(tmp.c_str(), path.c_str()) == 0, "cannot rename '", tmp, "' to '", path,
                   "': ", std::strerror(errno));
}

// UserError on an id outside [0, vocab), checked before any byte of a document is written.
void check_ids(std::span<const int32_t> tokens, int64_t vocab, const std::string& path) {
  for (size_t i = 0; i < tokens.size(); i++)
    GPTCU_USER_CHECK(tokens[i] >= 0 && tokens[i] < vocab, "token id ", tokens[i], " (at ", i,
                     " of a document) is outside the vocabulary [0, ", vocab, ") while writing '", path, "'");
}

// Narrow checked ids to the shard's width, in scratch.
void encode_tokens(std::span<const int32_t> tokens, int width, std::vector<uint8_t>& scratch) {
  scratch.resize(tokens.size() * (size_t)width);
  if (width == 2) {
    uint16_t* out = reinterpret_cast<uint16_t*>(scratch.data());
    for (size_t i = 0; i < tokens.size(); i++) out[i] = (uint16_t)tokens[i];
  } else {
    std::memcpy(scratch.data(), tokens.data(), tokens.size() * 4);  // non-negative int32 == uint32
  }
}

std::string strip_bin(const std::string& path) {
  return path.size() > 4 && path.ends_with(".bin") ? path.substr(0, path.size() - 4) : path;
}

}  // namespace

int token_width_for(int64_t vocab_size) { return vocab_size <= 65536 ? 2 : 4; }
std::string mask_path_for(const std::string& p) { return strip_bin(p) + ".mask.bin"; }
std::string answers_path_for(const std::string& p) { return strip_bin(p) + ".answers.jsonl"; }

// ---------------------------------------------------------------- MappedFile

MappedFile::MappedFile(const std::string& path) : path_(path) {
  std::error_code ec;
  GPTCU_USER_CHECK(!std::filesystem::is_directory(path, ec), "shard path '", path, "' is a directory, not a file");
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  GPTCU_USER_CHECK(fd >= 0, "shard '", path, "' cannot be opened: ", std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    user_error("shard '", path, "' cannot be read: ", std::strerror(err));
  }
  size_ = (size_t)st.st_size;
  if (size_ > 0) {  // mmap of 0 bytes is an error; an empty file fails the header check instead
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_SHARED, fd, 0);
    const int err = errno;
    ::close(fd);
    GPTCU_USER_CHECK(p != MAP_FAILED, "shard '", path, "' cannot be mapped: ", std::strerror(err));
    data_ = static_cast<const uint8_t*>(p);
  } else {
    ::close(fd);
  }
}

void MappedFile::advise_random() const {
  if (data_) ::madvise(const_cast<uint8_t*>(data_), size_, MADV_RANDOM);  // advice only: failure is harmless
}

MappedFile::~MappedFile() {
  if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
}

MappedFile::MappedFile(MappedFile&& o) noexcept
    : path_(std::move(o.path_)), data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}

MappedFile& MappedFile::operator=(MappedFile&& o) noexcept {
  if (this != &o) {
    if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
    path_ = std::move(o.path_);
    data_ = std::exchange(o.data_, nullptr);
    size_ = std::exchange(o.size_, 0);
  }
  return *this;
}

// ---------------------------------------------------------------- readers

TokenShard::TokenShard(const std::string& path) : file_(path) {
  Header h;
  const int32_t version = read_header(file_, h);
  check_version(file_, version, {kShardTokensU16, kShardTokensU32}, "a token shard (version 1 or 2)");
  width_ = version == kShardTokensU16 ? 2 : 4;
  count_ = h[2];
  check_size(file_, kShardHeaderBytes + (uint64_t)count_ * width_,
             detail::concat(count_, " tokens of ", width_, " bytes").c_str());
}

int32_t TokenShard::operator[](int64_t i) const {
  GPTCU_CHECK(i >= 0 && i < count_, "token ", i, " of ", count_, " in ", path());
  const uint8_t* p = file_.data() + kShardHeaderBytes;
  return width_ == 2 ? (int32_t)reinterpret_cast<const uint16_t*>(p)[i]
                     : (int32_t)reinterpret_cast<const uint32_t*>(p)[i];
}

void TokenShard::copy(int64_t begin, int64_t n, int32_t* out) const {
  GPTCU_CHECK(begin >= 0 && n >= 0 && begin + n <= count_, "tokens [", begin, ", ", begin + n, ") of ", count_,
              " in ", path());
  const uint8_t* p = file_.data() + kShardHeaderBytes;
  if (width_ == 2) {
    const uint16_t* src = reinterpret_cast<const uint16_t*>(p) + begin;
    for (int64_t i = 0; i < n; i++) out[i] = src[i];
  } else {
    std::memcpy(out, reinterpret_cast<const uint32_t*>(p) + begin, (size_t)n * 4);
  }
}

MaskShard::MaskShard(const std::string& path) : file_(path) {
  Header h;
  const int32_t version = read_header(file_, h);
  check_version(file_, version, {kShardMask}, "a loss-mask shard (version 3)");
  count_ = h[2];
  check_size(file_, kShardHeaderBytes + (uint64_t)count_, detail::concat(count_, " mask bytes").c_str());
}

uint8_t MaskShard::operator[](int64_t i) const {
  GPTCU_CHECK(i >= 0 && i < count_, "mask byte ", i, " of ", count_, " in ", path());
  return file_.data()[kShardHeaderBytes + (size_t)i];
}

void MaskShard::copy(int64_t begin, int64_t n, uint8_t* out) const {
  GPTCU_CHECK(begin >= 0 && n >= 0 && begin + n <= count_, "mask [", begin, ", ", begin + n, ") of ", count_,
              " in ", path());
  std::memcpy(out, file_.data() + kShardHeaderBytes + begin, (size_t)n);
}

RecordShard::RecordShard(const std::string& path) : file_(path) {
  Header h;
  const int32_t version = read_header(file_, h);
  check_version(file_, version, {kShardRecords}, "a record shard (version 4)");
  const int64_t records = h[2];
  fields_ = h[3];
  width_ = h[4];
  GPTCU_USER_CHECK(fields_ >= 1, "record shard '", path, "' has ", fields_, " fields per record in its header");
  GPTCU_USER_CHECK(width_ == 2 || width_ == 4, "record shard '", path, "' has token width ", width_,
                   " in its header, expected 2 or 4");
  const uint64_t table = (uint64_t)records * fields_ * 4;
  GPTCU_USER_CHECK(file_.size() >= kShardHeaderBytes + table, "shard '", path, "' is truncated: its header announces ",
                   records, " records of ", fields_, " fields, a ", table, "-byte length table, but the file has ",
                   file_.size(), " bytes");
  starts_.resize((size_t)records + 1);
  const uint32_t* len = lengths();
  uint64_t total = 0;
  for (int64_t r = 0; r < records; r++) {
    starts_[(size_t)r] = total;
    for (int f = 0; f < fields_; f++) total += len[r * fields_ + f];
  }
  starts_.back() = total;
  check_size(file_, kShardHeaderBytes + table + total * (uint64_t)width_,
             detail::concat(records, " records, ", total, " tokens of ", width_, " bytes").c_str());
}

const uint32_t* RecordShard::lengths() const {
  return reinterpret_cast<const uint32_t*>(file_.data() + kShardHeaderBytes);
}

int64_t RecordShard::length(int64_t record, int field) const {
  GPTCU_CHECK(record >= 0 && record < size() && field >= 0 && field < fields_, "record ", record, " field ", field,
              " of ", size(), " x ", fields_, " in ", path());
  return lengths()[record * fields_ + field];
}

std::vector<int32_t> RecordShard::get(int64_t record, int field) const {
  const int64_t n = length(record, field);
  uint64_t start = starts_[(size_t)record];
  for (int f = 0; f < field; f++) start += lengths()[record * fields_ + f];
  const uint8_t* p = file_.data() + kShardHeaderBytes + (size_t)size() * fields_ * 4 + start * width_;
  std::vector<int32_t> out((size_t)n);
  if (width_ == 2) {
    const uint16_t* src = reinterpret_cast<const uint16_t*>(p);
    for (int64_t i = 0; i < n; i++) out[(size_t)i] = src[i];
  } else {
    std::memcpy(out.data(), p, (size_t)n * 4);
  }
  return out;
}

// ---------------------------------------------------------------- ShardWriter

ShardWriter::ShardWriter(const std::string& dir, const std::string& prefix, ShardWriterOptions options)
    : dir_(dir),
      prefix_(prefix),
      pattern_((std::filesystem::path(dir) / (prefix + "_*.bin")).string()),
      opt_(options),
      width_(token_width_for(options.vocab_size)) {
  GPTCU_USER_CHECK(opt_.vocab_size > 0 && opt_.vocab_size <= ((int64_t)1 << 31),
                   "shard writer: vocab_size ", opt_.vocab_size, " must be in [1, 2^31]");
  GPTCU_USER_CHECK(opt_.shard_tokens > 0 && opt_.shard_tokens <= std::numeric_limits<int32_t>::max(),
                   "shard writer: shard_tokens ", opt_.shard_tokens, " must be in [1, 2^31 - 1] (llm.c's int32 count)");
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  GPTCU_USER_CHECK(!ec, "cannot create directory '", dir_, "': ", ec.message());
}

ShardWriter::~ShardWriter() {
  // An unfinished writer (an exception, or no finish()) leaves no partial shard behind.
  if (tok_) {
    std::fclose(tok_);
    std::remove((tok_path_ + ".tmp").c_str());
  }
  if (mask_) {
    std::fclose(mask_);
    std::remove((mask_path_ + ".tmp").c_str());
  }
}

void ShardWriter::open_shard() {
  char name[32];
  std::snprintf(name, sizeof name, "_%06zu.bin", files_.size());
  tok_path_ = (std::filesystem::path(dir_) / (prefix_ + name)).string();
  const Header placeholder{};  // magic 0 until the shard is complete
  tok_ = open_write(tok_path_ + ".tmp", "wb");
  write_all(tok_, placeholder.data(), kShardHeaderBytes, tok_path_ + ".tmp");
  if (opt_.with_mask) {
    mask_path_ = mask_path_for(tok_path_);
    mask_ = open_write(mask_path_ + ".tmp", "wb");
    write_all(mask_, placeholder.data(), kShardHeaderBytes, mask_path_ + ".tmp");
  }
  in_shard_ = 0;
}

void ShardWriter::close_shard() {
  if (!tok_) return;
  Header h{};
  h[0] = kShardMagic;
  h[2] = (int32_t)in_shard_;
  // the mask first, so that a token shard that exists always has its mask beside it
  if (mask_) {
    h[1] = kShardMask;
    std::rewind(mask_);
    write_all(mask_, h.data(), kShardHeaderBytes, mask_path_ + ".tmp");
    commit(std::exchange(mask_, nullptr), mask_path_ + ".tmp", mask_path_);
  }
  h[1] = width_ == 2 ? kShardTokensU16 : kShardTokensU32;
  std::rewind(tok_);
  write_all(tok_, h.data(), kShardHeaderBytes, tok_path_ + ".tmp");
  commit(std::exchange(tok_, nullptr), tok_path_ + ".tmp", tok_path_);
  files_.push_back(tok_path_);
  in_shard_ = 0;
}

void ShardWriter::write_chunk(std::span<const int32_t> tokens, std::span<const uint8_t> mask) {
  encode_tokens(tokens, width_, scratch_);
  write_all(tok_, scratch_.data(), scratch_.size(), tok_path_ + ".tmp");
  if (mask_) {
    if (mask.empty()) {
      scratch_.assign(tokens.size(), 1);
      mask = scratch_;
    }
    write_all(mask_, mask.data(), mask.size(), mask_path_ + ".tmp");
  }
  in_shard_ += (int64_t)tokens.size();
  tokens_written_ += (int64_t)tokens.size();
}

void ShardWriter::add(std::span<const int32_t> tokens, std::span<const uint8_t> mask) {
  GPTCU_CHECK(!finished_, "ShardWriter::add after finish()");
  check_ids(tokens, opt_.vocab_size, pattern_);
  GPTCU_CHECK(mask.empty() || (opt_.with_mask && mask.size() == tokens.size()), "mask of ", mask.size(),
              " bytes for ", tokens.size(), " tokens (with_mask ", opt_.with_mask, ")");
  for (size_t i = 0; i < mask.size(); i++)
    GPTCU_USER_CHECK(mask[i] <= 1, "loss mask byte ", (int)mask[i], " (at ", i,
                     " of a document) is not 0 or 1 while writing the masks of '", pattern_, "'");
  const int64_t n = (int64_t)tokens.size();
  if (in_shard_ > 0 && in_shard_ + n > opt_.shard_tokens) close_shard();  // keep the document whole
  for (int64_t pos = 0; pos < n;) {  // more than one pass only for a document longer than a shard
    if (!tok_) open_shard();
    const int64_t k = std::min(n - pos, opt_.shard_tokens - in_shard_);
    write_chunk(tokens.subspan((size_t)pos, (size_t)k), mask.empty() ? mask : mask.subspan((size_t)pos, (size_t)k));
    pos += k;
    if (in_shard_ == opt_.shard_tokens) close_shard();
  }
}

void ShardWriter::finish() {
  if (finished_) return;
  close_shard();
  finished_ = true;
}

// ---------------------------------------------------------------- RecordShardWriter

RecordShardWriter::RecordShardWriter(const std::string& path, RecordShardKind kind, int64_t vocab_size)
    : path_(path),
      kind_(kind),
      fields_(kind == RecordShardKind::preference ? kPreferenceFields : kPromptFields),
      vocab_size_(vocab_size),
      width_(token_width_for(vocab_size)) {
  GPTCU_USER_CHECK(vocab_size > 0 && vocab_size <= ((int64_t)1 << 31), "record writer: vocab_size ", vocab_size,
                   " must be in [1, 2^31]");
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    GPTCU_USER_CHECK(!ec, "cannot create directory '", parent.string(), "': ", ec.message());
  }
  tokens_ = open_write(path_ + ".tokens.tmp", "w+b");
}

RecordShardWriter::~RecordShardWriter() {
  if (tokens_) {
    std::fclose(tokens_);
    std::remove((path_ + ".tokens.tmp").c_str());
  }
}

void RecordShardWriter::add_field(std::span<const int32_t> tokens) {
  GPTCU_USER_CHECK(tokens.size() <= std::numeric_limits<uint32_t>::max(), "a field of ", tokens.size(),
                   " tokens is too long for '", path_, "'");
  encode_tokens(tokens, width_, scratch_);
  write_all(tokens_, scratch_.data(), scratch_.size(), path_ + ".tokens.tmp");
  lengths_.push_back((uint32_t)tokens.size());
}

void RecordShardWriter::add_preference(std::span<const int32_t> prompt, std::span<const int32_t> chosen,
                                       std::span<const int32_t> rejected) {
  GPTCU_CHECK(kind_ == RecordShardKind::preference && !finished_, "add_preference on ", path_);
  for (auto field : {prompt, chosen, rejected}) check_ids(field, vocab_size_, path_);
  add_field(prompt);
  add_field(chosen);
  add_field(rejected);
}

void RecordShardWriter::add_prompt(std::span<const int32_t> prompt, const std::string& answer) {
  GPTCU_CHECK(kind_ == RecordShardKind::prompt && !finished_, "add_prompt on ", path_);
  check_ids(prompt, vocab_size_, path_);
  add_field(prompt);
  answers_ += nlohmann::json{{"answer", answer}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  answers_ += '\n';
}

void RecordShardWriter::finish() {
  if (finished_) return;
  finished_ = true;
  GPTCU_USER_CHECK(records() <= std::numeric_limits<int32_t>::max(), "'", path_, "': ", records(),
                   " records do not fit llm.c's int32 count");
  if (kind_ == RecordShardKind::prompt) {  // the sidecar first: a record shard that exists has its answers
    const std::string answers = answers_path_for(path_);
    std::FILE* f = open_write(answers + ".tmp", "wb");
    write_all(f, answers_.data(), answers_.size(), answers + ".tmp");
    commit(f, answers + ".tmp", answers);
  }
  Header h{};
  h[0] = kShardMagic;
  h[1] = kShardRecords;
  h[2] = (int32_t)records();
  h[3] = fields_;
  h[4] = width_;
  std::FILE* out = open_write(path_ + ".tmp", "wb");
  write_all(out, h.data(), kShardHeaderBytes, path_ + ".tmp");
  write_all(out, lengths_.data(), lengths_.size() * 4, path_ + ".tmp");
  GPTCU_USER_CHECK(std::fflush(tokens_) == 0, "cannot write '", path_, ".tokens.tmp': ", std::strerror(errno));
  std::rewind(tokens_);
  std::vector<char> buf(1 << 20);
  for (size_t n; (n = std::fread(buf.data(), 1, buf.size(), tokens_)) > 0;)
    write_all(out, buf.data(), n, path_ + ".tmp");
  GPTCU_USER_CHECK(!std::ferror(tokens_), "cannot read back '", path_, ".tokens.tmp'");
  commit(out, path_ + ".tmp", path_);
  std::fclose(std::exchange(tokens_, nullptr));
  std::remove((path_ + ".tokens.tmp").c_str());
}

}  // namespace gptcu
