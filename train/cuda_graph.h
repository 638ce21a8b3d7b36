// train/cuda_graph.h: one micro-batch (forward + backward) replayed as a CUDA graph
// (train.cuda_graph: true).
//
// A GPT-2 micro-batch launches a few hundred kernels; launched one by one, the host pays a few
// microseconds each and the GPU idles between short ones. With fixed shapes the sequence never
// changes, so it is recorded once (stream capture) and replayed with one cudaGraphLaunch:
//
//   MicroBatchGraph graph(device);
//   for each micro-batch:
//     objective.stage_batch(i, &tokens);         // host: read the batch, copy it into fixed buffers
//     Tensor loss = graph.run([&] {               // 1st call: eager (warms caches and allocator);
//       Tensor l = objective.staged_loss();       // 2nd: captured, then launched; later: replayed
//       autograd::backward(l, scale);
//       return l;
//     });
//
// What makes a replay correct:
// - Inputs: the body reads only buffers whose addresses never change (the staged batch, the
//   parameters and their flat gradient buffer); the host copies new data into them before run().
// - Memory: everything allocated (or freed) during capture belongs to a private pool of the
//   allocator (core/allocator.h), so no other tensor gets those addresses while the graph lives.
// - The body must not synchronise with the host (no item(), no device-to-host copy): the GPU
//   ops of pretraining and SFT do not. A body that breaks capture (any CUDA error while
//   capturing) is not fatal: the graph is dropped, a warning says why, and the micro-batch and
//   every later one run eagerly. Nothing was executed during the failed capture, so the
//   micro-batch is simply run again.
// - The scale (1 / grad_accum_steps) is recorded into the graph: it must not change.
// The loss returned is the same device tensor on every replay (overwritten by the next run()):
// read or accumulate it before calling run() again.
#pragma once
#include <functional>
#include <iosfwd>
#include <string>

#include "core/tensor.h"

namespace gptcu {

class MicroBatchGraph {
 public:
  // log: where the one-line notes go (captured, or why capture failed).
  MicroBatchGraph(Device device, std::ostream& log);
  ~MicroBatchGraph();
  MicroBatchGraph(const MicroBatchGraph&) = delete;
  MicroBatchGraph& operator=(const MicroBatchGraph&) = delete;

  Tensor run(const std::function<Tensor()>& body);
  bool captured() const { return exec_ != nullptr; }
  int replays() const { return replays_; }

 private:
  Tensor capture(const std::function<Tensor()>& body);
  void destroy();

  Device device_;
  std::ostream& log_;
  int calls_ = 0, replays_ = 0, pool_ = 0;
  bool failed_ = false;
  void* exec_ = nullptr;  // cudaGraphExec_t
  Tensor loss_;           // the captured body's loss: written by every replay
};

}  // namespace gptcu
