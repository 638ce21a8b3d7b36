// train/config.cpp: YAML + `--set` parsing, dumping and validation of the run config.
//
// One table (config_fields) lists every key with a pointer into a Config; parsing the file,
// applying overrides and dumping all walk that table, so a new key is one line there.
#include "train/config.h"

#include "core/dtype.h"  // Device::parse

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <variant>

#include "core/check.h"

namespace gptcu {
namespace {

using StringList = std::vector<std::string>;
using FieldPtr = std::variant<bool*, int*, int64_t*, double*, std::string*, StringList*>;

struct Field {
  const char* key;   // dotted: "model.n_layer"; no dot: a top-level key
  FieldPtr ptr;      // where the value lives in the Config the table was built for
  const char* note;  // a short comment printed by dump_config, or ""
};

// THE table. Keys are grouped by section, in the order dump_config prints them.
std::vector<Field> config_fields(Config& c) {
  return {
      {"device", &c.device, "cpu | cuda | cuda:N"},
      {"precision", &c.precision, "bf16 | fp32: storage of parameters and activations on a GPU (the CPU is fp32)"},
      {"attention", &c.attention, "auto | flash | interim: the GPU attention kernel (auto: flash for bf16, head dim 64/128)"},
      {"model.n_layer", &c.model.n_layer, ""},
      {"model.n_head", &c.model.n_head, ""},
      {"model.n_embd", &c.model.n_embd, ""},
      {"model.block_size", &c.model.block_size, ""},
      {"model.vocab_size", &c.model.vocab_size, "0: taken from the tokenizer"},
      {"model.init_from", &c.model.init_from, "post-training: start from this checkpoint or run"},
      {"model.value_head", &c.model.value_head, "scalar head (reward model, PPO critic)"},
      {"data.path", &c.data.path, ""},
      {"data.tokenizer", &c.data.tokenizer, ""},
      {"data.val_fraction", &c.data.val_fraction, ""},
      {"train.batch_size", &c.train.batch_size, ""},
      {"train.grad_accum_steps", &c.train.grad_accum_steps, ""},
      {"train.max_steps", &c.train.max_steps, ""},
      {"train.lr", &c.train.lr, ""},
      {"train.min_lr", &c.train.min_lr, ""},
      {"train.warmup_steps", &c.train.warmup_steps, ""},
      {"train.lr_decay_steps", &c.train.lr_decay_steps, "0: max_steps"},
      {"train.lr_schedule", &c.train.lr_schedule, "cosine | linear | constant"},
      {"train.weight_decay", &c.train.weight_decay, ""},
      {"train.beta1", &c.train.beta1, ""},
      {"train.beta2", &c.train.beta2, ""},
      {"train.eps", &c.train.eps, ""},
      {"train.grad_clip", &c.train.grad_clip, "0: off"},
      {"train.eval_every", &c.train.eval_every, "0: only at the end"},
      {"train.eval_steps", &c.train.eval_steps, ""},
      {"train.checkpoint_every", &c.train.checkpoint_every, "0: only at the end"},
      {"train.keep_checkpoints", &c.train.keep_checkpoints, ""},
      {"train.log_every", &c.train.log_every, ""},
      {"train.seed", &c.train.seed, ""},
      {"train.zero", &c.train.zero, "0 | 1: ZeRO-1 shards the optimizer state across ranks"},
      {"train.bucket_mb", &c.train.bucket_mb, "gradient all-reduce bucket (several ranks, zero 0)"},
      {"train.comm_timeout_s", &c.train.comm_timeout_s, "several ranks: a stuck collective ends the run (0: never)"},
      {"train.recompute", &c.train.recompute, "none | gelu | layernorm | all: recompute these activations in backward"},
      {"train.cuda_graph", &c.train.cuda_graph, "device cuda: replay each micro-batch as one CUDA graph"},
      {"train.deterministic", &c.train.deterministic, "device cuda: bitwise-reproducible runs (no split-K GEMMs)"},
      {"run.dir", &c.run.dir, ""},
      {"sft.sample_prompts", &c.sft.sample_prompts, "replies logged at each evaluation"},
      {"sft.sample_max_new_tokens", &c.sft.sample_max_new_tokens, ""},
      {"reward.margin", &c.reward.margin, "loss -log sigmoid(r_chosen - r_rejected - margin)"},
      {"dpo.beta", &c.dpo.beta, ""},
      {"dpo.reference", &c.dpo.reference, "empty: model.init_from"},
      {"rl.reward", &c.rl.reward, "verifier | model"},
      {"rl.verifier", &c.rl.verifier, "exact | gsm8k"},
      {"rl.reward_model", &c.rl.reward_model, "a gptcu reward checkpoint or run"},
      {"rl.reference", &c.rl.reference, "empty: model.init_from"},
      {"rl.eval_prompts", &c.rl.eval_prompts, "empty: DATA/val_prompts.bin"},
      {"rl.eval_max_prompts", &c.rl.eval_max_prompts, ""},
      {"rl.prompts_per_rollout", &c.rl.prompts_per_rollout, ""},
      {"rl.group_size", &c.rl.group_size, "GRPO samples per prompt"},
      {"rl.epochs", &c.rl.epochs, "passes over each rollout"},
      {"rl.minibatches", &c.rl.minibatches, "optimizer steps per pass"},
      {"rl.max_new_tokens", &c.rl.max_new_tokens, ""},
      {"rl.temperature", &c.rl.temperature, ""},
      {"rl.top_k", &c.rl.top_k, "0: off"},
      {"rl.top_p", &c.rl.top_p, "1: off"},
      {"rl.kl_coef", &c.rl.kl_coef, "PPO: KL penalty in the reward; GRPO: k3 KL in the loss"},
      {"rl.kl_target", &c.rl.kl_target, "PPO: > 0 adapts kl_coef"},
      {"rl.kl_horizon", &c.rl.kl_horizon, ""},
      {"rl.gamma", &c.rl.gamma, ""},
      {"rl.lam", &c.rl.lam, "GAE lambda"},
      {"rl.clip_eps", &c.rl.clip_eps, ""},
      {"rl.value_clip_eps", &c.rl.value_clip_eps, "0: unclipped"},
      {"rl.vf_coef", &c.rl.vf_coef, ""},
      {"rl.whiten_advantages", &c.rl.whiten_advantages, ""},
      {"rl.no_stop_penalty", &c.rl.no_stop_penalty, "subtracted when a response never ends"},
      {"prepare.inputs", &c.prepare.inputs, "files, plain or .gz"},
      {"prepare.kind", &c.prepare.kind, "auto | text | dialogue | preference | rl_prompt"},
      {"prepare.text_unit", &c.prepare.text_unit, "file | paragraph | line"},
      {"prepare.strict", &c.prepare.strict, "malformed lines are fatal"},
      {"prepare.normalize", &c.prepare.normalize, "nfkc | nfc | none"},
      {"prepare.invalid_utf8", &c.prepare.invalid_utf8, "repair | drop"},
      {"prepare.dedup_exact", &c.prepare.dedup_exact, ""},
      {"prepare.dedup_near", &c.prepare.dedup_near, "MinHash + LSH"},
      {"prepare.near_threshold", &c.prepare.near_threshold, "estimated Jaccard"},
      {"prepare.min_chars", &c.prepare.min_chars, ""},
      {"prepare.max_chars", &c.prepare.max_chars, "0: no limit"},
      {"prepare.max_dup_line_fraction", &c.prepare.max_dup_line_fraction, ""},
      {"prepare.max_top_ngram_fraction", &c.prepare.max_top_ngram_fraction, ""},
      {"prepare.test_fraction", &c.prepare.test_fraction, "validation: data.val_fraction"},
      {"prepare.max_tokens", &c.prepare.max_tokens, "0: model.block_size + 1"},
      {"prepare.shard_tokens", &c.prepare.shard_tokens, ""},
      {"prepare.system_prompt", &c.prepare.system_prompt, ""},
      {"prepare.threads", &c.prepare.threads, "0: all cores"},
  };
}

const std::vector<std::string> kSchedules = {"cosine", "linear", "constant"};
const std::vector<std::string> kPrepareKinds = {"auto", "text", "dialogue", "preference", "rl_prompt"};
const std::vector<std::string> kTextUnits = {"file", "paragraph", "line"};
const std::vector<std::string> kNormalize = {"nfkc", "nfc", "none"};
const std::vector<std::string> kInvalidUtf8 = {"repair", "drop"};

// ---- small helpers --------------------------------------------------------------------

// "file:line" when the line is known (marks are 0-based), else just the source.
std::string where(const std::string& source, const YAML::Mark& mark) {
  if (mark.is_null() || mark.line < 0) return source;
  return source + ":" + std::to_string(mark.line + 1);
}

std::string leaf_of(const std::string& key) {
  size_t dot = key.rfind('.');
  return dot == std::string::npos ? key : key.substr(dot + 1);
}

std::string section_of(const std::string& key) {
  size_t dot = key.rfind('.');
  return dot == std::string::npos ? "" : key.substr(0, dot);
}

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n"), e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// Optimal string alignment distance (Levenshtein plus adjacent transpositions).
size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i)
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}

