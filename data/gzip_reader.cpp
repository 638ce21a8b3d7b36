// data/gzip_reader.cpp: plain or gzip input through zlib's inflate (see gzip_reader.h).
#include "data/gzip_reader.h"

#include <zlib.h>

#include <cerrno>
#include <cstring>

#include "core/check.h"

namespace gptcu {

struct InputFile::Inflater {
  z_stream zs{};
  std::vector<unsigned char> in = std::vector<unsigned char>(1 << 16);
  bool stream_end = false;  // the current member ended; another may follow
  ~Inflater() { inflateEnd(&zs); }
};

InputFile::InputFile(const std::string& path) : path_(path) {
  file_ = std::fopen(path.c_str(), "rb");
  GPTCU_USER_CHECK(file_ != nullptr, "cannot open ", path, ": ", std::strerror(errno));
  unsigned char magic[2];
  const size_t got = read_raw(reinterpret_cast<char*>(magic), 2);
  gzip_ = got == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
  if (!gzip_) {
    peeked_.assign(magic, magic + got);
    return;
  }
  z_ = std::make_unique<Inflater>();
  GPTCU_CHECK(inflateInit2(&z_->zs, 15 + 16) == Z_OK, "inflateInit2 failed");  // 15 + 16: gzip
  z_->in[0] = magic[0], z_->in[1] = magic[1];
  z_->zs.next_in = z_->in.data();
  z_->zs.avail_in = 2;
}

InputFile::~InputFile() {
  if (file_) std::fclose(file_);
}

size_t InputFile::read_raw(char* buf, size_t n) {
  const size_t got = std::fread(buf, 1, n, file_);
  GPTCU_USER_CHECK(got == n || !std::ferror(file_), "cannot read ", path_, ": ", std::strerror(errno));
  return got;
}

size_t InputFile::read(char* buf, size_t n) {
  if (n == 0) return 0;
  if (!gzip_) {
    size_t got = 0;
    if (!peeked_.empty()) {
      got = std::min(n, peeked_.size());
      std::memcpy(buf, peeked_.data(), got);
      peeked_.erase(peeked_.begin(), peeked_.begin() + (std::ptrdiff_t)got);
    }
    got += read_raw(buf + got, n - got);
    bytes_ += (int64_t)got;
    return got;
  }
  z_stream& zs = z_->zs;
  zs.next_out = reinterpret_cast<unsigned char*>(buf);
  zs.avail_out = (uInt)n;
  while (zs.avail_out == n) {  // until some output
    if (zs.avail_in == 0) {
      zs.avail_in = (uInt)read_raw(reinterpret_cast<char*>(z_->in.data()), z_->in.size());
      zs.next_in = z_->in.data();
      if (zs.avail_in == 0) {
        GPTCU_USER_CHECK(z_->stream_end, path_, ": truncated gzip stream (unexpected end of file)");
        break;  // the end of the last member
      }
    }
    if (z_->stream_end) {  // more data after a member: the next member
      GPTCU_USER_CHECK(inflateReset(&zs) == Z_OK, path_, ": corrupt gzip stream");
      z_->stream_end = false;
    }
    const int rc = inflate(&zs, Z_NO_FLUSH);
    if (rc == Z_STREAM_END) {
      z_->stream_end = true;
    } else {
      GPTCU_USER_CHECK(rc == Z_OK || rc == Z_BUF_ERROR, path_, ": corrupt gzip stream (",
                       zs.msg ? zs.msg : "inflate error", ")");
    }
  }
  const size_t got = n - zs.avail_out;
  bytes_ += (int64_t)got;
  return got;
}

bool LineReader::next(std::string& line) {
  line.clear();
  bool any = false;
  for (;;) {
    if (pos_ == end_) {
      if (eof_) break;
      end_ = in_.read(buf_.data(), buf_.size());
      pos_ = 0;
      if (end_ == 0) {
        eof_ = true;
        break;
      }
    }
    any = true;
    const char* start = buf_.data() + pos_;
    const void* nl = std::memchr(start, '\n', end_ - pos_);
    if (nl) {
      const size_t len = (size_t)(static_cast<const char*>(nl) - start);
      line.append(start, len);
      pos_ += len + 1;
      line_++;
      return true;
    }
    line.append(start, end_ - pos_);
    pos_ = end_;
  }
  if (!any) return false;
  line_++;
  return true;
}

std::string read_all(InputFile& in) {
  std::string out;
  std::vector<char> buf(1 << 16);
  while (const size_t got = in.read(buf.data(), buf.size())) out.append(buf.data(), got);
  return out;
}

}  // namespace gptcu
