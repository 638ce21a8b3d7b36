// test/eval/test_csv.cpp: the RFC 4180 reader (eval/csv.h) and the CMMLU-layout question
// reader built on it (eval/choice.h).
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "core/check.h"
#include "eval/choice.h"
#include "eval/csv.h"

using namespace gptcu;
using Rows = std::vector<std::vector<std::string>>;
namespace fs = std::filesystem;

TEST_CASE("parse_csv: quoted fields with commas, quotes and newlines", "[csv]") {
  std::vector<int> lines;
  const Rows rows = parse_csv("\xEF\xBB\xBF,Question,A\r\n0,\"a, \"\"b\"\"\nc\",x\n1,,\"\"\n2,last", "t.csv", lines);
  REQUIRE(rows.size() == 4);
  CHECK(rows[0] == std::vector<std::string>{"", "Question", "A"});
  CHECK(rows[1] == std::vector<std::string>{"0", "a, \"b\"\nc", "x"});
  CHECK(rows[2] == std::vector<std::string>{"1", "", ""});
  CHECK(rows[3] == std::vector<std::string>{"2", "last"});  // no final newline
  CHECK(lines == std::vector<int>{1, 2, 4, 5});
  CHECK(parse_csv("a,b\n", "t").size() == 1);
  CHECK(parse_csv("", "t").empty());
}

TEST_CASE("parse_csv: errors name the file and line", "[csv]") {
  CHECK_THROWS_WITH(parse_csv("a,b\n\"open,c\n", "t.csv"), Catch::Contains("t.csv:2") && Catch::Contains("never closed"));
  CHECK_THROWS_WITH(parse_csv("a,\"b\"x\n", "t.csv"), Catch::Contains("t.csv:1") && Catch::Contains("after the closing quote"));
}

TEST_CASE("read_choice_questions: CMMLU layout, a file and a directory", "[csv][choice]") {
  const fs::path dir = fs::temp_directory_path() / "gptcu_test_choice_csv";
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "b_subject.csv") << ",Question,A,B,C,D,Answer\n"
                                          "0,\"Which, of these?\nPick one.\",one,\"t,wo\",three,four,B\n"
                                          "1,Q2,a,b,c,d,D\n";
  std::ofstream(dir / "a_subject.csv") << ",Question,A,B,Answer\n0,yes or no,yes,no,A\n";
  std::ofstream(dir / "notes.txt") << "ignored\n";
  const std::vector<ChoiceQuestion> qs = read_choice_questions(dir.string());
  REQUIRE(qs.size() == 3);
  CHECK(qs[0].subject == "a_subject");
  CHECK(qs[0].options.size() == 2);
  CHECK(qs[1].subject == "b_subject");
  CHECK(qs[1].question == "Which, of these?\nPick one.");
  CHECK(qs[1].options == std::vector<std::string>{"one", "t,wo", "three", "four"});
  CHECK(qs[1].answer == 1);
  CHECK(qs[2].answer == 3);
  CHECK(qs[2].source == (dir / "b_subject.csv").string() + ":4");

  std::ofstream(dir / "bad.csv") << ",Question,A,B,Answer\n0,q,a,b,E\n";
  CHECK_THROWS_WITH(read_choice_csv((dir / "bad.csv").string()), Catch::Contains("bad.csv:2") && Catch::Contains("'E'"));
  std::ofstream(dir / "short.csv") << ",Question,A,B,Answer\n0,q,a\n";
  CHECK_THROWS_WITH(read_choice_csv((dir / "short.csv").string()), Catch::Contains("short.csv:2"));
  std::ofstream(dir / "nohead.csv") << "x,y\n1,2\n";
  CHECK_THROWS_WITH(read_choice_csv((dir / "nohead.csv").string()), Catch::Contains("Question"));
  CHECK_THROWS_AS(read_choice_questions((dir / "missing.csv").string()), UserError);
  fs::remove_all(dir);
}
