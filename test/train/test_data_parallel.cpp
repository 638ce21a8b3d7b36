// test/train/test_data_parallel.cpp: the bucketed gradient all-reduce that overlaps the backward
// (train/data_parallel.h), on one process. A recording communicator stands in for MPI or NCCL: it
// pretends to be 2 ranks with equal gradients (so an average leaves them as they are) and keeps a
// copy of each bucket when its all-reduce starts. The proof that a bucket started early was
// safe: nothing wrote into it afterwards (its copy equals the final gradient). test/dist/ checks
// the numbers across real MPI ranks. The [cuda] case runs the same on a bf16 GPU model (skipped
// without a GPU): there the copy is queued on the compute stream, as NCCL's stream waits for it.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/autograd.h"
#include "core/comm.h"
#include "core/ops.h"
#include "model/gpt.h"
#include "test/kernels/cuda_test_util.h"
#include "test/model/gpt_fixtures.h"
#include "core/cuda.h"
#include "train/adamw.h"
#include "train/checkpoint.h"
#include "train/memory_plan.h"
#include "core/allocator.h"
#include "train/data_parallel.h"

using namespace gptcu;

namespace {

// What the fake communicators below share: a fixed place in a fixed world on one device, no-op
// host reductions, barrier and broadcast, and an abort that throws.
class FakeComm : public Communicator {
 public:
  FakeComm(Device dev, int rank, int world) : dev_(dev), rank_(rank), world_(world) {}
  int rank() const override { return rank_; }
  int world() const override { return world_; }
  Device device() const override { return dev_; }
  void broadcast(void*, int64_t, DType, int) override {}
  void barrier() override {}
  void all_reduce_host(double*, int64_t, ReduceOp) override {}
  [[noreturn]] void abort(const std::string& message, int) override { throw Error(message); }

 protected:
  Device dev_;
  int rank_, world_;
};

class RecordingComm : public FakeComm {
 public:
  // Buckets are pieces of model's flat gradients; a GPU model's are copied on the compute stream,
  // i.e. as they are at that point of the queued work, which is what NCCL's stream waits for.
  explicit RecordingComm(GPT& model) : FakeComm(model.device(), 0, 2), model_(model) {}
  struct Bucket {
    int64_t begin, n;
    Tensor at_start;
    bool during_backward;
  };
  bool in_backward = false;  // set by the test around autograd::backward
  std::vector<Bucket> buckets;
  int finished = 0;
  std::vector<std::string> mismatches;  // buckets written after their all-reduce started

  std::string name() const override { return "recording"; }
  void all_reduce(void*, int64_t, DType, ReduceOp) override {}
  void reduce_scatter(const void*, void*, int64_t, DType, ReduceOp) override { FAIL("reduce_scatter"); }
  void all_gather(const void*, void*, int64_t, DType) override { FAIL("all_gather"); }

  void start_all_reduce(void* data, int64_t n, DType t, ReduceOp op) override {
    const Tensor grads = model_.flat_gradients();
    REQUIRE(t == grads.dtype());
    REQUIRE(op == ReduceOp::avg);
    const int64_t begin = ((const char*)data - (const char*)grads.raw()) / (int64_t)dtype_size(t);
    Tensor copy = Tensor::empty({n}, t, grads.device());
    copy.copy_from(grads.slice0(begin, begin + n));
    buckets.push_back({begin, n, copy, in_backward});
  }
  void finish_all_reduces() override {
    const Tensor grads = model_.flat_gradients();
    for (size_t k = finished; k < buckets.size(); k++) {
      const Bucket& b = buckets[k];
      const Tensor now = grads.slice0(b.begin, b.begin + b.n).to(Device{}), then = b.at_start.to(Device{});
      if (std::memcmp(now.raw(), then.raw(), now.nbytes()) != 0)
        mismatches.push_back("bucket [" + std::to_string(b.begin) + ", +" + std::to_string(b.n) + ")");
    }
    finished = (int)buckets.size();
  }
  int pending_all_reduces() const override { return (int)buckets.size() - finished; }

