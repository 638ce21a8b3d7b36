// cli/eval_reward.cpp: `gptcu eval --task reward-accuracy`: a reward model (a checkpoint with a
// value head) on held-out preference pairs: pairwise accuracy (r(chosen) > r(rejected), a tie
// counts as wrong), the mean margin r(chosen) - r(rejected), and the pairs skipped.
//
// --data: a preference file in any format `data prepare` reads (rendered with the chat
// template as `gptcu reward score` does), a record shard (PREFIX_pairs.bin), or a prepared
// directory (its SPLIT_pairs.bin, --split val by default). Pairs whose chosen and rejected
// tokens are identical say nothing about the model and are skipped (counted); so are records
// the reader rejects (malformed JSON, missing fields; a raw pair with chosen == rejected is
// among these, as data/records.h defines).
#include <filesystem>
#include <iostream>

#include "cli/eval_tasks.h"
#include "data/chat_template.h"
#include "data/record_data.h"
#include "data/records.h"
#include "data/shard_corpus.h"
#include "train/post_common.h"
#include "train/reward.h"

namespace fs = std::filesystem;

namespace gptcu::cli {

void eval_reward_accuracy(const EvalArgs& a) {
  const std::string& data = need_data(a, "preference pairs: a JSONL/JSON file, a *_pairs.bin shard or a prepared directory");
  GPTCU_USER_CHECK(fs::exists(data), data, ": no such file or directory");
  LoadedModel m = load_eval_model(a, "reward-accuracy");
  GPTCU_USER_CHECK(m.model->config().value_head, "checkpoint ", m.checkpoint,
                   " has no value head: it is not a reward model (train one with gptcu reward)");
  const ChatTemplate chat(m.tok);
  std::vector<std::vector<int32_t>> prompts, chosen, rejected;
  int64_t identical = 0, unreadable = 0;
  auto add = [&](std::vector<int32_t> p, std::vector<int32_t> c, std::vector<int32_t> r) {
    if (a.max_prompts > 0 && (int)prompts.size() >= a.max_prompts) return;
    if (c == r) {
      identical++;
      return;
    }
    prompts.push_back(std::move(p));
    chosen.push_back(std::move(c));
    rejected.push_back(std::move(r));
  };
  std::string input = data;
  if (fs::is_directory(data) || fs::path(data).extension() == ".bin") {
    if (fs::is_directory(data)) {
      GPTCU_USER_CHECK(is_prepared_dir(data), data, " is a directory but not a gptcu data prepare output (no meta.json)");
      check_same_tokenizer(m.tok, prepared_tokenizer(data), data);
      input = (fs::path(data) / (a.split + "_pairs.bin")).string();
      GPTCU_USER_CHECK(fs::exists(input), data, " has no ", a.split, "_pairs.bin (prepare it with --kind preference)");
    }
    const PreferenceDataset pairs(input);
    for (int64_t i = 0; i < pairs.size(); i++) {
      PreferencePair p = pairs.get(i);
      add(std::move(p.prompt), std::move(p.chosen), std::move(p.rejected));
    }
  } else {
    ReadStats stats;
    int64_t other = 0;
    read_records(data, ReadOptions{}, stats, [&](Record&& r) {
      if (r.kind != RecordKind::preference) {
        other++;
        return;
      }
      add(chat.prompt(r.messages), chat.reply(r.chosen), chat.reply(r.rejected));
    });
    unreadable = stats.malformed + stats.missing_fields + other;
  }
  GPTCU_USER_CHECK(!prompts.empty(), input, ": no preference pairs to score");
  const int B = or_default(a.batch_size, 16);
  const std::vector<float> c = score_responses(*m.model, prompts, chosen, chat.ids().pad, B);
  const std::vector<float> r = score_responses(*m.model, prompts, rejected, chat.ids().pad, B);
  int64_t right = 0, ties = 0;
  double margin = 0;
  for (size_t i = 0; i < c.size(); i++) {
    right += c[i] > r[i];
    ties += c[i] == r[i];
    margin += (double)c[i] - (double)r[i];
  }
  const double n = (double)c.size();
  const Rows rows = {{"pairs", std::to_string(c.size())},
                     {"accuracy", fmt(right / n) + " (chosen scored above rejected)"},
                     {"mean margin", fmt(margin / n)},
                     {"ties", std::to_string(ties)},
                     {"skipped", std::to_string(identical) + " identical pairs, " + std::to_string(unreadable) +
                                     " records that are no valid preference pair"}};
  report(a, m.checkpoint, rows,
         {{"data", input}, {"pairs", c.size()}, {"accuracy", right / n}, {"mean_margin", margin / n}, {"ties", ties},
          {"skipped_identical", identical}, {"skipped_invalid", unreadable}});
}

}  // namespace gptcu::cli
