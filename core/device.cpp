// core/device.cpp: parsing device names.
#include <string>

#include "core/check.h"
#include "core/dtype.h"

namespace gptcu {

Device Device::parse(const std::string& s) {
  if (s == "cpu") return Device{cpu, 0};
  if (s == "cuda") return Device{cuda, 0};
  if (s.rfind("cuda:", 0) == 0) {
    const std::string idx = s.substr(5);
    if (!idx.empty() && idx.find_first_not_of("0123456789") == std::string::npos && idx.size() < 4)
      return Device{cuda, std::stoi(idx)};
  }
  user_error("unknown device '", s, "' (expected cpu, cuda or cuda:N)");
}

}  // namespace gptcu
