// core/comm.cpp: environment parsing, the tensor forms and the watchdog shared by every backend,
// the single-process backend, and the choice of backend (see core/comm.h).
#include "core/comm.h"

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>

namespace gptcu {

namespace detail {
// Defined by core/comm_mpi.cpp and core/comm_nccl.cpp when those are compiled.
std::unique_ptr<Communicator> make_mpi_communicator(const DistEnv& env);
std::unique_ptr<Communicator> make_nccl_communicator(const DistEnv& env, Device device);
}  // namespace detail

// ---------------------------------------------------------------- environment

namespace {

// The integer value of variable `name`, or `fallback` when unset; UserError when garbled.
int env_int(const std::function<const char*(const char*)>& getenv, const char* name, int fallback) {
  const char* v = getenv(name);
  if (!v) return fallback;
  const std::string s(v);
  GPTCU_USER_CHECK(!s.empty() && s.size() < 10 && s.find_first_not_of("0123456789") == std::string::npos,
                   "environment variable ", name, "='", s, "' is not a non-negative integer");
  return std::stoi(s);
}

bool has(const std::function<const char*(const char*)>& getenv, const char* name) { return getenv(name) != nullptr; }

}  // namespace

DistEnv parse_dist_env(const std::function<const char*(const char*)>& getenv) {
  DistEnv e;
  const bool torchrun = has(getenv, "RANK") || has(getenv, "WORLD_SIZE");
  const bool ompi = has(getenv, "OMPI_COMM_WORLD_RANK");
  const bool slurm = has(getenv, "SLURM_PROCID") && (has(getenv, "SLURM_STEP_ID") || has(getenv, "SLURM_STEPID"));
  if (torchrun) {
    GPTCU_USER_CHECK(has(getenv, "RANK") && has(getenv, "WORLD_SIZE"),
                     "environment: RANK and WORLD_SIZE go together (only ", has(getenv, "RANK") ? "RANK" : "WORLD_SIZE",
                     " is set)");
    e.source = "torchrun";
    e.rank = env_int(getenv, "RANK", 0);
    e.world = env_int(getenv, "WORLD_SIZE", 1);
    e.local_rank = env_int(getenv, "LOCAL_RANK", e.world == 1 ? 0 : e.rank);
    e.local_world = env_int(getenv, "LOCAL_WORLD_SIZE", e.world);
    if (ompi) {  // launch.sh under mpirun sets both: they must agree
      const int orank = env_int(getenv, "OMPI_COMM_WORLD_RANK", 0), osize = env_int(getenv, "OMPI_COMM_WORLD_SIZE", 1);
      GPTCU_USER_CHECK(orank == e.rank && osize == e.world, "environment: RANK=", e.rank, " WORLD_SIZE=", e.world,
                       " but mpirun says rank ", orank, " of ", osize, " (OMPI_COMM_WORLD_RANK/SIZE)");
    }
  } else if (ompi) {
    e.source = "openmpi";
    e.rank = env_int(getenv, "OMPI_COMM_WORLD_RANK", 0);
    e.world = env_int(getenv, "OMPI_COMM_WORLD_SIZE", 1);
    e.local_rank = env_int(getenv, "OMPI_COMM_WORLD_LOCAL_RANK", 0);
    e.local_world = env_int(getenv, "OMPI_COMM_WORLD_LOCAL_SIZE", 1);
  } else if (slurm) {
    e.source = "slurm";
    e.rank = env_int(getenv, "SLURM_PROCID", 0);
    e.world = env_int(getenv, "SLURM_STEP_NUM_TASKS", env_int(getenv, "SLURM_NTASKS", 1));
    e.local_rank = env_int(getenv, "SLURM_LOCALID", 0);
    // SLURM_STEP_TASKS_PER_NODE may read "4(x2)"; only its leading count is this node's.
    const char* per_node = getenv("SLURM_STEP_TASKS_PER_NODE");
    e.local_world = per_node ? std::atoi(per_node) : 1;
    if (e.local_world < 1) e.local_world = 1;
  }
  GPTCU_USER_CHECK(e.world >= 1, "environment (", e.source, "): the world size is ", e.world, ", it must be >= 1");
  GPTCU_USER_CHECK(e.rank < e.world, "environment (", e.source, "): rank ", e.rank, " but world size ", e.world,
                   " (the rank must be < the world size)");
  GPTCU_USER_CHECK(e.local_rank <= e.rank, "environment (", e.source, "): local rank ", e.local_rank, " > rank ",
                   e.rank, " (a node cannot hold more ranks before this one than the run does)");
  if (const char* a = getenv("MASTER_ADDR")) e.master_addr = a;
  e.master_port = env_int(getenv, "MASTER_PORT", 0);
  GPTCU_USER_CHECK(e.master_port < 65536, "environment variable MASTER_PORT=", e.master_port, " is not a port");
  return e;
}

DistEnv dist_env() {
  static const DistEnv env = parse_dist_env([](const char* name) { return std::getenv(name); });
  return env;
}

// ---------------------------------------------------------------- watchdog

struct Communicator::Watchdog {
  std::mutex mu;
  std::condition_variable cv;
  const char* op = nullptr;  // the collective in flight, or null
  std::chrono::steady_clock::time_point since;
  double timeout_s = 0;
  int rank = 0, world = 1;
  bool stop = false;
  std::thread thread;

