// train/memory_plan.cpp: the memory plan of train/memory_plan.h.
//
// Notation: N = B*T rows, e = bytes of the model's dtype, f = 4 (fp32), u = N*C*e (one (N, C)
// activation or gradient), tt = B*NH*T*T (attention probabilities).
//
// Activations held by the tape after the forward (each line is an op's saved output or state):
//   inputs: token ids and targets, 2 N i32;   embedding: u
//   per block (GPT::block):
//     ln_1 output u (dropped by layernorm recompute) + mean, rstd 2 N f
//     c_attn output (qkv) 3u
//     attention output u + probabilities tt e (materialized) or lse B NH T f (flash)
//     attn c_proj output u, residual u
//     ln_2 output u (dropped by layernorm recompute) + mean, rstd 2 N f
//     c_fc output (pre-GELU) 4u
//     GELU output 4u (dropped by gelu recompute)
//     mlp c_proj output u, residual u
//   ln_f: u + 2 N f;   logits: N Vp e
//   cross-entropy: per-token losses N f (+ lse N f on cuda), mean weights N f, the loss (+ count)
//
// The backward's transient peak: the tape releases no activation before the backward ends, and each
// node's output gradient is freed after the node runs, so the peak is the activations plus the
// largest set of gradients (and temporaries, scratch) live at one node. Per node, walking a block
// backwards (dx2 the block output's gradient; "+ lin(OC)" the bias column-sum scratch of a linear
// backward, "+ ln" the LayerNorm's, both cuda only):
//   residual:        dx2, dx1, dm                                   3u
//   mlp c_proj:      dx1, dm, dg 4u                   + lin(C)      6u    (gelu recompute: + g 4u = 10u)
//   gelu:            dx1, dg 4u, dpre 4u                            9u    (gelu recompute: dx1, dm, dg, dpre = 10u)
//   c_fc:            dx1, dpre 4u, dh2                + lin(4C)     6u    (layernorm recompute: + h = 7u)
//   ln_2:            dx1, dh2                         + ln          2u    (layernorm recompute: dx1, dpre, dh = 6u)
//   residual:        dx1, dx, dproj                                 3u
//   attn c_proj:     dx, dproj, da                    + lin(C)      3u
//   attention:       dx, da, dqkv 3u                  + scratch     5u    (cuda materialized: fp32 scores,
//                                                                          q/k/v per head: 28 N C + 8 tt bytes;
//                                                                          flash: D (B, NH, T) f)
//   c_attn:          dx, dqkv 3u, dh1                 + lin(3C)     5u    (layernorm recompute: + h = 6u)
//   ln_1:            dx, dh1                          + ln          2u
// and at the head: cross-entropy dlosses N f + dlogits; the LM head dlogits + dhidden u + lin(Vp).
// The forward's temporaries (gelu_linear's g, the interim attention's scratch) exist while fewer
// activations are held than at the matching backward node, so the backward peak covers them.
#include "train/memory_plan.h"

#include <algorithm>
#include <iomanip>
#include <sstream>

#include "core/allocator.h"
#include "core/check.h"

