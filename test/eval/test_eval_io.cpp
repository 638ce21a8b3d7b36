// test/eval/test_eval_io.cpp: result files survive model text that is not valid UTF-8.
#include <catch2/catch.hpp>

#include "eval/eval_io.h"

using namespace gptcu;

TEST_CASE("json_text: a reply cut inside a UTF-8 character is written with U+FFFD", "[eval_io]") {
  // "你" is E4 BD A0; a reply cut after two of its bytes, as max_new_tokens can leave it
  const nlohmann::json j = {{"reply", std::string("ok \xE4\xBD")}, {"accuracy", 0.5}};
  CHECK_THROWS(j.dump());  // what the result writer used to do
  const std::string text = json_text(j);
  const nlohmann::json back = nlohmann::json::parse(text);
  CHECK(back["reply"] == "ok \xEF\xBF\xBD");
  CHECK(back["accuracy"] == 0.5);
  CHECK(text.back() == '\n');
}