  void run() {
    std::unique_lock<std::mutex> lock(mu);
    while (!stop) {
      cv.wait_for(lock, std::chrono::milliseconds(200));
      if (!op || timeout_s <= 0) continue;
      const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
      if (waited < timeout_s) continue;
      // The main thread is blocked inside the collective: nothing can unwind it. Say why, end.
      std::fprintf(stderr,
                   "gptcu: rank %d of %d: %s did not complete within %.0f s (train.comm_timeout_s / "
                   "GPTCU_COMM_TIMEOUT_S): another rank died or hangs; exiting\n",
                   rank, world, op, timeout_s);
      std::fflush(stderr);
      std::_Exit(4);
    }
  }
  ~Watchdog() {
    {
      std::lock_guard<std::mutex> lock(mu);
      stop = true;
    }
    cv.notify_all();
    if (thread.joinable()) thread.join();
  }
};

Communicator::~Communicator() = default;

void Communicator::set_timeout(double seconds) {
  GPTCU_USER_CHECK(seconds >= 0, "communication timeout ", seconds, " s: must be >= 0 (0: none)");
  timeout_s_ = seconds;
  if (world() == 1) return;  // single: nothing can hang
  if (!watchdog_) {
    watchdog_ = std::make_shared<Watchdog>();
    watchdog_->rank = rank();
    watchdog_->world = world();
    watchdog_->thread = std::thread([w = watchdog_.get()] { w->run(); });
  }
  std::lock_guard<std::mutex> lock(watchdog_->mu);
  watchdog_->timeout_s = seconds;
}

Communicator::Watch::Watch(Communicator& c, const char* op) : c_(c) {
  if (!c_.watchdog_) return;
  std::lock_guard<std::mutex> lock(c_.watchdog_->mu);
  c_.watchdog_->op = op;
  c_.watchdog_->since = std::chrono::steady_clock::now();
}

Communicator::Watch::~Watch() {
  if (!c_.watchdog_) return;
  std::lock_guard<std::mutex> lock(c_.watchdog_->mu);
  c_.watchdog_->op = nullptr;
}

// ---------------------------------------------------------------- tensor forms

namespace {
void check_buffer(const Communicator& c, const Tensor& t, const char* op) {
  GPTCU_CHECK(t.defined(), op, ": undefined tensor");
  GPTCU_CHECK(t.device() == c.device(), op, ": tensor ", t.str(), " is not on the communicator's device ",
              c.device().str(), " (", c.name(), ")");
  GPTCU_CHECK(t.dtype() == DType::f32 || t.dtype() == DType::f64, op, ": tensor ", t.str(), " is not f32 or f64");
}
}  // namespace

void Communicator::all_reduce(const Tensor& t, ReduceOp op) {
  check_buffer(*this, t, "all_reduce");
  all_reduce(t.raw(), t.numel(), t.dtype(), op);
}

void Communicator::reduce_scatter(const Tensor& send, const Tensor& recv, ReduceOp op) {
  check_buffer(*this, send, "reduce_scatter");
  check_buffer(*this, recv, "reduce_scatter");
  GPTCU_CHECK(send.dtype() == recv.dtype() && send.numel() == recv.numel() * world(), "reduce_scatter: send ",
              send.str(), " must hold world (", world(), ") x recv ", recv.str());
  reduce_scatter(send.raw(), recv.raw(), recv.numel(), recv.dtype(), op);
}

void Communicator::all_gather(const Tensor& send, const Tensor& recv) {
  check_buffer(*this, send, "all_gather");
  check_buffer(*this, recv, "all_gather");
  GPTCU_CHECK(send.dtype() == recv.dtype() && recv.numel() == send.numel() * world(), "all_gather: recv ",
              recv.str(), " must hold world (", world(), ") x send ", send.str());
  all_gather(send.raw(), recv.raw(), send.numel(), send.dtype());
}

void Communicator::broadcast(const Tensor& t, int root) {
  check_buffer(*this, t, "broadcast");
  broadcast(t.raw(), t.numel(), t.dtype(), root);
}

// ---------------------------------------------------------------- single process

namespace {

class SingleCommunicator : public Communicator {
 public:
  explicit SingleCommunicator(Device d) : device_(d) {}
  int rank() const override { return 0; }
  int world() const override { return 1; }
  Device device() const override { return device_; }
  std::string name() const override { return "single"; }
  void all_reduce(void*, int64_t, DType, ReduceOp) override {}
  void reduce_scatter(const void* send, void* recv, int64_t n, DType t, ReduceOp) override { copy(send, recv, n, t); }
  void all_gather(const void* send, void* recv, int64_t n, DType t) override { copy(send, recv, n, t); }
  void broadcast(void*, int64_t, DType, int root) override { GPTCU_CHECK(root == 0, "broadcast from rank ", root, " of 1"); }
  void barrier() override {}
  void all_reduce_host(double*, int64_t, ReduceOp) override {}
  [[noreturn]] void abort(const std::string& message, int exit_code) override {
    std::fprintf(stderr, "%s\n", message.c_str());
    std::fflush(stderr);
    std::_Exit(exit_code);
  }

