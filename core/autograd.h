// core/autograd.h: reverse-mode automatic differentiation on a tape.
//
// A differentiable op computes its output, then (if grad mode is on and an input requires a
// gradient) records a Node: the output plus a backward closure. backward(loss) seeds
// d loss = 1, walks the tape in reverse and runs each closure, which reads its output's
// gradient and ADDS (+=) into its inputs' gradients (allocated and zeroed on first use, see
// Tensor::grad_or_zeros). The output's gradient of an intermediate is freed as soon as its
// node has run. Leaves (parameters) keep theirs until zeroed by the optimizer.
//
// The tape is per thread. NoGradGuard turns recording off for generation, reference models
// and evaluation.
#pragma once
#include <functional>
#include <vector>

#include "core/tensor.h"

namespace gptcu::autograd {

bool grad_enabled();

class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

// True if grad mode is on and any of the inputs requires a gradient.
bool needs_grad(std::initializer_list<const Tensor*> inputs);

// Records `output` as produced by an op whose gradient is computed by `backward` (which
// reads output.grad() and accumulates into its inputs). Marks output as requiring grad.
void record(const Tensor& output, std::function<void()> backward);

// Records a node with no output that backward() always runs, at its place in reverse order: when
// it runs, every op recorded after it has had its backward run. Used to learn when gradients are
// final (GPT::GradListener). Nothing is recorded when grad mode is off.
void record_marker(std::function<void()> reached);

// Runs the tape backwards from a one-element loss tensor (seed gradient: `seed`), then
// clears the tape.
void backward(const Tensor& loss, float seed = 1.0f);

// Drops all recorded nodes without running them (e.g. after a forward that needs no backward).
void clear_tape();
size_t tape_size();

}  // namespace gptcu::autograd
