// train/trainer.cpp: the trainer loop (see train/trainer.h).
#include "train/trainer.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/allocator.h"
#include "core/autograd.h"
#include "core/cuda.h"
#include "core/ops.h"
#include "train/adamw.h"
#include "train/checkpoint.h"
#include "train/cuda_graph.h"
#include "train/data_parallel.h"
#include "train/memory_plan.h"
#include "train/perf.h"
#include "train/schedule.h"

#ifdef GPTCU_HAVE_CUDA
#include "kernels/cuda/cuda_kernels.h"
#endif

namespace fs = std::filesystem;

namespace gptcu {
namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::string format_duration(double s) {
  char buf[32];
  const long t = (long)std::lround(std::max(0.0, s));
  if (t >= 3600)
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", t / 3600, (t / 60) % 60);
  else
    std::snprintf(buf, sizeof buf, "%ldm%02lds", t / 60, t % 60);
  return buf;
}

// Keeps metrics.jsonl lines with step <= last_step (on resume, so that a step re-run after a
// crash is not logged twice; on a fresh run, none). Rewritten atomically: a kill here loses
// nothing.
void truncate_metrics(const fs::path& path, int64_t last_step) {
  std::ifstream in(path);
  std::string line, kept;
  while (in && std::getline(in, line)) {
    if (line.empty()) continue;
    try {
      if (nlohmann::json::parse(line).value("step", (int64_t)0) <= last_step) kept += line + "\n";
    } catch (const nlohmann::json::exception&) {
      // a torn last line from a killed run: drop it
    }
  }
  in.close();
  write_file_atomic(path.string(), kept);
}

// A resumed run must see the data in the same order with the same batches, or "resume"
// silently becomes another run: the keys that decide that must not change. The batch is the
// global one, world x train.batch_size: a run may resume on another number of ranks.
void check_resume_compatible(const Config& saved, int saved_world, const Config& now, int world,
                             const std::string& ckpt) {
  auto same = [&](const char* key, const auto& a, const auto& b) {
    GPTCU_USER_CHECK(a == b, "cannot resume from ", ckpt, ": it was trained with ", key, "=", a,
                     ", the config now says ", b, " (start a new run.dir for a different run)");
  };
  same("train.seed", saved.train.seed, now.train.seed);
  if (saved_world == 1 && world == 1) {
    same("train.batch_size", saved.train.batch_size, now.train.batch_size);
  } else {
    GPTCU_USER_CHECK((int64_t)saved.train.batch_size * saved_world == (int64_t)now.train.batch_size * world,
                     "cannot resume from ", ckpt, ": it was trained with a global batch of ", saved_world, " rank(s) x ",
                     "train.batch_size=", saved.train.batch_size, ", now ", world, " rank(s) x ",
                     now.train.batch_size, " (keep ranks x batch_size the same)");
  }
  same("train.grad_accum_steps", saved.train.grad_accum_steps, now.train.grad_accum_steps);
  same("data.path (file name)", fs::path(saved.data.path).filename().string(), fs::path(now.data.path).filename().string());
  same("data.val_fraction", saved.data.val_fraction, now.data.val_fraction);
  same("data.tokenizer", saved.data.tokenizer, now.data.tokenizer);
}

std::string format_metrics(const std::vector<Metric>& metrics) {
  std::string out;
  char buf[64];
  for (const Metric& m : metrics) {
    std::snprintf(buf, sizeof buf, " | %s %.4g", m.name.c_str(), m.value);
    out += buf;
  }
  return out;
}

// Replaces each metric by its mean over the ranks (every rank reports the same names, in order).
void mean_over_ranks(Communicator& comm, std::vector<Metric>& metrics) {
  double n[2] = {(double)metrics.size(), -(double)metrics.size()};
  comm.all_reduce_host(n, 2, ReduceOp::max);
  GPTCU_CHECK(n[0] == -n[1], "the ranks report different numbers of metrics (", -n[1], " to ", n[0], ")");
  std::vector<double> values;
  for (const Metric& m : metrics) values.push_back(m.value);
  comm.all_reduce_host(values.data(), (int64_t)values.size(), ReduceOp::avg);
  for (size_t i = 0; i < values.size(); i++) metrics[i].value = values[i];
}

// MFU's inputs (train/perf.h), measured and logged once at start-up on a GPU; on the CPU only the
// FLOPs per token (no MFU is printed there).
struct GpuPerf {
  double flops_per_token = 0, gemm_tflops = 0, datasheet_tflops = 0;
};

GpuPerf gpu_perf(const GPT& model, Device device, std::ostream& log) {
  GpuPerf p;
  p.flops_per_token = model_flops_per_token(model.config(), model.config().block_size);
  if (device.is_cpu()) return p;
  try {
    p.gemm_tflops = measure_gemm_tflops(device);
  } catch (const OutOfMemory&) {  // a run sized to the limit: MFU is not worth failing for
    log << "mfu: no room for the 384 MiB peak-GEMM measurement; MFU not reported\n";
  }
  release_cached_memory(device);  // the GEMM's 384 MiB of operands are of no use to training
  if (p.gemm_tflops <= 0) return p;
  p.datasheet_tflops = datasheet_bf16_tflops(cuda_device_description(device));
  char buf[200];
  std::snprintf(buf, sizeof buf, "mfu: %.3g GFLOP per token (6N + 6LTC); bf16 GEMM peak measured %.0f TFLOP/s",
                p.flops_per_token / 1e9, p.gemm_tflops);
  log << buf;
  if (p.datasheet_tflops > 0) {
    std::snprintf(buf, sizeof buf, ", datasheet %.0f TFLOP/s", p.datasheet_tflops);
    log << buf;
  }
  log << "\n";
  return p;
}

// The start-up memory report (train/memory_plan.h): what parameters, gradients, optimizer state
// and activations of one micro-batch take on `device`, against what is free there now (before the
// model moves), and the largest micro-batch the plan says fits.
void log_memory_plan(const Config& config, const GPT& model, int world, Device device, std::ostream& log) {
  const TrainConfig& tc = config.train;
  MemoryPlanSpec spec;
  spec.model = model.config();
  spec.batch = tc.batch_size;
  spec.seq = model.config().block_size;
  spec.device = device;
  const bool bf16 = !device.is_cpu() && config.precision == "bf16";
  spec.dtype = bf16 ? DType::bf16 : DType::f32;
  spec.master_weights = bf16;
  spec.optimizer_shards = tc.zero == 1 ? world : 1;
  spec.recompute = model.recompute();
  const int hs = model.config().n_embd / model.config().n_head;
  spec.attention = bf16 && (hs == 64 || hs == 128) && config.attention != "interim" ? AttentionKind::flash
                                                                                   : AttentionKind::materialized;
  const int64_t budget = free_memory(device);
  const MemoryPlan plan = plan_memory(spec);
  log << plan.format(budget) << "\n";
  if ((double)plan.total() > (1.0 - kMemoryPlanMargin) * (double)budget)
    log << "memory: warning: the plan (" << format_bytes((double)plan.total()) << ") does not fit in the "
        << format_bytes((double)budget) << " free on " << device.str() << " with its margin; largest micro-batch "
        << largest_micro_batch(budget, spec) << " (train.batch_size " << tc.batch_size
        << "; train.recompute trades compute for memory)\n";
}

}  // namespace

