// eval/choice.h: multiple-choice accuracy by log-likelihood, on CMMLU-style CSV files.
//
//   std::vector<ChoiceQuestion> qs = read_choice_questions("cmmlu/dev");   // a file or a directory
//   ChoiceResult r = choice_accuracy(model, tok, qs, {.batch_size = 16});
//   // r.accuracy, r.accuracy_norm, r.subjects[i] = {name, questions, correct, correct_norm}
//
// CSV layout (CMMLU, MMLU-style exports): a header row naming the columns `Question`, the
// options `A`, `B`, `C`, ... and `Answer` (a first unnamed index column and any other column
// are ignored); one question per row, the answer a letter among the option columns. Fields are
// parsed as RFC 4180 (eval/csv.h): quoted fields may hold commas and newlines. The subject of a
// question is its file's name without ".csv"; a directory contributes every *.csv in it, sorted.
//
// Scoring (lm-eval's "cloze" formulation): each option's text is a continuation of the
// question, and its log-likelihood is the sum of the option tokens' log-probabilities
// (eval/logprob.h, one full forward pass per batch of question-option rows). The prediction is
// the option with the highest sum; the length-normalised prediction divides each sum by the
// option's length in UTF-8 bytes (lm-eval's acc_norm), which removes the bias towards short
// options. Ties go to the earlier option. The context is the chat template's prompt with the
// question as the user turn (`chat`), or <|endoftext|> + question + "\n" for a base model.
#pragma once
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "data/bpe_tokenizer.h"
#include "model/gpt.h"

namespace gptcu {

struct ChoiceQuestion {
  std::string subject;
  std::string question;
  std::vector<std::string> options;
  int answer = 0;      // index into options
  std::string source;  // "path:line"
};

// UserError (naming path:line): missing file, no Question/Answer/A/B columns, a row with
// fewer fields than the header, an answer that names no option, invalid UTF-8, no questions.
std::vector<ChoiceQuestion> read_choice_csv(const std::string& path);
// A CSV file, or every *.csv of a directory (sorted by name). UserError when none.
std::vector<ChoiceQuestion> read_choice_questions(const std::string& file_or_dir);

struct ChoiceOptions {
  int batch_size = 16;  // question-option rows per forward pass
  int max_questions = 0;  // 0: all
  bool chat = true;       // chat-template context (else <|endoftext|> question "\n")
  std::ostream* log = nullptr;  // progress line
};

struct ChoiceResult {
  struct Subject {
    std::string name;
    int64_t questions = 0, correct = 0, correct_norm = 0;
  };
  int64_t questions = 0, correct = 0, correct_norm = 0;
  double accuracy = 0, accuracy_norm = 0;
  int64_t truncated = 0;  // question-option rows whose question lost tokens to fit the context
  std::vector<Subject> subjects;  // in first-seen order
  std::vector<int> predicted, predicted_norm;  // per question: the chosen option index
  std::vector<std::vector<double>> logprobs;   // per question, per option: the summed log-prob
};

ChoiceResult choice_accuracy(GPT& model, const BpeTokenizer& tok, const std::vector<ChoiceQuestion>& questions,
                             const ChoiceOptions& opt);

// The context tokens a question is scored in (see above).
std::vector<int32_t> choice_context(const BpeTokenizer& tok, const std::string& question, bool chat);

}  // namespace gptcu
