// train/data_parallel.cpp (see train/data_parallel.h)
#include "train/data_parallel.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/cpu/cpu_kernels.h"

namespace gptcu {

DataParallel::DataParallel(Communicator& comm, GPT& model, int zero_stage, double bucket_mb)
    : comm_(comm), model_(model), zero_(zero_stage) {
  GPTCU_CHECK(zero_ == 0 || zero_ == 1, "ZeRO stage ", zero_);
  bucket_elems_ = std::max<int64_t>(1, (int64_t)(bucket_mb * 1024 * 1024 / sizeof(float)));
  P_ = model.flat_parameters().numel();
  const int W = comm_.world();
  S_ = (P_ + W - 1) / W;
  if (zero_ == 1 && W > 1) {
    begin_ = std::min(P_, (int64_t)comm_.rank() * S_);
    end_ = std::min(P_, begin_ + S_);
    padded_ = Tensor::zeros({S_ * W});
    shard_grads_ = Tensor::zeros({S_});
  } else {
    begin_ = 0;
    end_ = P_;
  }
}

void DataParallel::broadcast_parameters() {
  if (active()) comm_.broadcast(model_.flat_parameters(), 0);
}

float* DataParallel::gather_shards(const float* data) {
  float* pad = padded_.data<float>();
  std::memcpy(pad + begin_, data + begin_, (size_t)(end_ - begin_) * sizeof(float));
  comm_.all_gather(pad + (int64_t)comm_.rank() * S_, pad, S_, DType::f32);
  return pad;
}

double DataParallel::step(AdamW& opt, double lr) {
  if (!active()) return opt.step(lr);
  Tensor grads = model_.flat_gradients();
  float* g = grads.data<float>();
  if (zero_ == 0) {
    // Buckets from the end of the flat vector: the last layers' gradients, which backward
    // finishes first (so that a backward hook can start them early; see docs/design-notes.md).
    for (int64_t end = P_; end > 0; end -= bucket_elems_) {
      const int64_t begin = std::max<int64_t>(0, end - bucket_elems_);
      comm_.all_reduce(g + begin, end - begin, DType::f32, ReduceOp::avg);
    }
    return opt.step(lr);
  }
  // ZeRO-1: reduce-scatter (from a padded copy: the shards are equal-sized), update the shard,
  // all-gather the parameters.
  float* pad = padded_.data<float>();
  std::memcpy(pad, g, (size_t)P_ * sizeof(float));  // the tail P.. stays zero
  float* mine = shard_grads_.data<float>();
  comm_.reduce_scatter(pad, mine, S_, DType::f32, ReduceOp::avg);
  const double local = cpu::sum_squares(mine, end_ - begin_);
  const double norm = std::sqrt(comm_.all_reduce_host(local, ReduceOp::sum));
  opt.update(lr, mine, norm);
  float* params = model_.flat_parameters().data<float>();
  std::memcpy(params, gather_shards(params), (size_t)P_ * sizeof(float));
  return norm;
}

OptimizerState DataParallel::gather_optimizer_state(const AdamW& opt) {
  if (!active() || zero_ == 0) return optimizer_state(opt);
  OptimizerState full{Tensor::empty({P_}), Tensor::empty({P_}), opt.steps_taken()};
  for (const auto& [shard, dst] : {std::pair{opt.exp_avg(), full.exp_avg}, std::pair{opt.exp_avg_sq(), full.exp_avg_sq}}) {
    // the shard sits at [begin, end) of a whole-length vector for gather_shards
    std::vector<float> at(P_);
    std::memcpy(at.data() + begin_, shard.data<float>(), (size_t)(end_ - begin_) * sizeof(float));
    std::memcpy(dst.data<float>(), gather_shards(at.data()), (size_t)P_ * sizeof(float));
  }
  return full;
}

void DataParallel::load_optimizer_state(const OptimizerState& full, AdamW& opt) const {
  GPTCU_CHECK(full.exp_avg.numel() == P_ && opt.begin() == begin_ && opt.end() == end_, "optimizer state of ",
              full.exp_avg.numel(), " for ", P_, " parameters, shard [", begin_, ", ", end_, ")");
  const size_t bytes = (size_t)(end_ - begin_) * sizeof(float);
  std::memcpy(opt.exp_avg().raw(), full.exp_avg.data<float>() + begin_, bytes);
  std::memcpy(opt.exp_avg_sq().raw(), full.exp_avg_sq.data<float>() + begin_, bytes);
  opt.set_steps_taken(full.steps);
}

}  // namespace gptcu
