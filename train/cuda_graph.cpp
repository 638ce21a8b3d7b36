// train/cuda_graph.cpp: see train/cuda_graph.h.
#include "train/cuda_graph.h"

#include <ostream>

#include "core/allocator.h"
#include "core/autograd.h"
#include "core/cuda.h"

#ifdef GPTCU_HAVE_CUDA
#include <cuda_runtime.h>

#include "kernels/cuda/cuda_check.h"
#endif

namespace gptcu {

MicroBatchGraph::MicroBatchGraph(Device device, std::ostream& log) : device_(device), log_(log) {}

MicroBatchGraph::~MicroBatchGraph() { destroy(); }

void MicroBatchGraph::destroy() {
#ifdef GPTCU_HAVE_CUDA
  if (exec_) {
    cudaStreamSynchronize(cuda_stream(device_));  // no replay may still be running
    cudaGraphExecDestroy(static_cast<cudaGraphExec_t>(exec_));
    exec_ = nullptr;
  }
#endif
  loss_ = Tensor();
  if (pool_) release_private_pool(device_, pool_);
  pool_ = 0;
}

Tensor MicroBatchGraph::run(const std::function<Tensor()>& body) {
  calls_++;
  // The CPU has no graphs; the first call on a GPU runs eagerly, so that the allocator's cache,
  // cuBLASLt's algorithm choices and one-time kernel attributes are settled before capture.
  if (device_.is_cpu() || failed_ || calls_ == 1) return body();
#ifdef GPTCU_HAVE_CUDA
  if (!exec_) return capture(body);
  GPTCU_CUDA_CHECK(cudaGraphLaunch(static_cast<cudaGraphExec_t>(exec_), cuda_stream(device_)));
  replays_++;
  return loss_;
#else
  return body();
#endif
}

Tensor MicroBatchGraph::capture(const std::function<Tensor()>& body) {
#ifdef GPTCU_HAVE_CUDA
  cudaStream_t stream = cuda_stream(device_);
  pool_ = begin_private_pool(device_);
  cudaGraph_t graph = nullptr;
  std::string why;
  // Relaxed: a cudaMalloc on an allocator cache miss stays legal while capturing.
  cudaError_t err = cudaStreamBeginCapture(stream, cudaStreamCaptureModeRelaxed);
  if (err == cudaSuccess) {
    try {
      loss_ = body();
    } catch (const std::exception& e) {
      why = e.what();
      autograd::clear_tape();
    }
    err = cudaStreamEndCapture(stream, &graph);  // ends capture even after a failure inside
    if (why.empty() && err != cudaSuccess) why = cudaGetErrorString(err);
  } else {
    why = cudaGetErrorString(err);
  }
  end_private_pool(device_);
  cudaGraphExec_t exec = nullptr;
  if (why.empty()) {
    err = cudaGraphInstantiate(&exec, graph, 0);
    if (err != cudaSuccess) why = std::string("cudaGraphInstantiate: ") + cudaGetErrorString(err);
  }
  if (graph) cudaGraphDestroy(graph);
  if (!why.empty()) {
    cudaGetLastError();  // capture errors are not sticky: clear the last error and go on eagerly
    failed_ = true;
    destroy();
    log_ << "cuda graph: capture failed (" << why << "); running every micro-batch eagerly\n";
    return body();  // nothing ran while capturing: run this micro-batch for real
  }
  exec_ = exec;
  GPTCU_CUDA_CHECK(cudaGraphLaunch(exec, stream));  // capture only recorded the work: run it
  replays_++;
  log_ << "cuda graph: micro-batch captured (forward + backward in one launch)\n";
  return loss_;
#else
  return body();
#endif
}

}  // namespace gptcu
