// core/comm_nccl.cpp: the NCCL communicator (CUDA buffers), compiled when the build has CUDA and
// NCCL. One communicator per process, one GPU per rank: cuda:LOCAL_RANK.
//
// Bootstrap, without a home-made protocol:
//   started by mpirun (OMPI_COMM_WORLD_* set) and built with MPI: rank 0 calls ncclGetUniqueId and
//     MPI_Bcast's it;
//   otherwise: NCCL_COMM_ID=ADDR:PORT (scripts/launch.sh sets it; when unset it is derived as
//     MASTER_ADDR:(MASTER_PORT + 1)). With NCCL_COMM_ID set, ncclGetUniqueId only encodes that
//     address (every rank gets the same id without talking) and rank 0's ncclCommInitRank opens
//     the bootstrap socket there.
// Every collective is enqueued on this communicator's stream, behind an event recorded on the
// device's compute stream (so it reads what the kernels queued so far wrote), and waited for
// (cudaStreamSynchronize) under the watchdog, so a dead or hung peer ends this rank after the
// timeout instead of hanging it. start_all_reduce does not wait: the compute stream runs on (the
// rest of the backward) while the bucket is reduced; finish_all_reduces waits for all of them. abort() calls ncclCommAbort. Host values (all_reduce_host) go through a small device buffer.
#include <cuda_runtime.h>
#include <nccl.h>

#include <cstdio>
#include <cstdlib>

#include "core/comm.h"
#include "core/cuda.h"
#include "kernels/cuda/cuda_check.h"

namespace gptcu {

namespace detail {
#ifdef GPTCU_NCCL_MPI_BOOTSTRAP
void mpi_broadcast_bytes(void* data, int bytes, int root);  // core/comm_mpi.cpp
#endif
}  // namespace detail

namespace {

ncclDataType_t nccl_type(DType t) {
  switch (t) {
    case DType::f32: return ncclFloat32;
    case DType::f64: return ncclFloat64;
    case DType::i32: return ncclInt32;
    case DType::bf16: return ncclBfloat16;
    default: break;
  }
  throw Error(std::string("NCCL collectives take f32, f64, i32 or bf16, not ") + dtype_name(t));
}

ncclRedOp_t nccl_op(ReduceOp op) {
  switch (op) {
    case ReduceOp::sum: return ncclSum;
    case ReduceOp::avg: return ncclAvg;
    case ReduceOp::max: return ncclMax;
    case ReduceOp::min: return ncclMin;
  }
  return ncclSum;
}

ncclUniqueId bootstrap_id(const DistEnv& env) {
  ncclUniqueId id;
#ifdef GPTCU_NCCL_MPI_BOOTSTRAP
  if (env.launched_by_mpi() && !std::getenv("NCCL_COMM_ID")) {
    if (env.rank == 0) GPTCU_NCCL_CHECK(ncclGetUniqueId(&id));
    detail::mpi_broadcast_bytes(&id, (int)sizeof id, 0);
    return id;
  }
#endif
  if (env.world == 1 && !std::getenv("NCCL_COMM_ID")) {  // nobody to meet: a local id
    GPTCU_NCCL_CHECK(ncclGetUniqueId(&id));
    return id;
  }
  if (!std::getenv("NCCL_COMM_ID")) {
    GPTCU_USER_CHECK(!env.master_addr.empty() && env.master_port > 0, "rank ", env.rank, " of ", env.world,
                     ": NCCL needs NCCL_COMM_ID=ADDR:PORT, or MASTER_ADDR and MASTER_PORT, or to be started by ",
                     "mpirun (scripts/launch.sh sets them)");
    const std::string addr = env.master_addr + ":" + std::to_string(env.master_port + 1);
    ::setenv("NCCL_COMM_ID", addr.c_str(), 1);
  }
  GPTCU_NCCL_CHECK(ncclGetUniqueId(&id));
  return id;
}

class NcclCommunicator : public Communicator {
 public:
  NcclCommunicator(const DistEnv& env, Device requested) : rank_(env.rank), world_(env.world) {
    (void)requested;  // one GPU per rank: the local rank decides which
    int count = 0;
    GPTCU_CUDA_CHECK(cudaGetDeviceCount(&count));
    GPTCU_USER_CHECK(env.local_rank < count, "rank ", env.rank, " has local rank ", env.local_rank, " but this node has ",
                     count, " visible GPU(s) (CUDA_VISIBLE_DEVICES?): start at most one rank per GPU");
    device_ = Device{Device::cuda, env.local_rank};
    GPTCU_CUDA_CHECK(cudaSetDevice(env.local_rank));
    GPTCU_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
    GPTCU_CUDA_CHECK(cudaEventCreateWithFlags(&compute_done_, cudaEventDisableTiming));
    const ncclUniqueId id = bootstrap_id(env);
    GPTCU_NCCL_CHECK(ncclCommInitRank(&comm_, world_, id, rank_));
    GPTCU_CUDA_CHECK(cudaMalloc(&host_staging_, kStagingDoubles * sizeof(double)));
  }
  ~NcclCommunicator() override {
    if (comm_) ncclCommDestroy(comm_);
    if (host_staging_) cudaFree(host_staging_);
    if (compute_done_) cudaEventDestroy(compute_done_);
    if (stream_) cudaStreamDestroy(stream_);
  }

