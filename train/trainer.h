// train/trainer.h: the one trainer loop. An Objective supplies "given batch number k,
// the loss"; the Trainer owns everything else: optimizer, LR schedule, gradient
// accumulation, clipping, evaluation every N steps, checkpoints every N steps, resume,
// the progress line and RUN/metrics.jsonl.
#pragma once
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "core/comm.h"
#include "core/tensor.h"
#include "model/gpt.h"
#include "train/config.h"

namespace gptcu {

// A named number an objective reports (pairwise accuracy, mean reward, KL, ...).
struct Metric {
  std::string name;
  double value;
};

// Thrown by an objective whose numbers went bad (a NaN reward, a non-finite log-prob): the
// trainer stops without saving and names the step and the last good checkpoint.
struct NonFiniteError : UserError {
  using UserError::UserError;
};

class Objective {
 public:
  virtual ~Objective() = default;
  // Loss of training micro-batch number `index` (with autograd recording); sets *tokens to the
  // number of tokens processed (for throughput).
  virtual Tensor train_loss(uint64_t index, int64_t* tokens) = 0;
  // Loss of evaluation batch number `index` (called under NoGradGuard).
  virtual double eval_loss(uint64_t index) = 0;
  // Metrics of the micro-batches since the last call (e.g. pairwise accuracy, reward, KL),
  // averaged by the objective. Called once per optimizer step; they go to metrics.jsonl and
  // the progress line.
  virtual std::vector<Metric> step_metrics() { return {}; }
  // Evaluation every train.eval_every steps (called under NoGradGuard). The default is the mean
  // of eval_loss(0 .. steps-1) as "val_loss"; objectives add accuracy, rewards, sample replies
  // (printed to `log`). A "val_loss" entry is what checkpoints and the summary record.
  virtual std::vector<Metric> evaluate(int steps, std::ostream& log);
  // Where training micro-batch `index` starts in the data, in words ("epoch 0, window 96 of
  // 4619"), for the log and state.json; "" when the objective has nothing to add. Resuming
  // needs only the micro-batch counter (batches are pure functions of their index).
  virtual std::string data_position(uint64_t index) const { (void)index; return ""; }

  // Data parallelism (train/data_parallel.h): this process is rank `rank` of `world`, and
  // train_loss(index) computes the loss of the rank's slice of global micro-batch `index`: rank r
  // takes rows [r*B, (r+1)*B) of what one process with batch world*B reads (data/loader.h's
  // order), so N ranks see exactly the samples of one. `comm` is for what the ranks must agree on
  // (RL: the adaptive KL coefficient). Called by the trainer before the first train_loss;
  // UserError when the objective cannot be split that way (e.g. prompts per rollout % world).
  virtual void set_data_parallel(int rank, int world, Communicator* comm) {
    dp_rank_ = rank;
    dp_world_ = world;
    dp_comm_ = comm;
  }
  // How many terms the last train_loss() averaged (counted target tokens of a masked mean, ...).
  // With several ranks, each rank's gradient is weighted by its share of the ranks' total, so the
  // step's gradient is that of the mean over every rank's terms, as one process computes it
  // (ranks whose slices hold different numbers of loss tokens would otherwise count unequally).
  // 1 (the default): every rank's mean counts the same (objectives with a fixed number of terms).
  virtual double loss_terms() const { return 1.0; }
  // Whether every op of this objective has a CUDA kernel (device: cuda). Pretraining and SFT so
  // far; the post-training objectives run on the CPU until their ops get GPU kernels.
  virtual bool runs_on_gpu() const { return false; }

  // CUDA graphs (train.cuda_graph, train/cuda_graph.h) need train_loss split in two: a host part
  // that reads micro-batch `index` and copies it into buffers whose addresses never change, and a
  // device part that computes the loss from those buffers alone (no host work, no host sync).
  // An objective whose micro-batches all have one shape overrides all three; train_loss(i) must
  // then equal stage_batch(i) followed by staged_loss().
  virtual bool can_stage() const { return false; }
  virtual void stage_batch(uint64_t index, int64_t* tokens) {
    (void)index, (void)tokens;
    throw Error("this objective cannot stage batches");
  }
  virtual Tensor staged_loss() { throw Error("this objective cannot stage batches"); }

 protected:
  int dp_rank_ = 0, dp_world_ = 1;
  Communicator* dp_comm_ = nullptr;
};

struct TrainOptions {
  bool resume = false;   // continue from the newest checkpoint in run.dir (if any)
  int stop_after = 0;    // > 0: stop after this many steps in this invocation (checkpointing first)
  bool init_only = false;  // write the starting weights as a checkpoint (step 0 on a fresh run) and stop
  std::ostream* log = nullptr;  // progress lines (default std::cout)
};

struct TrainResult {
  int64_t final_step = 0;
  double final_train_loss = 0;
  double final_val_loss = -1;
  double train_seconds = 0;  // excluding evaluation and checkpoints
  double tokens_per_second = 0;
  std::string last_checkpoint;
  std::vector<Metric> final_eval;  // the last evaluation's metrics other than val_loss
};

TrainResult train(const Config& config, GPT& model, Objective& objective, const TrainOptions& options);

}  // namespace gptcu
