// bench/bpe_train_main.cpp: bench_bpe_train, trains a byte-level BPE vocabulary on files and
// writes its ranks, for bench/tokenizer_train.py (which times it against Hugging Face tokenizers).
//
//   bench_bpe_train --input a.txt b.txt --vocab-size 32000
//       --pattern ../shared/data/tokenizers/cl100k_base.meta.json --out /tmp/poems.ranks
//
// --pattern is a regex, or a tiktoken .meta.json file whose "pat_str" is used. Each input file is
// one text. Writes PREFIX (one base64 token per line, in rank order) and prints one JSON line of
// statistics on stdout; progress goes to stderr.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <fstream>
#include <iostream>
#include <sstream>

#include "core/check.h"
#include "data/bpe_trainer.h"

using namespace gptcu;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  GPTCU_USER_CHECK(in, path, ": cannot be opened");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string base64(const std::string& bytes) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t v = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8) | uint8_t(bytes[i + 2]);
    for (int k = 18; k >= 0; k -= 6) out += kAlphabet[(v >> k) & 63];
  }
  if (i < bytes.size()) {
    const bool two = i + 1 < bytes.size();
    const uint32_t v = (uint8_t(bytes[i]) << 16) | (two ? uint8_t(bytes[i + 1]) << 8 : 0);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += two ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Train a byte-level BPE vocabulary (benchmark driver)"};
  std::vector<std::string> inputs;
  std::string pattern, out;
  BpeTrainOptions opts;
  app.add_option("--input", inputs, "text files, each one text")->required();
  app.add_option("--vocab-size", opts.vocab_size, "ranks including the 256 bytes");
  app.add_option("--pattern", pattern, "pre-split regex, or a tiktoken .meta.json (its pat_str)")->required();
  app.add_option("--threads", opts.threads, "counting threads (0: all cores)");
  app.add_option("--min-pair-count", opts.min_pair_count, "stop when the best pair is rarer");
  app.add_option("--out", out, "output file: base64 tokens, one per line, by rank")->required();
  CLI11_PARSE(app, argc, argv);
  try {
    if (pattern.size() > 10 && pattern.ends_with(".meta.json")) {
      const auto meta = nlohmann::json::parse(read_file(pattern), nullptr, false);
      GPTCU_USER_CHECK(meta.is_object() && meta.contains("pat_str"), pattern, ": no \"pat_str\" in it");
      pattern = meta["pat_str"].get<std::string>();
    }
    opts.pattern = pattern;
    opts.log = &std::cerr;
    std::vector<std::string> data;
    for (const auto& f : inputs) data.push_back(read_file(f));
    std::vector<std::string_view> texts(data.begin(), data.end());
    size_t bytes = 0;
    for (const auto& d : data) bytes += d.size();
    const BpeTrainResult r = train_bpe(texts, opts);
    std::ofstream o(out, std::ios::binary);
    GPTCU_USER_CHECK(o, out, ": cannot be written");
    for (const auto& t : r.ranks) o << base64(t) << '\n';
    o.close();
    GPTCU_USER_CHECK(o, out, ": write failed");
    nlohmann::json stats = {{"bytes", bytes},           {"ranks", r.ranks.size()},
                            {"merges", r.ranks.size() - 256},       {"words", r.words},
                            {"unique_words", r.unique_words}, {"count_seconds", r.count_seconds},
                            {"seconds", r.seconds}};
    std::cout << stats.dump() << std::endl;
  } catch (const UserError& e) {
    std::cerr << "error: " << e.what() << std::endl;
    return 1;
  }
  return 0;
}