std::vector<Metric> Objective::evaluate(int steps, std::ostream& log) {
  (void)log;
  double total = 0;
  for (int i = 0; i < steps; i++) total += eval_loss((uint64_t)i);
  return {{"val_loss", total / steps}};
}

static TrainResult train_loop(const Config& config, GPT& model, Objective& objective, const TrainOptions& options,
                              Communicator& comm);

namespace {
// Discards what is written to it: the log of ranks other than 0.
struct NullBuffer : std::streambuf {
  int overflow(int c) override { return c; }
};
}  // namespace

TrainResult train(const Config& config, GPT& model, Objective& objective, const TrainOptions& options) {
  Communicator& comm = process_communicator(Device::parse(config.device));
  if (comm.world() == 1) return train_loop(config, model, objective, options, comm);
  // Several ranks: an error on one rank (bad data, a non-finite loss) would leave the others
  // waiting in the next collective; stop them all, naming the rank.
  try {
    return train_loop(config, model, objective, options, comm);
  } catch (const std::exception& e) {
    const bool user = dynamic_cast<const UserError*>(&e) != nullptr;
    comm.abort("gptcu: rank " + std::to_string(comm.rank()) + " of " + std::to_string(comm.world()) + ": " +
                   (user ? "error: " : "internal error: ") + e.what() + "\ngptcu: stopping every rank",
               user ? 1 : 2);
    throw;  // not reached: abort() ends the process
  }
}

