// data/bpe_tokenizer_io.cpp: BpeTokenizer::load and save, the file formats of bpe_tokenizer.h:
// GPT-2's encoder.json + vocab.bpe, and tiktoken's .tiktoken with our .meta.json beside it.
// Only the public constructor is used: a loader turns files into (ranks, pattern, specials).
#include <charconv>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/check.h"
#include "data/base64.h"
#include "data/bpe_tokenizer.h"

namespace gptcu {

namespace {

namespace fs = std::filesystem;
using ordered_json = nlohmann::ordered_json;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  GPTCU_USER_CHECK(in.good(), "tokenizer file '", path, "' cannot be opened");
  std::ostringstream ss;
  ss << in.rdbuf();
  GPTCU_USER_CHECK(!in.bad(), "tokenizer file '", path, "' cannot be read");
  return std::move(ss).str();
}

// Writes `contents` to PATH.tmp, then renames it to PATH, so that PATH is never half written.
void write_atomically(const std::string& path, const std::string& contents) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    GPTCU_USER_CHECK(out.good(), "cannot write '", tmp, "'");
    out.write(contents.data(), (std::streamsize)contents.size());
    out.flush();
    GPTCU_USER_CHECK(out.good(), "error writing '", tmp, "'");
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  GPTCU_USER_CHECK(!ec, "cannot rename '", tmp, "' to '", path, "': ", ec.message());
}

// Runs the constructor, prefixing its complaints with the file they came from.
BpeTokenizer make(const std::string& file, std::vector<std::string> ranks, std::string pattern,
                  BpeTokenizer::Specials specials, const std::string& name) {
  try {
    return BpeTokenizer(std::move(ranks), std::move(pattern), std::move(specials), name);
  } catch (const UserError& e) {
    user_error(file, ": ", e.what());
  }
}

// ordered_json keeps the file's key order (special tokens come back in the order they were
// saved) but inserts in linear time, so the 50k-key encoder.json is read as a plain json.
template <typename Json>
Json parse_json(const std::string& path) {
  const std::string text = read_file(path);
  try {
    return Json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    user_error(path, ": not valid JSON: ", e.what());
  }
}

// ---- GPT-2: encoder.json + vocab.bpe ----

// GPT-2's bytes_to_unicode: printable bytes stand for themselves, the other 68 for the code
// points 256, 257, ... in byte order. kByteOrder is tiktoken's rank_to_intbyte: the printable
// bytes first, then the others, which is the order of the first 256 ranks.
struct Gpt2Alphabet {
  std::array<int, 512> byte_of_code_point;  // -1: not in the alphabet
  std::array<uint8_t, 256> rank_to_byte;
  Gpt2Alphabet() {
    byte_of_code_point.fill(-1);
    auto printable = [](int b) { return (b >= '!' && b <= '~') || (b >= 0xa1 && b <= 0xac) || (b >= 0xae); };
    int n = 0, r = 0;
    for (int b = 0; b < 256; b++)
      if (printable(b)) byte_of_code_point[b] = b, rank_to_byte[r++] = (uint8_t)b;
    for (int b = 0; b < 256; b++)
      if (!printable(b)) byte_of_code_point[256 + n++] = b, rank_to_byte[r++] = (uint8_t)b;
  }
  // The bytes a GPT-2 string stands for; false if a character is outside the alphabet.
  bool decode(std::string_view s, std::string& out) const {
    out.clear();
    for (size_t i = 0; i < s.size();) {
      const uint8_t c = (uint8_t)s[i];
      uint32_t cp;
      if (c < 0x80) {
        cp = c, i += 1;
      } else if ((c >> 5) == 6 && i + 1 < s.size()) {
        cp = (c & 0x1fu) << 6 | ((uint8_t)s[i + 1] & 0x3fu), i += 2;
      } else {
        return false;  // every code point of the alphabet is below 0x800
      }
      if (cp >= byte_of_code_point.size() || byte_of_code_point[cp] < 0) return false;
      out += (char)byte_of_code_point[cp];
    }
    return true;
  }
};

