// cli/tokenizer_cmd.cpp: `gptcu tokenizer encode|decode|bench`.
//
//   gptcu tokenizer encode --tokenizer PATH [--allow-special] [--threads N] < text   -> ids on one line
//   gptcu tokenizer decode --tokenizer PATH < ids                                   -> the bytes
//   gptcu tokenizer bench  --tokenizer PATH --input FILE [--threads N] [--repeat R]
//
// PATH is anything BpeTokenizer::load accepts: "byte", a GPT-2 directory, a .tiktoken file.
// bench prints encode MB/s on one thread and on N threads (median of R runs after one warm-up
// run), decode MB/s, the token count and bytes per token; bench/tokenizer_encode.py compares
// these numbers with tiktoken's.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>
#include <thread>

#include "cli/commands.h"
#include "core/check.h"
#include "data/bpe_tokenizer.h"

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
  CLI::App* tokenizer = app.add_subcommand("tokenizer", "BPE tokenizers: encode, decode, benchmark");
  tokenizer->require_subcommand(1);
  add_encode(*tokenizer);
  add_decode(*tokenizer);
  add_bench(*tokenizer);
}

}  // namespace gptcu::cli
