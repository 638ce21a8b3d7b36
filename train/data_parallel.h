// train/data_parallel.h: what data parallelism adds to one optimizer step of the trainer.
//
// Every rank holds the whole model and computes gradients on its own slice of each global batch
// (the objective reads it: Objective::set_data_parallel). Then, with train.zero:
//   0  the gradients are averaged in buckets of train.bucket_mb, cut from the end of the flat
//      gradient vector (the order a backward pass finishes them). In the backward of a step's last
//      micro-batch the model tells this object (a GradListener) when the gradients from a block's
//      first parameter to the end are final; every bucket inside that stretch starts its
//      all-reduce at once (Communicator::start_all_reduce) while the backward goes on through the
//      earlier blocks. step() starts the rest (wte and wpe are final only at the very end), waits
//      for all, and every rank applies the same full AdamW update. On a GPU the buckets are the
//      model's gradient type (bf16 under mixed precision: half the traffic of fp32) and NCCL
//      reduces them on its own stream beside the compute stream;
//   1  (ZeRO-1) the gradients are reduce-scattered: rank r receives the mean of its shard of the
//      flat parameter vector, [r*S, min(P, (r+1)*S)) with S = ceil(P / world); its optimizer holds
//      the moments of that shard only and updates those parameters; the global gradient norm for
//      clipping is the square root of the all-reduced sum of the shards' squares; then every rank
//      all-gathers every shard's new parameters. On the CPU the parameters are fp32, so the
//      model's own buffer is the master copy. On a GPU the optimizer holds the fp32 master weights
//      of its shard only: the gradients are reduce-scattered in bf16, the squared norm is summed
//      over the ranks on the device (the fused AdamW kernel reads it there), and the bf16
//      parameters are all-gathered; master_weights() gathers the fp32 masters for a checkpoint.
// Checkpoints hold the full optimizer state (gather_optimizer_state, on every rank, written by
// rank 0), so a run resumes on any world size and either zero stage.
//
// Averaging: the trainer scales each rank's backward seed by (its loss terms / mean loss terms
// over the ranks) before this step averages, so that the result is the gradient of the mean over
// ALL ranks' terms (train/trainer.cpp) -- what one rank with world x the batch computes.
//
// With the "single" communicator (world 1) step() is AdamW::step() and nothing else: single-process
// runs are unchanged. A real backend at world 1 (GPTCU_COMM=nccl or mpi, as scripts/launch.sh sets)
// runs all of the above with one rank: the code path of a multi-GPU run, on one GPU.
#pragma once
#include <cstdint>
#include <map>

#include "core/comm.h"
#include "model/gpt.h"
#include "train/adamw.h"
#include "train/checkpoint.h"

namespace gptcu {

class DataParallel : public GradListener {
 public:
  // With zero stage 0 and an active communicator, listens to the model's backward (until destroyed).
  DataParallel(Communicator& comm, GPT& model, int zero_stage, double bucket_mb);
  ~DataParallel() override;
  DataParallel(const DataParallel&) = delete;
  DataParallel& operator=(const DataParallel&) = delete;

  Communicator& comm() { return comm_; }
  int rank() const { return comm_.rank(); }
  int world() const { return comm_.world(); }
  bool active() const { return comm_.name() != "single"; }
  int zero_stage() const { return zero_; }
  // The flat parameters this rank's optimizer updates: its shard (ZeRO-1), else all.
  int64_t shard_begin() const { return begin_; }
  int64_t shard_end() const { return end_; }

  // Every rank takes rank 0's parameters (at the start: a guard against any difference in
  // initialisation or loading). Parameters on the CPU and an NCCL communicator: staged on its GPU.
  void broadcast_parameters();
  // Before each micro-batch's forward; `last` (the step's last micro-batch) lets its backward start
  // the buckets whose gradients are final.
  void begin_micro_batch(bool last);
  // Averages the gradients across ranks and applies opt's update with learning rate lr (see
  // above); returns the global gradient norm before clipping, the same on every rank.
  double step(AdamW& opt, double lr);
  // The whole model's optimizer state on the host (ZeRO-1: gathered from every rank; collective).
  OptimizerState gather_optimizer_state(const AdamW& opt);
  // The whole model's fp32 parameters: opt.master_weights(), gathered from every rank when the
  // optimizer holds a shard of them (ZeRO-1 on a bf16 GPU model; collective; then a view into a
  // scratch buffer that the next collective of this object overwrites: copy it out at once).
  Tensor master_weights(const AdamW& opt);
  // Takes this rank's shard out of a whole-model optimizer state (from a checkpoint).
  void load_optimizer_state(const OptimizerState& full, AdamW& opt) const;

  // The last step's buckets (zero 0): how many, and how many of them started inside the backward.
  int buckets() const { return last_buckets_; }
  int buckets_started_early() const { return last_started_early_; }

  // GradListener (zero 0)
  void forward_marked(int64_t flat_begin) override;
  void backward_reached(int64_t flat_begin) override;

 private:
  // Starts the all-reduce of every bucket not yet started that lies inside [from, P).
  void start_buckets(int64_t from);

  // The whole vector (P elements, a view into padded_: copy it before the next call) from every
  // rank's shard [begin, end) of it; collective.
  Tensor gather(const Tensor& shard);
  // t, (re)made as n zeros of dtype on device unless it already is such a buffer
  static Tensor& buffer(Tensor& t, int64_t n, DType dtype, Device device);

  Communicator& comm_;
  GPT& model_;
  int zero_;
  double bucket_bytes_;
  // zero 0: marks of the current micro-batch's forwards not yet reached by its backward, per flat
  // offset; whether its backward may start buckets; where the next bucket to start ends
  std::map<int64_t, int> unreached_;
  bool armed_ = false;
  int64_t next_end_ = 0;
  int buckets_ = 0, started_early_ = 0;  // this step's so far
  int last_buckets_ = 0, last_started_early_ = 0;
  int64_t P_, S_;  // parameters, shard size (ZeRO-1)
  int64_t begin_, end_;
  Tensor padded_;       // (world * S) scratch: reduce-scatter input and all-gather output
  Tensor shard_grads_;  // (S) this rank's averaged gradient shard, in the gradients' dtype
};

}  // namespace gptcu
