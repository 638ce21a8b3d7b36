// data/synthetic.cpp: the addition corpus and the post-training task (see synthetic.h).
#include "data/synthetic.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "core/check.h"
#include "core/rng.h"
#include "data/split.h"

namespace gptcu {

std::string synth_addition_corpus(int lines, int max_operand, uint64_t seed) {
  GPTCU_USER_CHECK(lines > 0 && max_operand > 0, "synthetic corpus: lines and max operand must be positive");
  Rng rng(seed, /*stream=*/4);
  std::string out;
  for (int i = 0; i < lines; i++) {
    const uint64_t a = rng.next_below((uint64_t)max_operand + 1), b = rng.next_below((uint64_t)max_operand + 1);
    out += std::to_string(a) + "+" + std::to_string(b) + "=" + std::to_string(a + b) + "\n";
  }
  return out;
}

namespace {

// Held-out membership hashes the canonical key with this fixed salt (never the seed).
constexpr uint64_t kHeldOutSalt = 0x7461736B686F6C64ull;  // "taskhold"
constexpr uint64_t kWrongSalt = 0x7772306E67ull;  // wrong_answer's generators, apart from make_problem's

// Templates: {a} {b} the operands, {w} the word. Chinese ones stay short: 3 bytes a character.
struct Templates {
  std::vector<const char*> en, zh;
};
const std::map<std::string, Templates>& templates() {
  static const std::map<std::string, Templates> t = {
      {"add", {{"What is {a} + {b}?", "Compute {a}+{b}.", "Add {a} and {b}.", "{a} plus {b} is?"},
               {"{a}加{b}等于几?", "计算{a}+{b}。", "{a}加{b}是多少?"}}},
      {"sub", {{"What is {a} - {b}?", "Compute {a}-{b}.", "Subtract {b} from {a}.", "{a} minus {b} is?"},
               {"{a}减{b}等于几?", "计算{a}-{b}。", "{a}减去{b}是多少?"}}},
      {"mul", {{"What is {a} * {b}?", "Compute {a}*{b}.", "Multiply {a} by {b}.", "{a} times {b} is?"},
               {"{a}乘{b}等于几?", "计算{a}×{b}。", "{a}乘以{b}是多少?"}}},
      {"reverse", {{"Reverse the word {w}.", "Write {w} backwards.", "Spell {w} in reverse."},
                   {"把单词 {w} 倒过来写", "{w} 倒过来是什么?", "倒序写出 {w}"}}},
      {"upper", {{"Uppercase the word {w}.", "Write {w} in capital letters.", "{w} in upper case?"},
                 {"把 {w} 改成大写", "{w} 的大写是什么?", "大写写出 {w}"}}},
      {"first", {{"First letter of {w}?", "What is the first letter of {w}?", "Which letter starts {w}?"},
                 {"{w} 的第一个字母?", "单词 {w} 的首字母是?"}}},
      {"last", {{"Last letter of {w}?", "What is the last letter of {w}?", "Which letter ends {w}?"},
                {"{w} 的最后一个字母?", "单词 {w} 的末字母是?"}}},
      {"len", {{"How many letters are in {w}?", "Length of the word {w}?", "Count the letters in {w}."},
               {"{w} 有几个字母?", "单词 {w} 的长度是?"}}},
  };
  return t;
}

// Pretraining text: the problem and its answer in one of a few layouts per language.
const std::vector<const char*>& text_formats(const std::string& lang) {
  static const std::vector<const char*> en = {"Q: {p}\nA: {a}", "{p} Answer: {a}", "{p}\n{a}"};
  static const std::vector<const char*> zh = {"问: {p}\n答: {a}", "{p} 答案: {a}", "{p}\n{a}"};
  return lang == "zh" ? zh : en;
}

// Common 3-6 letter words (the other half of the words are made up, see draw_word).
const std::vector<const char*> kWords = {
    "cat",   "dog",   "sun",   "moon",  "star",  "tree",   "book",   "fish",  "bird",  "cake",  "milk",
    "rain",  "snow",  "wind",  "fire",  "water", "stone",  "apple",  "grape", "lemon", "house", "door",
    "road",  "city",  "king",  "queen", "ship",  "boat",   "train",  "car",   "bus",   "pen",   "cup",
    "hat",   "shoe",  "sock",  "bed",   "lamp",  "desk",   "chair",  "table", "bread", "rice",  "egg",
    "salt",  "sugar", "tea",   "music", "song",  "dance",  "game",   "ball",  "kite",  "frog",  "lion",
    "tiger", "horse", "sheep", "mouse", "duck",  "goat",   "bear",   "wolf",  "fox",   "owl",   "ant",
    "bee",   "leaf",  "root",  "seed",  "rose",  "lily",   "river",  "lake",  "sea",   "hill",  "field",
    "cloud", "light", "dark",  "green", "blue",  "red",    "white",  "black", "happy", "quick", "slow",
    "small", "large", "hot",   "cold",  "new",   "old",    "good",   "jump",  "run",   "walk",  "swim",
    "read",  "write", "sing",  "play",  "open",  "close",  "garden", "window", "planet", "rocket", "silver",
    "orange", "yellow", "purple", "banana", "cherry", "pencil", "paper", "clock", "money", "bank", "shop",
};

std::string fill(std::string s, const std::vector<std::pair<std::string, std::string>>& vars) {
  for (const auto& [name, value] : vars)
    for (size_t at = s.find(name); at != std::string::npos; at = s.find(name, at + value.size()))
      s.replace(at, name.size(), value);
  return s;
}

// A common word, or a pronounceable made-up one: 3-6 letters alternating consonants and vowels.
std::string draw_word(Rng& rng) {
  if (rng.next_below(2) == 0) return kWords[rng.next_below(kWords.size())];
  static const std::string consonants = "bcdfghjklmnprstvwz", vowels = "aeiou";
  const int len = 3 + (int)rng.next_below(4);
  bool vowel = rng.next_below(3) == 0;
  std::string w;
  for (int i = 0; i < len; i++, vowel = !vowel)
    w += vowel ? vowels[rng.next_below(vowels.size())] : consonants[rng.next_below(consonants.size())];
  return w;
}

std::string upper(std::string s) {
  for (char& c : s) c = (char)std::toupper((unsigned char)c);
  return s;
}

bool is_arithmetic(const std::string& kind) { return kind == "add" || kind == "sub" || kind == "mul"; }

// The kinds to draw from: o.kinds, or all of them.
const std::vector<std::string>& kinds_of(const TaskOptions& o) { return o.kinds.empty() ? task_kinds() : o.kinds; }

// s with one letter changed to the next in the alphabet (z -> a, Z -> A): always differs from s.
std::string bump_letter(std::string s, size_t i) {
  char& c = s[i];
  if (c == 'z' || c == 'Z') c = (char)(c - 25);
  else c = (char)(c + 1);
  return s;
}

// s with two adjacent different letters swapped; or, when all letters are the same, one changed.
std::string swap_letters(const std::string& s, Rng& rng) {
  std::vector<size_t> at;
  for (size_t i = 0; i + 1 < s.size(); i++)
    if (s[i] != s[i + 1]) at.push_back(i);
  if (at.empty()) return bump_letter(s, rng.next_below(s.size()));
  std::string t = s;
  const size_t i = at[rng.next_below(at.size())];
  std::swap(t[i], t[i + 1]);
  return t;
}

}  // namespace

const std::vector<std::string>& task_kinds() {
  static const std::vector<std::string> k = {"add", "sub", "mul", "reverse", "upper", "first", "last", "len"};
  return k;
}

void validate(const TaskOptions& o) {
  GPTCU_USER_CHECK(o.max_operand >= 1, "task: max operand must be at least 1, got ", o.max_operand);
  GPTCU_USER_CHECK(o.zh_fraction >= 0 && o.zh_fraction <= 1, "task: zh fraction must be in [0, 1], got ", o.zh_fraction);
  GPTCU_USER_CHECK(o.test_fraction >= 0 && o.test_fraction <= 1, "task: test fraction must be in [0, 1], got ",
                   o.test_fraction);
  for (const std::string& k : o.kinds)
    GPTCU_USER_CHECK(std::find(task_kinds().begin(), task_kinds().end(), k) != task_kinds().end(),
                     "task: unknown kind '", k, "' (add, sub, mul, reverse, upper, first, last, len)");
}

TaskProblem make_problem(uint64_t index, const TaskOptions& o) {
  validate(o);
  // One generator per problem: the stream is the index, so problem i never depends on others.
  Rng rng(o.seed, index);
  const std::vector<std::string>& kinds = kinds_of(o);
  TaskProblem p;
  p.kind = kinds[rng.next_below(kinds.size())];
  p.lang = rng.next_float() < o.zh_fraction ? "zh" : "en";
  const Templates& t = templates().at(p.kind);
  const std::vector<const char*>& forms = p.lang == "zh" ? t.zh : t.en;
  const std::string form = forms[rng.next_below(forms.size())];
  if (is_arithmetic(p.kind)) {
    const uint64_t m = (uint64_t)o.max_operand + 1;
    uint64_t a = rng.next_below(m), b = rng.next_below(m), result = 0;
    if (p.kind == "add") {
      result = a + b;
      p.key = "add " + std::to_string(std::min(a, b)) + " " + std::to_string(std::max(a, b));
    } else if (p.kind == "sub") {
      if (a < b) std::swap(a, b);
      result = a - b;
      p.key = "sub " + std::to_string(a) + " " + std::to_string(b);
    } else {
      b = 2 + rng.next_below(8);                 // the small factor, 2..9
      if (rng.next_below(2) == 0) std::swap(a, b);  // either side of the sign
      result = a * b;
      p.key = "mul " + std::to_string(std::min(a, b)) + " " + std::to_string(std::max(a, b));
    }
    p.prompt = fill(form, {{"{a}", std::to_string(a)}, {"{b}", std::to_string(b)}});
    p.answer = std::to_string(result);
  } else {
    const std::string w = draw_word(rng);
    if (p.kind == "reverse") p.answer = std::string(w.rbegin(), w.rend());
    else if (p.kind == "upper") p.answer = upper(w);
    else if (p.kind == "first") p.answer = w.substr(0, 1);
    else if (p.kind == "last") p.answer = w.substr(w.size() - 1);
    else p.answer = std::to_string(w.size());
    p.key = p.kind + " " + w;
    p.prompt = fill(form, {{"{w}", w}});
  }
  return p;
}

bool is_held_out(const TaskProblem& p, double test_fraction) {
  return split_of(p.key, 0.0, test_fraction, kHeldOutSalt) == SplitName::test;
}

std::string wrong_answer(const TaskProblem& p, uint64_t seed, uint64_t index) {
  Rng rng(mix64(seed ^ kWrongSalt), index);
  std::vector<std::string> c;  // candidates; some may equal the answer and are dropped below
  if (is_arithmetic(p.kind) || p.kind == "len") {
    const int64_t v = std::stoll(p.answer);
    c.push_back(std::to_string(v + 1));
    if (v >= 1) c.push_back(std::to_string(v - 1));
    if (p.kind != "len") {
      c.push_back(std::to_string(v + 10));
      if (v >= 10) c.push_back(std::to_string(v - 10));
      std::string s = p.answer;  // the last two digits swapped, when that gives no leading zero
      if (s.size() >= 2 && !(s.size() == 2 && s[1] == '0')) {
        std::swap(s[s.size() - 1], s[s.size() - 2]);
        c.push_back(s);
      }
    }
  } else {
    const std::string w = p.key.substr(p.key.find(' ') + 1);
    if (p.kind == "reverse") {
      c = {w, swap_letters(p.answer, rng)};
    } else if (p.kind == "upper") {
      c = {w, bump_letter(p.answer, rng.next_below(w.size())), p.answer.substr(0, p.answer.size() - 1)};
    } else if (p.kind == "first") {
      c = {w.substr(w.size() - 1), w.substr(1, 1), bump_letter(p.answer, 0)};
    } else {  // last
      c = {w.substr(0, 1), w.substr(w.size() - 2, 1), bump_letter(p.answer, 0)};
    }
  }
  c.erase(std::remove(c.begin(), c.end(), p.answer), c.end());
  GPTCU_CHECK(!c.empty(), "no wrong answer for ", p.key);
  return c[rng.next_below(c.size())];
}

namespace {

// Draws the problems of one file: indices file_base + 0, 1, 2, ... (file_base separates the
// files' ranges), keeping held-out problems for the test file and the others for the rest.
class ProblemSource {
 public:
  ProblemSource(const TaskOptions& o, uint64_t file_base, bool test, int64_t wanted, const std::string& file)
      : o_(o), base_(file_base), test_(test), file_(file) {
    const double p = test ? o.test_fraction : 1.0 - o.test_fraction;
    GPTCU_USER_CHECK(wanted == 0 || p > 0, "task: ", file, " needs ", test ? "a test fraction above 0"
                                                                            : "a test fraction below 1");
    max_draws_ = (uint64_t)(50.0 * (double)wanted / std::max(p, 1e-9)) + 100000;  // ~50x what is needed
  }
  // The next problem of this file. The test file gives each prompt once.
  TaskProblem next() {
    while (true) {
      GPTCU_USER_CHECK(drawn_ < max_draws_, "task: found too few ", test_ ? "held-out" : "training",
                       " problems for ", file_, " in ", drawn_,
                       " draws: the problem space is too small (raise --max-operand, add --kinds, change "
                       "--test-fraction or ask for fewer)");
      TaskProblem p = make_problem(base_ + drawn_, o_);
      index_ = base_ + drawn_++;
      if (is_held_out(p, o_.test_fraction) != test_) continue;
      if (test_ && !seen_.insert(p.prompt).second) continue;
      return p;
    }
  }
  uint64_t index() const { return index_; }  // of the problem next() returned last

