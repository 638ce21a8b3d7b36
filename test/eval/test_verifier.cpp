// test/eval/test_verifier.cpp: answer extraction, normalisation and the exact-match / GSM8K
// verifiers of eval/verifier.h, by hand; and on the GSM8K test set when GPTCU_DATA_DIR is set.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "data/records.h"
#include "data/synthetic.h"
#include "eval/verifier.h"

using namespace gptcu;

TEST_CASE("normalize_answer: whitespace, trailing stop, numbers", "[verifier]") {
  CHECK(normalize_answer("  47 ") == "47");
  CHECK(normalize_answer("\t hello \n  world\r\n") == "hello world");
  CHECK(normalize_answer("a\xE3\x80\x80\xC2\xA0 b") == "a b");  // ideographic and no-break spaces
  CHECK(normalize_answer("tac.") == "tac");
  CHECK(normalize_answer("tac。") == "tac");
  CHECK(normalize_answer("tac . ") == "tac");
  CHECK(normalize_answer("1,234") == "1234");
  CHECK(normalize_answer("1,234,567.") == "1234567");
  CHECK(normalize_answer("+12") == "12");
  CHECK(normalize_answer("007") == "7");
  CHECK(normalize_answer("0") == "0");
  CHECK(normalize_answer("12.0") == "12");
  CHECK(normalize_answer("12.50") == "12.5");
  CHECK(normalize_answer("-0.0") == "0");
  CHECK(normalize_answer("-05") == "-5");
  CHECK(normalize_answer("3.14") == "3.14");
  // not numbers: left as they are
  CHECK(normalize_answer("1,23") == "1,23");
  CHECK(normalize_answer("1234,567") == "1234,567");
  CHECK(normalize_answer("12a") == "12a");
  CHECK(normalize_answer("CAT") == "CAT");  // case kept
  CHECK(normalize_answer("") == "");
  CHECK(normalize_answer(" 。") == "");
}

TEST_CASE("extract_answer: the text after the last ####, else all of it", "[verifier]") {
  CHECK(extract_answer("She sells 9 eggs.\nShe makes 9 * 2 = $18.\n#### 18") == "18");
  CHECK(extract_answer("#### 1 #### 1,234") == "1234");
  CHECK(extract_answer(" tac。 ") == "tac");
  CHECK(extract_answer("the answer is 5") == "the answer is 5");
}

TEST_CASE("exact_match: right answers in many spellings, wrong ones rejected", "[verifier]") {
  CHECK(exact_match("47", "47"));
  CHECK(exact_match(" 47.\n", "47"));
  CHECK(exact_match("1,234", "1234"));
  CHECK(exact_match("tac。", "tac"));
  CHECK(exact_match("reasoning... #### 18", "18"));
  CHECK(exact_match("18", "Janet sells 9 eggs... #### 18"));
  CHECK(exact_match("12.0", "12"));
  CHECK_FALSE(exact_match("48", "47"));
  CHECK_FALSE(exact_match("147", "47"));
  CHECK_FALSE(exact_match("47 48", "47"));
  CHECK_FALSE(exact_match("cat", "CAT"));
  CHECK_FALSE(exact_match("tca", "tac"));
  CHECK_FALSE(exact_match("", "47"));
  CHECK_FALSE(exact_match("", ""));  // an empty reference matches nothing
  CHECK_FALSE(exact_match("The answer is 47", "47"));  // exact: no searching inside the reply
}

TEST_CASE("gsm8k_match: the number after ####, or the last number of the reply", "[verifier]") {
  const std::string ref =
      "Janet sells 16 - 3 - 4 = <<16-3-4=9>>9 duck eggs a day.\n"
      "She makes 9 * 2 = $<<9*2=18>>18 every day at the farmer\xE2\x80\x99s market.\n#### 18";
  CHECK(gsm8k_match(ref, ref));
  CHECK(gsm8k_match("#### 18", ref));
  CHECK(gsm8k_match("She makes 9 * 2 = $18 a day.", ref));
  CHECK(gsm8k_match("So the answer is 18.", ref));
  CHECK(gsm8k_match("9*2 = 18.00 dollars", ref));
  CHECK(gsm8k_match("#### $18.", ref));
  CHECK(gsm8k_match("I think 17... no: #### 18 (not 19)", ref));  // the first number after ####
  CHECK_FALSE(gsm8k_match("She makes 18 - 1 = 17 dollars.", ref));  // the last number is 17
  CHECK_FALSE(gsm8k_match("#### 19", ref));
  CHECK_FALSE(gsm8k_match("18 #### 17", ref));
  CHECK_FALSE(gsm8k_match("eighteen", ref));  // no number at all
  CHECK_FALSE(gsm8k_match("18", "no number here"));
  CHECK(gsm8k_match("the total is 1,234 apples", "... #### 1234"));
  CHECK(gsm8k_match("it drops by -5 degrees", "#### -5"));
  CHECK(gsm8k_match("5-3=2", "#### 2"));  // "-3" here is a minus, not a sign
  CHECK_FALSE(gsm8k_match("x = 5-3", "#### -3"));
}

TEST_CASE("verifiers on the generated task: answers match, wrong answers do not", "[verifier]") {
  TaskOptions o;
  for (uint64_t i = 0; i < 2000; i++) {
    const TaskProblem p = make_problem(i, o);
    const std::string w = wrong_answer(p, o.seed, i);
    INFO(p.prompt << " -> " << p.answer << " / " << w);
    CHECK(exact_match(p.answer, p.answer));
    CHECK(exact_match(" " + p.answer + "。", p.answer));
    CHECK_FALSE(exact_match(w, p.answer));  // a preference pair's rejected reply scores 0
  }
}

// Every reference of the GSM8K test set: its own solution matches its answer, the answer + 1
// does not (GPTCU_DATA_DIR=/work/shared/data; eval/gsm8k/test.jsonl).
TEST_CASE("gsm8k_match on the GSM8K test set", "[verifier]") {
  const char* env = std::getenv("GPTCU_DATA_DIR");
  if (!env) {
    WARN("skipped: set GPTCU_DATA_DIR (e.g. /work/shared/data) to check the GSM8K test set");
    return;
  }
  const std::string path = (std::filesystem::path(env) / "eval/gsm8k/test.jsonl").string();
  ReadStats stats;
  int64_t n = 0;
  read_records(path, ReadOptions{}, stats, [&](Record&& r) {
    INFO(r.source << ": " << r.answer);
    REQUIRE(r.kind == RecordKind::rl_prompt);
    CHECK(extract_answer(r.solution) == normalize_answer(r.answer));
    CHECK(gsm8k_match(r.solution, r.solution));
    CHECK(gsm8k_match("The answer is " + r.answer + ".", r.solution));
    const std::string off = std::to_string(std::stoll(extract_answer(r.solution)) + 1);
    CHECK_FALSE(gsm8k_match("#### " + off, r.solution));
    n++;
  });
  CHECK(n == 1319);
}
