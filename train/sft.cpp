// train/sft.cpp
#include "train/sft.h"

#include <filesystem>
#include <iostream>

#include "data/chat_template.h"
#include "data/shard.h"
#include "data/shard_corpus.h"
#include "eval/generate.h"
#include "model/weights.h"
#include "train/post_common.h"

namespace fs = std::filesystem;

namespace gptcu {

SftObjective::SftObjective(GPT& model, const TokenBatches& data, int batch_size, uint64_t seed,
                           const BpeTokenizer& tokenizer, std::vector<std::vector<int32_t>> prompts,
                           int max_new_tokens)
    : PretrainObjective(model, data, batch_size, seed),
      tok_(tokenizer),
      prompts_(std::move(prompts)),
      max_new_tokens_(max_new_tokens) {}

std::vector<Metric> SftObjective::evaluate(int steps, std::ostream& log) {
  std::vector<Metric> out = PretrainObjective::evaluate(steps, log);
  if (prompts_.empty()) return out;
  SampleOptions opt;
  opt.max_new_tokens = max_new_tokens_;
  opt.temperature = 0;
  opt.stop_tokens = {ChatTemplate(tok_).ids().end};
  opt.vocab_limit = tok_.vocab_size();
  const std::vector<Generation> gens = generate_batch(model(), prompts_, opt);
  for (size_t i = 0; i < gens.size(); i++) {
    std::vector<int32_t> reply = gens[i].tokens;
    if (gens[i].stopped && !reply.empty()) reply.pop_back();
    log << "  sample " << i + 1 << ": " << tok_.decode(prompts_[i]) << " -> " << tok_.decode(reply)
        << (gens[i].stopped ? "" : " [no <|end|>]") << "\n";
  }
  return out;
}

std::vector<std::vector<int32_t>> validation_prompts(const std::string& dir, const BpeTokenizer& tok, int n) {
  std::vector<std::vector<int32_t>> prompts;
  if (n <= 0) return prompts;
  const ChatTemplate chat(tok);
  for (const std::string& file : TokenDataset::glob((fs::path(dir) / "val_*.bin").string())) {
    const TokenShard shard(file);
    std::vector<int32_t> cur;
    bool open = false;  // inside a dialogue, before its first assistant turn
    for (int64_t i = 0; i < shard.size() && (int)prompts.size() < n; i++) {
      const int32_t id = shard[i];
      if (id == chat.ids().eot) {
        cur = {id};
        open = true;
      } else if (open) {
        cur.push_back(id);
        if (id == chat.ids().assistant) {
          prompts.push_back(cur);
          open = false;
        }
      }
    }
    if ((int)prompts.size() >= n) break;
  }
  return prompts;
}

TrainResult run_sft(const Config& config_in, const TrainOptions& options) {
  std::ostream& log = options.log ? *options.log : std::cout;
  StartingPoint start = start_from(config_in, /*value_head=*/false, log);
  const Config& config = start.config;
  log << "# resolved config\n" << dump_config(config) << "\n";
  check_prepared_data(config, start.tokenizer, "SFT reads dialogue shards");
  ShardCorpus data(config.data.path, config.model.block_size, (uint64_t)config.train.seed);
  GPTCU_USER_CHECK(data.split(Split::train).has_mask(), "data.path '", config.data.path,
                   "' holds ", data.kind(), " shards without a loss mask: SFT needs dialogues (prepare --kind dialogue)");
  std::unique_ptr<GPT> model = load_model(start.checkpoint, false);
  log << "model: " << model->config().str() << " | " << model->num_parameters() << " parameters\n";
  log << "data: " << data.name() << " | " << data.num_tokens(Split::train) << " train tokens, "
      << data.num_tokens(Split::val) << " val tokens (loss on assistant tokens only)\n";
  save_run_tokenizer(config, start.tokenizer);
  SftObjective objective(*model, data, config.train.batch_size, (uint64_t)config.train.seed, start.tokenizer,
                         validation_prompts(config.data.path, start.tokenizer, config.sft.sample_prompts),
                         config.sft.sample_max_new_tokens);
  return train(config, *model, objective, options);
}

}  // namespace gptcu