BpeTokenizer load_gpt2(const std::string& dir) {
  const std::string encoder_path = (fs::path(dir) / "encoder.json").string();
  const std::string vocab_path = (fs::path(dir) / "vocab.bpe").string();
  static const Gpt2Alphabet alphabet;

  const nlohmann::json encoder = parse_json<nlohmann::json>(encoder_path);
  GPTCU_USER_CHECK(encoder.is_object(), encoder_path, ": expected a JSON object {token: id}");
  int32_t eot = -1;
  std::vector<std::pair<std::string, int64_t>> entries;
  std::string bytes;
  for (const auto& [key, value] : encoder.items()) {
    GPTCU_USER_CHECK(value.is_number_integer(), encoder_path, ": the id of '", key, "' is not an integer");
    const int64_t id = value.get<int64_t>();
    if (key == "<|endoftext|>") {
      eot = (int32_t)id;
      continue;
    }
    if (key == "<|startoftext|>") continue;  // as tiktoken, which drops it too
    GPTCU_USER_CHECK(alphabet.decode(key, bytes), encoder_path, ": token '", key,
                     "' has a character outside GPT-2's byte alphabet");
    entries.emplace_back(bytes, id);
  }
  const size_t n = entries.size();
  GPTCU_USER_CHECK(n >= 256, encoder_path, ": only ", n, " tokens (a byte-level BPE has at least 256)");
  std::vector<std::string> ranks(n);
  std::vector<bool> seen(n);
  for (auto& [token, id] : entries) {
    GPTCU_USER_CHECK(id >= 0 && (size_t)id < n, encoder_path, ": id ", id, " is not in 0..", n - 1);
    GPTCU_USER_CHECK(!seen[(size_t)id], encoder_path, ": id ", id, " appears twice");
    seen[(size_t)id] = true;
    ranks[(size_t)id] = std::move(token);
  }
  for (int r = 0; r < 256; r++)
    GPTCU_USER_CHECK(ranks[r] == std::string(1, (char)alphabet.rank_to_byte[r]), encoder_path, ": id ", r,
                     " is not the single byte ", (int)alphabet.rank_to_byte[r], " GPT-2 gives that id");

  // vocab.bpe: "#version: 0.2", then merge i ("A B") makes the token of rank 256 + i.
  const std::string merges = read_file(vocab_path);
  size_t merge = 0, line_no = 0;
  std::string first, second;
  for (size_t pos = 0; pos < merges.size();) {
    size_t eol = merges.find('\n', pos);
    if (eol == std::string::npos) eol = merges.size();
    std::string_view line(merges.data() + pos, eol - pos);
    pos = eol + 1;
    line_no++;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || (line_no == 1 && line.starts_with("#version"))) continue;
    const size_t space = line.find(' ');
    GPTCU_USER_CHECK(space != std::string_view::npos && space > 0 && line.find(' ', space + 1) == std::string_view::npos &&
                         space + 1 < line.size(),
                     vocab_path, ":", line_no, ": expected two tokens separated by one space, got '", line, "'");
    GPTCU_USER_CHECK(alphabet.decode(line.substr(0, space), first) && alphabet.decode(line.substr(space + 1), second),
                     vocab_path, ":", line_no, ": '", line, "' has a character outside GPT-2's byte alphabet");
    const size_t rank = 256 + merge++;
    GPTCU_USER_CHECK(rank < n && ranks[rank] == first + second, vocab_path, ":", line_no, ": merge '", line,
                     "' should make token ", rank, " of encoder.json, which ",
                     rank < n ? "is another token" : "does not exist");
  }
  GPTCU_USER_CHECK(256 + merge == n, vocab_path, ": ", merge, " merges, but encoder.json has ", n - 256,
                   " tokens beyond the 256 bytes");
  if (eot < 0) eot = (int32_t)n;
  return make(encoder_path, std::move(ranks), kPatternGpt2, {{"<|endoftext|>", eot}}, dir);
}

// ---- tiktoken: FILE.tiktoken + FILE.meta.json ----

