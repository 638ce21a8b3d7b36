// data/byte_tokenizer.cpp
#include "data/byte_tokenizer.h"

#include "core/check.h"

namespace gptcu {

std::vector<int32_t> ByteTokenizer::encode(std::string_view text) const {
  std::vector<int32_t> ids(text.size());
  for (size_t i = 0; i < text.size(); i++) ids[i] = (int32_t)(uint8_t)text[i];
  return ids;
}

std::string ByteTokenizer::decode(const std::vector<int32_t>& ids) const {
  std::string out;
  out.reserve(ids.size());
  for (int32_t id : ids) {
    if (id >= 0 && id < 256)
      out.push_back((char)(uint8_t)id);
    else if (id == kEndOfText)
      out += "<|endoftext|>";
    else
      user_error("byte tokenizer: cannot decode token id ", id);
  }
  return out;
}

}  // namespace gptcu