 private:
  void copy(const void* send, void* recv, int64_t n, DType t) {
    GPTCU_CHECK(device_.is_cpu(), "the single-process communicator copies on the CPU only (", device_.str(), ")");
    if (send != recv) std::memmove(recv, send, (size_t)n * dtype_size(t));
  }
  Device device_;
};

}  // namespace

std::unique_ptr<Communicator> make_single_communicator(Device device) {
  return std::make_unique<SingleCommunicator>(device);
}

std::vector<std::string> communicator_backends() {
  std::vector<std::string> b = {"single"};
#ifdef GPTCU_HAVE_MPI
  b.push_back("mpi");
#endif
#ifdef GPTCU_HAVE_NCCL
  b.push_back("nccl");
#endif
  return b;
}

std::string requested_backend(Device device, const std::function<const char*(const char*)>& getenv) {
  const char* v = getenv("GPTCU_COMM");
  const std::string want = v ? v : "";
  if (want.empty() || want == "auto") return "auto";
  GPTCU_USER_CHECK(want == "single" || want == "mpi" || want == "nccl", "GPTCU_COMM='", want,
                   "': expected auto, single, mpi or nccl");
  GPTCU_USER_CHECK(want != "mpi" || device.is_cpu(), "GPTCU_COMM=mpi with device ", device.str(),
                   ": MPI reduces CPU buffers; GPUs use nccl");
  GPTCU_USER_CHECK(want != "nccl" || !device.is_cpu(), "GPTCU_COMM=nccl with device cpu: NCCL reduces GPU buffers; ",
                   "the CPU uses mpi");
  return want;
}

Communicator& process_communicator(Device device) {
  static std::unique_ptr<Communicator> comm;
  if (comm) {
    GPTCU_CHECK(comm->device().kind == device.kind, "this process already communicates on ", comm->device().str(),
                ", now asked for ", device.str());
    return *comm;
  }
  const DistEnv env = dist_env();
  std::string backend = requested_backend(device, [](const char* name) { return std::getenv(name); });
  if (backend == "auto") backend = env.world == 1 ? "single" : device.is_cpu() ? "mpi" : "nccl";
  GPTCU_USER_CHECK(backend != "single" || env.world == 1, "GPTCU_COMM=single but the environment (", env.source,
                   ") says world size ", env.world);
  if (backend == "single") {
    comm = make_single_communicator(device);
  } else if (backend == "mpi") {
#ifdef GPTCU_HAVE_MPI
    comm = detail::make_mpi_communicator(env);
#else
    user_error("world size ", env.world, " (", env.source, ") on the CPU needs the MPI backend, and this build has ",
               "no MPI (apt-get install libopenmpi-dev openmpi-bin, then re-run cmake)");
#endif
  } else {
#ifdef GPTCU_HAVE_NCCL
    comm = detail::make_nccl_communicator(env, device);
#else
    user_error("world size ", env.world, " on ", device.str(), " needs the NCCL backend, and this build has no ",
               "CUDA/NCCL");
#endif
  }
  if (const char* t = std::getenv("GPTCU_COMM_TIMEOUT_S")) {
    char* end = nullptr;
    const double s = std::strtod(t, &end);
    GPTCU_USER_CHECK(end && *end == '\0' && s >= 0, "GPTCU_COMM_TIMEOUT_S='", t, "' is not a number of seconds");
    comm->set_timeout(s);
  }
  return *comm;
}

}  // namespace gptcu