// ---- the table, looked up ---------------------------------------------------------------

class Table {
 public:
  explicit Table(Config& c) : fields_(config_fields(c)) {
    for (const Field& f : fields_) {
      std::string s = section_of(f.key);
      while (!s.empty()) {
        sections_.insert(s);
        s = section_of(s);
      }
    }
  }
  const std::vector<Field>& fields() const { return fields_; }
  const Field* find(const std::string& key) const {
    for (const Field& f : fields_)
      if (key == f.key) return &f;
    return nullptr;
  }
  bool is_section(const std::string& key) const { return sections_.count(key) > 0; }
  std::string first_key_in(const std::string& section) const {
    for (const Field& f : fields_)
      if (std::string(f.key).rfind(section + ".", 0) == 0) return f.key;
    return "";
  }

  // The closest known key, or "" when none is close enough to be a plausible typo.
  std::string suggest(const std::string& key) const {
    std::vector<std::string> candidates(sections_.begin(), sections_.end());
    for (const Field& f : fields_) candidates.push_back(f.key);
    const std::string leaf = leaf_of(key), section = section_of(key);
    // The right name in the wrong section: train.n_layer -> model.n_layer.
    for (const Field& f : fields_)
      if (leaf_of(f.key) == leaf && key != f.key) return f.key;
    // A prefix of a key in the same section: train.warmup -> train.warmup_steps.
    if (leaf.size() >= 4)
      for (const Field& f : fields_)
        if (section_of(f.key) == section && leaf_of(f.key).rfind(leaf, 0) == 0) return f.key;
    // A typo: model.n_layers -> model.n_layer, modle -> model.
    std::string best;
    size_t best_d = std::max<size_t>(1, leaf.size() / 3) + 1;
    for (const std::string& cand : candidates) {
      size_t d = edit_distance(key, cand);
      if (d < best_d) best = cand, best_d = d;
    }
    return best;
  }

