// data/progress.h: the progress line of long data jobs (reading, cleaning, tokenizing, training a
// tokenizer): done/total, rate and ETA, printed at most once a second and once at the end.
//
//   Progress p(std::cout, "tokenize", total_bytes, "MB", 1e6);
//   for (...) p.update(done_bytes);
//   p.finish();   // "tokenize: 12.3/12.3 MB (100%) | 4.1 MB/s | 3.0 s"
#pragma once
#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <string>

namespace gptcu {

class Progress {
 public:
  // Amounts are shown divided by `scale` in `unit` (e.g. bytes as "MB" with scale 1e6).
  // total <= 0: unknown (no percentage or ETA).
  Progress(std::ostream& log, std::string what, double total, std::string unit, double scale = 1.0);
  void update(double done);  // prints when a second has passed since the last line
  void finish();             // the final line (once)
  double seconds() const;

 private:
  void print(bool final);
  std::ostream& log_;
  std::string what_, unit_;
  double total_, scale_, done_ = 0;
  std::chrono::steady_clock::time_point start_, last_;
  bool finished_ = false;
};

}  // namespace gptcu