 private:
  GPT& model_;
};

// Two models given the same batches must get the same gradient bits: no split-K matmul (whose
// reduction order may vary) while it lives.
struct DeterministicMatmul {
#ifdef GPTCU_HAVE_CUDA
  DeterministicMatmul() { cuda::set_deterministic_matmul(true); }
  ~DeterministicMatmul() { cuda::set_deterministic_matmul(false); }
#endif
};

std::vector<char> bytes_of(const Tensor& t) {
  const Tensor h = t.to(Device{});
  const char* p = static_cast<const char*>(h.raw());
  return std::vector<char>(p, p + h.nbytes());
}

struct Run {
  int early = 0, total = 0;
  std::vector<std::string> mismatches;
  std::vector<std::pair<int64_t, int64_t>> ranges;  // [begin, end) offsets into the flat gradients
  bool first_bucket_early = false;                  // the one holding wte (offset 0)
};

// One optimizer step of `micro` micro-batches, each `forwards` forward passes summed into one loss.
// master: a GPU model's fp32 master weights (GPT::to's return), for its optimizer.
Run one_step(GPT& model, int micro, int forwards, double bucket_mb, Recompute recompute = {},
             const Tensor* master = nullptr) {
  RecordingComm comm(model);
  DataParallel dp(comm, model, 0, bucket_mb);
  REQUIRE(dp.active());
  AdamW opt(model, AdamWConfig{});
  if (master) opt.to_device(*master);
  model.set_recompute(recompute);
  model.zero_grad();
  for (int m = 0; m < micro; m++) {
    dp.begin_micro_batch(m == micro - 1);
    Tensor loss;
    for (int f = 0; f < forwards; f++) {
      const test::TokenBatch b = test::random_token_batch(model.config(), 3, 17, 100 * m + f);
      Tensor l = model.loss(b.x, b.y);
      loss = loss.defined() ? ops::add(loss, l) : l;
    }
    comm.in_backward = true;
    autograd::backward(loss, 1.0f / micro);
    comm.in_backward = false;
    if (m < micro - 1) REQUIRE(comm.buckets.empty());  // only the last micro-batch's backward starts any
  }
  dp.step(opt, 1e-3);
  Run r;
  r.mismatches = comm.mismatches;
  r.total = dp.buckets();
  r.early = dp.buckets_started_early();
  REQUIRE(r.total == (int)comm.buckets.size());
  REQUIRE(comm.pending_all_reduces() == 0);
  for (const auto& b : comm.buckets) {
    r.ranges.push_back({b.begin, b.begin + b.n});
    if (b.begin == 0) r.first_bucket_early = b.during_backward;
  }
  int early = 0;
  for (const auto& b : comm.buckets) early += b.during_backward;
  REQUIRE(early == r.early);
  return r;
}

// The buckets tile [0, P) exactly, each once.
void check_tiling(std::vector<std::pair<int64_t, int64_t>> ranges, int64_t P) {
  std::sort(ranges.begin(), ranges.end());
  int64_t at = 0;
  for (const auto& [b, e] : ranges) {
    REQUIRE(b == at);
    REQUIRE(e > b);
    at = e;
  }
  REQUIRE(at == P);
}

}  // namespace

TEST_CASE("data parallel: buckets start during the backward, once their gradients are final", "[dp]") {
  GPT model(test::small_gpt_config());
  model.init_weights(3);
  const int64_t P = model.flat_parameters().numel();
  const double bucket_mb = 4000.0 * 4 / (1024 * 1024);  // 4000 floats: a block (~50k) is ~12 buckets

  const int micro = GENERATE(1, 3);
  const int forwards = GENERATE(1, 2);  // two forwards before one backward: marks are counted
  const std::string rc = GENERATE(as<std::string>{}, "none", "all");
  CAPTURE(micro, forwards, rc);
  const Run r = one_step(model, micro, forwards, bucket_mb, Recompute::parse(rc));
  CHECK(r.mismatches.empty());
  for (const auto& m : r.mismatches) UNSCOPED_INFO(m);
  check_tiling(r.ranges, P);
  CHECK(r.total == (int)((P + 3999) / 4000));
  // ln_f and both blocks are final before wte/wpe: all their buckets start inside the backward
  // (the embedding tables wte (128 x 64) and wpe (33 x 64) hold 10304 floats)
  const int64_t emb = 128 * 64 + 33 * 64;
  CHECK(r.early == (int)((P - emb) / 4000));
  CHECK_FALSE(r.first_bucket_early);  // wte's gradient is final only at the very end
}

