// train/data_parallel.h: what data parallelism adds to one optimizer step of the trainer.
//
// Every rank holds the whole model and computes gradients on its own slice of each global batch
// (the objective reads it: Objective::set_data_parallel). Then, with train.zero:
//   0  the gradients are averaged in buckets of train.bucket_mb, last parameters first (the
//      order a backward pass finishes them), and every rank applies the same full AdamW update;
//   1  (ZeRO-1) the gradients are reduce-scattered: rank r receives the mean of its shard of the
//      flat parameter vector, [r*S, min(P, (r+1)*S)) with S = ceil(P / world); its optimizer holds
//      the moments of that shard only and updates those parameters; the global gradient norm for
//      clipping is the square root of the all-reduced sum of the shards' squares; then every rank
//      all-gathers every shard's new parameters. The parameters are fp32, so the model's own
//      buffer is the master copy (no bf16 copy exists on the CPU path).
// Checkpoints hold the full optimizer state (gather_optimizer_state, on every rank, written by
// rank 0), so a run resumes on any world size and either zero stage.
//
// Averaging: the trainer scales each rank's backward seed by (its loss terms / mean loss terms
// over the ranks) before this step averages, so that the result is the gradient of the mean over
// ALL ranks' terms (train/trainer.cpp) -- what one rank with world x the batch computes.
//
// With world 1 step() is AdamW::step() and nothing else: single-process runs are unchanged.
#pragma once
#include <cstdint>

#include "core/comm.h"
#include "model/gpt.h"
#include "train/adamw.h"
#include "train/checkpoint.h"

namespace gptcu {

class DataParallel {
 public:
  DataParallel(Communicator& comm, GPT& model, int zero_stage, double bucket_mb);

  Communicator& comm() { return comm_; }
  int rank() const { return comm_.rank(); }
  int world() const { return comm_.world(); }
  bool active() const { return comm_.world() > 1; }
  int zero_stage() const { return zero_; }
  // The flat parameters this rank's optimizer updates: its shard (ZeRO-1), else all.
  int64_t shard_begin() const { return begin_; }
  int64_t shard_end() const { return end_; }

  // Every rank takes rank 0's parameters (at the start: a guard against any difference in
  // initialisation or loading).
  void broadcast_parameters();
  // Averages the gradients across ranks and applies opt's update with learning rate lr (see
  // above); returns the global gradient norm before clipping, the same on every rank.
  double step(AdamW& opt, double lr);
  // The whole model's optimizer state (ZeRO-1: gathered from every rank; collective).
  OptimizerState gather_optimizer_state(const AdamW& opt);
  // Takes this rank's shard out of a whole-model optimizer state (from a checkpoint).
  void load_optimizer_state(const OptimizerState& full, AdamW& opt) const;

 private:
  // Copies data[begin, end) into padded_ at the same offset and all-gathers padded_: every rank's
  // shard lands in place; returns padded_ (the first P elements are the whole vector).
  float* gather_shards(const float* data);

  Communicator& comm_;
  GPT& model_;
  int zero_;
  int64_t bucket_elems_;
  int64_t P_, S_;  // parameters, shard size (ZeRO-1)
  int64_t begin_, end_;
  Tensor padded_;       // (world * S) scratch: reduce-scatter input and all-gather output
  Tensor shard_grads_;  // (S) this rank's averaged gradient shard
};

}  // namespace gptcu
