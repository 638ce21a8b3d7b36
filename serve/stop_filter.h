// serve/stop_filter.h: OpenAI's `stop` strings over streamed text.
//
//   StopFilter stop({"\n\n", "END"});
//   for (piece : pieces) { send(stop.push(piece)); if (stop.stopped()) break; }
//   send(stop.finish());
//
// The reply ends just before the first stop string and never contains it. Since a stop string
// may arrive split over several pieces, push() holds back the longest tail of the text that is
// the beginning of some stop string, and releases it once it can no longer become one. So the
// released text, concatenated, is exactly the full text cut at the first stop string.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace gptcu {

class StopFilter {
 public:
  explicit StopFilter(std::vector<std::string> stops);  // Error on an empty stop string

  // Appends generated text; returns what may be released now. Once a stop string has shown up,
  // stopped() is true and push() returns nothing more.
  std::string push(std::string_view text);
  // The held-back tail (the generation ended without a stop string); then empty.
  std::string finish();
  bool stopped() const { return stopped_; }

 private:
  std::vector<std::string> stops_;
  std::string held_;  // text not released yet
  bool stopped_ = false;
};

}  // namespace gptcu
