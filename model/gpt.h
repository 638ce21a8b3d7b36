// model/gpt.h: the GPT-2 model built from core ops.
//
//   tokens (B, T) -> wte + wpe -> n_layer x [ x += attn(ln_1(x)); x += mlp(ln_2(x)) ]
//                 -> ln_f -> logits (B, T, Vp) = x @ wte^T   (tied embeddings)
//
// With `value_head`, a scalar head reads the final hidden states (Hugging Face
// GPT2ForSequenceClassification's "score.weight", no bias): values (B, T) = h @ score^T.
// The reward model reads it at the last token; the PPO critic at every response token. It
// starts at zero (a critic that predicts 0 until it learns, the PPO-for-RLHF convention).
//
// Pre-LayerNorm, learned positions, tanh-GELU MLP (4C), causal attention, no dropout.
// Parameters carry Hugging Face GPT2LMHeadModel's names and layouts (Conv1D weights are
// (in, out)), so they round-trip through safetensors (model/weights.h). The vocabulary is
// padded to a multiple of 128 (Vp) for fast matmuls; the padded rows of wte stay zero and
// the loss never sees them.
//
// All parameters live in one flat f32 buffer and their gradients in another, so that the
// optimizer, gradient clipping and (later) all-reduce see one contiguous array.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace gptcu {

struct KVCache;  // model/kv_cache.h

struct GPTConfig {
  int n_layer = 12;
  int n_head = 12;
  int n_embd = 768;
  int block_size = 1024;
  int vocab_size = 50257;
  bool value_head = false;  // a scalar head "score.weight" (1, C): reward model, PPO critic
  int padded_vocab_size() const { return (vocab_size + 127) / 128 * 128; }
  bool operator==(const GPTConfig&) const = default;
  // "n_layer=4 n_head=4 n_embd=128 block_size=64 vocab_size=257" (+ " value_head")
  std::string str() const;
};

// Activation recompute (train.recompute): which activations the backward recomputes instead of
// keeping from the forward. gelu: the MLP's GELU output (N, 4C) per layer (ops::gelu_linear);
// layernorm: the outputs (N, C) of ln_1 and ln_2 per layer (ops::layernorm_linear). Loss and
// gradients are the same bits either way; only memory and time change.
struct Recompute {
  bool gelu = false;
  bool layernorm = false;
  // "none" | "gelu" | "layernorm" | "all"; anything else is a UserError naming `what`
  static Recompute parse(const std::string& mode, const std::string& what = "train.recompute");
  std::string str() const;  // the mode name parse() reads
  bool operator==(const Recompute&) const = default;
};

// Told when the gradients of the flat parameters from an offset to the end are final during a
// backward pass, so that data parallelism can start reducing them while the backward goes on
// (train/data_parallel.h). The flat layout follows the forward: wte, wpe, h.0 ... h.L-1, ln_f
// (score); a backward finishes it from the end, except wte and wpe (the tied LM head adds into wte
// first, the embedding last).
class GradListener {
 public:
  virtual ~GradListener() = default;
  // Forward, grad mode on: the parameters from `flat_begin` up to the next mark are used by the ops
  // recorded from here on (the mark sits at the start of each block and before ln_f).
  virtual void forward_marked(int64_t flat_begin) = 0;
  // Backward: every op recorded after that mark has added its gradients.
  virtual void backward_reached(int64_t flat_begin) = 0;
};

struct Parameter {
  std::string name;   // Hugging Face name, e.g. "transformer.h.0.attn.c_attn.weight"
  Tensor value;       // a view into GPT's flat parameter buffer
  bool weight_decay;  // true for 2-D weights (matmuls, embeddings), false for biases and LayerNorm
  float init_std;     // normal(0, init_std); 0: constant init_value
  float init_value;
};

class GPT {
 public:
  explicit GPT(const GPTConfig& config);
  GPT(const GPT&) = delete;  // a copy would share the parameter buffers; the optimizer holds a GPT&
  GPT& operator=(const GPT&) = delete;

  const GPTConfig& config() const { return config_; }
  std::vector<Parameter>& parameters() { return params_; }
  const std::vector<Parameter>& parameters() const { return params_; }
  Parameter& parameter(const std::string& name);  // Error if absent
  Tensor flat_parameters() const { return flat_params_; }
  Tensor flat_gradients() const { return flat_grads_; }