  [[noreturn]] void unknown_key(const std::string& key, const std::string& at) const {
    std::string hint = suggest(key);
    user_error("unknown config key '", key, "' at ", at,
               hint.empty() ? "" : " (did you mean '" + hint + "'?)");
  }

 private:
  std::vector<Field> fields_;
  std::set<std::string> sections_;
};

// ---- scalar parsing ---------------------------------------------------------------------

const char* expected(const FieldPtr& p) {
  struct V {
    const char* operator()(bool*) const { return "true or false"; }
    const char* operator()(int*) const { return "an integer"; }
    const char* operator()(int64_t*) const { return "an integer"; }
    const char* operator()(double*) const { return "a number"; }
    const char* operator()(std::string*) const { return "a string"; }
    const char* operator()(StringList*) const { return "a list of strings"; }
  };
  return std::visit(V{}, p);
}

// Parses a whole string as a base-10 integer; false on any trailing junk ("3.5", "4x").
bool parse_int64(std::string s, int64_t& out, bool& overflow) {
  overflow = false;
  if (s.size() > 1 && s[0] == '+' && s[1] != '-') s.erase(0, 1);
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (p != s.data() + s.size()) return false;
  if (ec == std::errc::result_out_of_range) {
    overflow = true;
    return false;
  }
  return ec == std::errc();
}

