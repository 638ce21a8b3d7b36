// cli/eval_tasks.cpp: the tasks of `gptcu eval` but reward-accuracy (cli/eval_reward.cpp): each
// reads its input strictly, runs the library code of eval/, prints a table and writes JSON.
#include "cli/eval_tasks.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "data/chat_template.h"
#include "data/loader.h"
#include "data/record_data.h"
#include "data/records.h"
#include "data/shard_corpus.h"
#include "eval/answer_eval.h"
#include "eval/bleu.h"
#include "eval/choice.h"
#include "eval/classify_metrics.h"
#include "eval/eval_io.h"
#include "eval/perplexity.h"
#include "eval/replies.h"
#include "train/checkpoint.h"
#include "train/post_common.h"
#include "train/pretrain.h"

namespace fs = std::filesystem;

namespace gptcu::cli {

// ---------------------------------------------------------------- shared

LoadedModel load_eval_model(const EvalArgs& a, const std::string& task) {
  GPTCU_USER_CHECK(!a.checkpoint.empty(), "eval --task ", task, " needs --checkpoint");
  const std::string ckpt = resolve_checkpoint(a.checkpoint, "--checkpoint");
  return {ckpt, checkpoint_tokenizer(ckpt), load_model(ckpt, checkpoint_config(ckpt).model.value_head)};
}

std::string fmt(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

const std::string& need_data(const EvalArgs& a, const char* what) {
  GPTCU_USER_CHECK(!a.data.empty(), "eval --task ", a.task, " needs --data (", what, ")");
  return a.data;
}

int or_default(int value, int fallback) { return value > 0 ? value : fallback; }

void report(const EvalArgs& a, const std::string& checkpoint, const Rows& rows, nlohmann::json result) {
  std::string out = a.out;
  if (out.empty()) out = (checkpoint.empty() ? fs::path(".") : fs::path(checkpoint)) / ("eval_" + a.task + ".json");
  size_t w = 0;
  for (const auto& r : rows) w = std::max(w, r.first.size());
  std::cout << "eval " << a.task << (checkpoint.empty() ? "" : " | " + checkpoint) << "\n";
  for (const auto& [name, value] : rows) std::cout << "  " << name << std::string(w - name.size(), ' ') << " | " << value << "\n";
  nlohmann::json j = {{"task", a.task}};
  if (!checkpoint.empty()) j["checkpoint"] = checkpoint;
  j.update(result);
  write_file_atomic(out, json_text(j));
  std::cout << "wrote " << out << "\n";
}

namespace {

std::string pct(double v) { return fmt(100 * v, 2) + "%"; }

nlohmann::json answer_json(const AnswerAccuracy& r) {
  nlohmann::json ex = nlohmann::json::array();
  for (const auto& e : r.examples) ex.push_back({{"prompt", e.prompt}, {"reply", e.reply}, {"answer", e.answer}, {"right", e.right}});
  return {{"prompts", r.prompts}, {"replies", r.replies}, {"accuracy", r.accuracy}, {"mean_length", r.mean_length},
          {"stopped", r.stopped}, {"truncated", r.truncated}, {"examples", ex},
          {"right_per_prompt", r.right_per_prompt}};
}

void report_answers(const EvalArgs& a, const LoadedModel& m, const AnswerAccuracy& r, const std::string& verifier) {
  Rows rows = {{"prompts", std::to_string(r.prompts)},
               {"replies", a.temperature > 0 ? std::to_string(r.replies) + " (temperature " + fmt(a.temperature, 2) + ")" : "greedy"},
               {"verifier", verifier},
               {"accuracy", fmt(r.accuracy)},
               {"mean reply tokens", fmt(r.mean_length, 1)},
               {"ended with <|end|>", pct(r.stopped)}};
  if (r.truncated) rows.push_back({"prompts truncated", std::to_string(r.truncated)});
  for (const auto& e : r.examples)
    std::cout << "  " << (e.right ? "right" : "wrong") << ": " << e.prompt << " -> " << e.reply << " (answer " << e.answer << ")\n";
  nlohmann::json j = answer_json(r);
  j["data"] = a.data;
  j["verifier"] = verifier;
  j["temperature"] = a.temperature;
  report(a, m.checkpoint, rows, j);
}

ReplyOptions reply_options(const EvalArgs& a, int default_new_tokens) {
  ReplyOptions ro;
  ro.max_new_tokens = or_default(a.max_new_tokens, default_new_tokens);
  ro.batch_size = or_default(a.batch_size, 32);
  ro.temperature = a.temperature;
  ro.seed = a.seed;
  ro.log = &std::cout;
  return ro;
}

AnswerEvalOptions answer_options(const EvalArgs& a, int default_new_tokens, const std::string& verifier) {
  AnswerEvalOptions opt;
  opt.max_prompts = a.max_prompts;
  opt.max_new_tokens = or_default(a.max_new_tokens, default_new_tokens);
  opt.batch_size = or_default(a.batch_size, 64);
  opt.verifier = verifier;
  opt.temperature = a.temperature;
  opt.samples = a.samples;
  opt.seed = a.seed;
  return opt;
}

}  // namespace

// ---------------------------------------------------------------- answers, gsm8k

void eval_answers(const EvalArgs& a) {
  const std::string& data = need_data(a, "a prompt shard from data prepare --kind rl_prompt, e.g. DATA/val_prompts.bin");
  LoadedModel m = load_eval_model(a, "answers");
  const PromptDataset prompts(data);
  const std::string verifier = a.verifier.empty() ? "exact" : a.verifier;
  const AnswerAccuracy r = answer_accuracy(*m.model, m.tok, prompts, answer_options(a, 32, verifier));
  report_answers(a, m, r, verifier);
}

void eval_gsm8k(const EvalArgs& a) {
  const std::string& data = need_data(a, "GSM8K's test.jsonl {question, answer}, or rl_test.jsonl {prompt, answer}");
  LoadedModel m = load_eval_model(a, "gsm8k");
  const ChatTemplate chat(m.tok);
  std::vector<PromptRecord> prompts;
  ReadOptions ro;
  ro.format = "jsonl";
  ro.strict = true;
  ReadStats stats;
  read_records(data, ro, stats, [&](Record&& r) {
    GPTCU_USER_CHECK(r.kind == RecordKind::rl_prompt, r.source, ": a ", kind_name(r.kind),
                     " record, expected {question, answer} or {prompt, answer}");
    if (a.max_prompts > 0 && (int)prompts.size() >= a.max_prompts) return;
    prompts.push_back({chat.prompt(r.messages), r.answer});
  });
  GPTCU_USER_CHECK(!prompts.empty(), data, ": no questions");
  const std::string verifier = a.verifier.empty() ? "gsm8k" : a.verifier;
  const AnswerAccuracy r = answer_accuracy(*m.model, m.tok, prompts, answer_options(a, 256, verifier), data);
  report_answers(a, m, r, verifier);
}

// ---------------------------------------------------------------- perplexity

void eval_perplexity(const EvalArgs& a) {
  const std::string& data = need_data(a, "a text file, a token shard .bin, or a data prepare directory");
  LoadedModel m = load_eval_model(a, "perplexity");
  GPTCU_USER_CHECK(fs::exists(data), data, ": no such file or directory");
  std::vector<int32_t> tokens;
  TokenStream stream;
  int64_t bytes = 0;  // text input only
  std::string input_kind;
  if (fs::is_directory(data)) {
    GPTCU_USER_CHECK(is_prepared_dir(data), data, " is a directory but not a gptcu data prepare output (no meta.json)");
    check_same_tokenizer(m.tok, prepared_tokenizer(data), data);
    stream = shard_stream(TokenDataset::glob((fs::path(data) / (a.split + "_*.bin")).string()));
    input_kind = "shards (" + a.split + ")";
  } else if (fs::path(data).extension() == ".bin") {
    stream = shard_stream({data});
    input_kind = "shard";
  } else {
    const std::string text = read_file(data);
    GPTCU_USER_CHECK(!text.empty(), data, ": empty file");
    bytes = (int64_t)text.size();
    // <|endoftext|> first, so that every token of the text is predicted
    tokens.push_back(m.tok.eot());
    const std::vector<int32_t> ids = text.size() > (1 << 20) ? m.tok.encode_parallel(text, 0) : m.tok.encode(text);
    tokens.insert(tokens.end(), ids.begin(), ids.end());
    stream = token_stream(tokens);
    input_kind = "text";
  }
  PerplexityOptions opt;
  opt.batch_size = or_default(a.batch_size, 8);
  opt.max_tokens = a.max_tokens;
  opt.log = &std::cout;
  const PerplexityResult r = perplexity(*m.model, stream, opt);
  Rows rows = {{"input", data + " (" + input_kind + ")"},
               {"tokens", std::to_string(r.tokens) + " in " + std::to_string(r.windows) + " windows of " +
                              std::to_string(m.model->config().block_size)},
               {"mean NLL", fmt(r.mean_nll) + " nats/token"},
               {"perplexity", fmt(r.perplexity, 3)},
               {"speed", fmt(r.tokens_per_second, 0) + " tokens/s (" + fmt(r.seconds, 2) + " s)"}};
  nlohmann::json j = {{"data", data}, {"input", input_kind}, {"tokens", r.tokens}, {"windows", r.windows},
                      {"block_size", m.model->config().block_size}, {"nll_sum", r.nll_sum}, {"mean_nll", r.mean_nll},
                      {"perplexity", r.perplexity}, {"seconds", r.seconds}, {"tokens_per_second", r.tokens_per_second}};
  // bits per byte: only when the whole text was scored (a --max-tokens cut leaves bytes unscored)
  if (bytes > 0 && r.tokens == (int64_t)tokens.size() - 1) {
    const double bpb = r.nll_sum / (std::log(2.0) * (double)bytes);
    rows.push_back({"bits per byte", fmt(bpb) + " (" + std::to_string(bytes) + " bytes)"});
    j["bytes"] = bytes;
    j["bits_per_byte"] = bpb;
  }
  report(a, m.checkpoint, rows, j);
}

// ---------------------------------------------------------------- bleu

void eval_bleu(const EvalArgs& a) {
  const BleuTokenize tokenize = parse_bleu_tokenize(a.tokenize);
  std::vector<std::string> hyps;
  std::vector<std::vector<std::string>> refs;
  nlohmann::json j;
  std::string checkpoint;
  if (!a.hyp.empty()) {
    GPTCU_USER_CHECK(!a.refs.empty(), "eval --task bleu --hyp needs at least one --ref");
    GPTCU_USER_CHECK(a.data.empty(), "eval --task bleu: give either --hyp/--ref or --data, not both");
    hyps = read_lines(a.hyp);
    GPTCU_USER_CHECK(!hyps.empty(), a.hyp, ": no lines");
    refs.resize(hyps.size());
    for (const std::string& rf : a.refs) {
      const std::vector<std::string> lines = read_lines(rf);
      GPTCU_USER_CHECK(lines.size() == hyps.size(), rf, " has ", lines.size(), " lines but ", a.hyp, " has ",
                       hyps.size());
      for (size_t i = 0; i < lines.size(); i++) refs[i].push_back(lines[i]);
    }
    j["hyp"] = a.hyp;
    j["refs"] = a.refs;
  } else {
    const std::string& data = need_data(a, "prompts JSONL {prompt, reference | references}, or use --hyp/--ref");
    GPTCU_USER_CHECK(a.refs.empty(), "eval --task bleu: --ref goes with --hyp");
    std::vector<std::string> prompts;
    for (const JsonLine& l : read_jsonl(data)) {
      if (a.max_prompts > 0 && (int)prompts.size() >= a.max_prompts) break;
      prompts.push_back(json_string(l, {"prompt"}));
      std::vector<std::string> rs;
      const auto it = l.value.find("references");
      if (it != l.value.end()) {
        GPTCU_USER_CHECK(it->is_array() && !it->empty(), l.where, ": 'references' is not a non-empty list");
        for (const auto& r : *it) {
          GPTCU_USER_CHECK(r.is_string(), l.where, ": a reference is not a string");
          rs.push_back(r.get<std::string>());
        }
      } else {
        rs.push_back(json_string(l, {"reference"}));
      }
      refs.push_back(std::move(rs));
    }
    GPTCU_USER_CHECK(!prompts.empty(), data, ": no prompts");
    LoadedModel m = load_eval_model(a, "bleu");
    checkpoint = m.checkpoint;
    const ReplyOptions ro = reply_options(a, 128);
    std::string lines;
    for (const Reply& r : chat_replies(*m.model, m.tok, prompts, ro)) {
      hyps.push_back(r.text);
      std::string one = r.text;
      for (char& c : one)
        if (c == '\n' || c == '\r') c = ' ';
      lines += one + "\n";
    }
    if (!a.hyp_out.empty()) write_file_atomic(a.hyp_out, lines);
    j["data"] = a.data;
    j["temperature"] = a.temperature;
    j["examples"] = nlohmann::json::array();
    for (size_t i = 0; i < std::min<size_t>(3, hyps.size()); i++)
      j["examples"].push_back({{"prompt", prompts[i]}, {"hypothesis", hyps[i]}, {"references", refs[i]}});
  }
  const BleuScore s = corpus_bleu(hyps, refs, tokenize);
  size_t max_refs = 0;
  for (const auto& r : refs) max_refs = std::max(max_refs, r.size());
  const std::string signature = "nrefs:" + std::to_string(max_refs) + "|case:mixed|eff:no|tok:" + a.tokenize + "|smooth:exp";
  const double ratio = s.ref_len > 0 ? (double)s.sys_len / (double)s.ref_len : 0.0;
  std::string prec;
  for (double p : s.precisions) prec += (prec.empty() ? "" : "/") + fmt(p, 1);
  const Rows rows = {{"segments", std::to_string(s.segments)},
                     {"BLEU", fmt(s.score, 2) + " " + prec + " (BP = " + fmt(s.bp, 3) + " ratio = " + fmt(ratio, 3) +
                                  " hyp_len = " + std::to_string(s.sys_len) + " ref_len = " + std::to_string(s.ref_len) + ")"},
                     {"signature", signature}};
  j.update({{"score", s.score}, {"precisions", s.precisions}, {"counts", s.correct}, {"totals", s.total},
            {"bp", s.bp}, {"ratio", ratio}, {"sys_len", s.sys_len}, {"ref_len", s.ref_len},
            {"segments", s.segments}, {"tokenize", a.tokenize}, {"signature", signature}});
  report(a, checkpoint, rows, j);
}

// ---------------------------------------------------------------- classify

void eval_classify(const EvalArgs& a) {
  std::vector<std::string> gold, predicted, raw;
  std::string checkpoint;
  nlohmann::json j;
  if (!a.predictions.empty()) {
    GPTCU_USER_CHECK(a.data.empty(), "eval --task classify: give either --predictions or --data, not both");
    for (const JsonLine& l : read_jsonl(a.predictions)) {
      if (a.max_prompts > 0 && (int)gold.size() >= a.max_prompts) break;
      gold.push_back(normalize_label(json_string(l, {"label"})));
      raw.push_back(json_string(l, {"prediction"}));
      predicted.push_back(normalize_label(raw.back()));
    }
    GPTCU_USER_CHECK(!gold.empty(), a.predictions, ": no predictions");
    j["predictions"] = a.predictions;
  } else {
    const std::string& data = need_data(a, "labelled JSONL {text | prompt, label}, or use --predictions");
    std::vector<std::string> prompts;
    for (const JsonLine& l : read_jsonl(data)) {
      if (a.max_prompts > 0 && (int)prompts.size() >= a.max_prompts) break;
      prompts.push_back(json_string(l, {"text", "prompt"}));
      gold.push_back(normalize_label(json_string(l, {"label"})));
    }
    GPTCU_USER_CHECK(!prompts.empty(), data, ": no examples");
    LoadedModel m = load_eval_model(a, "classify");
    checkpoint = m.checkpoint;
    const ReplyOptions ro = reply_options(a, 16);
    for (const Reply& r : chat_replies(*m.model, m.tok, prompts, ro)) {
      raw.push_back(r.text);
      predicted.push_back(normalize_label(r.text));
    }
    j["data"] = data;
  }
  const ClassifyMetrics c = classify_metrics(gold, predicted);
  Rows rows = {{"examples", std::to_string(c.examples)},
               {"accuracy", fmt(c.accuracy)},
               {"macro precision", fmt(c.macro_precision)},
               {"macro recall", fmt(c.macro_recall)},
               {"macro F1", fmt(c.macro_f1)},
               {"not a label", std::to_string(c.unknown_predictions) + " predictions"}};
  nlohmann::json classes = nlohmann::json::array();
  for (const ClassMetrics& k : c.classes) {
    rows.push_back({"class '" + k.label + "'", "P " + fmt(k.precision) + " R " + fmt(k.recall) + " F1 " + fmt(k.f1) +
                                                   " (support " + std::to_string(k.support) + ")"});
    classes.push_back({{"label", k.label}, {"support", k.support}, {"predicted", k.predicted}, {"correct", k.correct},
                       {"precision", k.precision}, {"recall", k.recall}, {"f1", k.f1}});
  }
  nlohmann::json ex = nlohmann::json::array();
  for (size_t i = 0; i < std::min<size_t>(3, gold.size()); i++)
    ex.push_back({{"label", gold[i]}, {"reply", raw[i]}, {"prediction", predicted[i]}});
  j.update({{"examples", c.examples}, {"accuracy", c.accuracy}, {"macro_precision", c.macro_precision},
            {"macro_recall", c.macro_recall}, {"macro_f1", c.macro_f1}, {"unknown_predictions", c.unknown_predictions},
            {"classes", classes}, {"zero_division", 0}, {"sample", ex}});
  report(a, checkpoint, rows, j);
}

// ---------------------------------------------------------------- choice

void eval_choice(const EvalArgs& a) {
  const std::string& data = need_data(a, "a CSV file or a directory of CSVs in CMMLU's layout");
  const std::vector<ChoiceQuestion> qs = read_choice_questions(data);
  LoadedModel m = load_eval_model(a, "choice");
  ChoiceOptions opt;
  opt.batch_size = or_default(a.batch_size, 16);
  opt.max_questions = a.max_prompts;
  opt.chat = a.prompt_format == "chat";
  opt.log = &std::cout;
  const ChoiceResult r = choice_accuracy(*m.model, m.tok, qs, opt);
  Rows rows = {{"questions", std::to_string(r.questions) + " (" + std::to_string(r.subjects.size()) + " subjects, " +
                                 a.prompt_format + " prompts)"},
               {"accuracy", fmt(r.accuracy)},
               {"accuracy (length-normalised)", fmt(r.accuracy_norm)}};
  if (r.truncated) rows.push_back({"rows truncated", std::to_string(r.truncated)});
  nlohmann::json subjects = nlohmann::json::object();
  for (const auto& s : r.subjects) {
    const double acc = (double)s.correct / (double)s.questions, norm = (double)s.correct_norm / (double)s.questions;
    if (r.subjects.size() <= 20) rows.push_back({s.name, fmt(acc) + " / " + fmt(norm) + " (" + std::to_string(s.questions) + ")"});
    subjects[s.name] = {{"questions", s.questions}, {"accuracy", acc}, {"accuracy_norm", norm}};
  }
  report(a, m.checkpoint, rows,
         {{"data", data}, {"prompt_format", a.prompt_format}, {"questions", r.questions}, {"accuracy", r.accuracy},
          {"accuracy_norm", r.accuracy_norm}, {"truncated", r.truncated}, {"subjects", subjects}});
}

}  // namespace gptcu::cli
