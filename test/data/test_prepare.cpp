// test/data/test_prepare.cpp: run_prepare (`gptcu data prepare`) end to end on tiny fixtures,
// with the byte tokenizer: the report's counts, the shards decoded back, masks, the split
// (deterministic, per record, per prompt), meta.json, and what happens to the output directory
// on errors.
#include <catch2/catch.hpp>
#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>

#include "core/check.h"
#include "data/chat_template.h"
#include "data/prepare.h"
#include "data/record_data.h"
#include "data/shard.h"
#include "data/shard_corpus.h"
#include "test/data/shard_fixtures.h"

using namespace gptcu;
using gptcu::test::TempDir;
using gptcu::test::check_user_error;
namespace fs = std::filesystem;

namespace {

std::string write_text(const std::string& path, const std::string& content) {
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

std::string write_gzip(const std::string& path, const std::string& content) {
  gzFile f = gzopen(path.c_str(), "wb");
  REQUIRE(f != nullptr);
  REQUIRE(gzwrite(f, content.data(), (unsigned)content.size()) == (int)content.size());
  REQUIRE(gzclose(f) == Z_OK);
  return path;
}

// run_prepare with the byte tokenizer; the progress log goes to *log when given.
PrepareReport prep(PrepareConfig cfg, const std::vector<std::string>& inputs, const std::string& out,
                   double val_fraction = 0.0, int block_size = 64, std::string* log = nullptr) {
  cfg.inputs = inputs;
  std::ostringstream os;
  PrepareReport rep = run_prepare(cfg, "byte", out, val_fraction, block_size, os);
  if (log) *log = os.str();
  return rep;
}

nlohmann::json read_meta(const std::string& out) {
  std::ifstream in(fs::path(out) / "meta.json");
  REQUIRE(in.good());
  return nlohmann::json::parse(in);
}

// The token stream of a split (its shards in order), and its mask when asked for.
std::vector<int32_t> split_tokens(const std::string& out, const std::string& split,
                                  std::vector<uint8_t>* mask = nullptr) {
  std::vector<int32_t> tokens;
  const nlohmann::json meta = read_meta(out);
  for (const auto& f : meta["splits"][split]["files"]) {
    const std::string path = (fs::path(out) / f.get<std::string>()).string();
    TokenShard s(path);
    const size_t at = tokens.size();
    tokens.resize(at + (size_t)s.size());
    s.copy(0, s.size(), tokens.data() + at);
    if (mask) {
      MaskShard m(mask_path_for(path));
      REQUIRE(m.size() == s.size());
      mask->resize(at + (size_t)m.size());
      m.copy(0, m.size(), mask->data() + at);
    }
  }
  return tokens;
}

std::string decode_split(const std::string& out, const std::string& split) {
  return prepared_tokenizer(out).decode(split_tokens(out, split));
}

// The documents of a text split: the decoded stream cut at each <|endoftext|>.
std::vector<std::string> split_docs(const std::string& out, const std::string& split) {
  const std::string all = decode_split(out, split);
  std::vector<std::string> docs;
  const std::string eot = kEndOfText;
  for (size_t at = 0; (at = all.find(eot, at)) != std::string::npos;) {
    const size_t next = all.find(eot, at + eot.size());
    docs.push_back(all.substr(at + eot.size(), next == std::string::npos ? std::string::npos : next - at - eot.size()));
    at = next;
  }
  return docs;
}

// Every file under dir (relative name -> bytes).
std::map<std::string, std::string> snapshot(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    files[fs::relative(e.path(), dir).string()] = std::string(std::istreambuf_iterator<char>(in), {});
  }
  return files;
}

// Entries of dir whose names contain ".tmp-" or ".old-" (what a prepare leaves when interrupted).
std::vector<std::string> leftovers(const fs::path& dir) {
  std::vector<std::string> found;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.find(".tmp-") != std::string::npos || name.find(".old-") != std::string::npos) found.push_back(name);
  }
  return found;
}

const std::string kLong =
    "The quick brown fox jumps over the lazy dog while the farmer watches from the old wooden fence near the "
    "river bank, and the children laugh as the sun sets slowly behind the distant hills of the quiet valley.";

