// train/memory_plan.h: the memory a training run needs, from the shapes alone, printed at start-up,
// and the largest micro-batch that fits a budget (issue 6).
//
//   MemoryPlanSpec spec{.model = cfg, .batch = 8, .seq = 1024, .device = gpu, .dtype = DType::bf16,
//                       .master_weights = true, .recompute = Recompute::parse("all"),
//                       .attention = AttentionKind::flash};
//   log(plan_memory(spec).format(free_bytes));
//   int64_t B = largest_micro_batch(free_bytes, spec);
//
// Parts: parameters and gradients (GPT's flat buffers, padded vocabulary rows included),
// optimizer state (AdamW's fp32 m and v, plus the fp32 master weights of a bf16 model; divided
// over the ranks with ZeRO-1, which adds its reduce-scatter scratch: a padded copy of the
// gradients and the averaged shard, in the gradients' type), activations (every tensor the autograd tape holds at the end of
// the forward: per block, read from the ops' forward code; the embedding, ln_f, logits (B, T, Vp),
// the cross-entropy's saved rows and the token ids), and the transient peak of the backward on top
// of them (the tape frees no activation before the backward ends, so the peak is the activations
// plus the largest set of live activation gradients, recomputed temporaries and kernel scratch
// at any one node; the forward's own temporaries are smaller, see the .cpp). The model is per
// device, because the ops keep different things there:
//   cpu:  f32 everything; attention keeps its (B, NH, T, T) probabilities; no kernel scratch.
//   cuda: activations in the model's dtype, LayerNorm statistics and losses in fp32; the interim
//         attention keeps (B, NH, T, T) probabilities and takes fp32 (B, NH, T, T) scores as
//         scratch, flash keeps only lse (B, NH, T) fp32; column-sum scratch of the bias and
//         LayerNorm gradients; the 32 MiB cuBLASLt workspace.
// Not counted: the CUDA context, the caching allocator's rounding and cached free blocks, host
// memory of the data loader. largest_micro_batch() leaves kMemoryPlanMargin of the budget for
// them.
#pragma once
#include <cstdint>
#include <string>

#include "core/dtype.h"
#include "model/gpt.h"

namespace gptcu {

// How attention keeps what its backward needs: materialized (the CPU op, and the interim CUDA
// kernel) keeps the (B, NH, T, T) probabilities; flash (CUDA, bf16) keeps lse (B, NH, T) fp32.
enum class AttentionKind { materialized, flash };

struct MemoryPlanSpec {
  GPTConfig model;
  int64_t batch = 1;             // micro-batch B
  int64_t seq = 0;               // T; 0: model.block_size
  Device device;                 // cpu or cuda: what the ops there keep
  DType dtype = DType::f32;      // parameters, gradients, activations (bf16 only on cuda)
  bool master_weights = false;   // fp32 master weights in the optimizer (a bf16 model on a GPU)
  int64_t optimizer_shards = 1;  // ZeRO-1: optimizer state split over this many ranks
  Recompute recompute;
  AttentionKind attention = AttentionKind::materialized;
};

struct MemoryPlan {
  MemoryPlanSpec spec;
  int64_t parameters = 0;   // bytes
  int64_t gradients = 0;
  int64_t optimizer = 0;
  int64_t activations = 0;  // held by the tape at the end of the forward
  int64_t per_layer = 0;    // of which one transformer block
  int64_t logits = 0;       // of which the logits (B, T, Vp)
  int64_t transient = 0;    // the most the backward holds on top of the activations
  int64_t workspace = 0;    // fixed per device (cuBLASLt)
  int64_t total() const { return parameters + gradients + optimizer + activations + transient + workspace; }
  // One block of lines for the start-up log; with budget_bytes > 0, a last line with the budget and
  // the largest micro-batch that fits it.
  std::string format(int64_t budget_bytes = 0) const;
};

MemoryPlan plan_memory(const MemoryPlanSpec& spec);

// Share of a budget left unplanned: allocator rounding and fragmentation, the CUDA context's
// growth, small buffers not modelled.
constexpr double kMemoryPlanMargin = 0.10;

// The largest B in [1, max_batch] with plan_memory(spec at B).total() <= (1 - kMemoryPlanMargin) *
// budget_bytes (spec.batch is ignored); 0 when not even B = 1 fits. budget_bytes is all the device
// memory the run may use, the model and optimizer included (e.g. cudaMemGetInfo's free bytes
// before the model moves to the GPU).
int64_t largest_micro_batch(int64_t budget_bytes, MemoryPlanSpec spec, int64_t max_batch = 1 << 20);

}  // namespace gptcu
