// core/comm_mpi.cpp: the MPI communicator (CPU buffers), compiled when CMake found MPI.
//
// The processes come from mpirun (or srun with PMIx): MPI_Init gives the world, which must agree
// with dist_env(). Collectives run on a duplicate of MPI_COMM_WORLD with MPI_ERRORS_RETURN, so an
// MPI failure (a peer's connection reset) is a gptcu::Error the trainer can report, not a
// silent abort. MPI_Finalize runs at exit when the process ends normally. Counts above INT_MAX
// are split into chunks for all_reduce and broadcast; reduce_scatter and all_gather refuse them.
#include <mpi.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "core/comm.h"

namespace gptcu {
namespace {

MPI_Datatype mpi_type(DType t) {
  switch (t) {
    case DType::f32: return MPI_FLOAT;
    case DType::f64: return MPI_DOUBLE;
    case DType::i32: return MPI_INT;
    default: break;
  }
  throw Error(std::string("MPI collectives take f32, f64 or i32, not ") + dtype_name(t));
}

MPI_Op mpi_op(ReduceOp op) {
  switch (op) {
    case ReduceOp::sum:
    case ReduceOp::avg: return MPI_SUM;  // avg: sum, then / world
    case ReduceOp::max: return MPI_MAX;
    case ReduceOp::min: return MPI_MIN;
  }
  return MPI_SUM;
}

void check_mpi(int rc, const char* what, int rank) {
  if (rc == MPI_SUCCESS) return;
  char msg[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, msg, &len);
  throw Error(std::string("MPI error in ") + what + " on rank " + std::to_string(rank) + ": " + std::string(msg, (size_t)len) +
              " (did another rank die?)");
}

// data[0..n) /= world, for avg
void divide(void* data, int64_t n, DType t, int world) {
  if (t == DType::f32) {
    const float inv = 1.0f / (float)world;
    float* p = static_cast<float*>(data);
    for (int64_t i = 0; i < n; i++) p[i] *= inv;
  } else if (t == DType::f64) {
    double* p = static_cast<double*>(data);
    for (int64_t i = 0; i < n; i++) p[i] /= world;
  } else {
    throw Error("ReduceOp::avg needs f32 or f64");
  }
}

// Calls fn(pointer, count) over data[0, n) of type t in pieces MPI's int count can hold.
template <typename Fn>
void in_int_chunks(void* data, int64_t n, DType t, Fn fn) {
  char* p = static_cast<char*>(data);
  for (int64_t done = 0; done < n;) {
    const int chunk = (int)std::min<int64_t>(n - done, INT_MAX / 2);
    fn(p + done * (int64_t)dtype_size(t), chunk);
    done += chunk;
  }
}

void finalize_at_exit() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

class MpiCommunicator : public Communicator {
 public:
  explicit MpiCommunicator(const DistEnv& env) {
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (!initialized) {
      int provided = 0;
      // The watchdog thread never calls MPI: FUNNELED is enough.
      MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
      std::atexit(finalize_at_exit);
    }
    MPI_Comm_dup(MPI_COMM_WORLD, &comm_);
    MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &world_);
    GPTCU_USER_CHECK(world_ == env.world && rank_ == env.rank, "the environment (", env.source, ") says rank ",
                     env.rank, " of ", env.world, ", but MPI sees rank ", rank_, " of ", world_,
                     ": CPU runs with several processes must be started by mpirun or srun (scripts/launch.sh ",
                     "--procs N does that)");
  }
  ~MpiCommunicator() override {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Comm_free(&comm_);
  }

  int rank() const override { return rank_; }
  int world() const override { return world_; }
  Device device() const override { return Device{}; }
  std::string name() const override { return "mpi"; }

  void all_reduce(void* data, int64_t n, DType t, ReduceOp op) override {
    Watch w(*this, "all_reduce");
    in_int_chunks(data, n, t, [&](char* p, int count) {
      check_mpi(MPI_Allreduce(MPI_IN_PLACE, p, count, mpi_type(t), mpi_op(op), comm_), "MPI_Allreduce", rank_);
    });
    if (op == ReduceOp::avg) divide(data, n, t, world_);
  }

