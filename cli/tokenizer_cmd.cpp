// cli/tokenizer_cmd.cpp: `gptcu tokenizer train|encode|decode|bench`.
//
//   gptcu tokenizer train  --input FILE... --vocab-size N --out PREFIX [--pattern gpt2|cl100k|o200k|REGEX]
//                          [--special TOKEN...] [--threads N] [--text-unit file|paragraph|line] [--min-pair-count K]
//   gptcu tokenizer encode --tokenizer PATH [--allow-special] [--threads N] < text   -> ids on one line
//   gptcu tokenizer decode --tokenizer PATH < ids                                   -> the bytes
//   gptcu tokenizer bench  --tokenizer PATH --input FILE [--threads N] [--repeat R]
//
// train reads every record of the inputs (any format data/records.h reads; each record's
// record_text is one document, so no pre-split piece crosses two documents), trains a
// byte-level BPE vocabulary with train_bpe (data/bpe_trainer.h) and saves PREFIX.tiktoken +
// PREFIX.meta.json (<|endoftext|> = the number of ranks, then the --special tokens), which
// --tokenizer PREFIX, `data prepare` and Python's tiktoken load.
// PATH is anything BpeTokenizer::load accepts: "byte", a GPT-2 directory, a .tiktoken file.
// bench prints encode MB/s on one thread and on N threads (median of R runs after one warm-up
// run), decode MB/s, the token count and bytes per token; bench/tokenizer_encode.py compares
// these numbers with tiktoken's.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>
#include <thread>
#include <unordered_set>

#include "cli/commands.h"
#include "core/check.h"
#include "data/bpe_tokenizer.h"
#include "data/bpe_trainer.h"
#include "data/progress.h"
#include "data/records.h"

