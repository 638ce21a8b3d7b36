// core/autograd.cpp: the tape.
#include "core/autograd.h"

namespace gptcu::autograd {
namespace {
struct Node {
  Tensor output;  // undefined for a marker
  std::function<void()> backward;
};
thread_local std::vector<Node> t_tape;
thread_local bool t_grad_enabled = true;
}  // namespace

bool grad_enabled() { return t_grad_enabled; }
NoGradGuard::NoGradGuard() : previous_(t_grad_enabled) { t_grad_enabled = false; }
NoGradGuard::~NoGradGuard() { t_grad_enabled = previous_; }

bool needs_grad(std::initializer_list<const Tensor*> inputs) {
  if (!t_grad_enabled) return false;
  for (const Tensor* t : inputs)
    if (t && t->defined() && t->requires_grad()) return true;
  return false;
}

void record(const Tensor& output, std::function<void()> backward) {
  Tensor out = output;
  out.set_requires_grad(true);
  t_tape.push_back(Node{out, std::move(backward)});
}

void record_marker(std::function<void()> reached) {
  if (t_grad_enabled) t_tape.push_back(Node{Tensor(), std::move(reached)});
}

void backward(const Tensor& loss, float seed) {
  GPTCU_CHECK(loss.numel() == 1, "backward() needs a one-element loss, got ", loss.str());
  GPTCU_CHECK(loss.requires_grad(), "backward() on a loss that does not require grad");
  Tensor g = Tensor(loss).grad_or_zeros();
  g.fill(seed);
  // Nodes are in creation order, so when node i runs every consumer of its output (created
  // later) has already added into the output's gradient.
  try {
    for (size_t i = t_tape.size(); i-- > 0;) {
      Node& node = t_tape[i];
      if (!node.output.defined()) {  // a marker
        node.backward();
        continue;
      }
      if (node.output.grad().defined()) node.backward();
      node.output.clear_grad();  // intermediate: consumed
    }
  } catch (...) {
    clear_tape();  // never replay a half-run tape into the next backward()
    throw;
  }
  t_tape.clear();
}

void clear_tape() {
  for (Node& node : t_tape)
    if (node.output.defined()) node.output.clear_grad();
  t_tape.clear();
}
size_t tape_size() { return t_tape.size(); }

}  // namespace gptcu::autograd
