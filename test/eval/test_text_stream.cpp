// test/eval/test_text_stream.cpp: incremental UTF-8-safe detokenisation.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "eval/text_stream.h"

using namespace gptcu;

namespace {
const std::string kFffd = "\xEF\xBF\xBD";
bool valid_utf8(const std::string& s) { return utf8_sanitize(s) == s; }
}  // namespace

TEST_CASE("utf8_complete_prefix and utf8_sanitize", "[text_stream]") {
  CHECK(utf8_complete_prefix("abc") == 3);
  CHECK(utf8_complete_prefix("a\xE4\xB8") == 1);           // 世 = E4 B8 96, two bytes so far
  CHECK(utf8_complete_prefix("a\xE4\xB8\x96") == 4);
  CHECK(utf8_complete_prefix("\xF0\x9F\x99") == 0);        // 🙂 = F0 9F 99 82
  CHECK(utf8_complete_prefix("x\xE4\x41") == 3);           // not a continuation: not held
  CHECK(utf8_complete_prefix("x\x80") == 2);               // a stray continuation: not held
  CHECK(utf8_complete_prefix("x\xE0\x80") == 3);           // E0 80 can only be overlong
  CHECK(utf8_sanitize("h\xC3\xA9llo \xE4\xB8\x96") == "h\xC3\xA9llo \xE4\xB8\x96");
  CHECK(utf8_sanitize("a\x80" "b") == "a" + kFffd + "b");
  CHECK(utf8_sanitize("\xC0\xAF") == kFffd + kFffd);       // overlong '/'
  CHECK(utf8_sanitize("\xED\xA0\x80") == kFffd + kFffd + kFffd);  // a surrogate
  CHECK(utf8_sanitize("\xE4\xB8") == kFffd + kFffd);       // incomplete at the end
}

TEST_CASE("TextStream holds back an incomplete character until it completes", "[text_stream]") {
  const BpeTokenizer tok = BpeTokenizer::bytes();  // one token per byte
  const std::string text = "h\xC3\xA9 \xE4\xB8\x96\xE7\x95\x8C \xF0\x9F\x99\x82!";  // "hé 世界 🙂!"
  TextStream stream(tok);
  std::vector<std::string> pieces;
  for (int32_t id : tok.encode(text)) pieces.push_back(stream.push(id));
  CHECK(stream.finish().empty());
  std::string joined;
  for (const std::string& p : pieces) {
    CHECK(valid_utf8(p));
    joined += p;
  }
  CHECK(joined == text);
  REQUIRE(pieces.size() == text.size());
  CHECK(pieces[1].empty());                 // first byte of é
  CHECK(pieces[2] == "\xC3\xA9");
  CHECK((pieces[4].empty() && pieces[5].empty()));
  CHECK(pieces[6] == "\xE4\xB8\x96");       // 世 arrives whole
  CHECK(pieces[14] == "\xF0\x9F\x99\x82");  // 🙂 too
  // specials decode to their text; invalid bytes come out replaced, at once
  TextStream s2(tok);
  CHECK(s2.push(tok.eot()) == "<|endoftext|>");
  CHECK(s2.push(0x80) == kFffd);
  CHECK(s2.push(0xE4).empty());
  CHECK(s2.push('A') == kFffd + "A");       // E4 then 'A': the lead byte can never complete
  CHECK(s2.push(0xE4).empty());
  CHECK(s2.finish() == kFffd);              // the generation ended mid-character
  CHECK(s2.finish().empty());
}