 private:
  const TaskOptions& o_;
  uint64_t base_, drawn_ = 0, max_draws_ = 0, index_ = 0;
  bool test_;
  std::string file_;
  std::unordered_set<std::string> seen_;
};

// One JSONL output file, counting what it holds.
class JsonlOut {
 public:
  JsonlOut(const std::filesystem::path& path, TaskFileSummary& s) : out_(path, std::ios::binary | std::ios::trunc), s_(s) {
    s_.path = path.string();
    GPTCU_USER_CHECK(out_.good(), "task: cannot write '", s_.path, "'");
  }
  void write(const nlohmann::ordered_json& j) {
    const std::string line = j.dump() + "\n";
    out_ << line;
    s_.records++;
    s_.bytes += (int64_t)line.size();
  }
  void close() {
    out_.close();
    GPTCU_USER_CHECK(!out_.fail(), "task: error writing '", s_.path, "'");
  }

 private:
  std::ofstream out_;
  TaskFileSummary& s_;
};

}  // namespace

TaskSummary write_task_files(const std::string& out_dir, const TaskOptions& o, const TaskCounts& n) {
  validate(o);
  GPTCU_USER_CHECK(n.pretrain >= 0 && n.sft >= 0 && n.prefs >= 0 && n.rl_train >= 0 && n.rl_test >= 0,
                   "task: counts must not be negative");
  GPTCU_USER_CHECK(n.pretrain_per_doc >= 1, "task: problems per document must be at least 1");
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  GPTCU_USER_CHECK(!ec && std::filesystem::is_directory(out_dir), "task: cannot create directory '", out_dir, "'");
  const std::filesystem::path dir(out_dir);
  using J = nlohmann::ordered_json;

  TaskSummary sum;
  sum.files.resize(5);
  std::map<std::string, int64_t> per_kind, per_lang;
  // File f draws problem indices f<<48, f<<48 + 1, ...: disjoint ranges, so the files differ.
  auto source = [&](int f, bool test, int64_t wanted, const char* name) {
    return ProblemSource(o, (uint64_t)(f + 1) << 48, test, wanted, name);
  };
  auto count = [&](const TaskProblem& p, TaskFileSummary& s) {
    per_kind[p.kind]++;
    per_lang[p.lang]++;
    s.problems++;
  };

  {  // pretrain.jsonl: documents of 1..per_doc problems written as text
    JsonlOut out(dir / "pretrain.jsonl", sum.files[0]);
    ProblemSource src = source(0, false, n.pretrain, "pretrain.jsonl");
    Rng rng(o.seed, /*stream=*/5);  // document sizes and text layouts (problems use streams >= 2^48)
    for (int64_t done = 0; done < n.pretrain;) {
      const int64_t k = std::min<int64_t>(1 + (int64_t)rng.next_below(n.pretrain_per_doc), n.pretrain - done);
      std::string doc;
      for (int64_t i = 0; i < k; i++, done++) {
        const TaskProblem p = src.next();
        const auto& formats = text_formats(p.lang);
        doc += (i ? "\n" : "") + fill(formats[rng.next_below(formats.size())], {{"{p}", p.prompt}, {"{a}", p.answer}});
        count(p, sum.files[0]);
      }
      out.write(J{{"text", doc}});
    }
    out.close();
  }
  {  // sft.jsonl: one user turn, the bare answer as the assistant's
    JsonlOut out(dir / "sft.jsonl", sum.files[1]);
    ProblemSource src = source(1, false, n.sft, "sft.jsonl");
    for (int64_t i = 0; i < n.sft; i++) {
      const TaskProblem p = src.next();
      out.write(J{{"messages", J::array({J{{"role", "user"}, {"content", p.prompt}},
                                         J{{"role", "assistant"}, {"content", p.answer}}})}});
      count(p, sum.files[1]);
    }
    out.close();
  }
  {  // prefs.jsonl: the right answer against a plausible wrong one
    JsonlOut out(dir / "prefs.jsonl", sum.files[2]);
    ProblemSource src = source(2, false, n.prefs, "prefs.jsonl");
    for (int64_t i = 0; i < n.prefs; i++) {
      const TaskProblem p = src.next();
      out.write(J{{"prompt", p.prompt}, {"chosen", p.answer}, {"rejected", wrong_answer(p, o.seed, src.index())}});
      count(p, sum.files[2]);
    }
    out.close();
  }
  const struct {
    int f;
    bool test;
    int64_t n;
    const char* name;
  } rl[] = {{3, false, n.rl_train, "rl_train.jsonl"}, {4, true, n.rl_test, "rl_test.jsonl"}};
  for (const auto& r : rl) {  // rl_{train,test}.jsonl: prompts with their reference answers
    JsonlOut out(dir / r.name, sum.files[r.f]);
    ProblemSource src = source(r.f, r.test, r.n, r.name);
    for (int64_t i = 0; i < r.n; i++) {
      const TaskProblem p = src.next();
      out.write(J{{"prompt", p.prompt}, {"answer", p.answer}});
      count(p, sum.files[r.f]);
    }
    out.close();
  }
  for (const std::string& k : task_kinds())
    if (per_kind.count(k)) sum.per_kind.emplace_back(k, per_kind[k]);
  for (const char* l : {"en", "zh"})
    if (per_lang.count(l)) sum.per_lang.emplace_back(l, per_lang[l]);
  return sum;
}

std::string TaskSummary::table() const {
  std::ostringstream os;
  for (const TaskFileSummary& f : files) {
    os << "  " << f.path << ": " << f.records << " records";
    if (f.problems != f.records) os << " (" << f.problems << " problems)";
    os << ", " << f.bytes << " bytes\n";
  }
  auto line = [&](const char* what, const std::vector<std::pair<std::string, int64_t>>& v) {
    os << "  " << what << ":";
    for (const auto& [name, count] : v) os << " " << name << " " << count;
    os << "\n";
  };
  line("kinds", per_kind);
  line("languages", per_lang);
  return os.str();
}

}  // namespace gptcu