static TrainResult train_loop(const Config& config, GPT& model, Objective& objective, const TrainOptions& options,
                              Communicator& comm) {
  NullBuffer null_buffer;
  std::ostream null_log(&null_buffer);
  const bool rank0 = comm.rank() == 0;  // the only rank that logs and writes files
  std::ostream& log = !rank0 ? null_log : options.log ? *options.log : std::cout;
  const auto wall_start = Clock::now();
  const TrainConfig& tc = config.train;
  const fs::path run_dir(config.run.dir);
  if (rank0) {
    try {
      fs::create_directories(run_dir);
    } catch (const fs::filesystem_error& e) {
      user_error("run.dir '", config.run.dir, "' cannot be created: ", e.code().message());
    }
  }
  if (comm.world() > 1 && !std::getenv("GPTCU_COMM_TIMEOUT_S")) comm.set_timeout(tc.comm_timeout_s);
  DataParallel dp(comm, model, tc.zero, tc.bucket_mb);
  objective.set_data_parallel(comm.rank(), comm.world(), &comm);
  if (!rank0)  // one line, so that each rank is seen to start; rank 0 logs the rest
    std::cerr << "gptcu: rank " << comm.rank() << " of " << comm.world() << " training (" << comm.name()
              << "); rank 0 logs\n";
  if (dp.active())
    log << "data parallel: " << comm.world() << " ranks (" << comm.name() << "), global batch " << comm.world()
        << " x " << tc.batch_size << " x " << tc.grad_accum_steps << ", zero " << tc.zero << "\n";

  // An NCCL rank runs on the GPU it bound (cuda:LOCAL_RANK); otherwise config.device.
  const Device device = comm.name() == "nccl" ? comm.device() : Device::parse(config.device);
  if (!device.is_cpu()) {
    require_cuda(device);  // one line when there is no GPU (or no CUDA in this build)
    GPTCU_USER_CHECK(objective.runs_on_gpu(), "device: ", config.device,
                     " runs pretrain and sft so far; this objective's ops have no CUDA kernels yet: use device: cpu");
  }
  AdamW opt(model, AdamWConfig{tc.beta1, tc.beta2, tc.eps, tc.weight_decay, tc.grad_clip}, dp.shard_begin(),
            dp.shard_end());
  LrSchedule schedule{tc.lr_schedule, tc.lr, tc.min_lr, tc.warmup_steps,
                      tc.lr_decay_steps > 0 ? tc.lr_decay_steps : tc.max_steps};
  TrainerState state;
  std::string last_checkpoint;
  if (rank0) remove_partial_checkpoints(run_dir.string());
  comm.barrier();  // every rank looks for checkpoints after rank 0 made run.dir and cleaned it

  const std::string existing = fs::exists(run_dir) ? find_latest_checkpoint(run_dir.string()) : "";
  if (!options.resume) {
    GPTCU_USER_CHECK(existing.empty(), "run.dir '", config.run.dir, "' already holds checkpoints (newest: ",
                     existing, "): pass --resume to continue that run, or choose another run.dir");
  } else if (existing.empty()) {
    log << "resume: no checkpoint in " << run_dir.string() << ", starting from step 0\n";
  } else {
    check_resume_compatible(checkpoint_config(existing), checkpoint_world_size(existing), config, comm.world(),
                            existing);
    if (!dp.active() || tc.zero == 0) {
      load_checkpoint(existing, model, &opt, &state);
    } else {  // ZeRO-1: the whole state, then this rank's shard of it
      OptimizerState full{Tensor::empty(model.flat_parameters().shape()), Tensor::empty(model.flat_parameters().shape()), 0};
      load_checkpoint_state(existing, model, &full, &state);
      dp.load_optimizer_state(full, opt);
    }
    GPTCU_USER_CHECK(state.step <= tc.max_steps, "checkpoint ", existing, " is at step ", state.step,
                     ", past train.max_steps (", tc.max_steps, ")");
    last_checkpoint = existing;
    const std::string where = objective.data_position(state.train_batches);
    log << "resume: continuing from " << existing << " (step " << state.step << ", micro-batch "
        << state.train_batches << (where.empty() ? "" : ": " + where) << ")\n";
  }
  if (dp.active()) {
    // Every rank read the same checkpoint (run.dir must be shared between nodes): check, then
    // start from rank 0's parameters.
    double mine[2] = {(double)state.step, (double)state.train_batches}, lo[2] = {mine[0], mine[1]};
    comm.all_reduce_host(mine, 2, ReduceOp::max);
    comm.all_reduce_host(lo, 2, ReduceOp::min);
    GPTCU_USER_CHECK(mine[0] == lo[0] && mine[1] == lo[1], "the ranks resumed from different steps (", lo[0], " to ",
                     mine[0], "): run.dir '", config.run.dir, "' must be one directory that every rank sees");
    dp.broadcast_parameters();
  }
  model.set_recompute(Recompute::parse(tc.recompute));
  log_memory_plan(config, model, comm.world(), device, log);
  if (!device.is_cpu()) {  // the run happens on the GPU; checkpoints come back through master_weights()
    const DType dtype = config.precision == "fp32" ? DType::f32 : DType::bf16;
    const Tensor master = model.to(device, dtype);
    opt.to_device(master);
    log << "device: " << device.str() << " (" << cuda_device_description(device) << "), precision "
        << config.precision << (dtype == DType::bf16 ? " (fp32 master weights and moments)" : "") << "\n";
#ifdef GPTCU_HAVE_CUDA
    cuda::set_deterministic_matmul(tc.deterministic);
#endif
    if (tc.deterministic)
      log << "deterministic: matmuls without split-K, every other kernel reduces in a fixed order; the same seed "
             "on the same GPU model gives the same losses bit for bit\n";
  }
  const fs::path metrics_path = run_dir / "metrics.jsonl";
  std::ofstream metrics;
  if (rank0) {
    truncate_metrics(metrics_path, state.step);  // a fresh run starts it empty
    metrics.open(metrics_path, std::ios::app);
    write_file_atomic((run_dir / "config.yaml").string(), dump_config(config));
  }

  TrainResult result;
  const int64_t first_step = state.step;
  const int64_t last_step = options.init_only        ? first_step
                            : options.stop_after > 0 ? std::min<int64_t>(tc.max_steps, first_step + options.stop_after)
                                                     : tc.max_steps;
  double train_seconds = 0, ema_step_seconds = 0;
  int64_t tokens_total = 0;
  double last_loss = 0;
  const GpuPerf perf = gpu_perf(model, device, log);
  // One rank: a step waits for nothing. The losses and the gradient norm stay where they were
  // computed (on a GPU: on the device) and are read back when a line is logged or an evaluation or
  // a checkpoint is due, so the host queues step k+1 (and reads its data) while the GPU still runs
  // step k. A NaN is found then, named by its step, and always before a checkpoint is written.
  // Several ranks agree on the loss every micro-batch (to weigh their gradients), so they read it
  // at once.
  const bool deferred = !dp.active();
  std::unique_ptr<MicroBatchGraph> graph;
  if (tc.cuda_graph) {
    if (device.is_cpu())
      log << "train.cuda_graph: ignored on the CPU\n";
    else if (!deferred)
      log << "train.cuda_graph: not with data parallelism yet; running eagerly\n";
    else if (!objective.can_stage())
      log << "train.cuda_graph: this objective's micro-batches do not have one fixed shape; running eagerly\n";
    else
      graph = std::make_unique<MicroBatchGraph>(device, log);
  }

  auto checkpoint = [&]() {
    state.data_position = objective.data_position(state.train_batches);
    state.world_size = comm.world();
    const OptimizerState full = dp.gather_optimizer_state(opt);  // collective (ZeRO-1)
    // a GPU model is saved from the fp32 master weights, via the host (collective: ZeRO-1's shards)
    const Tensor master = model.device().is_cpu() ? Tensor() : dp.master_weights(opt);
    if (rank0) {
      std::unique_ptr<GPT> host;
      if (master.defined()) {
        host = std::make_unique<GPT>(model.config());
        host->flat_parameters().copy_from(master);
      }
      last_checkpoint = save_checkpoint(run_dir.string(), host ? *host : model, full, state, config, tc.keep_checkpoints);
      log << "checkpoint: " << last_checkpoint << "\n";
    }
    comm.barrier();  // no rank runs ahead of (or exits before) a checkpoint being written
  };
  auto stop_without_saving = [&](const std::string& what, int64_t at_step) {
    autograd::clear_tape();
    user_error(what, " at step ", at_step, "; stopping without saving. Last good checkpoint: ",
               last_checkpoint.empty() ? std::string("none") : last_checkpoint);
  };

  // Steps taken but not yet logged: their numbers are on the host (CPU, data parallel) or still on
  // the device (deferred).
  struct Pending {
    int64_t step = 0;  // 1-based
    double lr = 0, loss = 0, norm = 0;
    int64_t tokens = 0;
    Tensor loss_sum, norm_sq;  // deferred: sum of the micro-batch losses, squared gradient norm
    std::vector<Metric> metrics;
  };
  std::vector<Pending> pending;
  auto interval_start = Clock::now();

  while (state.step < last_step) {
    const int step = (int)state.step;  // 0-based index of the step being taken
    Pending p;
    p.step = step + 1;
    p.lr = schedule.at(step);
    model.zero_grad();
    double loss_sum = 0;
    const float scale = 1.0f / (float)tc.grad_accum_steps;
    for (int micro = 0; micro < tc.grad_accum_steps; micro++) {
      int64_t tokens = 0;
      Tensor loss;
      dp.begin_micro_batch(micro == tc.grad_accum_steps - 1);  // its backward starts the all-reduce
      try {
        if (graph) {
          objective.stage_batch(state.train_batches++, &tokens);
          loss = graph->run([&] {
            Tensor l = objective.staged_loss();
            autograd::backward(l, scale);
            return l;
          });
        } else {
          loss = objective.train_loss(state.train_batches++, &tokens);
        }
      } catch (const NonFiniteError& e) {
        stop_without_saving(e.what(), step + 1);
      }
      if (deferred) {
        if (!graph) autograd::backward(loss, scale);
        autograd::NoGradGuard no_grad;  // a running sum on the device, read when logged
        p.loss_sum = p.loss_sum.defined() ? ops::add(p.loss_sum, loss) : loss.clone();
        p.tokens += tokens;
        continue;
      }
      const float value = loss.item();
      if (!dp.active()) {
        if (!std::isfinite(value)) stop_without_saving("loss is " + std::to_string(value), step + 1);
        autograd::backward(loss, scale);
        loss_sum += value;
        p.tokens += tokens;
        continue;
      }
      // Several ranks: weigh this rank's mean by its share of the loss terms, so that the
      // averaged gradient is that of the mean over every rank's terms (train/data_parallel.h).
      const double terms = objective.loss_terms();
      double sums[4] = {terms, terms * (double)value, std::isfinite(value) ? 0.0 : 1.0, (double)tokens};
      comm.all_reduce_host(sums, 4, ReduceOp::sum);
      if (sums[2] > 0) {
        autograd::clear_tape();
        user_error("the loss is not finite on ", sums[2], " rank(s) (this rank's: ", value, ") at step ", step + 1,
                   "; stopping without saving. Last good checkpoint: ",
                   last_checkpoint.empty() ? std::string("none") : last_checkpoint);
      }
      GPTCU_USER_CHECK(sums[0] > 0, "micro-batch ", state.train_batches - 1, " has no loss terms on any rank");
      const double share = terms * comm.world() / sums[0];  // 1 when every rank has as many terms
      autograd::backward(loss, (float)(share * scale));
      loss_sum += sums[1] / sums[0];
      p.tokens += (int64_t)sums[3];
    }
    if (deferred) {
      p.norm_sq = opt.queue_step(p.lr);
    } else {
      p.norm = dp.step(opt, p.lr);
      p.loss = loss_sum / tc.grad_accum_steps;
    }
    state.step++;
    p.metrics = objective.step_metrics();
    if (dp.active()) mean_over_ranks(comm, p.metrics);
    pending.push_back(std::move(p));

    const bool is_last = state.step == tc.max_steps;
    const bool stopping = state.step == last_step;
    const bool eval_now = (tc.eval_every > 0 && state.step % tc.eval_every == 0) || is_last;
    const bool log_now = state.step % tc.log_every == 0 || state.step == first_step + 1 || is_last;
    const bool checkpoint_now = (tc.checkpoint_every > 0 && state.step % tc.checkpoint_every == 0) || stopping;
    if (deferred && !log_now && !eval_now && !checkpoint_now) continue;

    // Read back the pending steps (on a GPU: the one wait for the device in this stretch). A
    // non-finite one ends the run, after the rows of the good steps before it are written.
    std::string failure;
    int64_t failed_step = 0;
    const size_t queued = pending.size();
    for (size_t k = 0; k < pending.size() && failure.empty(); k++) {
      Pending& q = pending[k];
      if (!q.loss_sum.defined()) continue;
      q.loss = q.loss_sum.item() / tc.grad_accum_steps;
      q.norm = std::sqrt((double)q.norm_sq.item());
      if (!std::isfinite(q.loss)) failure = "loss is " + std::to_string(q.loss);
      else if (!std::isfinite(q.norm))
        failure = "gradient norm is " + std::to_string(q.norm) + " (the update was not applied)";
      if (failure.empty()) continue;
      failed_step = q.step;
      pending.resize(k);
    }
    if (!failure.empty() && pending.empty()) stop_without_saving(failure, failed_step);
    // training time of the pending steps (after a failure: the good ones' share)
    const double dt = seconds_since(interval_start) * (double)pending.size() / (double)queued;
    int64_t interval_tokens = 0;
    for (const Pending& q : pending) interval_tokens += q.tokens;
    const double step_seconds = dt / (double)pending.size(), tokens_per_s = interval_tokens / dt;
    const double mfu = perf.flops_per_token * tokens_per_s / 1e12;  // achieved TFLOP/s
    ema_step_seconds = state.step == first_step + (int64_t)pending.size() ? step_seconds
                                                                           : 0.9 * ema_step_seconds + 0.1 * step_seconds;
    tokens_total += interval_tokens;
    const Pending& cur = pending.back();
    last_loss = cur.loss;

    std::vector<nlohmann::json> rows;
    for (size_t k = 0; k < pending.size(); k++) {
      const Pending& q = pending[k];
      nlohmann::json row = {{"step", q.step},          {"loss", q.loss},
                            {"lr", q.lr},              {"grad_norm", q.norm},
                            {"tokens_per_s", tokens_per_s}, {"time_s", train_seconds + step_seconds * (double)(k + 1)}};
      if (perf.gemm_tflops > 0) row["mfu"] = mfu / perf.gemm_tflops;
      if (perf.datasheet_tflops > 0) row["mfu_datasheet"] = mfu / perf.datasheet_tflops;
      for (const Metric& m : q.metrics) row[m.name] = m.value;
      rows.push_back(std::move(row));
    }
    train_seconds += dt;
    if (eval_now && failure.empty()) {
      const auto te = Clock::now();
      std::vector<Metric> eval;
      {
        autograd::NoGradGuard no_grad;
        eval = objective.evaluate(tc.eval_steps, log);
      }
      // each rank evaluated its slice (pretraining, SFT) or the whole set (the others): the mean
      if (dp.active()) mean_over_ranks(comm, eval);
      std::vector<Metric> others;
      for (const Metric& m : eval) {
        rows.back()[m.name] = m.value;
        if (m.name == "val_loss") state.last_val_loss = m.value;
        else others.push_back(m);
      }
      char buf[160];
      if (state.last_val_loss >= 0)
        std::snprintf(buf, sizeof buf, "step %lld | val loss %.4f | train loss %.4f", (long long)state.step,
                      state.last_val_loss, last_loss);
      else
        std::snprintf(buf, sizeof buf, "step %lld | eval", (long long)state.step);
      log << buf << format_metrics(others);
      std::snprintf(buf, sizeof buf, " | eval %.1fs\n", seconds_since(te));
      log << buf;
      if (!others.empty()) result.final_eval = others;
    }
    if (rank0) {
      for (const nlohmann::json& row : rows) metrics << row.dump() << "\n";
      metrics.flush();
      GPTCU_USER_CHECK(metrics.good(), "cannot write ", metrics_path.string(), " (disk full?)");
    }
    if (!failure.empty()) stop_without_saving(failure, failed_step);

    if (log_now) {
      const double eta = ema_step_seconds * (double)(tc.max_steps - state.step);
      char buf[240];
      std::snprintf(buf, sizeof buf,
                    "step %5lld/%d | loss %.4f | lr %.2e | norm %.3f | %.0f tok/s | %.1f ms/step | ETA %s",
                    (long long)state.step, tc.max_steps, last_loss, cur.lr, cur.norm, tokens_per_s, step_seconds * 1e3,
                    format_duration(eta).c_str());
      log << buf;
      if (perf.gemm_tflops > 0) {
        std::snprintf(buf, sizeof buf, " | MFU %.1f%%", 100.0 * mfu / perf.gemm_tflops);
        log << buf;
        if (perf.datasheet_tflops > 0) {
          std::snprintf(buf, sizeof buf, " (%.1f%% of datasheet)", 100.0 * mfu / perf.datasheet_tflops);
          log << buf;
        }
      }
      log << format_metrics(cur.metrics) << "\n" << std::flush;
      if (dp.active() && tc.zero == 0 && state.step == first_step + 1)
        log << "data parallel: " << dp.buckets() << " gradient buckets of up to " << tc.bucket_mb << " MB; "
            << dp.buckets_started_early() << " started their all-reduce during the backward\n";
    }
    pending.clear();
    if (checkpoint_now) checkpoint();
    interval_start = Clock::now();  // evaluation and checkpoints are not training time
  }
  graph.reset();  // its memory pool goes back to the cache
  if (options.init_only) {  // the weights as they start (any rank: a collective under ZeRO-1)
    checkpoint();
    log << "init-only: wrote the starting weights at step " << state.step << ", no training\n";
  }

  if (!model.device().is_cpu()) {  // hand the model back on the CPU, with the fp32 master values
    const Tensor master = dp.master_weights(opt).to(Device{});
    model.to(Device{}, DType::f32);
    model.flat_parameters().copy_from(master);
    log << "memory: peak " << format_bytes((double)memory_stats(device).peak_bytes) << " on " << device.str()
        << " (" << memory_stats(device).driver_allocs << " cudaMalloc calls)\n";
  }
  result.final_step = state.step;
  result.final_train_loss = last_loss;
  result.final_val_loss = state.last_val_loss;
  result.train_seconds = train_seconds;
  result.tokens_per_second = train_seconds > 0 ? tokens_total / train_seconds : 0;
  result.last_checkpoint = last_checkpoint;
  // RUN/summary.json: what benchmarks and scripts read back
  nlohmann::json summary = {{"framework", "gptcu"},
                                  {"steps", result.final_step},
                                  {"first_step", first_step},
                                  {"train_loss", result.final_train_loss},
                                  {"val_loss", result.final_val_loss},
                                  {"train_seconds", result.train_seconds},
                                  {"wall_seconds", seconds_since(wall_start)},
                                  {"tokens_per_s", result.tokens_per_second},
                                  {"checkpoint", last_checkpoint}};
  nlohmann::json summary_eval = nlohmann::json::object();
  for (const Metric& m : result.final_eval) summary_eval[m.name] = m.value;
  summary["eval"] = summary_eval;
  if (rank0) write_file_atomic((run_dir / "summary.json").string(), summary.dump(2) + "\n");
  return result;
}

}  // namespace gptcu