BpeTokenizer load_tiktoken(const std::string& path) {
  const std::string meta_path = path.substr(0, path.size() - std::string_view(".tiktoken").size()) + ".meta.json";
  const std::string text = read_file(path);
  GPTCU_USER_CHECK(fs::exists(meta_path), path, ": no '", meta_path,
                   "' beside it (a JSON object {\"pat_str\": REGEX, \"special_tokens\": {TOKEN: ID}})");

  std::vector<std::string> ranks;
  std::vector<size_t> line_of_rank;  // for "appears twice" messages; 0: not seen yet
  std::vector<std::pair<int64_t, std::string>> entries;
  std::vector<size_t> entry_lines;
  std::string bytes, why;
  size_t line_no = 0;
  for (size_t pos = 0; pos < text.size();) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    std::string_view line(text.data() + pos, eol - pos);
    pos = eol + 1;
    line_no++;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    const size_t space = line.find(' ');
    GPTCU_USER_CHECK(space != std::string_view::npos && line.find(' ', space + 1) == std::string_view::npos, path,
                     ":", line_no, ": expected 'BASE64 RANK'");
    const std::string_view b64 = line.substr(0, space), rank_text = line.substr(space + 1);
    GPTCU_USER_CHECK(base64_decode(b64, bytes, &why), path, ":", line_no, ": bad token: ", why);
    int64_t rank = -1;
    const auto [end, ec] = std::from_chars(rank_text.data(), rank_text.data() + rank_text.size(), rank);
    GPTCU_USER_CHECK(ec == std::errc() && end == rank_text.data() + rank_text.size() && rank >= 0 && rank < INT32_MAX,
                     path, ":", line_no, ": rank '", rank_text, "' is not a non-negative integer");
    entries.emplace_back(rank, bytes);
    entry_lines.push_back(line_no);
  }
  ranks.resize(entries.size());
  line_of_rank.assign(entries.size(), 0);
  for (size_t i = 0; i < entries.size(); i++) {
    const auto& [rank, token] = entries[i];
    GPTCU_USER_CHECK((size_t)rank < entries.size(), path, ":", entry_lines[i], ": rank ", rank,
                     " is out of range (", entries.size(), " tokens must have the ranks 0..", entries.size() - 1, ")");
    GPTCU_USER_CHECK(line_of_rank[(size_t)rank] == 0, path, ":", entry_lines[i], ": rank ", rank,
                     " was given already on line ", line_of_rank[(size_t)rank]);
    line_of_rank[(size_t)rank] = entry_lines[i];
    ranks[(size_t)rank] = std::move(entries[i].second);
  }

  const ordered_json meta = parse_json<ordered_json>(meta_path);
  GPTCU_USER_CHECK(meta.is_object() && meta.contains("pat_str") && meta["pat_str"].is_string(), meta_path,
                   ": expected a JSON object with a string \"pat_str\"");
  BpeTokenizer::Specials specials;
  if (meta.contains("special_tokens")) {
    const ordered_json& st = meta["special_tokens"];
    GPTCU_USER_CHECK(st.is_object(), meta_path, ": \"special_tokens\" is not an object {TOKEN: ID}");
    for (const auto& [token, id] : st.items()) {
      GPTCU_USER_CHECK(id.is_number_integer() && id.get<int64_t>() >= 0 && id.get<int64_t>() < INT32_MAX, meta_path,
                       ": the id of special token '", token, "' is not a non-negative integer");
      specials.emplace_back(token, id.get<int32_t>());
    }
  }
  try {
    return BpeTokenizer(std::move(ranks), meta["pat_str"].get<std::string>(), std::move(specials), path);
  } catch (const UserError& e) {
    user_error(path, " + ", meta_path, ": ", e.what());
  }
}

}  // namespace

BpeTokenizer BpeTokenizer::load(const std::string& spec) {
  if (spec == "byte") return bytes();
  const auto kind = "(expected 'byte', a GPT-2 directory with encoder.json + vocab.bpe, or a .tiktoken file)";
  if (fs::is_directory(spec)) return load_gpt2(spec);
  if (spec.ends_with(".tiktoken")) return load_tiktoken(spec);
  if (!fs::exists(spec) && fs::exists(spec + ".tiktoken")) return load_tiktoken(spec + ".tiktoken");
  GPTCU_USER_CHECK(fs::exists(spec), "tokenizer '", spec, "' does not exist ", kind);
  user_error("tokenizer '", spec, "' is not a tokenizer ", kind);
}

void BpeTokenizer::save(const std::string& prefix) const {
  std::string ranks;
  for (int r = 0; r < num_ranks(); r++) {
    ranks += base64_encode(token_bytes(r));
    ranks += ' ';
    ranks += std::to_string(r);
    ranks += '\n';
  }
  ordered_json meta;
  meta["pat_str"] = pattern();
  meta["special_tokens"] = ordered_json::object();
  for (const auto& [token, id] : specials()) meta["special_tokens"][token] = id;
  write_atomically(prefix + ".tiktoken", ranks);
  write_atomically(prefix + ".meta.json", meta.dump(1) + "\n");
}

}  // namespace gptcu
