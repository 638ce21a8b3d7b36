// test/eval/test_classify_metrics.cpp: accuracy / precision / recall / F1 (eval/classify_metrics.h)
// on a case worked out by hand, including a class never predicted (precision 0 by sklearn's
// zero_division=0 convention) and predictions that are no label.
#include <catch2/catch.hpp>

#include "core/check.h"
#include "eval/classify_metrics.h"

using namespace gptcu;

TEST_CASE("classify_metrics: per class and macro, by hand", "[classify]") {
  // gold a a b b c / predicted a b b b a
  //   a: support 2, predicted 2 (0, 4), correct 1  -> P 1/2 R 1/2 F1 1/2
  //   b: support 2, predicted 3 (1, 2, 3), correct 2 -> P 2/3 R 1 F1 0.8
  //   c: support 1, never predicted                 -> P 0 (zero_division) R 0 F1 0
  const ClassifyMetrics m = classify_metrics({"a", "a", "b", "b", "c"}, {"a", "b", "b", "b", "a"});
  REQUIRE(m.classes.size() == 3);
  CHECK(m.examples == 5);
  CHECK(m.accuracy == Approx(3.0 / 5));
  const ClassMetrics& a = m.classes[0];
  const ClassMetrics& b = m.classes[1];
  const ClassMetrics& c = m.classes[2];
  CHECK(a.label == "a");
  CHECK(a.precision == Approx(0.5));
  CHECK(a.recall == Approx(0.5));
  CHECK(a.f1 == Approx(0.5));
  CHECK(b.predicted == 3);
  CHECK(b.precision == Approx(2.0 / 3));
  CHECK(b.recall == Approx(1.0));
  CHECK(b.f1 == Approx(0.8));
  CHECK(c.support == 1);
  CHECK(c.predicted == 0);
  CHECK(c.precision == 0.0);
  CHECK(c.recall == 0.0);
  CHECK(c.f1 == 0.0);
  CHECK(m.macro_precision == Approx((0.5 + 2.0 / 3 + 0) / 3));
  CHECK(m.macro_recall == Approx((0.5 + 1 + 0) / 3));
  CHECK(m.macro_f1 == Approx((0.5 + 0.8 + 0) / 3));  // mean of F1s, not F1 of the means
  CHECK(m.unknown_predictions == 0);
}

TEST_CASE("classify_metrics: a prediction that is no label", "[classify]") {
  // gold x y y / predicted x maybe y: "maybe" forms no class, costs y's recall
  const ClassifyMetrics m = classify_metrics({"x", "y", "y"}, {"x", "maybe", "y"});
  REQUIRE(m.classes.size() == 2);
  CHECK(m.unknown_predictions == 1);
  CHECK(m.accuracy == Approx(2.0 / 3));
  CHECK(m.classes[1].precision == Approx(1.0));
  CHECK(m.classes[1].recall == Approx(0.5));
  CHECK(m.classes[1].f1 == Approx(2.0 / 3));
  CHECK(m.macro_f1 == Approx((1.0 + 2.0 / 3) / 2));
}

TEST_CASE("classify_metrics: errors and label normalisation", "[classify]") {
  CHECK_THROWS_AS(classify_metrics({"a"}, {"a", "b"}), UserError);
  CHECK_THROWS_AS(classify_metrics({}, {}), UserError);
  CHECK(normalize_label("  Positive.  ") == "positive");
  CHECK(normalize_label("\n\nNEGATIVE\nbecause it is sad") == "negative");
  CHECK(normalize_label("正面。") == "正面");
  CHECK(normalize_label("") == "");
}
