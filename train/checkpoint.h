// train/checkpoint.h: training checkpoints, written atomically.
//
// A checkpoint is a directory RUN/checkpoints/step_00000100/ holding
//   model.safetensors      the weights, Hugging Face GPT-2 names (model/weights.h)
//   optimizer.safetensors  AdamW moments "exp_avg", "exp_avg_sq" (flat, parameter order)
//   state.json             step, optimizer step count, seed, data position, last val loss
//   config.yaml            the resolved run config
//   tokenizer.tiktoken     the run's tokenizer (+ tokenizer.meta.json), copied from RUN/ when
//                          the run saved one there (data/bpe_tokenizer.h format)
// It is first written as RUN/checkpoints/.tmp-step_00000100-PID/, every file fsync'ed, then
// renamed into place (rename(2) is atomic): a run killed mid-write leaves only a .tmp-
// directory behind, which loaders ignore and the next save removes. So the newest
// step_* directory is always complete.
#pragma once
#include <cstdint>
#include <string>

#include "model/gpt.h"
#include "train/adamw.h"
#include "train/config.h"

namespace gptcu {

inline constexpr const char* kTokenizerFile = "tokenizer.tiktoken";
inline constexpr const char* kTokenizerMetaFile = "tokenizer.meta.json";

struct TrainerState {
  int64_t step = 0;          // optimizer steps completed
  uint64_t train_batches = 0;  // micro-batches consumed: the data position
  double last_val_loss = -1;   // < 0: none yet
  std::string data_position;   // the objective's description of train_batches (informational)
  int world_size = 1;          // data-parallel ranks of the run that wrote it (global batch = ranks x batch_size)
};

// AdamW's moments over the whole flat parameter vector, and its step count: what
// optimizer.safetensors holds, whatever the world size and sharding of the run that wrote it
// (ZeRO-1 gathers the shards before saving and cuts its shard out after loading), so that a
// checkpoint written by N ranks resumes on M.
struct OptimizerState {
  Tensor exp_avg, exp_avg_sq;  // f32 (P) each, P = GPT::flat_parameters().numel()
  int64_t steps = 0;
};
// (on the host: a GPU optimizer's moments are copied back)
inline OptimizerState optimizer_state(const AdamW& opt) {
  return {opt.exp_avg().to(Device{}), opt.exp_avg_sq().to(Device{}), opt.steps_taken()};
}

// Writes the checkpoint for state.step under run_dir and keeps only the newest `keep`
// (>= 1). Returns the checkpoint's path.
std::string save_checkpoint(const std::string& run_dir, const GPT& model, const OptimizerState& opt,
                            const TrainerState& state, const Config& config, int keep);
// The same from an optimizer over the whole model.
inline std::string save_checkpoint(const std::string& run_dir, const GPT& model, const AdamW& opt,
                                   const TrainerState& state, const Config& config, int keep) {
  return save_checkpoint(run_dir, model, optimizer_state(opt), state, config, keep);
}

// The newest complete checkpoint: `path` may be a checkpoint directory itself, a run directory
// or its checkpoints/ folder. Returns "" if there is none; UserError if path does not exist.
std::string find_latest_checkpoint(const std::string& path);

// The config stored in a checkpoint (UserError if the directory is not a checkpoint).
Config checkpoint_config(const std::string& checkpoint_dir);
// The number of data-parallel ranks that wrote it (1 for checkpoints from before data parallelism).
int checkpoint_world_size(const std::string& checkpoint_dir);
// The model the checkpoint holds, as GPTConfig::str() described it when it was written.
std::string checkpoint_model(const std::string& checkpoint_dir);

// Loads weights (and, if given, optimizer moments and trainer state). UserError if the
// checkpoint's model differs from `model`'s (naming both).
// `opt`'s tensors must be allocated, (P) each; they are filled, and opt->steps set.
void load_checkpoint_state(const std::string& checkpoint_dir, GPT& model, OptimizerState* opt, TrainerState* state);
// The same into an optimizer over the whole model.
void load_checkpoint(const std::string& checkpoint_dir, GPT& model, AdamW* opt, TrainerState* state);

// Writes `text` to `path` atomically (a temporary file in the same directory, fsync, rename).
void write_file_atomic(const std::string& path, const std::string& text);

// Removes leftovers of interrupted writes (.tmp-* directories) under run_dir/checkpoints.
void remove_partial_checkpoints(const std::string& run_dir);

}  // namespace gptcu