bool parse_double(std::string s, double& out) {
  if (s.size() > 1 && s[0] == '+' && s[1] != '-') s.erase(0, 1);
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size() && std::isfinite(out);
}

// Assigns a YAML node to one field; `at` is "file:line" or "--set" for the message.
void assign(const Field& f, const YAML::Node& v, const std::string& at) {
  auto fail = [&](const std::string& got) -> void {
    user_error("config ", f.key, " at ", at, ": expected ", expected(f.ptr), ", got ", got);
  };
  if (v.IsMap()) fail("a map");
  if (auto* list = std::get_if<StringList*>(&f.ptr)) {
    // A list; a single string is a list of one.
    (*list)->clear();
    if (v.IsNull()) return;
    if (v.IsScalar()) {
      (*list)->push_back(v.Scalar());
      return;
    }
    for (const YAML::Node& item : v) {
      if (!item.IsScalar()) fail("a list with a non-string item");
      (*list)->push_back(item.Scalar());
    }
    return;
  }
  if (v.IsSequence()) fail("a list");
  if (v.IsNull() || !v.IsDefined()) {
    // `path:` with nothing after it: an empty string; for anything else a mistake.
    if (auto* s = std::get_if<std::string*>(&f.ptr)) {
      **s = "";
      return;
    }
    fail("nothing");
  }
  const std::string text = v.Scalar();
  const std::string quoted = "'" + text + "'";
  std::visit(
      [&](auto* p) {
        using T = std::remove_pointer_t<decltype(p)>;
        if constexpr (std::is_same_v<T, StringList>) {
          GPTCU_CHECK(false, "lists are handled above");
        } else if constexpr (std::is_same_v<T, std::string>) {
          *p = text;
        } else if constexpr (std::is_same_v<T, bool>) {
          if (text == "true" || text == "True" || text == "TRUE") *p = true;
          else if (text == "false" || text == "False" || text == "FALSE") *p = false;
          else fail(quoted);
        } else if constexpr (std::is_same_v<T, double>) {
          if (!parse_double(text, *p)) fail(quoted);
        } else {  // int, int64_t
          int64_t x = 0;
          bool overflow = false;
          bool ok = parse_int64(text, x, overflow);
          if (ok && (x < std::numeric_limits<T>::min() || x > std::numeric_limits<T>::max())) {
            ok = false;
            overflow = true;
          }
          if (!ok && overflow)
            user_error("config ", f.key, " at ", at, ": expected an integer in [",
                       std::numeric_limits<T>::min(), ", ", std::numeric_limits<T>::max(),
                       "], got ", quoted);
          if (!ok) fail(quoted);
          *p = static_cast<T>(x);
        }
      },
      f.ptr);
}

