// eval/classify_metrics.cpp
#include "eval/classify_metrics.h"

#include <map>

#include "core/check.h"
#include "eval/verifier.h"

namespace gptcu {

ClassifyMetrics classify_metrics(const std::vector<std::string>& gold, const std::vector<std::string>& predicted) {
  GPTCU_USER_CHECK(gold.size() == predicted.size(), "classify: ", gold.size(), " labels but ", predicted.size(),
                   " predictions");
  GPTCU_USER_CHECK(!gold.empty(), "classify: no examples");
  std::map<std::string, ClassMetrics> by_label;
  for (const std::string& g : gold) by_label[g].support++;
  ClassifyMetrics m;
  m.examples = (int64_t)gold.size();
  int64_t right = 0;
  for (size_t i = 0; i < gold.size(); i++) {
    const auto it = by_label.find(predicted[i]);
    if (it == by_label.end()) {
      m.unknown_predictions++;
      continue;
    }
    it->second.predicted++;
    if (predicted[i] == gold[i]) {
      it->second.correct++;
      right++;
    }
  }
  m.accuracy = (double)right / (double)m.examples;
  for (auto& [label, c] : by_label) {
    c.label = label;
    c.precision = c.predicted > 0 ? (double)c.correct / (double)c.predicted : 0.0;
    c.recall = (double)c.correct / (double)c.support;  // support >= 1: every class is a gold label
    c.f1 = c.precision + c.recall > 0 ? 2 * c.precision * c.recall / (c.precision + c.recall) : 0.0;
    m.macro_precision += c.precision;
    m.macro_recall += c.recall;
    m.macro_f1 += c.f1;
    m.classes.push_back(c);
  }
  const double k = (double)m.classes.size();
  m.macro_precision /= k;
  m.macro_recall /= k;
  m.macro_f1 /= k;
  return m;
}

std::string normalize_label(std::string_view text) {
  std::string_view line;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    line = text.substr(start, end - start);
    if (!normalize_answer(line).empty()) break;
    start = end + 1;
  }
  std::string s = normalize_answer(line);
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
  return s;
}

}  // namespace gptcu