namespace gptcu::cli {

namespace {

std::string read_stdin() {
  std::ios::sync_with_stdio(false);
  std::ostringstream ss;
  ss << std::cin.rdbuf();
  return std::move(ss).str();
}

std::string read_input(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  GPTCU_USER_CHECK(in.good(), "input file '", path, "' cannot be opened");
  std::ostringstream ss;
  ss << in.rdbuf();
  return std::move(ss).str();
}

void write_stdout(std::string_view bytes) {
  std::fwrite(bytes.data(), 1, bytes.size(), stdout);
  std::fflush(stdout);
  GPTCU_USER_CHECK(!std::ferror(stdout), "error writing to stdout");
}

// "12 7 99" (any whitespace) -> ids; UserError on anything that is not an integer.
std::vector<int32_t> parse_ids(const std::string& text) {
  std::vector<int32_t> ids;
  size_t i = 0;
  while (true) {
    while (i < text.size() && std::isspace((unsigned char)text[i])) i++;
    if (i == text.size()) break;
    size_t j = i;
    while (j < text.size() && !std::isspace((unsigned char)text[j])) j++;
    int32_t id = 0;
    const auto [end, ec] = std::from_chars(text.data() + i, text.data() + j, id);
    GPTCU_USER_CHECK(ec == std::errc() && end == text.data() + j, "stdin: '", text.substr(i, std::min<size_t>(j - i, 40)),
                     "' is not a token id");
    ids.push_back(id);
    i = j;
  }
  return ids;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double thread_cpu_seconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

struct Timing {
  double median, best, cpu_median;  // wall seconds; cpu: the calling thread's CPU time
};

// Times `repeat` calls of fn after one warm-up call. On a machine shared with other work the
// best wall time and the thread's CPU time are the steadier numbers for one thread.
template <typename Fn>
Timing time_runs(int repeat, Fn&& fn) {
  fn();
  std::vector<double> wall, cpu;
  for (int r = 0; r < repeat; r++) {
    const double c0 = thread_cpu_seconds();
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    wall.push_back(seconds_since(t0));
    cpu.push_back(thread_cpu_seconds() - c0);
  }
  std::sort(wall.begin(), wall.end());
  std::sort(cpu.begin(), cpu.end());
  return {wall[wall.size() / 2], wall[0], cpu[cpu.size() / 2]};
}

struct Args {
  std::string tokenizer, input;
  bool allow_special = false;
  int threads = 1, repeat = 5;
};

struct TrainArgs {
  std::vector<std::string> inputs, specials;
  std::string out, pattern = "cl100k", text_unit = "paragraph";
  int vocab_size = 0, threads = 0;
  int64_t min_pair_count = 2;
};

// Every record of the inputs as one document (record_text), with a progress line; prints a
// one-line summary of what was skipped. UserError when nothing is left.
std::vector<std::string> read_documents(const TrainArgs& a) {
  namespace fs = std::filesystem;
  double total = 0;
  for (const std::string& path : a.inputs) {
    GPTCU_USER_CHECK(fs::is_regular_file(path), "input file not found: ", path);
    total += (double)fs::file_size(path);
  }
  ReadOptions ropt;
  ropt.text_unit = a.text_unit;
  ReadStats stats;
  std::vector<std::string> docs;
  Progress reading(std::cout, "read", total, "MB", 1e6);
  double done = 0;
  for (const std::string& path : a.inputs) {
    read_records(path, ropt, stats, [&](Record&& r) { docs.push_back(record_text(r)); });
    done += (double)fs::file_size(path);
    reading.update(done);
  }
  reading.finish();
  if (stats.malformed || stats.missing_fields || stats.invalid_utf8) {
    std::string line = "skipped " + std::to_string(stats.malformed) + " malformed line(s) and " +
                       std::to_string(stats.missing_fields) + " record(s) missing fields; repaired " +
                       std::to_string(stats.invalid_utf8) + " line(s) of invalid UTF-8";
    for (size_t i = 0; i < stats.examples.size() && i < 3; i++) line += (i ? "; " : "; e.g. ") + stats.examples[i];
    std::cout << line << "\n";
  }
  GPTCU_USER_CHECK(!docs.empty(), "no documents in the inputs (", a.inputs.size(), " file(s), ", stats.malformed,
                   " malformed line(s), ", stats.missing_fields, " record(s) missing fields)");
  return docs;
}

// Tokens of all documents (ordinary text, no specials), the documents shared among threads.
int64_t count_tokens(const BpeTokenizer& tok, const std::vector<std::string_view>& docs, int threads) {
  threads = std::max(1, std::min<int>(threads, (int)docs.size()));
  std::vector<int64_t> counts((size_t)threads, 0);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; t++)
    pool.emplace_back([&, t] {
      for (size_t i = (size_t)t; i < docs.size(); i += (size_t)threads) counts[(size_t)t] += (int64_t)tok.encode(docs[i]).size();
    });
  for (std::thread& th : pool) th.join();
  int64_t n = 0;
  for (int64_t c : counts) n += c;
  return n;
}

void add_train(CLI::App& parent) {
  auto args = std::make_shared<TrainArgs>();
  CLI::App* cmd = parent.add_subcommand("train", "train a byte-level BPE tokenizer -> PREFIX.tiktoken + PREFIX.meta.json");
  cmd->add_option("--input", args->inputs, "text, .jsonl, .json, .yml files (.gz too); every record is one document")
      ->required();
  cmd->add_option("--vocab-size", args->vocab_size, "ordinary tokens, the 256 bytes included (specials come on top)")
      ->required();
  cmd->add_option("--out", args->out, "output prefix: writes PREFIX.tiktoken and PREFIX.meta.json")->required();
  cmd->add_option("--pattern", args->pattern, "pre-split regex: gpt2 | cl100k | o200k | a PCRE2 regex (default: cl100k)");
  cmd->add_option("--special", args->specials, "special tokens after <|endoftext|> (always added), in this order");
  cmd->add_option("--threads", args->threads, "counting threads (0: all cores; the result does not depend on it)")
      ->check(CLI::Range(0, 1024));
  cmd->add_option("--text-unit", args->text_unit, "plain text documents: file | paragraph | line (default: paragraph)")
      ->check(CLI::IsMember({"file", "paragraph", "line"}));
  cmd->add_option("--min-pair-count", args->min_pair_count, "stop early when the best pair occurs fewer times (default: 2)");
  cmd->callback([args]() {
    const auto t0 = std::chrono::steady_clock::now();
    // Everything that can be checked without the data is checked before reading it.
    GPTCU_USER_CHECK(args->vocab_size >= 256, "--vocab-size must be at least 256 (the single bytes), not ",
                     args->vocab_size);
    GPTCU_USER_CHECK(args->min_pair_count >= 1, "--min-pair-count must be at least 1, not ", args->min_pair_count);
    BpeTrainOptions opts;
    opts.vocab_size = args->vocab_size;
    opts.pattern = resolve_pattern(args->pattern);
    opts.threads = args->threads;
    opts.min_pair_count = args->min_pair_count;
    opts.log = &std::cout;
    BpeTokenizer::Specials specials = {{"<|endoftext|>", 0}};
    for (const std::string& s : args->specials) {
      const bool seen = std::any_of(specials.begin(), specials.end(), [&](const auto& p) { return p.first == s; });
      GPTCU_USER_CHECK(!seen, "--special '", s, "' is given twice (<|endoftext|> is always added)");
      specials.push_back({s, 0});
    }
    std::vector<std::string> bytes;
    for (int b = 0; b < 256; b++) bytes.emplace_back(1, (char)b);
    (void)BpeTokenizer(bytes, opts.pattern, {});  // a regex PCRE2 does not compile is a UserError here

    const std::vector<std::string> docs = read_documents(*args);
    const std::vector<std::string_view> views(docs.begin(), docs.end());
    int64_t text_bytes = 0;
    for (const std::string& d : docs) text_bytes += (int64_t)d.size();
    std::cout << docs.size() << " documents, " << text_bytes << " bytes\n" << std::flush;

    BpeTrainResult r = train_bpe(views, opts);
    const int merges = (int)r.ranks.size() - 256;
    for (size_t i = 0; i < specials.size(); i++) specials[i].second = (int32_t)(r.ranks.size() + i);
    const BpeTokenizer tok(std::move(r.ranks), opts.pattern, std::move(specials));
    const std::filesystem::path parent_dir = std::filesystem::path(args->out).parent_path();
    if (!parent_dir.empty()) std::filesystem::create_directories(parent_dir);
    tok.save(args->out);

    const int threads = args->threads > 0 ? args->threads : (int)std::max(1u, std::thread::hardware_concurrency());
    const int64_t tokens = count_tokens(tok, views, threads);
    char line[512];
    if (tok.num_ranks() < args->vocab_size)
      std::cout << "stopped at " << tok.num_ranks() << " ranks: no pair occurs " << args->min_pair_count
                << " times or more\n";
    std::snprintf(line, sizeof line,
                  "trained %d ranks + %zu special(s) = vocab size %d in %.2f s (%d merges, %.0f merges/s; "
                  "counting %.2f s); %.3f bytes/token on the training text; %.2f s in all\n",
                  tok.num_ranks(), tok.specials().size(), tok.vocab_size(), r.seconds, merges,
                  r.seconds > 0 ? merges / r.seconds : 0.0, r.count_seconds,
                  tokens ? (double)text_bytes / (double)tokens : 0.0, seconds_since(t0));
    std::cout << line << "wrote " << args->out << ".tiktoken and " << args->out << ".meta.json\n";
  });
}

void add_encode(CLI::App& parent) {
  auto args = std::make_shared<Args>();
  CLI::App* cmd = parent.add_subcommand("encode", "text on stdin -> token ids on stdout (one line)");
  cmd->add_option("--tokenizer", args->tokenizer, "byte | GPT-2 directory | FILE.tiktoken")->required();
  cmd->add_flag("--allow-special", args->allow_special, "special-token strings in the text become their ids");
  cmd->add_option("--threads", args->threads, "encoding threads (0: all cores)")->check(CLI::Range(0, 1024));
  cmd->callback([args]() {
    const BpeTokenizer tok = BpeTokenizer::load(args->tokenizer);
    const std::string text = read_stdin();
    const std::vector<int32_t> ids = args->threads == 1 ? tok.encode(text, args->allow_special)
                                                        : tok.encode_parallel(text, args->threads, args->allow_special);
    std::string out;
    out.reserve(ids.size() * 7 + 1);
    char buf[16];
    for (size_t i = 0; i < ids.size(); i++) {
      if (i) out += ' ';
      out.append(buf, std::to_chars(buf, buf + sizeof buf, ids[i]).ptr);
    }
    out += '\n';
    write_stdout(out);
  });
}

void add_decode(CLI::App& parent) {
  auto args = std::make_shared<Args>();
  CLI::App* cmd = parent.add_subcommand("decode", "token ids on stdin (whitespace-separated) -> bytes on stdout");
  cmd->add_option("--tokenizer", args->tokenizer, "byte | GPT-2 directory | FILE.tiktoken")->required();
  cmd->callback([args]() {
    const BpeTokenizer tok = BpeTokenizer::load(args->tokenizer);
    write_stdout(tok.decode(parse_ids(read_stdin())));
  });
}

void add_bench(CLI::App& parent) {
  auto args = std::make_shared<Args>();
  args->threads = 0;
  CLI::App* cmd = parent.add_subcommand("bench", "encode/decode throughput on a file (MB/s)");
  cmd->add_option("--tokenizer", args->tokenizer, "byte | GPT-2 directory | FILE.tiktoken")->required();
  cmd->add_option("--input", args->input, "text file to encode")->required();
  cmd->add_option("--threads", args->threads, "threads of the parallel run (0: all cores)")->check(CLI::Range(0, 1024));
  cmd->add_option("--repeat", args->repeat, "timed runs; the median is reported")->check(CLI::Range(1, 1000));
  cmd->callback([args]() {
    const auto t0 = std::chrono::steady_clock::now();
    const BpeTokenizer tok = BpeTokenizer::load(args->tokenizer);
    const double load_s = seconds_since(t0);
    const std::string text = read_input(args->input);
    const int threads = args->threads > 0 ? args->threads : (int)std::max(1u, std::thread::hardware_concurrency());
    const double mb = (double)text.size() / 1e6;

    std::vector<int32_t> ids, ids_parallel;
    const Timing t1 = time_runs(args->repeat, [&] { ids = tok.encode(text); });
    const Timing tn = time_runs(args->repeat, [&] { ids_parallel = tok.encode_parallel(text, threads); });
    GPTCU_CHECK(ids == ids_parallel, "encode_parallel differs from encode on ", args->input);
    std::string back;
    const Timing td = time_runs(args->repeat, [&] { back = tok.decode(ids); });
    GPTCU_CHECK(back == text, "decode(encode(text)) != text for ", args->input);

    std::printf("tokenizer  %s (%d ids, loaded in %.3f s)\n", tok.name().c_str(), tok.vocab_size(), load_s);
    std::printf("input      %s (%zu bytes)\n", args->input.c_str(), text.size());
    std::printf("tokens     %zu (%.3f bytes/token)\n", ids.size(), ids.empty() ? 0.0 : (double)text.size() / (double)ids.size());
    // name  MB/s(median)  [details]: bench/tokenizer_encode.py reads these lines.
    auto line = [&](const char* what, const Timing& t, const std::string& extra) {
      std::printf("%-9s %8.2f MB/s  (median of %d: %.4f s; best %.2f MB/s%s)\n", what, mb / t.median, args->repeat,
                  t.median, mb / t.best, extra.c_str());
    };
    line("encode_1", t1, "; by thread CPU time " + std::to_string(mb / t1.cpu_median).substr(0, 6) + " MB/s");
    line("encode_n", tn, "; " + std::to_string(threads) + " threads, ids identical to encode_1");
    line("decode_1", td, "");
  });
}

}  // namespace

void register_tokenizer(CLI::App& app) {
  CLI::App* tokenizer = app.add_subcommand("tokenizer", "BPE tokenizers: train, encode, decode, benchmark");
  tokenizer->require_subcommand(1);
  add_train(*tokenizer);
  add_encode(*tokenizer);
  add_decode(*tokenizer);
  add_bench(*tokenizer);
}

}  // namespace gptcu::cli
