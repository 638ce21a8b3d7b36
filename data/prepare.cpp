// data/prepare.cpp: the `gptcu data prepare` pipeline (see prepare.h for the stages).
#include "data/prepare.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>
#include <thread>

#include "core/check.h"
#include "data/bpe_tokenizer.h"
#include "data/chat_template.h"
#include "data/clean.h"
#include "data/dedup.h"
#include "data/filters.h"
#include "data/progress.h"
#include "data/records.h"
#include "data/shard.h"
#include "data/split.h"

namespace fs = std::filesystem;

namespace gptcu {

namespace {

constexpr const char* kMetaFile = "meta.json";
constexpr uint64_t kSplitSeed = 0x5eed5eed;  // fixed: a record's split never depends on run options

RecordKind parse_kind(const std::string& k) {
  if (k == "text") return RecordKind::text;
  if (k == "dialogue") return RecordKind::dialogue;
  if (k == "preference") return RecordKind::preference;
  if (k == "rl_prompt") return RecordKind::rl_prompt;
  user_error("prepare.kind '", k, "': expected auto, text, dialogue, preference or rl_prompt");
}

// The split is decided by the prompt alone for preference pairs and RL prompts, so that two
// answers to one prompt never land on both sides of the train/validation line; `key` is
// record_key(r), used as it is for the other kinds.
std::string split_key(const Record& r, const std::string& key) {
  if (r.kind != RecordKind::preference && r.kind != RecordKind::rl_prompt) return key;
  Record prompt_only;
  prompt_only.kind = r.kind;
  prompt_only.messages = r.messages;
  return record_key(prompt_only);
}

// One record, tokenized. Which fields are used depends on the kind.
struct Encoded {
  std::vector<int32_t> tokens;  // text, dialogue: the sequence; rl_prompt: the prompt
  std::vector<uint8_t> mask;    // dialogue
  std::vector<int32_t> chosen, rejected;  // preference (tokens holds the prompt)
  bool too_long = false;
};

Encoded encode_record(const Record& r, RecordKind kind, const BpeTokenizer& tok, const ChatTemplate& chat,
                      const std::string& system_prompt, int64_t max_tokens) {
  Encoded e;
  std::vector<Message> messages = r.messages;
  if (!system_prompt.empty() && kind != RecordKind::text &&
      (messages.empty() || messages.front().role != "system"))
    messages.insert(messages.begin(), Message{"system", system_prompt});
  switch (kind) {
    case RecordKind::text:
      e.tokens.push_back(chat.ids().eot);  // llm.c's convention: <|endoftext|> before each document
      for (int32_t id : tok.encode(r.text)) e.tokens.push_back(id);
      break;  // long documents are fine: training cuts the stream into windows
    case RecordKind::dialogue:
      chat.render(messages, e.tokens, e.mask);
      e.too_long = (int64_t)e.tokens.size() > max_tokens;
      break;
    case RecordKind::preference: {
      e.tokens = chat.prompt(messages);
      e.chosen = chat.reply(r.chosen);
      e.rejected = chat.reply(r.rejected);
      const int64_t longest = (int64_t)(e.tokens.size() + std::max(e.chosen.size(), e.rejected.size()));
      e.too_long = longest > max_tokens;
      break;
    }
    case RecordKind::rl_prompt:
      e.tokens = chat.prompt(messages);
      e.too_long = (int64_t)e.tokens.size() >= max_tokens;  // no room left for an answer
      break;
  }
  return e;
}

// Tokenizes records[i] for every i in parallel (contiguous blocks per thread), in order.
std::vector<Encoded> encode_all(const std::vector<Record>& records, RecordKind kind, const BpeTokenizer& tok,
                                const ChatTemplate& chat, const PrepareConfig& cfg, int64_t max_tokens,
                                std::ostream& log) {
  std::vector<Encoded> out(records.size());
  int threads = cfg.threads > 0 ? cfg.threads : (int)std::max(1u, std::thread::hardware_concurrency());
  threads = (int)std::min<size_t>((size_t)threads, std::max<size_t>(1, records.size() / 64));
  std::vector<int64_t> record_bytes(records.size());  // progress is counted in record bytes
  double total_bytes = 0;
  for (size_t i = 0; i < records.size(); i++) total_bytes += (double)(record_bytes[i] = (int64_t)record_key(records[i]).size());
  Progress progress(log, "tokenize", total_bytes, "MB", 1e6);
  std::atomic<size_t> next{0};
  std::atomic<int64_t> done_bytes{0};
  std::exception_ptr error;
  std::mutex error_mutex;
  std::atomic<bool> failed{false};  // the reporter's view of `error` (which is not atomic)
  auto work = [&]() {
    try {
      constexpr size_t kBlock = 256;
      for (size_t b; (b = next.fetch_add(kBlock)) < records.size();) {
        int64_t bytes = 0;
        for (size_t i = b; i < std::min(records.size(), b + kBlock); i++) {
          out[i] = encode_record(records[i], kind, tok, chat, cfg.system_prompt, max_tokens);
          bytes += record_bytes[i];
        }
        done_bytes += bytes;
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::current_exception();
      failed = true;
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; t++) pool.emplace_back(work);
  // The calling thread works too; another one prints the progress.
  std::thread reporter([&]() {
    while (next.load() < records.size() && !failed) {
      progress.update((double)done_bytes.load());
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  });
  work();
  for (auto& t : pool) t.join();
  reporter.join();
  if (error) std::rethrow_exception(error);
  progress.update(total_bytes);
  progress.finish();
  return out;
}

std::string fmt_count(int64_t n) {
  std::string s = std::to_string(n);
  for (int i = (int)s.size() - 3; i > 0; i -= 3) s.insert((size_t)i, ",");
  return s;
}

// The output directory is replaced as a whole: everything is written into a sibling temporary
// directory which is renamed into place at the end, so an interrupted prepare never leaves a
// half-written data set where a good one was.
void check_out_dir(const std::string& out_dir) {
  GPTCU_USER_CHECK(!out_dir.empty(), "no output directory given (data.path, or --out)");
  const fs::path p(out_dir);
  if (!fs::exists(p)) return;
  GPTCU_USER_CHECK(fs::is_directory(p), "output '", out_dir, "' exists and is not a directory");
  const bool empty = fs::directory_iterator(p) == fs::directory_iterator();
  GPTCU_USER_CHECK(empty || fs::exists(p / kMetaFile), "output directory '", out_dir,
                   "' is not empty and holds no ", kMetaFile,
                   ": refusing to replace something that is not a previous `gptcu data prepare` output");
}

void publish(const fs::path& tmp, const fs::path& out) {
  const fs::path old = out.string() + ".old-" + std::to_string(::getpid());
  const bool had_old = fs::exists(out);
  if (had_old) fs::rename(out, old);
  try {
    fs::rename(tmp, out);
  } catch (...) {
    if (had_old) fs::rename(old, out);  // the previous output stays where it was
    throw;
  }
  fs::remove_all(old);
}

}  // namespace

std::string PrepareReport::table() const {
  std::ostringstream os;
  auto row = [&](const std::string& what, int64_t n) {
    char buf[128];
    std::snprintf(buf, sizeof buf, "  %-30s %14s\n", what.c_str(), fmt_count(n).c_str());
    os << buf;
  };
  os << "report (" << kind << ")\n";
  row("files", files);
  row("records read", records_read);
  row("dropped: malformed lines", malformed);
  row("dropped: missing fields", missing_fields);
  row("dropped: other kind", other_kind);
  row("dropped: invalid UTF-8", dropped_utf8);
  row("repaired: invalid UTF-8", repaired_utf8);
  row("changed by cleaning", changed_by_cleaning);
  row("dropped: too short", filtered_too_short);
  row("dropped: too long", filtered_too_long);
  row("dropped: repetitive", filtered_repetition);
  row("dropped: exact duplicates", exact_duplicates);
  row("dropped: near duplicates", near_duplicates);
  row("dropped: over max_tokens", too_many_tokens);
  const char* names[3] = {"train", "val", "test"};
  for (int s = 0; s < 3; s++) {
    if (s == 2 && kept[s] == 0) continue;  // no test split asked for
    row(std::string(names[s]) + " records", kept[s]);
    row(std::string(names[s]) + " tokens", tokens[s]);
    if (kind == "dialogue") row(std::string(names[s]) + " target tokens", target_tokens[s]);
  }
  for (const std::string& e : examples) os << "  e.g. " << e << "\n";
  char buf[64];
  std::snprintf(buf, sizeof buf, "  %.1f s\n", seconds);
  os << buf;
  return os.str();
}

PrepareReport run_prepare(const PrepareConfig& cfg, const std::string& tokenizer_spec, const std::string& out_dir,
                          double val_fraction, int block_size, std::ostream& log) {
  PrepareReport rep;
  Progress total_time(log, "prepare", 0, "");
  GPTCU_USER_CHECK(!cfg.inputs.empty(), "no inputs given (prepare.inputs, or --input)");
  check_out_dir(out_dir);
  for (const std::string& path : cfg.inputs)
    GPTCU_USER_CHECK(fs::is_regular_file(path), "input file not found: ", path);

  // The tokenizer, with the chat special tokens, is saved beside the shards: every later stage
  // (pretrain, SFT, RL, chat) uses exactly this one.
  BpeTokenizer tok = BpeTokenizer::load(tokenizer_spec);
  ChatTemplate::add_specials(tok);
  const ChatTemplate chat(tok);
  const int64_t max_tokens = cfg.max_tokens > 0 ? cfg.max_tokens : (int64_t)block_size + 1;

  // 1. read
  std::vector<Record> records;
  ReadOptions ropt;
  ropt.text_unit = cfg.text_unit;
  ropt.strict = cfg.strict;
  ReadStats rstats;
  double total_bytes = 0, read_bytes = 0;
  for (const std::string& path : cfg.inputs) total_bytes += (double)fs::file_size(path);
  Progress reading(log, "read", total_bytes, "MB", 1e6);
  for (const std::string& path : cfg.inputs) {
    read_records(path, ropt, rstats, [&](Record&& r) { records.push_back(std::move(r)); });
    read_bytes += (double)fs::file_size(path);
    reading.update(read_bytes);
    rep.files++;
  }
  reading.finish();
  rep.records_read = rstats.records;
  rep.malformed = rstats.malformed;
  rep.missing_fields = rstats.missing_fields;
  rep.repaired_utf8 = rstats.invalid_utf8;  // JSON lines are repaired while reading, before clean_record
  rep.examples = rstats.examples;
  GPTCU_USER_CHECK(!records.empty(), "no records in the inputs (", cfg.inputs.size(), " file(s), ", rstats.malformed,
                   " malformed line(s), ", rstats.missing_fields, " record(s) missing fields)");

  // 2. what to write: the kind asked for, or the most common one
  RecordKind kind;
  if (cfg.kind == "auto") {
    std::map<RecordKind, int64_t> count;
    for (const Record& r : records) count[r.kind]++;
    kind = std::max_element(count.begin(), count.end(), [](auto& a, auto& b) { return a.second < b.second; })->first;
  } else {
    kind = parse_kind(cfg.kind);
  }
  rep.kind = kind_name(kind);

  // 3. clean, filter, dedup, split (in input order: the first of duplicates is kept)
  CleanOptions copt;
  copt.normalize = cfg.normalize;
  copt.invalid_utf8 = cfg.invalid_utf8;
  FilterOptions fopt;
  fopt.min_chars = cfg.min_chars;
  fopt.max_chars = cfg.max_chars;
  fopt.max_dup_line_fraction = cfg.max_dup_line_fraction;
  fopt.max_top_ngram_fraction = cfg.max_top_ngram_fraction;
  DedupOptions dopt;
  dopt.exact = cfg.dedup_exact;
  dopt.near = cfg.dedup_near;
  dopt.threshold = cfg.near_threshold;
  Deduper dedup(dopt);
  std::vector<Record> kept;
  std::vector<SplitName> split;
  Progress cleaning(log, "clean+dedup", (double)records.size(), "records");
  for (size_t i = 0; i < records.size(); i++) {
    Record& r = records[i];
    cleaning.update((double)i);
    if (r.kind != kind) {
      rep.other_kind++;
      continue;
    }
    const CleanOutcome outcome = clean_record(r, copt);
    if (outcome == CleanOutcome::dropped) {
      rep.dropped_utf8++;
      continue;
    }
    if (outcome == CleanOutcome::repaired) rep.repaired_utf8++;
    if (outcome == CleanOutcome::changed) rep.changed_by_cleaning++;
    const std::string reason = filter_record(r, fopt);
    if (reason == "too_short") { rep.filtered_too_short++; continue; }
    if (reason == "too_long") { rep.filtered_too_long++; continue; }
    if (!reason.empty()) { rep.filtered_repetition++; continue; }
    const std::string key = record_key(r);
    const Deduper::Verdict v = dedup.add(key);
    if (v == Deduper::Verdict::exact_duplicate) { rep.exact_duplicates++; continue; }
    if (v == Deduper::Verdict::near_duplicate) { rep.near_duplicates++; continue; }
    split.push_back(split_of(split_key(r, key), val_fraction, cfg.test_fraction, kSplitSeed));
    kept.push_back(std::move(r));
  }
  cleaning.update((double)records.size());
  cleaning.finish();
  records.clear();
  records.shrink_to_fit();

  // 4. tokenize
  std::vector<Encoded> enc = encode_all(kept, kind, tok, chat, cfg, max_tokens, log);

  // 5. write, into a temporary directory renamed into place at the end
  // Absolute and without a trailing '/': "data/sft/" must give the sibling "data/sft.tmp-PID",
  // not "data/sft/.tmp-PID" inside the directory it replaces.
  fs::path out = fs::absolute(out_dir).lexically_normal();
  if (!out.has_filename()) out = out.parent_path();
  fs::create_directories(out.parent_path());
  const fs::path tmp = out.string() + ".tmp-" + std::to_string(::getpid());
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  nlohmann::json splits = nlohmann::json::object();
  const char* names[3] = {"train", "val", "test"};
  try {
    for (int s = 0; s < 3; s++) {
      std::vector<std::string> files;
      if (kind == RecordKind::text || kind == RecordKind::dialogue) {
        ShardWriterOptions wopt;
        wopt.vocab_size = tok.vocab_size();
        wopt.shard_tokens = cfg.shard_tokens;
        wopt.with_mask = kind == RecordKind::dialogue;
        ShardWriter w(tmp.string(), names[s], wopt);
        for (size_t i = 0; i < kept.size(); i++) {
          if ((int)split[i] != s) continue;
          if (enc[i].too_long) { rep.too_many_tokens++; continue; }
          w.add(enc[i].tokens, enc[i].mask);
          rep.kept[s]++;
          rep.tokens[s] += (int64_t)enc[i].tokens.size();
          for (uint8_t m : enc[i].mask) rep.target_tokens[s] += m;
        }
        w.finish();
        files = w.files();
      } else {
        const bool pref = kind == RecordKind::preference;
        const std::string path = (tmp / (std::string(names[s]) + (pref ? "_pairs.bin" : "_prompts.bin"))).string();
        RecordShardWriter w(path, pref ? RecordShardKind::preference : RecordShardKind::prompt, tok.vocab_size());
        for (size_t i = 0; i < kept.size(); i++) {
          if ((int)split[i] != s) continue;
          if (enc[i].too_long) { rep.too_many_tokens++; continue; }
          if (pref) w.add_preference(enc[i].tokens, enc[i].chosen, enc[i].rejected);
          else w.add_prompt(enc[i].tokens, kept[i].answer);
          rep.kept[s]++;
          rep.tokens[s] += (int64_t)(enc[i].tokens.size() + enc[i].chosen.size() + enc[i].rejected.size());
        }
        w.finish();
        if (w.records() > 0) files.push_back(w.path());
        else {
          fs::remove(w.path());
          fs::remove(answers_path_for(w.path()));
        }
      }
      for (std::string& f : files) f = fs::path(f).filename().string();
      splits[names[s]] = {{"records", rep.kept[s]}, {"tokens", rep.tokens[s]}, {"files", files}};
    }
    if (rep.kept[0] == 0) log << rep.table();
    GPTCU_USER_CHECK(rep.kept[0] > 0, "nothing left to write for the train split: ", rep.records_read,
                     " records read, none kept (see the report above)");
    tok.save((tmp / "tokenizer").string());
    rep.seconds = total_time.seconds();
    nlohmann::json specials = nlohmann::json::object();
    for (const auto& [name, id] : tok.specials()) specials[name] = id;
    nlohmann::json meta = {
        {"format", "gptcu-prepared"},
        {"version", 1},
        {"kind", rep.kind},
        {"tokenizer", tokenizer_spec},
        {"vocab_size", tok.vocab_size()},
        {"special_tokens", specials},
        {"max_tokens", max_tokens},
        {"inputs", cfg.inputs},
        {"splits", splits},
        {"report",
         {{"records_read", rep.records_read},
          {"malformed", rep.malformed},
          {"missing_fields", rep.missing_fields},
          {"other_kind", rep.other_kind},
          {"dropped_utf8", rep.dropped_utf8},
          {"repaired_utf8", rep.repaired_utf8},
          {"changed_by_cleaning", rep.changed_by_cleaning},
          {"too_short", rep.filtered_too_short},
          {"too_long", rep.filtered_too_long},
          {"repetitive", rep.filtered_repetition},
          {"exact_duplicates", rep.exact_duplicates},
          {"near_duplicates", rep.near_duplicates},
          {"over_max_tokens", rep.too_many_tokens},
          {"seconds", rep.seconds}}}};
    std::ofstream meta_out(tmp / kMetaFile);
    meta_out << meta.dump(2) << "\n";
    meta_out.close();
    GPTCU_USER_CHECK(meta_out.good(), "cannot write ", (tmp / kMetaFile).string());
    publish(tmp, out);
  } catch (...) {
    fs::remove_all(tmp);
    throw;
  }
  return rep;
}

}  // namespace gptcu
