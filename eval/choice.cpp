// eval/choice.cpp
#include "eval/choice.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>

#include "core/check.h"
#include "data/chat_template.h"
#include "data/clean.h"
#include "data/progress.h"
#include "eval/csv.h"
#include "eval/eval_io.h"
#include "eval/logprob.h"

namespace fs = std::filesystem;

namespace gptcu {

std::vector<ChoiceQuestion> read_choice_csv(const std::string& path) {
  const std::string text = read_file(path);
  GPTCU_USER_CHECK(is_valid_utf8(text), path, ": invalid UTF-8");
  std::vector<int> lines;
  const std::vector<std::vector<std::string>> rows = parse_csv(text, path, lines);
  GPTCU_USER_CHECK(!rows.empty(), path, ": empty file");
  const std::vector<std::string>& header = rows[0];
  int question = -1, answer = -1;
  std::vector<int> option_cols;
  for (const char letter : std::string("ABCDEFGHIJ")) {
    const auto it = std::find(header.begin(), header.end(), std::string(1, letter));
    if (it == header.end()) break;
    option_cols.push_back((int)(it - header.begin()));
  }
  for (int c = 0; c < (int)header.size(); c++) {
    if (header[c] == "Question") question = c;
    if (header[c] == "Answer") answer = c;
  }
  GPTCU_USER_CHECK(question >= 0 && answer >= 0 && option_cols.size() >= 2, path,
                   ":1: the header needs the columns Question, A, B (, C, ...) and Answer");
  const std::string subject = fs::path(path).stem().string();
  std::vector<ChoiceQuestion> out;
  for (size_t r = 1; r < rows.size(); r++) {
    const std::vector<std::string>& row = rows[r];
    if (row.size() == 1 && row[0].empty()) continue;  // a blank line
    const std::string where = path + ":" + std::to_string(lines[r]);
    GPTCU_USER_CHECK(row.size() >= header.size(), where, ": ", row.size(), " fields, the header has ", header.size());
    ChoiceQuestion q;
    q.subject = subject;
    q.question = row[question];
    q.source = where;
    for (int c : option_cols) q.options.push_back(row[c]);
    const std::string& a = row[answer];
    const size_t idx = std::string("ABCDEFGHIJ").find(a.size() == 1 ? a[0] : '?');
    GPTCU_USER_CHECK(idx != std::string::npos && idx < q.options.size(), where, ": answer '", a,
                     "' is not one of the option letters");
    q.answer = (int)idx;
    out.push_back(std::move(q));
  }
  GPTCU_USER_CHECK(!out.empty(), path, ": no questions");
  return out;
}

std::vector<ChoiceQuestion> read_choice_questions(const std::string& file_or_dir) {
  GPTCU_USER_CHECK(fs::exists(file_or_dir), file_or_dir, ": no such file or directory");
  if (!fs::is_directory(file_or_dir)) return read_choice_csv(file_or_dir);
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(file_or_dir))
    if (e.is_regular_file() && e.path().extension() == ".csv") files.push_back(e.path().string());
  GPTCU_USER_CHECK(!files.empty(), file_or_dir, ": no .csv files");
  std::sort(files.begin(), files.end());
  std::vector<ChoiceQuestion> out;
  for (const std::string& f : files) {
    std::vector<ChoiceQuestion> qs = read_choice_csv(f);
    out.insert(out.end(), std::make_move_iterator(qs.begin()), std::make_move_iterator(qs.end()));
  }
  return out;
}

std::vector<int32_t> choice_context(const BpeTokenizer& tok, const std::string& question, bool chat) {
  if (chat) return ChatTemplate(tok).prompt({{"user", question}});
  std::vector<int32_t> ids = {tok.eot()};
  for (int32_t id : tok.encode(question + "\n")) ids.push_back(id);
  return ids;
}

ChoiceResult choice_accuracy(GPT& model, const BpeTokenizer& tok, const std::vector<ChoiceQuestion>& questions,
                             const ChoiceOptions& opt) {
  const size_t n = opt.max_questions > 0 ? std::min(questions.size(), (size_t)opt.max_questions) : questions.size();
  GPTCU_USER_CHECK(n > 0, "multiple choice: no questions");
  ChoiceResult r;
  std::map<std::string, size_t> subject_index;
  std::unique_ptr<Progress> progress;
  if (opt.log) progress = std::make_unique<Progress>(*opt.log, "choice", (double)n, "questions");
  // whole questions per chunk, about batch_size rows each
  for (size_t s = 0; s < n;) {
    std::vector<std::vector<int32_t>> ctxs, conts;
    size_t e = s;
    while (e < n && (ctxs.empty() || ctxs.size() + questions[e].options.size() <= (size_t)opt.batch_size)) {
      const std::vector<int32_t> ctx = choice_context(tok, questions[e].question, opt.chat);
      for (size_t k = 0; k < questions[e].options.size(); k++) {
        ctxs.push_back(ctx);
        conts.push_back(tok.encode(questions[e].options[k]));
        // an empty option has log-prob 0 and would beat every real one
        GPTCU_USER_CHECK(!conts.back().empty(), questions[e].source, ": option ", (char)('A' + k), " is empty");
        GPTCU_USER_CHECK((int)conts.back().size() <= model.config().block_size, questions[e].source, ": option ",
                         (char)('A' + k), " is ", conts.back().size(), " tokens, longer than the model's context of ",
                         model.config().block_size);
      }
      e++;
    }
    const std::vector<ContinuationScore> scores = score_continuations(model, ctxs, conts, opt.batch_size);
    size_t row = 0;
    for (size_t q = s; q < e; q++) {
      const ChoiceQuestion& Q = questions[q];
      std::vector<double> lp;
      int best = 0, best_norm = 0;
      double best_norm_value = 0;
      for (size_t k = 0; k < Q.options.size(); k++, row++) {
        lp.push_back(scores[row].logprob);
        r.truncated += scores[row].truncated;
        const double norm = scores[row].logprob / (double)std::max<size_t>(1, Q.options[k].size());
        if (k == 0 || lp[k] > lp[best]) best = (int)k;
        if (k == 0 || norm > best_norm_value) {
          best_norm = (int)k;
          best_norm_value = norm;
        }
      }
      auto [it, added] = subject_index.try_emplace(Q.subject, r.subjects.size());
      if (added) r.subjects.push_back({Q.subject});
      ChoiceResult::Subject& sub = r.subjects[it->second];
      sub.questions++;
      sub.correct += best == Q.answer;
      sub.correct_norm += best_norm == Q.answer;
      r.correct += best == Q.answer;
      r.correct_norm += best_norm == Q.answer;
      r.predicted.push_back(best);
      r.predicted_norm.push_back(best_norm);
      r.logprobs.push_back(std::move(lp));
    }
    s = e;
    if (progress) progress->update((double)s);
  }
  if (progress) progress->finish();
  r.questions = (int64_t)n;
  r.accuracy = (double)r.correct / (double)n;
  r.accuracy_norm = (double)r.correct_norm / (double)n;
  return r;
}

}  // namespace gptcu