// Applies one YAML map (the document, or a section) under `prefix`.
void apply_map(const Table& table, const YAML::Node& map, const std::string& prefix,
               const std::string& source) {
  std::set<std::string> seen;
  for (auto it = map.begin(); it != map.end(); ++it) {
    const YAML::Node& k = it->first;
    const YAML::Node& v = it->second;
    const std::string at_key = where(source, k.Mark());
    // A null value (`n_layer:`) is marked where the next token starts: use the key's line.
    const std::string at_value = where(source, v.IsNull() ? k.Mark() : v.Mark());
    if (!k.IsScalar())
      user_error("config at ", at_key, ": a key must be a plain name, e.g. 'model'");
    const std::string key = prefix.empty() ? k.Scalar() : prefix + "." + k.Scalar();
    if (!seen.insert(key).second) user_error("duplicate config key '", key, "' at ", at_key);
    if (const Field* f = table.find(key)) {
      assign(*f, v, at_value);
    } else if (table.is_section(key)) {
      if (v.IsMap()) apply_map(table, v, key, source);
      else if (!v.IsNull())  // `model:` with nothing under it is fine
        user_error("config ", key, " at ", at_value, ": expected a map of '", key,
                   ".*' keys, got ", v.IsSequence() ? "a list" : "'" + v.Scalar() + "'");
    } else {
      table.unknown_key(key, at_key);
    }
  }
}

void apply_overrides(const Table& table, const std::vector<std::string>& overrides) {
  for (const std::string& s : overrides) {
    size_t eq = s.find('=');
    std::string key = eq == std::string::npos ? "" : trim(s.substr(0, eq));
    if (key.empty())
      user_error("malformed --set '", s, "': expected key=value, e.g. model.n_layer=4");
    const Field* f = table.find(key);
    if (!f && table.is_section(key))
      user_error("config ", key, " at --set: a section, not a key; set one of its keys, e.g. '",
                 table.first_key_in(key), "=...'");
    if (!f) table.unknown_key(key, "--set");
    const std::string value = s.substr(eq + 1);
    YAML::Node v;
    try {
      v = YAML::Load(value);
    } catch (const YAML::Exception& e) {
      user_error("config ", key, " at --set: cannot parse value '", value, "': ", e.msg);
    }
    assign(*f, v, "--set");
  }
}

// The shortest text that parses back to exactly x: fixed notation for everyday
// magnitudes (0.0006, 1.0), scientific otherwise (6e-5, 1e-8, 1e+20).
std::string format_double(double x) {
  char buf[64];
  const double a = std::fabs(x);
  const bool fixed = a == 0 || (a >= 1e-4 && a < 1e15);
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, x,
                                 fixed ? std::chars_format::fixed : std::chars_format::scientific);
  std::string s(buf, end);
  if (fixed && s.find('.') == std::string::npos) s += ".0";  // 1 -> 1.0, read as a number
  size_t e = s.find('e');                                   // 6e-05 -> 6e-5
  if (e != std::string::npos && e + 2 < s.size() && s[e + 2] == '0') s.erase(e + 2, 1);
  return s;
}

std::string format_value(const FieldPtr& p) {
  struct V {
    std::string operator()(bool* x) const { return *x ? "true" : "false"; }
    std::string operator()(int* x) const { return std::to_string(*x); }
    std::string operator()(int64_t* x) const { return std::to_string(*x); }
    std::string operator()(double* x) const { return format_double(*x); }
    std::string operator()(std::string* x) const {
      YAML::Emitter e;
      e << YAML::DoubleQuoted << *x;
      return e.c_str();
    }
    std::string operator()(StringList* x) const {
      std::string s = "[";
      for (const std::string& item : *x) s += (s.size() > 1 ? ", " : "") + (*this)(const_cast<std::string*>(&item));
      return s + "]";
    }
  };
  return std::visit(V{}, p);
}

void require(bool ok, const std::string& key, const std::string& what) {
  if (!ok) user_error("config ", key, ": ", what);
}

std::string got(int v) { return ", got " + std::to_string(v); }
std::string got(double v) { return ", got " + format_double(v); }

bool is_device(const std::string& d) {
  try {
    Device::parse(d);
    return true;
  } catch (const UserError&) {
    return false;
  }
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

}  // namespace

// ---- public API -------------------------------------------------------------------------

