// core/comm.h: collectives between the processes of a data-parallel run, and where a process
// learns its place in that run.
//
//   DistEnv env = dist_env();                 // rank, world, local rank from the environment
//   Communicator& comm = process_communicator(Device::parse("cpu"));
//   comm.all_reduce(grads, ReduceOp::avg);    // every rank ends with the mean
//
// Rank, world size and local rank come from, in this order of precedence:
//   RANK / WORLD_SIZE / LOCAL_RANK (/ LOCAL_WORLD_SIZE)   torchrun's convention, scripts/launch.sh
//   OMPI_COMM_WORLD_RANK / _SIZE / _LOCAL_RANK / _LOCAL_SIZE   Open MPI's mpirun
//   SLURM_PROCID / SLURM_STEP_NUM_TASKS (or SLURM_NTASKS) / SLURM_LOCALID   srun (only inside a
//       job step, i.e. when SLURM_STEP_ID is set: a batch script's own shell is not rank 0 of N)
// and MASTER_ADDR / MASTER_PORT when set. Nothing set: one process (rank 0 of 1).
//
// Backends (process_communicator picks one; GPTCU_COMM=nccl|mpi asks for one even at world 1, so
// that one GPU or one CPU process runs the data-parallel code path: scripts/launch.sh sets it):
//   world 1             "single": every collective is a no-op (the buffers already hold the answer)
//   world > 1, CPU      "mpi" (core/comm_mpi.cpp, when the build found Open MPI): the processes must
//                       have been started by mpirun or srun, which give MPI its world
//   world > 1, CUDA     "nccl" (core/comm_nccl.cpp, when the build has CUDA and NCCL): bootstrapped
//                       through MPI when started by mpirun (rank 0's ncclGetUniqueId, MPI_Bcast),
//                       otherwise through NCCL_COMM_ID=ADDR:PORT (set by scripts/launch.sh; derived
//                       from MASTER_ADDR and MASTER_PORT + 1 when unset). Each rank binds GPU
//                       LOCAL_RANK.
//
// Collectives take buffers on the communicator's device: f32 or f64 (i32 too on MPI; bf16 too on
// NCCL). On a GPU they are ordered after the work already queued on the device's compute stream
// (core/cuda.h) that may have written the buffers. All are blocking except start_all_reduce, which
// lets the backward pass go on while gradient buckets are reduced (train/data_parallel.h). Reductions: sum, avg (sum / world), max, min. Failure handling: set_timeout(s)
// starts a watchdog; a collective that has not completed after s seconds (a rank died or hangs)
// prints "gptcu: rank R of W: <op> did not complete within S s ..." to stderr and ends this
// process with exit code 4, which makes mpirun / scripts/launch.sh stop the others.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/tensor.h"

namespace gptcu {

// Where this process sits in the run.
struct DistEnv {
  int rank = 0;
  int world = 1;
  int local_rank = 0;   // index on this node: the GPU this rank binds
  int local_world = 1;  // ranks on this node
  std::string master_addr;  // "" when unset
  int master_port = 0;      // 0 when unset
  std::string source;       // "torchrun", "openmpi", "slurm", or "" (a single process)
  bool launched_by_mpi() const { return source == "openmpi"; }
};

// Reads the variables above through `getenv` (tests pass a map). UserError on a garbled or
// inconsistent value, naming the variable: "RANK=2 but WORLD_SIZE=2 (rank must be < world size)".
DistEnv parse_dist_env(const std::function<const char*(const char*)>& getenv);
DistEnv dist_env();  // the process environment, parsed once

enum class ReduceOp { sum, avg, max, min };

class Communicator {
 public:
  virtual ~Communicator();
  virtual int rank() const = 0;
  virtual int world() const = 0;
  virtual Device device() const = 0;
  virtual std::string name() const = 0;  // "single", "mpi", "nccl"

  // ---- raw buffers on device(), n elements of type t ----
  virtual void all_reduce(void* data, int64_t n, DType t, ReduceOp op) = 0;
  // send holds world() * recv_n elements; rank r receives the reduction of block r.
  virtual void reduce_scatter(const void* send, void* recv, int64_t recv_n, DType t, ReduceOp op) = 0;
  // recv (world() * send_n) gets every rank's send block in rank order; in place when
  // send == recv + rank() * send_n.
  virtual void all_gather(const void* send, void* recv, int64_t send_n, DType t) = 0;
  virtual void broadcast(void* data, int64_t n, DType t, int root) = 0;
  virtual void barrier() = 0;
  // Non-blocking all-reduce in place: returns at once; `data` must be neither read nor written
  // until finish_all_reduces(). MPI: MPI_Iallreduce. NCCL: queued on the communicator's stream
  // behind the compute stream's work so far, so the compute stream runs on meanwhile. This base
  // version reduces at once (the single backend).
  virtual void start_all_reduce(void* data, int64_t n, DType t, ReduceOp op) { all_reduce(data, n, t, op); }
  // Waits (under the watchdog) for every started all-reduce; afterwards their buffers hold the
  // results, for the host and for work queued on the compute stream from now on.
  virtual void finish_all_reduces() {}
  virtual int pending_all_reduces() const { return 0; }  // started, not yet finished
  // Ends every rank of the run now (this one last), after printing `message` to stderr. For a
  // rank that hit an error while the others wait in a collective.
  [[noreturn]] virtual void abort(const std::string& message, int exit_code) = 0;

  // ---- host values (metrics, token counts): on any backend, whatever device() is ----
  virtual void all_reduce_host(double* data, int64_t n, ReduceOp op) = 0;
  double all_reduce_host(double v, ReduceOp op) {
    all_reduce_host(&v, 1, op);
    return v;
  }

  // ---- tensors: device, dtype and sizes checked (gptcu::Error naming the op and the tensors) ----
  void all_reduce(const Tensor& t, ReduceOp op);
  void reduce_scatter(const Tensor& send, const Tensor& recv, ReduceOp op);  // send numel = world * recv numel
  void all_gather(const Tensor& send, const Tensor& recv);                   // recv numel = world * send numel
  void broadcast(const Tensor& t, int root);

  // Seconds a collective may take before the watchdog ends the process (0: wait forever).
  void set_timeout(double seconds);
  double timeout() const { return timeout_s_; }

 protected:
  // Marks a collective in flight for the watchdog while it lives.
  class Watch {
   public:
    Watch(Communicator& c, const char* op);
    ~Watch();
    Watch(const Watch&) = delete;
    Watch& operator=(const Watch&) = delete;

   private:
    Communicator& c_;
  };

 private:
  struct Watchdog;
  double timeout_s_ = 0;
  std::shared_ptr<Watchdog> watchdog_;
};

// The communicator of this process for `device` (created on first use from dist_env(); the same
// object afterwards). UserError when the environment asks for a world this build cannot give:
// "WORLD_SIZE=2 on the CPU needs the MPI backend: this build has no MPI (install libopenmpi-dev)",
// or MPI's own world disagrees with the variables.
Communicator& process_communicator(Device device);

// A world-1 communicator (tests; process_communicator uses it when the world is 1).
std::unique_ptr<Communicator> make_single_communicator(Device device);

// GPTCU_COMM: "" or "auto" (by world size and device, above), "single", "mpi" or "nccl"; UserError
// for another value, or a backend the device cannot use (mpi on a GPU, nccl on the CPU).
std::string requested_backend(Device device, const std::function<const char*(const char*)>& getenv);

// What this build can do: "single" always, "mpi" and "nccl" when compiled in.
std::vector<std::string> communicator_backends();

}  // namespace gptcu