// n distinct paragraphs of random words (seeded), "record I: w w w ...".
std::vector<std::string> random_paragraphs(int n, int first = 0) {
  static const char* words[] = {"apple", "river", "stone", "cloud", "tiger", "maple", "quartz", "violet",
                                "ember", "harbor", "lantern", "meadow", "nickel", "orchid", "pepper", "saddle"};
  std::vector<std::string> out;
  for (int i = first; i < first + n; i++) {
    std::mt19937 rng((uint32_t)i);
    std::string p = "record " + std::to_string(i) + ":";
    for (int w = 0; w < 8; w++) p += std::string(" ") + words[rng() % 16];
    out.push_back(p);
  }
  return out;
}

std::string paragraphs_text(const std::vector<std::string>& ps) {
  std::string s;
  for (const std::string& p : ps) s += p + "\n\n";
  return s;
}

const char* kDialogues = R"({"instruction": "Add 2 and 3.", "input": "", "output": "5"}
{"conversations": [{"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Hello! How can I help?"}, {"from": "human", "value": "Tell me a joke."}, {"from": "gpt", "value": "Why did the chicken cross the road?"}]}
{"instruction": "broken
{"instruction": "no output here", "input": ""}
{"messages": [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Capital of France?"}, {"role": "assistant", "content": "Paris."}]}
{"conversations": [{"from": "human", "value": "Add 2 and 3."}, {"from": "gpt", "value": "5"}]}
{"text": "just some text, not a dialogue"}
{"messages": [{"role": "user", "content": "Tell a story."}, {"role": "assistant", "content": "Once upon a time a small robot walked across a desert of glass, looking for the sea it had read about in an old and dusty encyclopedia."}]}
)";

}  // namespace

TEST_CASE("plain text: paragraphs cleaned, filtered, deduplicated, decoded back", "[prepare]") {
  TempDir dir("prepare_text");
  const std::string text = "First paragraph: plain words here.\n\n" + kLong +
                           "\n\nSecond, with a full-width comma\xEF\xBC\x8Chere.\n\n"
                           "First paragraph: plain words here.\n\n" +
                           std::string(kLong).replace(kLong.find("laugh"), 5, "smile") +
                           "\n\ntiny\n\nLast one.\nIt has two lines.\n";
  const std::string input = write_text(dir / "text.txt", text);
  PrepareConfig cfg;
  cfg.min_chars = 10;
  std::string log;
  const PrepareReport rep = prep(cfg, {input}, dir / "out", 0.0, 64, &log);

  CHECK(rep.kind == "text");
  CHECK(rep.files == 1);
  CHECK(rep.records_read == 7);
  CHECK(rep.malformed == 0);
  CHECK(rep.missing_fields == 0);
  CHECK(rep.changed_by_cleaning == 1);
  CHECK(rep.filtered_too_short == 1);
  CHECK(rep.exact_duplicates == 1);
  CHECK(rep.near_duplicates == 1);
  CHECK(rep.too_many_tokens == 0);
  CHECK(rep.kept[0] == 4);
  CHECK(rep.kept[1] == 0);
  CHECK(rep.kept[2] == 0);

  const std::vector<std::string> want = {"First paragraph: plain words here.", kLong,
                                         "Second, with a full-width comma,here.", "Last one.\nIt has two lines."};
  CHECK(split_docs(dir / "out", "train") == want);
  int64_t bytes = 0;
  for (const std::string& d : want) bytes += (int64_t)d.size() + 1;  // + <|endoftext|>
  CHECK(rep.tokens[0] == bytes);
  CHECK(split_tokens(dir / "out", "train").size() == (size_t)bytes);
  CHECK(read_meta(dir / "out")["splits"]["val"]["files"].empty());
  CHECK_FALSE(fs::exists(dir / "out/train_000000.mask.bin"));  // text has no mask

  // The progress lines of every stage, and the table.
  CHECK(log.find("read: ") != std::string::npos);
  CHECK(log.find("clean+dedup: ") != std::string::npos);
  CHECK(log.find("tokenize: ") != std::string::npos);
  const std::string table = rep.table();
  CHECK(table.find("report (text)") != std::string::npos);
  CHECK(table.find("dropped: near duplicates") != std::string::npos);
  CHECK(table.find("test records") == std::string::npos);  // no test split asked for

  // The same content gzip-compressed gives the same shards.
  const std::string gz = write_gzip(dir / "text.txt.gz", text);
  const PrepareReport rep_gz = prep(cfg, {gz}, dir / "out_gz");
  CHECK(rep_gz.records_read == 7);
  CHECK(rep_gz.kept[0] == 4);
  CHECK(snapshot(dir / "out_gz")["train_000000.bin"] == snapshot(dir / "out")["train_000000.bin"]);
}

TEST_CASE("dialogues in three shapes: template, mask, counts, system prompt", "[prepare]") {
  TempDir dir("prepare_dialogue");
  const std::string input = write_text(dir / "dialogues.jsonl", kDialogues);
  PrepareConfig cfg;
  cfg.max_tokens = 100;
  const PrepareReport rep = prep(cfg, {input}, dir / "out");

  CHECK(rep.kind == "dialogue");
  CHECK(rep.records_read == 6);
  CHECK(rep.malformed == 1);
  CHECK(rep.missing_fields == 1);
  CHECK(rep.other_kind == 1);
  CHECK(rep.exact_duplicates == 1);  // the ShareGPT copy of the Alpaca record
  CHECK(rep.near_duplicates == 0);
  CHECK(rep.too_many_tokens == 1);   // the story
  CHECK(rep.kept[0] == 3);
  REQUIRE(rep.examples.size() == 2);
  CHECK(rep.examples[0].find("dialogues.jsonl:3") != std::string::npos);
  CHECK(rep.examples[1].find("dialogues.jsonl:4") != std::string::npos);

  std::vector<uint8_t> mask;
  const std::vector<int32_t> tokens = split_tokens(dir / "out", "train", &mask);
  const BpeTokenizer tok = prepared_tokenizer(dir / "out");
  CHECK(tok.decode(tokens) ==
        "<|endoftext|><|user|>Add 2 and 3.<|end|><|assistant|>5<|end|>"
        "<|endoftext|><|user|>Hi<|end|><|assistant|>Hello! How can I help?<|end|>"
        "<|user|>Tell me a joke.<|end|><|assistant|>Why did the chicken cross the road?<|end|>"
        "<|endoftext|><|system|>You are terse.<|end|><|user|>Capital of France?<|end|><|assistant|>Paris.<|end|>");
  // The targets are exactly the assistant replies and their <|end|>.
  std::vector<int32_t> targets;
  for (size_t i = 0; i < tokens.size(); i++)
    if (mask[i]) targets.push_back(tokens[i]);
  CHECK(tok.decode(targets) == "5<|end|>Hello! How can I help?<|end|>Why did the chicken cross the road?<|end|>Paris.<|end|>");
  CHECK(rep.target_tokens[0] == (int64_t)targets.size());
  CHECK(rep.tokens[0] == (int64_t)tokens.size());
  CHECK(rep.table().find("train target tokens") != std::string::npos);

  // A system prompt is given to the dialogues that have none.
  cfg.system_prompt = "Be kind.";
  cfg.max_tokens = 1000;
  const PrepareReport rep2 = prep(cfg, {input}, dir / "out_sys");
  CHECK(rep2.too_many_tokens == 0);
  CHECK(rep2.kept[0] == 4);
  const std::vector<std::string> docs = split_docs(dir / "out_sys", "train");
  REQUIRE(docs.size() == 4);
  CHECK(docs[0] == "<|system|>Be kind.<|end|><|user|>Add 2 and 3.<|end|><|assistant|>5<|end|>");
  CHECK(docs[2].rfind("<|system|>You are terse.<|end|><|user|>", 0) == 0);  // its own stays, alone
}

TEST_CASE("invalid UTF-8 in JSON lines is counted as repaired", "[prepare]") {
  TempDir dir("prepare_utf8");
  const std::string input = write_text(dir / "bad.jsonl",
                                       "{\"instruction\": \"Fix \xff this\", \"input\": \"\", \"output\": \"Done.\"}\n"
                                       "{\"instruction\": \"Fine\", \"input\": \"\", \"output\": \"Ok.\"}\n");
  const PrepareReport rep = prep({}, {input}, dir / "out");
  CHECK(rep.repaired_utf8 == 1);
  CHECK(rep.kept[0] == 2);
  REQUIRE(split_docs(dir / "out", "train").size() == 2);
  CHECK(split_docs(dir / "out", "train")[0] == "<|user|>Fix \xEF\xBF\xBD this<|end|><|assistant|>Done.<|end|>");
}

TEST_CASE("preference pairs and RL prompts become record shards", "[prepare]") {
  TempDir dir("prepare_records");
  const std::string prefs = write_text(dir / "prefs.jsonl", R"({"prompt": "2+2?", "chosen": "4", "rejected": "5"}
{"messages": [{"role": "user", "content": "Say hi."}], "chosen": [{"role": "assistant", "content": "Hi!"}], "rejected": [{"role": "assistant", "content": "No."}]}
)");
  const PrepareReport rp = prep({}, {prefs}, dir / "prefs");
  CHECK(rp.kind == "preference");
  CHECK(rp.kept[0] == 2);
  const BpeTokenizer tok = prepared_tokenizer(dir / "prefs");
  PreferenceDataset pd(dir / "prefs/train_pairs.bin");
  REQUIRE(pd.size() == 2);
  PreferencePair p = pd.get(0);
  CHECK(tok.decode(p.prompt) == "<|endoftext|><|user|>2+2?<|end|><|assistant|>");
  CHECK(tok.decode(p.chosen) == "4<|end|>");
  CHECK(tok.decode(p.rejected) == "5<|end|>");
  p = pd.get(1);
  CHECK(tok.decode(p.prompt) == "<|endoftext|><|user|>Say hi.<|end|><|assistant|>");
  CHECK(tok.decode(p.chosen) == "Hi!<|end|>");
  CHECK(tok.decode(p.rejected) == "No.<|end|>");
  CHECK(rp.tokens[0] == (int64_t)(pd.num_tokens()));
  CHECK_FALSE(fs::exists(dir / "prefs/val_pairs.bin"));  // no empty shards
  const nlohmann::json pm = read_meta(dir / "prefs");
  CHECK(pm["kind"] == "preference");
  CHECK(pm["splits"]["train"]["files"] == nlohmann::json::array({"train_pairs.bin"}));
  CHECK(pm["splits"]["val"]["files"].empty());

  const std::string rl = write_text(dir / "gsm8k.jsonl",
                                    R"({"question": "Tom has 40 apples and gets 2 more. How many?", "answer": "40 + 2 = 42\n#### 42"}
{"prompt": "Capital of France?", "answer": "Paris"}
)");
  const PrepareReport rr = prep({}, {rl}, dir / "rl");
  CHECK(rr.kind == "rl_prompt");
  CHECK(rr.kept[0] == 2);
  PromptDataset ds(dir / "rl/train_prompts.bin");
  REQUIRE(ds.size() == 2);
  CHECK(tok.decode(ds.get(0).prompt) == "<|endoftext|><|user|>Tom has 40 apples and gets 2 more. How many?<|end|><|assistant|>");
  CHECK(ds.get(0).answer == "42");
  CHECK(ds.get(1).answer == "Paris");
  CHECK_FALSE(fs::exists(dir / "rl/val_prompts.bin"));
  CHECK_FALSE(fs::exists(dir / "rl/val_prompts.answers.jsonl"));

  // A prompt with no room left for an answer is dropped.
  PrepareConfig tight;
  tight.max_tokens = 30;  // "Capital of France?" takes 22 tokens, Tom's apples 49
  const PrepareReport rt = prep(tight, {rl}, dir / "rl_tight");
  CHECK(rt.too_many_tokens == 1);
  CHECK(rt.kept[0] == 1);
}

TEST_CASE("the split is deterministic, near the asked fractions, and per record", "[prepare]") {
  TempDir dir("prepare_split");
  const std::vector<std::string> old_records = random_paragraphs(300);
  const std::string a = write_text(dir / "a.txt", paragraphs_text(old_records));
  PrepareConfig cfg;
  cfg.dedup_near = false;  // the random paragraphs share words; this test is about the split
  cfg.test_fraction = 0.05;
  const PrepareReport r1 = prep(cfg, {a}, dir / "one", 0.1);
  const PrepareReport r2 = prep(cfg, {a}, dir / "two", 0.1);
  CHECK(r1.kept[0] + r1.kept[1] + r1.kept[2] == 300);
  CHECK(r1.kept[1] > 15);  // expected 30, sd 5
  CHECK(r1.kept[1] < 45);
  CHECK(r1.kept[2] > 3);   // expected 15, sd 4
  CHECK(r1.kept[2] < 30);
  CHECK(fs::exists(dir / "one/test_000000.bin"));
  CHECK(r1.table().find("test records") != std::string::npos);

  // Byte-identical files (meta.json up to the time it took).
  auto s1 = snapshot(dir / "one"), s2 = snapshot(dir / "two");
  nlohmann::json m1 = nlohmann::json::parse(s1["meta.json"]), m2 = nlohmann::json::parse(s2["meta.json"]);
  s1.erase("meta.json");
  s2.erase("meta.json");
  CHECK(s1 == s2);
  m1["report"].erase("seconds");
  m2["report"].erase("seconds");
  CHECK(m1 == m2);

  // Adding records (before and among the old ones, in another order) moves none of them.
  std::vector<std::string> grown = random_paragraphs(200, 1000);
  for (auto it = old_records.rbegin(); it != old_records.rend(); ++it) grown.push_back(*it);
  std::shuffle(grown.begin(), grown.end(), std::mt19937(5));
  const std::string b = write_text(dir / "b.txt", paragraphs_text(grown));
  prep(cfg, {b}, dir / "grown", 0.1);
  for (const char* split : {"train", "val", "test"}) {
    const std::vector<std::string> before = split_docs(dir / "one", split);
    const std::vector<std::string> after_v = split_docs(dir / "grown", split);
    const std::set<std::string> after(after_v.begin(), after_v.end());
    int64_t moved = 0;
    for (const std::string& d : before) moved += after.count(d) ? 0 : 1;
    INFO(split);
    CHECK(moved == 0);
    CHECK(after.size() > before.size());
  }
}

TEST_CASE("pairs that share a prompt land in the same split", "[prepare]") {
  TempDir dir("prepare_pairs");
  std::string jsonl;
  for (int k = 0; k < 150; k++) {
    const std::string q = "Question " + std::to_string(k) + ": what is " + std::to_string(k) + " squared?";
    const std::string sq = std::to_string(k * k);
    jsonl += nlohmann::json{{"prompt", q}, {"chosen", sq}, {"rejected", "I do not know."}}.dump() + "\n";
    jsonl += nlohmann::json{{"prompt", q}, {"chosen", "It is " + sq + "."}, {"rejected", "Ask someone else."}}.dump() + "\n";
  }
  PrepareConfig cfg;
  cfg.dedup_near = false;
  const PrepareReport rep = prep(cfg, {write_text(dir / "pairs.jsonl", jsonl)}, dir / "out", 0.3);
  REQUIRE(rep.kept[0] + rep.kept[1] == 300);
  const BpeTokenizer tok = prepared_tokenizer(dir / "out");
  std::map<std::string, std::set<std::string>> splits_of;  // prompt -> splits
  for (const char* split : {"train", "val"}) {
    PreferenceDataset d((fs::path(dir / "out") / (std::string(split) + "_pairs.bin")).string());
    for (int64_t i = 0; i < d.size(); i++) splits_of[tok.decode(d.get(i).prompt)].insert(split);
  }
  CHECK(splits_of.size() == 150);
  int64_t in_val = 0;
  for (const auto& [prompt, splits] : splits_of) {
    INFO(prompt);
    CHECK(splits.size() == 1);
    in_val += splits.count("val");
  }
  CHECK(in_val > 25);  // expected 45 prompts of 150
  CHECK(in_val < 70);
  CHECK(rep.kept[1] == 2 * in_val);
}

TEST_CASE("tokenizing on several threads gives the same shards", "[prepare]") {
  TempDir dir("prepare_threads");
  const std::string input = write_text(dir / "a.txt", paragraphs_text(random_paragraphs(1500)));
  PrepareConfig cfg;
  cfg.dedup_near = false;
  cfg.threads = 1;
  prep(cfg, {input}, dir / "one", 0.1);
  cfg.threads = 4;
  prep(cfg, {input}, dir / "four", 0.1);
  for (const char* f : {"train_000000.bin", "val_000000.bin"}) {
    INFO(f);
    CHECK(snapshot(dir / "one")[f] == snapshot(dir / "four")[f]);
  }
}

TEST_CASE("meta.json and the saved tokenizer describe the output", "[prepare]") {
  TempDir dir("prepare_meta");
  const std::string input = write_text(dir / "dialogues.jsonl", kDialogues);
  PrepareConfig cfg;
  cfg.shard_tokens = 60;  // several shards
  const PrepareReport rep = prep(cfg, {input}, dir / "out", 0.0, 1024);
  const nlohmann::json meta = read_meta(dir / "out");
  CHECK(meta["format"] == "gptcu-prepared");
  CHECK(meta["kind"] == "dialogue");
  CHECK(meta["tokenizer"] == "byte");
  CHECK(meta["vocab_size"] == 262);
  CHECK(meta["max_tokens"] == 1025);
  CHECK(meta["special_tokens"] == nlohmann::json{{"<|endoftext|>", 256}, {"<|system|>", 257}, {"<|user|>", 258},
                                                 {"<|assistant|>", 259}, {"<|end|>", 260}, {"<|pad|>", 261}});
  CHECK(meta["inputs"] == nlohmann::json::array({input}));
  CHECK(meta["report"]["records_read"] == 6);
  CHECK(meta["report"]["malformed"] == 1);
  CHECK(meta["report"]["exact_duplicates"] == 1);
  CHECK(meta["splits"]["train"]["records"] == rep.kept[0]);
  CHECK(meta["splits"]["train"]["tokens"] == rep.tokens[0]);
  const auto files = meta["splits"]["train"]["files"];
  REQUIRE(files.size() >= 3);
  int64_t tokens = 0;
  for (const auto& f : files) {
    const fs::path p = fs::path(dir / "out") / f.get<std::string>();
    CHECK(fs::exists(p));
    CHECK(fs::exists(mask_path_for(p.string())));
    tokens += TokenShard(p.string()).size();
  }
  CHECK(tokens == rep.tokens[0]);
  // Exactly the listed shards, their masks, meta.json and the tokenizer: nothing else.
  CHECK(snapshot(dir / "out").size() == 2 * files.size() + 3);

  const BpeTokenizer tok = prepared_tokenizer(dir / "out");
  CHECK(tok.vocab_size() == 262);
  CHECK(tok.special_id(kEndToken) == 260);
  CHECK(ChatTemplate(tok).ids().pad == 261);
  CHECK(fs::exists(dir / "out/tokenizer.meta.json"));
  CHECK(is_prepared_dir(dir / "out"));
  CHECK_FALSE(is_prepared_dir(dir.path.string()));
}

TEST_CASE("bad inputs are user errors naming the problem", "[prepare]") {
  TempDir dir("prepare_errors");
  const std::string dialogues = write_text(dir / "dialogues.jsonl", kDialogues);
  PrepareConfig strict;
  strict.strict = true;
  check_user_error([&] { prep(strict, {dialogues}, dir / "out"); }, dialogues + ":3");
  check_user_error([&] { prep({}, {}, dir / "out"); }, "no inputs");
  check_user_error([&] { prep({}, {(dir / "nope.txt")}, dir / "out"); }, "nope.txt");
  check_user_error([&] { prep({}, {write_text(dir / "empty.txt", "")}, dir / "out"); }, "no records");
  check_user_error([&] { prep({}, {write_text(dir / "blank.jsonl", "\n{oops\n")}, dir / "out"); }, "1 malformed");
  PrepareConfig bad_kind;
  bad_kind.kind = "poetry";
  check_user_error([&] { prep(bad_kind, {dialogues}, dir / "out"); }, "poetry");
  check_user_error([&] { prep({}, {dialogues}, ""); }, "no output directory");
  // Nothing was created for any of them.
  CHECK_FALSE(fs::exists(dir / "out"));
  CHECK(leftovers(dir.path).empty());

  // An output path that is a file, or a directory with other things in it, is left alone.
  write_text(dir / "file_out", "keep me");
  check_user_error([&] { prep({}, {dialogues}, dir / "file_out"); }, "not a directory");
  fs::create_directories(dir / "mine");
  write_text(dir / "mine/notes.txt", "precious");
  check_user_error([&] { prep({}, {dialogues}, dir / "mine"); }, "meta.json");
  CHECK(snapshot(dir / "mine") == std::map<std::string, std::string>{{"notes.txt", "precious"}});
  CHECK(snapshot(dir.path.string()).count("file_out"));
  CHECK(leftovers(dir.path).empty());

  // An empty directory is fine.
  fs::create_directories(dir / "empty_dir");
  PrepareConfig roomy;
  roomy.max_tokens = 100;
  CHECK(prep(roomy, {dialogues}, dir / "empty_dir").kept[0] == 3);
}

TEST_CASE("re-running replaces the output; a failed run leaves the previous one intact", "[prepare]") {
  TempDir dir("prepare_replace");
  const std::string out = dir / "data/out";  // the parent is created
  PrepareConfig small_shards;
  small_shards.shard_tokens = 100;
  const std::string first = write_text(dir / "first.txt", paragraphs_text(random_paragraphs(20)));
  prep(small_shards, {first}, out);
  CHECK(fs::exists(out + "/train_000002.bin"));

  const std::string second = write_text(dir / "second.txt", "Only this.\n\nAnd this.\n");
  const PrepareReport rep = prep({}, {second}, out);
  CHECK(rep.kept[0] == 2);
  CHECK(split_docs(out, "train") == std::vector<std::string>{"Only this.", "And this."});
  CHECK_FALSE(fs::exists(out + "/train_000001.bin"));  // nothing of the first run is left
  CHECK(snapshot(out).size() == 4);                     // shard, meta.json, tokenizer (2 files)
  const auto good = snapshot(out);

  // Failures before anything is written, while reading, and after the temporary directory exists.
  check_user_error([&] { run_prepare(PrepareConfig{.inputs = {second}}, dir / "no_such_tokenizer", out, 0.0, 64, std::cout); },
                   "no_such_tokenizer");
  const std::string broken = write_text(dir / "broken.jsonl", "{\"text\": \"fine\"}\n{\"text\": \n");
  PrepareConfig strict;
  strict.strict = true;
  check_user_error([&] { prep(strict, {broken}, out); }, "broken.jsonl:2");
  PrepareConfig too_short;
  too_short.min_chars = 1000;
  check_user_error([&] { prep(too_short, {second}, out); }, "nothing left to write");
  PrepareConfig tiny;
  tiny.max_tokens = 5;
  check_user_error([&] { prep(tiny, {write_text(dir / "d.jsonl", kDialogues)}, out); }, "nothing left to write");
  CHECK(snapshot(out) == good);
  CHECK(leftovers(dir / "data").empty());
}

TEST_CASE("an output path with a trailing slash is the directory itself", "[prepare]") {
  TempDir dir("prepare_slash");
  const std::string input = write_text(dir / "a.txt", "One.\n\nTwo.\n");
  const std::string out = dir / "out/";
  CHECK(prep({}, {input}, out).kept[0] == 2);
  CHECK(prep({}, {input}, out).kept[0] == 2);  // and again, replacing it
  CHECK(split_docs(dir / "out", "train") == std::vector<std::string>{"One.", "Two."});
  CHECK(snapshot(dir / "out").size() == 4);
  CHECK(leftovers(dir.path).empty());
  CHECK(leftovers(dir / "out").empty());
}