namespace gptcu {
namespace {

// The number of fixed row ranges of the CUDA column sums (kernels/cuda/cuda_common.cuh row_chunks:
// ranges of max(32, ceil(N / 256)) rows), bounded above by min(256, ceil(N / 32)), which, unlike
// the exact count, never falls as N grows (so the plan's total grows with B).
int64_t row_chunk_count(int64_t N) { return std::min<int64_t>(256, (N + 31) / 32); }

constexpr int64_t kCublasLtWorkspace = 32ll << 20;  // kernels/cuda/matmul_cache.cu

}  // namespace

MemoryPlan plan_memory(const MemoryPlanSpec& s) {
  const GPTConfig& m = s.model;
  const bool cuda = !s.device.is_cpu();
  const bool flash = s.attention == AttentionKind::flash;
  GPTCU_CHECK(s.batch >= 1 && s.seq >= 0 && s.optimizer_shards >= 1, "plan_memory: batch ", s.batch, ", seq ", s.seq,
              ", shards ", s.optimizer_shards);
  GPTCU_CHECK(cuda || s.dtype == DType::f32, "plan_memory: the CPU computes in f32");
  GPTCU_CHECK(!flash || (cuda && s.dtype == DType::bf16), "plan_memory: flash attention is CUDA bf16 only");
  const int64_t B = s.batch, T = s.seq > 0 ? s.seq : m.block_size, C = m.n_embd, L = m.n_layer, NH = m.n_head;
  const int64_t Vp = m.padded_vocab_size();
  const int64_t e = (int64_t)dtype_size(s.dtype), f = 4;
  const int64_t N = B * T, u = N * C * e, stats = 2 * N * f, tt = B * NH * T * T;
  const bool rc_ln = s.recompute.layernorm, rc_gelu = s.recompute.gelu;

  MemoryPlan p;
  p.spec = s;
  p.spec.seq = T;
  const int64_t flat = GPT::count_parameters(m) + (Vp - m.vocab_size) * C;  // GPT's flat buffer
  p.parameters = flat * e;
  p.gradients = flat * e;
  const int64_t shard = (flat + s.optimizer_shards - 1) / s.optimizer_shards;
  p.optimizer = shard * f * (s.master_weights ? 3 : 2);
  // ZeRO-1's scratch (train/data_parallel.cpp): a padded copy of the gradients (shards x S) and the
  // averaged shard, in the gradients' type
  if (s.optimizer_shards > 1) p.optimizer += (s.optimizer_shards + 1) * shard * e;

  // ---- activations held after the forward (see the table above)
  int64_t layer = 0;
  layer += (rc_ln ? 0 : u) + stats;                  // ln_1
  layer += 3 * u;                                    // qkv
  layer += u + (flash ? B * NH * T * f : tt * e);    // attention output + probabilities or lse
  layer += 2 * u;                                    // attn c_proj output, residual
  layer += (rc_ln ? 0 : u) + stats;                  // ln_2
  layer += 4 * u;                                    // c_fc output
  layer += rc_gelu ? 0 : 4 * u;                      // GELU output
  layer += 2 * u;                                    // mlp c_proj output, residual
  p.per_layer = layer;
  p.logits = N * Vp * e;
  const int64_t cross_entropy = cuda ? 3 * N * f + 2 * f : 2 * N * f + f;
  const int64_t inputs = 2 * N * (int64_t)sizeof(int32_t);
  p.activations = inputs + u + L * layer + (u + stats) + p.logits + cross_entropy;

  // ---- the backward's transient peak
  auto lin = [&](int64_t OC) { return cuda ? row_chunk_count(N) * OC * f : 0; };
  const int64_t ln = cuda ? 2 * row_chunk_count(N) * C * f : 0;
  const int64_t att_scratch = !cuda ? 0 : flash ? B * NH * T * f : 7 * N * C * f + 2 * tt * f;
  const int64_t head = p.logits + std::max(N * f, u + lin(Vp));
  const int64_t ln_f = 2 * u + ln;
  const int64_t steps[] = {
      3 * u,                                                 // residual
      rc_gelu ? 10 * u + lin(C) : std::max(6 * u + lin(C), 9 * u),  // mlp c_proj and GELU
      rc_ln ? std::max(7 * u + lin(4 * C), 6 * u + ln) : std::max(6 * u + lin(4 * C), 2 * u + ln),  // c_fc, ln_2
      3 * u + lin(C),                                        // residual, attn c_proj
      5 * u + att_scratch,                                   // attention
      rc_ln ? std::max(6 * u + lin(3 * C), 5 * u + ln) : std::max(5 * u + lin(3 * C), 2 * u + ln),  // c_attn, ln_1
  };
  const int64_t block = *std::max_element(std::begin(steps), std::end(steps));
  p.transient = std::max({head, ln_f, block});
  p.workspace = cuda ? kCublasLtWorkspace : 0;
  return p;
}

std::string MemoryPlan::format(int64_t budget_bytes) const {
  const MemoryPlanSpec& s = spec;
  std::ostringstream os;
  auto line = [&](const char* what, int64_t bytes, const std::string& note) {
    os << "\n  " << std::left << std::setw(14) << what << std::right << std::setw(11) << format_bytes((double)bytes);
    if (!note.empty()) os << "  " << note;
  };
  os << "memory plan: " << s.device.str() << " " << dtype_name(s.dtype) << ", micro-batch " << s.batch << " x "
     << s.seq << ", recompute " << s.recompute.str() << ", attention "
     << (s.attention == AttentionKind::flash ? "flash" : "materialized");
  const int64_t elems = parameters / (int64_t)dtype_size(s.dtype);
  line("parameters", parameters, std::to_string(elems) + " values (padded vocabulary included)");
  line("gradients", gradients, "");
  line("optimizer", optimizer,
       std::string("AdamW m, v") + (s.master_weights ? " + fp32 master weights" : "") +
           (s.optimizer_shards > 1
                ? ", 1/" + std::to_string(s.optimizer_shards) + " (ZeRO-1, + its padded gradient scratch)"
                : ""));
  line("activations", activations,
       format_bytes((double)per_layer) + " per layer x " + std::to_string(s.model.n_layer) + ", logits " +
           format_bytes((double)logits));
  line("backward peak", transient, "on top of the activations");
  if (workspace > 0) line("workspace", workspace, "cuBLASLt");
  line("total", total(), "");
  if (budget_bytes > 0) {
    const int64_t b = largest_micro_batch(budget_bytes, s);
    os << "\n  budget " << format_bytes((double)budget_bytes) << ": largest micro-batch that fits "
       << (b > 0 ? std::to_string(b) : std::string("none")) << " (leaving " << (int)(kMemoryPlanMargin * 100)
       << "% spare)";
  }
  return os.str();
}

int64_t largest_micro_batch(int64_t budget_bytes, MemoryPlanSpec spec, int64_t max_batch) {
  const double usable = (1.0 - kMemoryPlanMargin) * (double)budget_bytes;
  auto fits = [&](int64_t b) {
    spec.batch = b;
    return (double)plan_memory(spec).total() <= usable;
  };
  if (max_batch < 1 || !fits(1)) return 0;
  // total() grows with B (every term is non-decreasing in B), so bisect on [1, max_batch]
  int64_t lo = 1, hi = max_batch;
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo + 1) / 2;
    if (fits(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

}  // namespace gptcu
