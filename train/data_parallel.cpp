// train/data_parallel.cpp (see train/data_parallel.h)
#include "train/data_parallel.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/autograd.h"
#include "kernels/cpu/cpu_kernels.h"

namespace gptcu {

DataParallel::DataParallel(Communicator& comm, GPT& model, int zero_stage, double bucket_mb)
    : comm_(comm), model_(model), zero_(zero_stage), bucket_bytes_(bucket_mb * 1024 * 1024) {
  GPTCU_CHECK(zero_ == 0 || zero_ == 1, "ZeRO stage ", zero_);
  P_ = model.flat_parameters().numel();
  next_end_ = P_;
  if (zero_ == 0 && active()) model_.set_grad_listener(this);
  const int W = comm_.world();
  S_ = (P_ + W - 1) / W;
  if (zero_ == 1 && active()) {
    begin_ = std::min(P_, (int64_t)comm_.rank() * S_);
    end_ = std::min(P_, begin_ + S_);
  } else {
    begin_ = 0;
    end_ = P_;
  }
}

DataParallel::~DataParallel() {
  if (model_.grad_listener() == this) model_.set_grad_listener(nullptr);
}

void DataParallel::broadcast_parameters() {
  if (!active()) return;
  Tensor flat = model_.flat_parameters();
  if (flat.device() == comm_.device()) {
    comm_.broadcast(flat, 0);
    return;
  }
  const Tensor staged = flat.to(comm_.device());  // CPU parameters, NCCL: through the rank's GPU
  comm_.broadcast(staged, 0);
  flat.copy_from(staged);
}

void DataParallel::begin_micro_batch(bool last) {
  unreached_.clear();
  // A tape left from before (ops of an earlier forward that this backward would also run) would
  // add into gradients this micro-batch's marks call final: then only step() starts buckets.
  armed_ = last && zero_ == 0 && active() && autograd::tape_size() == 0;
}

void DataParallel::forward_marked(int64_t flat_begin) { unreached_[flat_begin]++; }

void DataParallel::backward_reached(int64_t flat_begin) {
  auto it = unreached_.find(flat_begin);
  if (it == unreached_.end() || it->second == 0) {  // a mark set before begin_micro_batch: stop guessing
    armed_ = false;
    return;
  }
  it->second--;
  if (!armed_) return;
  // Final: from the lowest mark whose own and every later mark's uses have all been reached.
  int64_t from = P_;
  for (auto r = unreached_.rbegin(); r != unreached_.rend() && r->second == 0; ++r) from = r->first;
  const int before = buckets_;
  start_buckets(from);
  started_early_ += buckets_ - before;
}

void DataParallel::start_buckets(int64_t from) {
  const Tensor grads = model_.flat_gradients();
  const size_t esize = dtype_size(grads.dtype());
  const int64_t elems = std::max<int64_t>(1, (int64_t)(bucket_bytes_ / (double)esize));
  char* base = static_cast<char*>(grads.raw());
  while (next_end_ > 0) {
    const int64_t begin = std::max<int64_t>(0, next_end_ - elems);
    if (begin < from) return;
    comm_.start_all_reduce(base + begin * (int64_t)esize, next_end_ - begin, grads.dtype(), ReduceOp::avg);
    next_end_ = begin;
    buckets_++;
  }
}

Tensor& DataParallel::buffer(Tensor& t, int64_t n, DType dtype, Device device) {
  if (!t.defined() || t.numel() != n || t.dtype() != dtype || t.device() != device) t = Tensor::zeros({n}, dtype, device);
  return t;
}

Tensor DataParallel::gather(const Tensor& shard) {
  GPTCU_CHECK(shard.numel() == end_ - begin_, "gather: a shard of ", shard.numel(), " for [", begin_, ", ", end_, ")");
  Tensor& pad = buffer(padded_, S_ * world(), shard.dtype(), shard.device());
  pad.slice0(begin_, end_).copy_from(shard);  // begin_ = rank * S (the last ranks' may be empty)
  const size_t esize = dtype_size(shard.dtype());
  comm_.all_gather(static_cast<char*>(pad.raw()) + (size_t)rank() * (size_t)S_ * esize, pad.raw(), S_, shard.dtype());
  return pad.slice0(0, P_);
}

Tensor DataParallel::master_weights(const AdamW& opt) {
  const Tensor mine = opt.master_weights();
  if (mine.numel() == P_) return mine;  // the whole model: no shards, or the model's own (gathered) parameters
  return gather(mine);  // a view into the gather buffer: the callers copy it to the host at once
}

double DataParallel::step(AdamW& opt, double lr) {
  if (!active()) return opt.step(lr);
  if (zero_ == 0) {
    start_buckets(0);  // what the backward did not start: at least wte and wpe
    comm_.finish_all_reduces();
    armed_ = false;
    next_end_ = P_;
    last_buckets_ = buckets_;
    last_started_early_ = started_early_;
    buckets_ = started_early_ = 0;
    return opt.step(lr);
  }
  // ZeRO-1: reduce-scatter (from a padded copy: the shards are equal-sized; the tail P.. stays
  // zero), update the shard, all-gather the parameters.
  Tensor grads = model_.flat_gradients(), params = model_.flat_parameters();
  const DType dt = grads.dtype();
  const Device dev = grads.device();
  Tensor& pad = buffer(padded_, S_ * world(), dt, dev);
  pad.slice0(0, P_).copy_from(grads);
  Tensor& mine = buffer(shard_grads_, S_, dt, dev);
  comm_.reduce_scatter(pad.raw(), mine.raw(), S_, dt, ReduceOp::avg);
  double norm;
  if (dev.is_cpu()) {
    const double local = cpu::sum_squares(mine.data<float>(), end_ - begin_);
    norm = std::sqrt(comm_.all_reduce_host(local, ReduceOp::sum));
    opt.update(lr, mine.data<float>(), norm);
  } else {  // the norm is summed over the ranks on the device; the update reads it there
    const Tensor norm_sq = opt.queue_norm_sq(mine.raw());
    comm_.all_reduce(norm_sq, ReduceOp::sum);
    opt.queue_update(lr, mine.raw());
    norm = std::sqrt((double)norm_sq.item());
    if (!std::isfinite(norm)) {  // every rank skipped the update (the same norm): nothing to gather
      opt.undo_step();
      user_error("gradient norm is ", norm, " (NaN or Inf): the update was not applied");
    }
  }
  params.copy_from(gather(params.slice0(begin_, end_)));
  return norm;
}

OptimizerState DataParallel::gather_optimizer_state(const AdamW& opt) {
  if (!active() || zero_ == 0) return optimizer_state(opt);
  // the whole moments on the host (what a checkpoint writes), from every rank's shard; copied out
  // of the gather buffer, which the next gather overwrites
  auto whole = [&](const Tensor& shard) {
    const Tensor full = gather(shard);
    return full.device().is_cpu() ? full.clone() : full.to(Device{});
  };
  return OptimizerState{whole(opt.exp_avg()), whole(opt.exp_avg_sq()), opt.steps_taken()};
}

void DataParallel::load_optimizer_state(const OptimizerState& full, AdamW& opt) const {
  GPTCU_CHECK(full.exp_avg.numel() == P_ && opt.begin() == begin_ && opt.end() == end_, "optimizer state of ",
              full.exp_avg.numel(), " for ", P_, " parameters, shard [", begin_, ", ", end_, ")");
  opt.exp_avg().copy_from(full.exp_avg.slice0(begin_, end_));
  opt.exp_avg_sq().copy_from(full.exp_avg_sq.slice0(begin_, end_));
  opt.set_steps_taken(full.steps);
}

}  // namespace gptcu