Config parse_config(const std::string& yaml_text, const std::string& source_name,
                    const std::vector<std::string>& overrides) {
  Config c;
  Table table(c);
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    user_error("config ", where(source_name, e.mark), ": YAML syntax error: ", e.msg);
  }
  if (root.IsMap()) {
    apply_map(table, root, "", source_name);
  } else if (!root.IsNull()) {  // an empty file is an empty config
    user_error("config ", where(source_name, root.Mark()),
               ": expected a map of keys (device, model, data, train, run) at the top level");
  }
  apply_overrides(table, overrides);
  validate_config(c);
  return c;
}

Config load_config(const std::string& path, const std::vector<std::string>& overrides) {
  if (path.empty()) return parse_config("", "--set", overrides);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    user_error("config file not found: ", path);
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) user_error("cannot read config file: ", path);
  return parse_config(text.str(), path, overrides);
}

std::string dump_config(const Config& config) {
  Config c = config;  // the table wants a mutable Config; we only read through it
  std::ostringstream os;
  std::vector<std::string> open;  // the sections opened so far, outermost first
  for (const Field& f : config_fields(c)) {
    std::vector<std::string> path;
    std::string key = f.key;
    for (size_t dot; (dot = key.find('.')) != std::string::npos; key.erase(0, dot + 1))
      path.push_back(key.substr(0, dot));
    size_t common = 0;
    while (common < open.size() && common < path.size() && open[common] == path[common])
      ++common;
    for (size_t i = common; i < path.size(); ++i)
      os << std::string(2 * i, ' ') << path[i] << ":\n";
    open = path;
    os << std::string(2 * path.size(), ' ') << key << ": " << format_value(f.ptr);
    if (*f.note) os << "  # " << f.note;
    os << "\n";
  }
  return os.str();
}

