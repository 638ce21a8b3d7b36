// data/gzip_reader.h: reading a file that may be gzip-compressed, in chunks or line by line.
//
//   InputFile in(path);             // UserError: missing or unreadable file
//   LineReader lines(in);
//   std::string line;
//   while (lines.next(line)) ...    // line without its '\n'; lines.line_number() is 1-based
//
// Compression is detected from the first two bytes (1f 8b), not from the file name, so a
// .gz file that is not compressed and a compressed file without .gz both read correctly.
// Concatenated gzip members (as `cat a.gz b.gz` makes) are read one after another. The file
// is streamed through 64 KiB buffers: memory does not grow with its size. A truncated or
// corrupt gzip stream is a UserError naming the file.
#pragma once
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace gptcu {

class InputFile {
 public:
  explicit InputFile(const std::string& path);
  ~InputFile();
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  // Up to n uncompressed bytes into buf; 0 only at the end of the data.
  size_t read(char* buf, size_t n);
  const std::string& path() const { return path_; }
  bool gzip() const { return gzip_; }
  int64_t bytes() const { return bytes_; }  // uncompressed bytes returned so far

 private:
  size_t read_raw(char* buf, size_t n);  // from the file itself (UserError on a read error)
  std::string path_;
  std::FILE* file_ = nullptr;
  bool gzip_ = false;
  int64_t bytes_ = 0;
  struct Inflater;
  std::unique_ptr<Inflater> z_;
  std::vector<char> peeked_;  // the magic bytes read to detect gzip, served first when plain
};

class LineReader {
 public:
  explicit LineReader(InputFile& in) : in_(in), buf_(1 << 16) {}
  // The next line without its '\n' ('\r' is kept). A last line without '\n' is still a line;
  // an empty file has no lines.
  bool next(std::string& line);
  int64_t line_number() const { return line_; }

 private:
  InputFile& in_;
  std::vector<char> buf_;
  size_t pos_ = 0, end_ = 0;
  int64_t line_ = 0;
  bool eof_ = false;
};

// The whole (uncompressed) content of a file; for formats that need it at once (YAML).
std::string read_all(InputFile& in);

}  // namespace gptcu
