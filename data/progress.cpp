// data/progress.cpp
#include "data/progress.h"

#include <cstdio>
#include <ostream>

namespace gptcu {

namespace {
std::string format_seconds(double s) {
  char buf[32];
  if (s < 60) std::snprintf(buf, sizeof buf, "%.1f s", s);
  else if (s < 3600) std::snprintf(buf, sizeof buf, "%dm%02ds", (int)s / 60, (int)s % 60);
  else std::snprintf(buf, sizeof buf, "%dh%02dm", (int)s / 3600, ((int)s / 60) % 60);
  return buf;
}
}  // namespace

Progress::Progress(std::ostream& log, std::string what, double total, std::string unit, double scale)
    : log_(log), what_(std::move(what)), unit_(std::move(unit)), total_(total), scale_(scale) {
  start_ = last_ = std::chrono::steady_clock::now();
}

double Progress::seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Progress::update(double done) {
  done_ = done;
  const auto now = std::chrono::steady_clock::now();
  if (std::chrono::duration<double>(now - last_).count() >= 1.0) {
    last_ = now;
    print(false);
  }
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  print(true);
}

void Progress::print(bool final) {
  const double t = seconds();
  const double rate = t > 0 ? done_ / t : 0;
  char buf[256];
  int n = std::snprintf(buf, sizeof buf, "%s: %.4g", what_.c_str(), done_ / scale_);
  if (total_ > 0)
    n += std::snprintf(buf + n, sizeof buf - n, "/%.4g %s (%.0f%%)", total_ / scale_, unit_.c_str(),
                       100.0 * done_ / total_);
  else
    n += std::snprintf(buf + n, sizeof buf - n, " %s", unit_.c_str());
  n += std::snprintf(buf + n, sizeof buf - n, " | %.3g %s/s", rate / scale_, unit_.c_str());
  log_ << buf << " | ";
  if (final) log_ << format_seconds(t);
  else if (total_ > 0 && rate > 0) log_ << "ETA " << format_seconds((total_ - done_) / rate);
  else log_ << format_seconds(t);
  log_ << std::endl;
}

}  // namespace gptcu