void validate_config(const Config& c) {
  const ModelConfig& m = c.model;
  require(is_device(c.device), "device", "expected cpu, cuda or cuda:N, got '" + c.device + "'");
  require(c.precision == "bf16" || c.precision == "fp32", "precision", "expected bf16 or fp32, got '" + c.precision + "'");
  require(c.attention == "auto" || c.attention == "flash" || c.attention == "interim", "attention",
          "expected auto, flash or interim, got '" + c.attention + "'");
  require(m.n_layer > 0, "model.n_layer", "must be > 0" + got(m.n_layer));
  require(m.n_head > 0, "model.n_head", "must be > 0" + got(m.n_head));
  require(m.n_embd > 0, "model.n_embd", "must be > 0" + got(m.n_embd));
  require(m.n_embd % m.n_head == 0, "model.n_embd",
          "must be divisible by model.n_head (" + std::to_string(m.n_head) + ")" + got(m.n_embd));
  require(m.block_size > 0, "model.block_size", "must be > 0" + got(m.block_size));
  require(m.vocab_size >= 0, "model.vocab_size",
          "must be >= 0 (0: taken from the tokenizer)" + got(m.vocab_size));

  const DataConfig& d = c.data;
  require(!d.tokenizer.empty(), "data.tokenizer",
          "must be 'byte', a GPT-2 tokenizer directory or a .tiktoken file");
  require(d.val_fraction > 0 && d.val_fraction < 1, "data.val_fraction",
          "must be in (0, 1)" + got(d.val_fraction));

  const TrainConfig& t = c.train;
  require(t.batch_size > 0, "train.batch_size", "must be > 0" + got(t.batch_size));
  require(t.grad_accum_steps > 0, "train.grad_accum_steps",
          "must be > 0" + got(t.grad_accum_steps));
  require(t.max_steps > 0, "train.max_steps", "must be > 0" + got(t.max_steps));
  require(t.min_lr >= 0, "train.min_lr", "must be >= 0" + got(t.min_lr));
  require(t.lr >= t.min_lr, "train.lr",
          "must be >= train.min_lr (" + format_double(t.min_lr) + ")" +
              got(t.lr));
  require(t.warmup_steps >= 0, "train.warmup_steps", "must be >= 0" + got(t.warmup_steps));
  require(t.lr_decay_steps >= 0, "train.lr_decay_steps",
          "must be >= 0 (0: max_steps)" + got(t.lr_decay_steps));
  require(std::count(kSchedules.begin(), kSchedules.end(), t.lr_schedule) > 0,
          "train.lr_schedule",
          "expected one of " + join(kSchedules) + ", got '" + t.lr_schedule + "'");
  require(t.weight_decay >= 0, "train.weight_decay", "must be >= 0" + got(t.weight_decay));
  require(t.beta1 >= 0 && t.beta1 < 1, "train.beta1", "must be in [0, 1)" + got(t.beta1));
  require(t.beta2 >= 0 && t.beta2 < 1, "train.beta2", "must be in [0, 1)" + got(t.beta2));
  require(t.eps > 0, "train.eps", "must be > 0" + got(t.eps));
  require(t.grad_clip >= 0, "train.grad_clip", "must be >= 0 (0: off)" + got(t.grad_clip));
  require(t.eval_every >= 0, "train.eval_every",
          "must be >= 0 (0: only at the end)" + got(t.eval_every));
  require(t.eval_steps > 0, "train.eval_steps", "must be > 0" + got(t.eval_steps));
  require(t.checkpoint_every >= 0, "train.checkpoint_every",
          "must be >= 0 (0: only at the end)" + got(t.checkpoint_every));
  require(t.keep_checkpoints > 0, "train.keep_checkpoints",
          "must be > 0" + got(t.keep_checkpoints));
  require(t.log_every > 0, "train.log_every", "must be > 0" + got(t.log_every));
  require(t.zero == 0 || t.zero == 1, "train.zero", "must be 0 or 1 (ZeRO-1 shards the optimizer state)" + got(t.zero));
  require(t.bucket_mb > 0, "train.bucket_mb", "must be > 0" + got(t.bucket_mb));
  require(t.recompute == "none" || t.recompute == "gelu" || t.recompute == "layernorm" || t.recompute == "all",
          "train.recompute", "expected none, gelu, layernorm or all, got '" + t.recompute + "'");
  require(t.comm_timeout_s >= 0, "train.comm_timeout_s", "must be >= 0 (0: never)" + got(t.comm_timeout_s));

  require(!c.run.dir.empty(), "run.dir", "must not be empty");

  require(c.sft.sample_prompts >= 0, "sft.sample_prompts", "must be >= 0" + got(c.sft.sample_prompts));
  require(c.sft.sample_max_new_tokens > 0, "sft.sample_max_new_tokens", "must be > 0" + got(c.sft.sample_max_new_tokens));
  require(std::isfinite(c.reward.margin), "reward.margin", "must be a finite number");
  require(c.dpo.beta > 0, "dpo.beta", "must be > 0" + got(c.dpo.beta));
  const RlConfig& r = c.rl;
  require(r.reward == "verifier" || r.reward == "model", "rl.reward", "expected verifier or model, got '" + r.reward + "'");
  require(r.verifier == "exact" || r.verifier == "gsm8k", "rl.verifier", "expected exact or gsm8k, got '" + r.verifier + "'");
  require(r.reward != "model" || !r.reward_model.empty(), "rl.reward_model", "must be set when rl.reward is model");
  require(r.eval_max_prompts > 0, "rl.eval_max_prompts", "must be > 0" + got(r.eval_max_prompts));
  require(r.prompts_per_rollout > 0, "rl.prompts_per_rollout", "must be > 0" + got(r.prompts_per_rollout));
  require(r.group_size > 1, "rl.group_size", "must be > 1 (advantages compare samples of one prompt)" + got(r.group_size));
  require(r.epochs > 0, "rl.epochs", "must be > 0" + got(r.epochs));
  require(r.minibatches > 0, "rl.minibatches", "must be > 0" + got(r.minibatches));
  require(r.max_new_tokens > 0, "rl.max_new_tokens", "must be > 0" + got(r.max_new_tokens));
  require(r.temperature > 0, "rl.temperature", "must be > 0 (rollouts sample)" + got(r.temperature));
  require(r.top_k >= 0, "rl.top_k", "must be >= 0" + got(r.top_k));
  require(r.top_p > 0 && r.top_p <= 1, "rl.top_p", "must be in (0, 1]" + got(r.top_p));
  require(r.kl_coef >= 0, "rl.kl_coef", "must be >= 0" + got(r.kl_coef));
  require(r.kl_target >= 0, "rl.kl_target", "must be >= 0 (0: fixed kl_coef)" + got(r.kl_target));
  require(r.kl_horizon > 0, "rl.kl_horizon", "must be > 0" + got(r.kl_horizon));
  require(r.gamma > 0 && r.gamma <= 1, "rl.gamma", "must be in (0, 1]" + got(r.gamma));
  require(r.lam >= 0 && r.lam <= 1, "rl.lam", "must be in [0, 1]" + got(r.lam));
  require(r.clip_eps > 0, "rl.clip_eps", "must be > 0" + got(r.clip_eps));
  require(r.value_clip_eps >= 0, "rl.value_clip_eps", "must be >= 0 (0: unclipped)" + got(r.value_clip_eps));
  require(r.vf_coef >= 0, "rl.vf_coef", "must be >= 0" + got(r.vf_coef));
  require(std::isfinite(r.no_stop_penalty), "rl.no_stop_penalty", "must be a finite number");

  const PrepareConfig& p = c.prepare;
  auto one_of = [](const std::vector<std::string>& options, const std::string& v, const std::string& key) {
    require(std::count(options.begin(), options.end(), v) > 0, key,
            "expected one of " + join(options) + ", got '" + v + "'");
  };
  one_of(kPrepareKinds, p.kind, "prepare.kind");
  one_of(kTextUnits, p.text_unit, "prepare.text_unit");
  one_of(kNormalize, p.normalize, "prepare.normalize");
  one_of(kInvalidUtf8, p.invalid_utf8, "prepare.invalid_utf8");
  require(p.near_threshold > 0 && p.near_threshold <= 1, "prepare.near_threshold",
          "must be in (0, 1]" + got(p.near_threshold));
  require(p.min_chars >= 0, "prepare.min_chars", "must be >= 0");
  require(p.max_chars >= 0, "prepare.max_chars", "must be >= 0 (0: no limit)");
  require(p.max_chars == 0 || p.max_chars >= p.min_chars, "prepare.max_chars", "must be >= prepare.min_chars");
  require(p.max_dup_line_fraction > 0 && p.max_dup_line_fraction <= 1, "prepare.max_dup_line_fraction",
          "must be in (0, 1]" + got(p.max_dup_line_fraction));
  require(p.max_top_ngram_fraction > 0 && p.max_top_ngram_fraction <= 1, "prepare.max_top_ngram_fraction",
          "must be in (0, 1]" + got(p.max_top_ngram_fraction));
  require(p.test_fraction >= 0 && p.test_fraction + d.val_fraction < 1, "prepare.test_fraction",
          "must be >= 0, and with data.val_fraction < 1" + got(p.test_fraction));
  require(p.max_tokens >= 0, "prepare.max_tokens", "must be >= 0 (0: model.block_size + 1)");
  require(p.shard_tokens >= 1024, "prepare.shard_tokens", "must be >= 1024");
  require(p.threads >= 0, "prepare.threads", "must be >= 0 (0: all cores)");
}

std::vector<std::string> config_keys() {
  Config c;
  std::vector<std::string> keys;
  for (const Field& f : config_fields(c)) keys.push_back(f.key);
  return keys;
}

}  // namespace gptcu