  int rank() const override { return rank_; }
  int world() const override { return world_; }
  Device device() const override { return device_; }
  std::string name() const override { return "nccl"; }

  void all_reduce(void* data, int64_t n, DType t, ReduceOp op) override {
    Watch w(*this, "all_reduce");
    after_compute();
    GPTCU_NCCL_CHECK(ncclAllReduce(data, data, (size_t)n, nccl_type(t), nccl_op(op), comm_, stream_));
    wait();
  }
  void reduce_scatter(const void* send, void* recv, int64_t n, DType t, ReduceOp op) override {
    Watch w(*this, "reduce_scatter");
    after_compute();
    GPTCU_NCCL_CHECK(ncclReduceScatter(send, recv, (size_t)n, nccl_type(t), nccl_op(op), comm_, stream_));
    wait();
  }
  void all_gather(const void* send, void* recv, int64_t n, DType t) override {
    Watch w(*this, "all_gather");  // NCCL detects send == recv + rank * n itself (in place)
    after_compute();
    GPTCU_NCCL_CHECK(ncclAllGather(send, recv, (size_t)n, nccl_type(t), comm_, stream_));
    wait();
  }
  void broadcast(void* data, int64_t n, DType t, int root) override {
    Watch w(*this, "broadcast");
    after_compute();
    GPTCU_NCCL_CHECK(ncclBroadcast(data, data, (size_t)n, nccl_type(t), root, comm_, stream_));
    wait();
  }
  void start_all_reduce(void* data, int64_t n, DType t, ReduceOp op) override {
    Watch w(*this, "all_reduce (bucket start)");  // NCCL may connect to peers inside the call
    after_compute();
    GPTCU_NCCL_CHECK(ncclAllReduce(data, data, (size_t)n, nccl_type(t), nccl_op(op), comm_, stream_));
    pending_++;
  }
  void finish_all_reduces() override {
    if (pending_ == 0) return;
    Watch w(*this, "all_reduce (bucketed)");
    wait();
    pending_ = 0;
  }
  int pending_all_reduces() const override { return pending_; }
  void barrier() override {
    double one = 1;
    all_reduce_host(&one, 1, ReduceOp::sum);
  }
  void all_reduce_host(double* data, int64_t n, ReduceOp op) override {
    for (int64_t done = 0; done < n; done += kStagingDoubles) {
      const int64_t m = std::min<int64_t>(kStagingDoubles, n - done);
      GPTCU_CUDA_CHECK(cudaMemcpyAsync(host_staging_, data + done, (size_t)m * sizeof(double), cudaMemcpyHostToDevice, stream_));
      all_reduce(host_staging_, m, DType::f64, op);
      GPTCU_CUDA_CHECK(cudaMemcpyAsync(data + done, host_staging_, (size_t)m * sizeof(double), cudaMemcpyDeviceToHost, stream_));
      GPTCU_CUDA_CHECK(cudaStreamSynchronize(stream_));
    }
  }
  [[noreturn]] void abort(const std::string& message, int exit_code) override {
    std::fprintf(stderr, "%s\n", message.c_str());
    std::fflush(stderr);
    if (comm_) ncclCommAbort(comm_);  // the other ranks see the connection drop, or time out
    std::_Exit(exit_code);
  }

 private:
  // This stream waits for what the compute stream has queued so far (kernels that wrote the buffers).
  void after_compute() {
    GPTCU_CUDA_CHECK(cudaEventRecord(compute_done_, cuda_stream(device_)));
    GPTCU_CUDA_CHECK(cudaStreamWaitEvent(stream_, compute_done_, 0));
  }
  void wait() {
    GPTCU_CUDA_CHECK(cudaStreamSynchronize(stream_));
    ncclResult_t async = ncclSuccess;
    GPTCU_NCCL_CHECK(ncclCommGetAsyncError(comm_, &async));
    GPTCU_NCCL_CHECK(async);
  }

  static constexpr int64_t kStagingDoubles = 1024;
  int rank_, world_;
  Device device_;
  cudaStream_t stream_ = nullptr;
  ncclComm_t comm_ = nullptr;
  double* host_staging_ = nullptr;
  cudaEvent_t compute_done_ = nullptr;
  int pending_ = 0;  // started all-reduces
};

}  // namespace

namespace detail {
std::unique_ptr<Communicator> make_nccl_communicator(const DistEnv& env, Device device) {
  return std::make_unique<NcclCommunicator>(env, device);
}
}  // namespace detail
}  // namespace gptcu