  // Where the parameters live and their storage type: cpu/f32 after construction; a CUDA model is
  // bf16 (mixed precision: the optimizer keeps fp32 master weights) or f32 (`precision: fp32`).
  Device device() const { return flat_params_.device(); }
  DType dtype() const { return flat_params_.dtype(); }
  // Moves parameters and gradient buffers (zeroed) to `device` as `dtype`; Parameter::value and
  // every handle follow. Returns the flat parameters as they were before the move (e.g. the fp32
  // CPU values an optimizer keeps as master weights). Inputs given to forward()/loss() on the CPU
  // are checked there, then copied to the model's device.
  Tensor to(Device device, DType dtype);

  // Parameter count as Hugging Face counts it (real vocabulary rows only).
  int64_t num_parameters() const;
  // The same from the shapes alone, without building a model.
  static int64_t count_parameters(const GPTConfig& config);

  // GPT-2 initialisation: N(0, 0.02), the residual projections (attn.c_proj, mlp.c_proj)
  // N(0, 0.02/sqrt(2 n_layer)), biases 0, LayerNorm weights 1; padded vocab rows 0.
  // Each parameter draws from its own RNG stream of `seed`, so init is order-independent.
  void init_weights(uint64_t seed);

  // tokens (B, T) i32 -> final hidden states (B, T, C), after ln_f
  Tensor hidden_states(const Tensor& tokens);
  // tokens (B, T) -> logits (B, T, Vp)
  Tensor forward(const Tensor& tokens);
  // Generation through a KV cache (defined in model/kv_cache.cpp): tokens (B, Tn) go at
  // positions cache.length[b]..+Tn-1 of row b -> logits (B, Tn, Vp); then length[b] += Tn.
  Tensor forward_cached(const Tensor& tokens, KVCache& cache);
  // hidden (B, T, C) from hidden_states() -> logits (B, T, Vp) (the tied LM head)
  Tensor lm_logits(const Tensor& hidden);
  // hidden (B, T, C) -> values (B, T) of the scalar head (Error if the model has none)
  Tensor values(const Tensor& hidden);
  // mean next-token cross-entropy; targets (B, T) i32 (< 0: ignored), mask (B, T) f32 optional
  Tensor loss(const Tensor& tokens, const Tensor& targets, const Tensor& mask = {});

  void zero_grad() { flat_grads_.zero(); }

  // Checks ids (i32, on the CPU) lie in [lo, hi) before they go to the GPU, where a bad one would
  // read out of bounds: Error naming `what` ("token", "target") and the id.
  void check_ids(const Tensor& ids, int64_t lo, int64_t hi, const char* what) const;

  // Marks on the tape for a listener (null: none, the default); see GradListener.
  void set_grad_listener(GradListener* listener) { listener_ = listener; }
  GradListener* grad_listener() const { return listener_; }

  // Which activations block() recomputes in the backward (default: none).
  void set_recompute(Recompute recompute) { recompute_ = recompute; }
  Recompute recompute() const { return recompute_; }

 private:
  // (Re)builds every Parameter view and handle over flat parameter and gradient buffers.
  void bind(Tensor flat_params, Tensor flat_grads);
  Tensor p(const std::string& name) const;
  // tokens (B, T) i32 on the model's device (checked on the host, then copied)
  Tensor on_device(const Tensor& t, int upper_bound, const char* what) const;

  // Tells the listener, and records its backward mark (grad mode only).
  void mark(const Tensor& first_param);

  GPTConfig config_;
  GradListener* listener_ = nullptr;
  std::vector<Parameter> params_;
  Tensor flat_params_, flat_grads_;
  // per-layer parameter handles, looked up once
  struct Layer {
    Tensor ln_1_w, ln_1_b, c_attn_w, c_attn_b, attn_proj_w, attn_proj_b;
    Tensor ln_2_w, ln_2_b, c_fc_w, c_fc_b, mlp_proj_w, mlp_proj_b;
  };
  std::vector<Layer> layers_;
  // One transformer block, x (B, T, C) -> (B, T, C), with `attend` mapping qkv (B, T, 3C) to
  // (B, T, C): causal attention (training) or attention over a KV cache (generation).
  Tensor block(const Layer& L, const Tensor& x, const std::function<Tensor(const Tensor&)>& attend);
  Tensor wte_, wpe_, ln_f_w_, ln_f_b_, score_w_;
  Recompute recompute_;
};

}  // namespace gptcu