TEST_CASE("data parallel on CUDA (bf16 gradients): buckets start during the backward, final", "[cuda][dp]") {
  GPTCU_REQUIRE_GPU();
  GPT model(test::small_gpt_config());
  model.init_weights(3);
  const Tensor master = model.to(Device::parse("cuda"), DType::bf16);
  const int64_t P = model.flat_parameters().numel();
  const std::string rc = GENERATE(as<std::string>{}, "none", "all");
  CAPTURE(rc);
  // 4000 bf16 elements a bucket (8000 bytes)
  const Run r = one_step(model, 2, 2, 8000.0 / (1024 * 1024), Recompute::parse(rc), &master);
  CHECK(r.mismatches.empty());
  for (const auto& m : r.mismatches) UNSCOPED_INFO(m);
  check_tiling(r.ranges, P);
  CHECK(r.early == (int)((P - (128 * 64 + 33 * 64)) / 4000));
  CHECK_FALSE(r.first_bucket_early);
}

TEST_CASE("data parallel: one bucket for everything starts after the backward", "[dp]") {
  GPT model(test::small_gpt_config());
  model.init_weights(4);
  const Run r = one_step(model, 1, 1, 64.0);
  CHECK(r.total == 1);
  CHECK(r.early == 0);
  CHECK(r.mismatches.empty());
}

TEST_CASE("data parallel: a tape left from an earlier forward disarms the early start", "[dp]") {
  GPT model(test::small_gpt_config());
  model.init_weights(5);
  RecordingComm comm(model);
  DataParallel dp(comm, model, 0, 4000.0 * 4 / (1024 * 1024));
  AdamW opt(model, AdamWConfig{});
  model.zero_grad();
  const test::TokenBatch a = test::random_token_batch(model.config(), 2, 9, 1);
  Tensor stale = model.loss(a.x, a.y);  // recorded before begin_micro_batch: its marks are not counted
  dp.begin_micro_batch(true);
  Tensor loss = ops::add(stale, model.loss(a.x, a.y));
  comm.in_backward = true;
  autograd::backward(loss);
  comm.in_backward = false;
  CHECK(comm.buckets.empty());
  dp.step(opt, 1e-3);
  CHECK(dp.buckets() > 1);
  CHECK(dp.buckets_started_early() == 0);
  CHECK(comm.mismatches.empty());
}

// Rank `r` of `world` among peers that hold the same gradients: a reduce-scatter's average is this
// rank's own block, and an all-gather takes the other ranks' blocks from `refs` (the next tensor in
// it for each all-gather: what those ranks would send, from a twin trained with plain AdamW). The
// norm's all-reduce leaves this rank's part (with several ranks the test turns clipping off).
class PeersComm : public FakeComm {
 public:
  using FakeComm::FakeComm;
  std::vector<Tensor> refs;  // consumed front first
  std::string name() const override { return "peers"; }
  void all_reduce(void*, int64_t, DType, ReduceOp op) override { REQUIRE(op == ReduceOp::sum); }
  void reduce_scatter(const void* send, void* recv, int64_t n, DType t, ReduceOp op) override {
    REQUIRE(op == ReduceOp::avg);
    copy_bytes(recv, dev_, static_cast<const char*>(send) + (size_t)rank_ * n * dtype_size(t), dev_,
               (size_t)n * dtype_size(t));
  }
  void all_gather(const void* send, void* recv, int64_t n, DType t) override {
    const size_t es = dtype_size(t);
    REQUIRE(send == static_cast<const char*>(recv) + (size_t)rank_ * n * es);  // in place
    REQUIRE(!refs.empty());
    const Tensor ref = refs.front();
    refs.erase(refs.begin());
    REQUIRE(ref.dtype() == t);
    for (int k = 0; k < world_; k++) {
      const int64_t b = std::min<int64_t>(ref.numel(), k * n), e = std::min<int64_t>(ref.numel(), (k + 1) * n);
      if (k != rank_ && e > b)
        copy_bytes(static_cast<char*>(recv) + (size_t)b * es, dev_, static_cast<const char*>(ref.raw()) + (size_t)b * es,
                   ref.device(), (size_t)(e - b) * es);
    }
  }
};

