// data/synthetic.h: corpora the project generates itself (seeded), so that the demo and the
// tests need no download.
//
//   synth_addition_corpus(20000, 99, 1337)       // "47+38=85\n" per line (pretraining toy)
//
//   TaskOptions o;                                 // the post-training task (gptcu data task)
//   TaskProblem p = make_problem(7, o);            // {"What is 47 + 38?", "85", "en", "add"}
//   TaskSummary s = write_task_files("data/task", o, TaskCounts{});
//
// The task: short problems with a short exact answer, each phrased in English or Chinese from
// one of several templates, small enough for a byte-level model with a 64-token context
// (prompt + answer at most 48 bytes with the default operands; Chinese characters are 3 bytes):
//   add  a+b         sub  a-b (a >= b)     mul  a*b (a <= max_operand, b in 2..9)
//   reverse / upper / first / last / len of a 3-6 letter lowercase word (a common English
//   word, or half the time a pronounceable made-up one such as "tobe")
// The reply is the bare answer ("85", "tac", "CAT", "c", "3"), checked by eval/verifier.h.
//
// Held-out rule: a problem's canonical key is its kind and operands ("add 38 47": operands
// of + and * sorted, so "47+38" and "38+47" are one problem; language and template left
// out). It is a test problem when split_of(key, 0, test_fraction, kHeldOutSalt) says test
// (data/split.h): a fixed hash, independent of the seed and of the counts, so rl_test never
// shares a problem with pretrain/sft/prefs/rl_train, in either language, even across files
// generated with different seeds (at the same test_fraction; a smaller fraction's test set is
// a subset of a larger one's).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace gptcu {

// `lines` lines "a+b=c\n" with a, b uniform in [0, max_operand], from the counter-based RNG.
std::string synth_addition_corpus(int lines, int max_operand, uint64_t seed);

struct TaskProblem {
  std::string prompt, answer;
  std::string lang;  // en | zh
  std::string kind;  // add | sub | mul | reverse | upper | first | last | len
  std::string key;   // canonical problem, e.g. "add 38 47", "reverse cat" (see above)
};

struct TaskOptions {
  uint64_t seed = 1337;
  int max_operand = 99;             // arithmetic operands in [0, max_operand]
  std::vector<std::string> kinds;   // empty: all of task_kinds()
  double zh_fraction = 0.5;         // probability of a Chinese phrasing
  double test_fraction = 0.1;       // share of canonical problems held out for rl_test
};

// How many records each file gets (pretrain: problems, grouped into documents).
struct TaskCounts {
  int64_t pretrain = 4000, sft = 2000, prefs = 1000, rl_train = 1000, rl_test = 200;
  int pretrain_per_doc = 3;  // problems per pretraining document (1..pretrain_per_doc)
};

const std::vector<std::string>& task_kinds();

// UserError for an unknown kind, max_operand < 1, or a fraction outside [0, 1].
void validate(const TaskOptions& o);

// The index-th problem: a pure function of (o.seed, index) and the options.
TaskProblem make_problem(uint64_t index, const TaskOptions& o);

// True when the problem belongs to the held-out test set (see above).
bool is_held_out(const TaskProblem& p, double test_fraction);

// A plausible wrong answer (off by one or ten, swapped digits, a swapped or changed letter,
// the wrong end of the word...), never equal to p.answer; a pure function of (seed, index).
std::string wrong_answer(const TaskProblem& p, uint64_t seed, uint64_t index);

struct TaskFileSummary {
  std::string path;
  int64_t records = 0, problems = 0, bytes = 0;
};

struct TaskSummary {
  std::vector<TaskFileSummary> files;  // pretrain, sft, prefs, rl_train, rl_test
  std::vector<std::pair<std::string, int64_t>> per_kind, per_lang;  // over all problems written
  std::string table() const;           // the printed report
};

// Writes out_dir/{pretrain.jsonl {"text"}, sft.jsonl {"messages"}, prefs.jsonl
// {"prompt","chosen","rejected"}, rl_train.jsonl and rl_test.jsonl {"prompt","answer"}}
// (the directory is created; the files are replaced). Each file draws its own range of
// problem indices; every file but rl_test skips held-out problems, rl_test takes only those,
// each prompt once. UserError when the problem space is too small to find enough of them.
TaskSummary write_task_files(const std::string& out_dir, const TaskOptions& o, const TaskCounts& n);

}  // namespace gptcu
