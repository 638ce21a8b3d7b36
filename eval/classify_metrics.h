// eval/classify_metrics.h: accuracy, precision, recall and F1 (per class and macro) of
// predicted labels against gold labels, as scikit-learn's precision_recall_fscore_support with
// labels = the sorted set of gold labels and zero_division = 0.
//
//   ClassifyMetrics m = classify_metrics({"pos", "neg", "neg"}, {"pos", "pos", "neg"});
//   // m.accuracy 2/3; m.classes[i] = {label, support, predicted, correct, precision, recall, f1}
//
// The classes are the gold labels (sorted by byte value). A prediction that is none of them
// (a model's stray reply) is simply wrong: it costs its gold class recall and counts in
// `unknown_predictions`, but forms no class of its own (sklearn with labels= given does the
// same). Conventions for empty denominators (sklearn's zero_division=0): a class never
// predicted has precision 0; F1 is 0 when precision + recall is 0. Macro averages are the
// unweighted means over the classes; macro F1 is the mean of the per-class F1 (not the F1 of
// the macro precision and recall).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gptcu {

struct ClassMetrics {
  std::string label;
  int64_t support = 0;    // gold examples of this class
  int64_t predicted = 0;  // examples predicted as this class
  int64_t correct = 0;    // true positives
  double precision = 0, recall = 0, f1 = 0;
};

struct ClassifyMetrics {
  int64_t examples = 0;
  int64_t unknown_predictions = 0;  // predictions that are no gold label
  double accuracy = 0;
  double macro_precision = 0, macro_recall = 0, macro_f1 = 0;
  std::vector<ClassMetrics> classes;  // sorted by label
};

// UserError: sizes differ, or no examples.
ClassifyMetrics classify_metrics(const std::vector<std::string>& gold, const std::vector<std::string>& predicted);

// How labels and replies are compared: the first non-blank line, trimmed, whitespace runs
// collapsed, one trailing '.' or '。' dropped (eval/verifier.h's normalize_answer), and ASCII
// letters lower-cased ("Positive." -> "positive").
std::string normalize_label(std::string_view text);

}  // namespace gptcu