// Rank `rank` of `world` with ZeRO-1 against a twin with plain AdamW for 3 steps: this rank's shard
// (offsets from rank * S, the padded buffers, the reduce-scatter, the shard's optimizer -- on a GPU
// the shard-aware fused AdamW and the device-side norm --, the all-gather) ends with the twin's
// bits, in the parameters, the master weights and the moments. With one rank the shard is the
// whole model, so the norm is the twin's too and clipping stays on (a norm above the clip of 1);
// with several the fake norm all-reduce leaves a partial norm, so clipping is off.
void check_zero1_shard(Device dev, int rank, int world) {
  const DeterministicMatmul deterministic;
  const GPTConfig gc = test::small_gpt_config();
  GPT a(gc), b(gc);
  a.init_weights(9);
  b.init_weights(9);
  Tensor master_a, master_b;
  if (!dev.is_cpu()) {
    master_a = a.to(dev, DType::bf16);
    master_b = b.to(dev, DType::bf16);
  }
  PeersComm comm(dev, rank, world);
  DataParallel dp(comm, a, 1, 25.0);
  const int64_t P = a.flat_parameters().numel(), S = (P + world - 1) / world;
  REQUIRE(dp.shard_begin() == std::min<int64_t>(P, rank * S));
  REQUIRE(dp.shard_end() == std::min<int64_t>(P, (rank + 1) * S));
  AdamWConfig cfg;
  if (world > 1) cfg.grad_clip = 0;
  AdamW opt_a(a, cfg, dp.shard_begin(), dp.shard_end()), opt_b(b, cfg);
  if (!dev.is_cpu()) {
    opt_a.to_device(master_a);
    opt_b.to_device(master_b);
  }
  for (int step = 0; step < 3; step++) {
    const test::TokenBatch batch = test::random_token_batch(gc, 2, 11, 90 + step);
    for (GPT* m : {&a, &b}) {
      m->zero_grad();
      autograd::backward(m->loss(batch.x, batch.y), 4.0f);
    }
    const double norm_b = opt_b.step(1e-2);
    comm.refs = {b.flat_parameters()};
    const int64_t before = memory_stats(dev).current_bytes;
    const double norm_a = dp.step(opt_a, 1e-2);
    if (world == 1) {
      CHECK(norm_a == norm_b);
      CHECK(norm_a > 1.0);
    }
    if (step == 0 && dev.is_cpu() && world > 1) {  // the scratch the step keeps is what the memory plan counts
      const MemoryPlan plan = plan_memory(MemoryPlanSpec{.model = gc, .optimizer_shards = world});
      CHECK(memory_stats(dev).current_bytes - before == plan.optimizer - S * 8);  // less m and v
    }
    REQUIRE(comm.refs.empty());
    CHECK(bytes_of(a.flat_parameters()) == bytes_of(b.flat_parameters()));
  }
  comm.refs = {opt_b.master_weights()};
  CHECK(bytes_of(dp.master_weights(opt_a)) == bytes_of(opt_b.master_weights()));
  comm.refs = {opt_b.exp_avg(), opt_b.exp_avg_sq()};
  const OptimizerState sa = dp.gather_optimizer_state(opt_a), sb = optimizer_state(opt_b);
  CHECK(sa.steps == sb.steps);
  CHECK(bytes_of(sa.exp_avg) == bytes_of(sb.exp_avg));
  CHECK(bytes_of(sa.exp_avg_sq) == bytes_of(sb.exp_avg_sq));
}

TEST_CASE("ZeRO-1 as rank 0 of 1, 1 of 2 and 2 of 3: the shard's update is plain AdamW's (CPU)", "[dp]") {
  check_zero1_shard(Device{}, 0, 1);
  check_zero1_shard(Device{}, 1, 2);
  check_zero1_shard(Device{}, 2, 3);
}

TEST_CASE("ZeRO-1 as rank 0 of 1, 1 of 2 and 2 of 3: the shard's update is plain AdamW's (CUDA, bf16)",
          "[cuda][dp]") {
  GPTCU_REQUIRE_GPU();
  check_zero1_shard(Device::parse("cuda"), 0, 1);
  check_zero1_shard(Device::parse("cuda"), 1, 2);
  check_zero1_shard(Device::parse("cuda"), 2, 3);
}