  void reduce_scatter(const void* send, void* recv, int64_t n, DType t, ReduceOp op) override {
    GPTCU_CHECK(n <= INT_MAX, "reduce_scatter of ", n, " elements per rank: above MPI's int count");
    Watch w(*this, "reduce_scatter");
    check_mpi(MPI_Reduce_scatter_block(send, recv, (int)n, mpi_type(t), mpi_op(op), comm_), "MPI_Reduce_scatter_block",
              rank_);
    if (op == ReduceOp::avg) divide(recv, n, t, world_);
  }

  void all_gather(const void* send, void* recv, int64_t n, DType t) override {
    GPTCU_CHECK(n <= INT_MAX, "all_gather of ", n, " elements per rank: above MPI's int count");
    Watch w(*this, "all_gather");
    const bool in_place = send == static_cast<const char*>(recv) + (size_t)rank_ * (size_t)n * dtype_size(t);
    check_mpi(MPI_Allgather(in_place ? MPI_IN_PLACE : send, (int)n, mpi_type(t), recv, (int)n, mpi_type(t), comm_),
              "MPI_Allgather", rank_);
  }

  void broadcast(void* data, int64_t n, DType t, int root) override {
    Watch w(*this, "broadcast");
    in_int_chunks(data, n, t, [&](char* p, int count) {
      check_mpi(MPI_Bcast(p, count, mpi_type(t), root, comm_), "MPI_Bcast", rank_);
    });
  }

  void start_all_reduce(void* data, int64_t n, DType t, ReduceOp op) override {
    in_int_chunks(data, n, t, [&](char* p, int count) {
      MPI_Request req;
      check_mpi(MPI_Iallreduce(MPI_IN_PLACE, p, count, mpi_type(t), mpi_op(op), comm_, &req), "MPI_Iallreduce", rank_);
      pending_.push_back({req, p, count, t, op});
    });
    // Open MPI moves non-blocking collectives on inside MPI calls: let the earlier ones progress.
    int flag = 0;
    for (Pending& q : pending_) check_mpi(MPI_Test(&q.req, &flag, MPI_STATUS_IGNORE), "MPI_Test", rank_);
  }

  void finish_all_reduces() override {
    if (pending_.empty()) return;
    Watch w(*this, "all_reduce (bucketed)");
    for (Pending& q : pending_) {  // a finished request is MPI_REQUEST_NULL, which MPI_Wait skips
      check_mpi(MPI_Wait(&q.req, MPI_STATUS_IGNORE), "MPI_Wait (MPI_Iallreduce)", rank_);
      if (q.op == ReduceOp::avg) divide(q.data, q.n, q.t, world_);
    }
    pending_.clear();
  }
  int pending_all_reduces() const override { return (int)pending_.size(); }

  void barrier() override {
    Watch w(*this, "barrier");
    check_mpi(MPI_Barrier(comm_), "MPI_Barrier", rank_);
  }

  void all_reduce_host(double* data, int64_t n, ReduceOp op) override { all_reduce(data, n, DType::f64, op); }

  [[noreturn]] void abort(const std::string& message, int exit_code) override {
    std::fprintf(stderr, "%s\n", message.c_str());
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, exit_code);
    std::_Exit(exit_code);
  }

 private:
  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0, world_ = 1;
  struct Pending {  // a started MPI_Iallreduce
    MPI_Request req;
    void* data;
    int64_t n;
    DType t;
    ReduceOp op;
  };
  std::vector<Pending> pending_;
};

}  // namespace

namespace detail {

std::unique_ptr<Communicator> make_mpi_communicator(const DistEnv& env) { return std::make_unique<MpiCommunicator>(env); }

// For the NCCL bootstrap under mpirun: rank `root`'s bytes to every rank of MPI_COMM_WORLD.
void mpi_broadcast_bytes(void* data, int bytes, int root) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    int provided = 0;
    MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
    std::atexit(finalize_at_exit);
  }
  check_mpi(MPI_Bcast(data, bytes, MPI_BYTE, root, MPI_COMM_WORLD), "MPI_Bcast (NCCL unique id)", root);
}

}  // namespace detail
}  // namespace gptcu
