// train/post_common.h: what every post-training job shares (SFT, reward, DPO, PPO, GRPO).
//
//   StartingPoint start = start_from(config, /*value_head=*/true);   // model.init_from resolved
//   std::unique_ptr<GPT> model = load_model(start.checkpoint, true);   // its weights (+ a zero head)
//   SeqBatch b = make_seq_batch(prompts, responses, pad, block_size);   // right-padded (B, T)
//
// A post-training run starts from a checkpoint (model.init_from): the model's shape and its
// tokenizer come from there, and the data must have been prepared with the same tokenizer.
#pragma once
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "data/bpe_tokenizer.h"
#include "model/gpt.h"
#include "train/config.h"
#include "train/trainer.h"  // Metric

namespace gptcu {

// A checkpoint named by a config key: a checkpoint directory, or a run directory (its newest
// checkpoint). UserError naming `key` when the path is empty, missing, or holds no checkpoint.
std::string resolve_checkpoint(const std::string& path, const std::string& key);

struct StartingPoint {
  std::string checkpoint;  // model.init_from, resolved
  Config config;           // the run's config with model.* (sizes) taken from that checkpoint
  BpeTokenizer tokenizer;  // the checkpoint's tokenizer
};
// Resolves model.init_from and adopts its model shape (value_head as asked). Prints what it did.
StartingPoint start_from(const Config& config, bool value_head, std::ostream& log);

// A model with the shape of checkpoint `ckpt` (plus a zero-initialised value head if asked and
// the checkpoint has none), its weights loaded.
std::unique_ptr<GPT> load_model(const std::string& ckpt, bool value_head);

// UserError unless `data_tok` (from prepared data or another checkpoint) gives the same ids as
// `model_tok`: the same vocabulary size and the same special tokens.
void check_same_tokenizer(const BpeTokenizer& model_tok, const BpeTokenizer& data_tok, const std::string& what);

// data.path must be a `gptcu data prepare` directory made with the model's tokenizer (UserError
// otherwise; `reads` says what the stage reads, e.g. "SFT reads dialogue shards").
void check_prepared_data(const Config& config, const BpeTokenizer& model_tok, const std::string& reads);

// Creates run.dir and saves the tokenizer there (checkpoints copy it, `gptcu sample` reads it).
void save_run_tokenizer(const Config& config, const BpeTokenizer& tokenizer);

// Sequences prompt ++ response, right-padded with `pad` into (B, T) tensors, T = the longest.
// targets[b][t] = tokens[b][t+1] where t+1 is a response position, else -1, and mask is 1 there:
// the loss, log-probs and values of a response live at the positions that predict it.
// A prompt whose prompt ++ response exceeds max_len loses its oldest tokens (counted).
struct SeqBatch {
  Tensor tokens;   // (B, T) i32
  Tensor targets;  // (B, T) i32, -1 off the response
  Tensor mask;     // (B, T) f32, 1 on response targets
  Tensor last;     // (B) i32: position of the last real token of each row
  std::vector<int> response_start;  // per row: position predicting the first response token
  std::vector<int> response_len;
  int B = 0, T = 0;
  int64_t truncated = 0;  // prompts cut from the left to fit max_len
};
SeqBatch make_seq_batch(const std::vector<std::vector<int32_t>>& prompts,
                        const std::vector<std::vector<int32_t>>& responses, int32_t pad, int max_len);

// The rows `rows` of a (B, T) batch (tokens, targets, mask, last and the vectors), in that order.
SeqBatch select_rows(const SeqBatch& b, const std::vector<int>& rows);
// Rows of a (B, T) f32 or i32 tensor, in that order.
Tensor gather_rows(const Tensor& x, const std::vector<int>& rows);

// A running mean per metric name, in first-seen order (objectives accumulate over micro-batches).
class MetricMeans {
 public:
  void add(const std::string& name, double value, double weight = 1.0);
  // The means so far, then cleared.
  std::vector<Metric> take();

 private:
  std::vector<std::string> names_;
  std::vector<double> sums_, weights_;
};

}  // namespace gptcu
