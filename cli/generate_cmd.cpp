// cli/generate_cmd.cpp: `gptcu generate`: completions for a file of prompts, in batches through
// the KV-cache sampler (eval/generate.h).
//
//   gptcu generate --checkpoint runs/sft --input prompts.jsonl --out completions.jsonl --chat \
//       --max-new-tokens 64 --temperature 0.7 --top-p 0.9 --batch-size 32
//
// Input: one prompt per line: plain text, or JSONL {"prompt": "..."} when the file ends in
// .jsonl (blank lines are skipped). With --chat a prompt is the user turn of a dialogue,
// rendered by the chat template and answered by the assistant. Output: one JSON line per
// prompt, in order: {"prompt", "completion", "stopped"}, where completion is the decoded new
// tokens without the stop token (<|endoftext|>, or <|end|> when the tokenizer has it) and
// stopped says whether one ended it. Prompt i samples from random stream (seed, i), so the
// output does not depend on --batch-size.
#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/sampling.h"
#include "data/chat_template.h"

namespace gptcu::cli {
namespace {

struct Prompt {
  std::string text;
  int line;  // 1-based, in the input file
};

std::vector<Prompt> read_prompts(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  GPTCU_USER_CHECK(in, "cannot open '", path, "'");
  const bool jsonl = path.size() >= 6 && path.compare(path.size() - 6, 6, ".jsonl") == 0;
  std::vector<Prompt> prompts;
  std::string line;
  for (int n = 1; std::getline(in, line); n++) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    if (!jsonl) {
      prompts.push_back({line, n});
      continue;
    }
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::parse_error& e) {
      user_error(path, ":", n, ": not JSON (", e.what(), ")");
    }
    GPTCU_USER_CHECK(j.is_object() && j.contains("prompt") && j["prompt"].is_string(), path, ":", n,
                     ": expected an object with a string \"prompt\"");
    prompts.push_back({j["prompt"].get<std::string>(), n});
  }
  GPTCU_USER_CHECK(!prompts.empty(), "'", path, "' has no prompts");
  return prompts;
}

}  // namespace

void register_generate(CLI::App& app) {
  struct Args {
    std::string checkpoint, input, out;
    bool chat = false;
    int batch_size = 32;
    SampleOptions opt;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("generate", "complete a file of prompts (batched, KV cache) into JSONL");
  cmd->add_option("--checkpoint", args->checkpoint, "a checkpoint directory, or a run directory (its newest checkpoint)")->required();
  cmd->add_option("--input", args->input, "prompts: one per line, plain text or .jsonl {\"prompt\": ...}")->required();
  cmd->add_option("--out", args->out, "output .jsonl: {\"prompt\", \"completion\", \"stopped\"} per prompt")->required();
  cmd->add_flag("--chat", args->chat, "wrap each prompt as a user turn of the chat template; stop at <|end|>");
  cmd->add_option("--batch-size", args->batch_size, "prompts per batch")->check(CLI::Range(1, 1 << 20));
  add_sampling_options(cmd, args->opt);
  cmd->callback([args]() {
    const std::vector<Prompt> prompts = read_prompts(args->input);
    SamplingModel m = load_sampling_model(args->checkpoint);
    std::unique_ptr<ChatTemplate> chat;
    if (args->chat) chat = std::make_unique<ChatTemplate>(m.tokenizer);  // UserError without the chat specials
    SampleOptions opt = args->opt;
    opt.stop_tokens = default_stop_tokens(m.tokenizer);
    opt.vocab_limit = m.tokenizer.vocab_size();
    std::vector<std::vector<int32_t>> ids;
    for (const Prompt& p : prompts) {
      ids.push_back(chat ? chat->prompt({{"user", p.text}}) : m.tokenizer.encode(p.text));
      GPTCU_USER_CHECK(!ids.back().empty(), args->input, ":", p.line, ": the prompt encodes to no tokens");
    }
    std::ofstream out(args->out, std::ios::binary);
    GPTCU_USER_CHECK(out, "cannot write '", args->out, "'");
    const auto t0 = std::chrono::steady_clock::now();
    int64_t new_tokens = 0, truncated = 0;
    for (size_t begin = 0; begin < ids.size(); begin += args->batch_size) {
      const size_t end = std::min(ids.size(), begin + (size_t)args->batch_size);
      opt.stream_offset = begin;  // prompt i: stream (seed, i), whatever the batching
      const std::vector<Generation> gens =
          generate_batch(*m.model, std::vector<std::vector<int32_t>>(ids.begin() + begin, ids.begin() + end), opt);
      for (size_t i = 0; i < gens.size(); i++) {
        std::vector<int32_t> tokens = gens[i].tokens;
        new_tokens += (int64_t)tokens.size();
        truncated += gens[i].prompt_tokens_dropped > 0;
        if (gens[i].stopped) tokens.pop_back();  // the stop token is not part of the text
        const nlohmann::json row = {
            {"prompt", prompts[begin + i].text}, {"completion", m.tokenizer.decode(tokens)}, {"stopped", gens[i].stopped}};
        // a completion may end inside a UTF-8 character: replace, never throw
        out << row.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
      }
    }
    out.close();
    GPTCU_USER_CHECK(out, "error writing '", args->out, "'");
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::cerr << "generated " << prompts.size() << " completions, " << new_tokens << " tokens in " << secs << " s ("
              << (int64_t)(new_tokens / std::max(secs, 1e-9)) << " tokens/s)";
    if (truncated > 0) std::cerr << "; " << truncated << " prompts cut from the left to fit the context";
    std::cerr << " -> " << args->out << "\n";
  });
}

}  // namespace gptcu::cli