TEST_CASE("AdamW on CUDA: two ranges with the global norm make the whole model's step", "[cuda][adamw]") {
  GPTCU_REQUIRE_GPU();
  const DeterministicMatmul deterministic;
  const GPTConfig gc = test::small_gpt_config();
  GPT a(gc), b(gc);
  a.init_weights(8);
  b.init_weights(8);
  const Device dev = Device::parse("cuda");
  const Tensor master_a = a.to(dev, DType::bf16), master_b = b.to(dev, DType::bf16);
  const int64_t P = a.flat_parameters().numel(), cut = P / 2 + 333;  // inside a parameter
  AdamWConfig cfg;
  cfg.grad_clip = 0;  // the norm only gates the update: the ranges' partial sums need not add up exactly
  AdamW whole(b, cfg), lo(a, cfg, 0, cut), hi(a, cfg, cut, P);
  whole.to_device(master_b);
  lo.to_device(master_a);
  hi.to_device(master_a);
  for (int step = 0; step < 2; step++) {
    const test::TokenBatch batch = test::random_token_batch(gc, 2, 11, 70 + step);
    for (GPT* m : {&a, &b}) {
      m->zero_grad();
      autograd::backward(m->loss(batch.x, batch.y));
    }
    whole.step(1e-2);
    const char* g = static_cast<const char*>(a.flat_gradients().raw());
    Tensor n_lo = lo.queue_norm_sq(g), n_hi = hi.queue_norm_sq(g + cut * 2);
    const float global = n_lo.item() + n_hi.item();  // what the all-reduce would leave in both
    n_lo.copy_from(Tensor::full({1}, global));
    n_hi.copy_from(Tensor::full({1}, global));
    lo.queue_update(1e-2, g);
    hi.queue_update(1e-2, g + cut * 2);
  }
  CHECK(bytes_of(a.flat_parameters()) == bytes_of(b.flat_parameters()));
  const std::vector<char> mw = bytes_of(whole.master_weights()), m_lo = bytes_of(lo.master_weights()),
                          m_hi = bytes_of(hi.master_weights());
  REQUIRE(m_lo.size() + m_hi.size() == mw.size());
  CHECK(std::equal(m_lo.begin(), m_lo.end(), mw.begin()));
  CHECK(std::equal(m_hi.begin(), m_hi.end(), mw.begin() + (long)m_lo.size()));
  const std::vector<char> v = bytes_of(whole.exp_avg_sq()), v_hi = bytes_of(hi.exp_avg_sq());
  CHECK(std::equal(v_hi.begin(), v_hi.end(), v.begin() + (long)(cut * 4)));
}

TEST_CASE("GPT marks its blocks and ln_f for a listener, in grad mode only", "[dp]") {
  struct Count : GradListener {
    std::vector<int64_t> marked, reached;
    void forward_marked(int64_t at) override { marked.push_back(at); }
    void backward_reached(int64_t at) override { reached.push_back(at); }
  } count;
  GPT model(test::small_gpt_config());
  model.set_grad_listener(&count);
  const test::TokenBatch b = test::random_token_batch(model.config(), 2, 5, 2);
  {
    autograd::NoGradGuard no_grad;
    model.loss(b.x, b.y);
  }
  CHECK(count.marked.empty());
  Tensor loss = model.loss(b.x, b.y);
  const float* base = model.flat_parameters().data<float>();
  REQUIRE(count.marked.size() == 3);  // h.0, h.1, ln_f: increasing offsets
  CHECK(count.marked[0] == model.parameter("transformer.h.0.ln_1.weight").value.data<float>() - base);
  CHECK(count.marked[1] == model.parameter("transformer.h.1.ln_1.weight").value.data<float>() - base);
  CHECK(count.marked[2] == model.parameter("transformer.ln_f.weight").value.data<float>() - base);
  CHECK(count.reached.empty());
  autograd::backward(loss);
  CHECK(count.reached == std::vector<int64_t>(count.marked.rbegin(), count.marked.rend()));
  model.set_grad_listener(nullptr);
}
