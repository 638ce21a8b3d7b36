// model/gpt.cpp: GPT-2 parameters, initialisation and forward pass.
#include "model/gpt.h"

#include <cmath>
#include <limits>
#include <sstream>

#include "core/autograd.h"
#include "core/ops.h"
#include "core/rng.h"

namespace gptcu {

std::string GPTConfig::str() const {
  std::ostringstream os;
  os << "n_layer=" << n_layer << " n_head=" << n_head << " n_embd=" << n_embd
     << " block_size=" << block_size << " vocab_size=" << vocab_size;
  if (value_head) os << " value_head";
  return os.str();
}

Recompute Recompute::parse(const std::string& mode, const std::string& what) {
  if (mode == "none") return {};
  if (mode == "gelu") return {true, false};
  if (mode == "layernorm") return {false, true};
  if (mode == "all") return {true, true};
  throw UserError(what + ": expected none, gelu, layernorm or all, got '" + mode + "'");
}

std::string Recompute::str() const {
  return gelu && layernorm ? "all" : gelu ? "gelu" : layernorm ? "layernorm" : "none";
}

namespace {
// The parameter list in Hugging Face order: (name, shape, decay, init std, init value).
struct ParamSpec {
  std::string name;
  Shape shape;
  bool decay;
  float std;
  float value;
};

std::vector<ParamSpec> param_specs(const GPTConfig& c) {
  GPTCU_USER_CHECK(c.n_layer > 0 && c.n_head > 0 && c.n_embd > 0 && c.block_size > 0 && c.vocab_size > 0,
                   "model sizes must be positive: ", c.str());
  GPTCU_USER_CHECK(c.n_embd % c.n_head == 0, "model.n_embd (", c.n_embd, ") must be divisible by model.n_head (", c.n_head, ")");
  const int64_t C = c.n_embd, Vp = c.padded_vocab_size();
  const float std = 0.02f, proj_std = 0.02f / std::sqrt(2.0f * (float)c.n_layer);
  std::vector<ParamSpec> s;
  s.push_back({"transformer.wte.weight", {Vp, C}, true, std, 0});
  s.push_back({"transformer.wpe.weight", {c.block_size, C}, true, std, 0});
  for (int l = 0; l < c.n_layer; l++) {
    const std::string h = "transformer.h." + std::to_string(l) + ".";
    s.push_back({h + "ln_1.weight", {C}, false, 0, 1});
    s.push_back({h + "ln_1.bias", {C}, false, 0, 0});
    s.push_back({h + "attn.c_attn.weight", {C, 3 * C}, true, std, 0});
    s.push_back({h + "attn.c_attn.bias", {3 * C}, false, 0, 0});
    s.push_back({h + "attn.c_proj.weight", {C, C}, true, proj_std, 0});
    s.push_back({h + "attn.c_proj.bias", {C}, false, 0, 0});
    s.push_back({h + "ln_2.weight", {C}, false, 0, 1});
    s.push_back({h + "ln_2.bias", {C}, false, 0, 0});
    s.push_back({h + "mlp.c_fc.weight", {C, 4 * C}, true, std, 0});
    s.push_back({h + "mlp.c_fc.bias", {4 * C}, false, 0, 0});
    s.push_back({h + "mlp.c_proj.weight", {4 * C, C}, true, proj_std, 0});
    s.push_back({h + "mlp.c_proj.bias", {C}, false, 0, 0});
  }
  s.push_back({"transformer.ln_f.weight", {C}, false, 0, 1});
  s.push_back({"transformer.ln_f.bias", {C}, false, 0, 0});
  if (c.value_head) s.push_back({"score.weight", {1, C}, true, 0, 0});
  return s;
}
}  // namespace

GPT::GPT(const GPTConfig& config) : config_(config) {
  int64_t total = 0;
  for (const auto& s : param_specs(config)) total += shape_numel(s.shape);
  bind(Tensor::zeros({total}), Tensor::zeros({total}));
}

void GPT::bind(Tensor flat_params, Tensor flat_grads) {
  flat_params_ = std::move(flat_params);
  flat_grads_ = std::move(flat_grads);
  params_.clear();
  layers_.clear();
  int64_t offset = 0;
  for (const auto& s : param_specs(config_)) {
    const int64_t n = shape_numel(s.shape);
    Tensor value = flat_params_.slice0(offset, offset + n).view(s.shape);
    value.set_requires_grad(true);
    // The gradient is a view into the flat gradient buffer: backward accumulates there.
    value.impl().grad = flat_grads_.slice0(offset, offset + n).view(s.shape).impl_ptr();
    params_.push_back({s.name, value, s.decay, s.std, s.value});
    offset += n;
  }
  wte_ = p("transformer.wte.weight");
  wpe_ = p("transformer.wpe.weight");
  ln_f_w_ = p("transformer.ln_f.weight");
  ln_f_b_ = p("transformer.ln_f.bias");
  if (config_.value_head) score_w_ = p("score.weight");
  for (int l = 0; l < config_.n_layer; l++) {
    const std::string h = "transformer.h." + std::to_string(l) + ".";
    layers_.push_back(Layer{p(h + "ln_1.weight"), p(h + "ln_1.bias"), p(h + "attn.c_attn.weight"),
                            p(h + "attn.c_attn.bias"), p(h + "attn.c_proj.weight"), p(h + "attn.c_proj.bias"),
                            p(h + "ln_2.weight"), p(h + "ln_2.bias"), p(h + "mlp.c_fc.weight"),
                            p(h + "mlp.c_fc.bias"), p(h + "mlp.c_proj.weight"), p(h + "mlp.c_proj.bias")});
  }
}

Tensor GPT::to(Device device, DType dtype) {
  GPTCU_CHECK(dtype == DType::f32 || (dtype == DType::bf16 && !device.is_cpu()), "GPT::to(", device.str(), ", ",
              dtype_name(dtype), "): the CPU computes in f32");
  Tensor before = flat_params_;
  if (device == this->device() && dtype == this->dtype()) return before;
  Tensor params = flat_params_.to(device, dtype);
  Tensor grads = Tensor::zeros(params.shape(), dtype, device);
  bind(params, grads);
  return before;
}

void GPT::check_ids(const Tensor& ids, int64_t lo, int64_t hi, const char* what) const {
  GPTCU_CHECK(ids.dtype() == DType::i32 && ids.device().is_cpu(), "GPT::check_ids: ", ids.str());
  const int32_t* v = ids.data<int32_t>();
  for (int64_t i = 0, n = ids.numel(); i < n; i++)
    GPTCU_CHECK(v[i] >= lo && v[i] < hi, "GPT: ", what, " id ", v[i], " outside [", lo, ", ", hi, ")");
}

Tensor GPT::on_device(const Tensor& t, int upper_bound, const char* what) const {
  if (!t.defined() || t.device() == device()) return t;
  // ids: a bad one would read out of bounds on the GPU, so check here (targets < 0 are ignored)
  if (t.dtype() == DType::i32) check_ids(t, std::numeric_limits<int32_t>::min(), upper_bound, what);
  return t.to(device());
}

Parameter& GPT::parameter(const std::string& name) {
  for (auto& prm : params_)
    if (prm.name == name) return prm;
  throw Error("GPT has no parameter '" + name + "'");
}

Tensor GPT::p(const std::string& name) const { return const_cast<GPT*>(this)->parameter(name).value; }

int64_t GPT::count_parameters(const GPTConfig& config) {
  int64_t total = 0;
  for (const auto& s : param_specs(config)) total += shape_numel(s.shape);
  return total - (int64_t)(config.padded_vocab_size() - config.vocab_size) * config.n_embd;
}

int64_t GPT::num_parameters() const { return count_parameters(config_); }

void GPT::init_weights(uint64_t seed) {
  for (size_t i = 0; i < params_.size(); i++) {
    Parameter& prm = params_[i];
    float* x = prm.value.data<float>();
    const int64_t n = prm.value.numel();
    if (prm.init_std > 0) {
      Rng rng(seed, /*stream=*/1000 + i);
      rng.fill_normal(x, n, 0.0f, prm.init_std);
    } else {
      for (int64_t j = 0; j < n; j++) x[j] = prm.init_value;
    }
  }
  // padded vocabulary rows: zero, forever (no gradient reaches them)
  const int64_t C = config_.n_embd;
  float* wte = wte_.data<float>();
  for (int64_t j = (int64_t)config_.vocab_size * C; j < wte_.numel(); j++) wte[j] = 0.0f;
}

Tensor GPT::hidden_states(const Tensor& tokens) {
  GPTCU_CHECK(tokens.dim() == 2, "GPT: tokens must be (B, T), got ", tokens.str());
  GPTCU_USER_CHECK(tokens.size(1) <= config_.block_size, "sequence of ", tokens.size(1),
                   " tokens is longer than the model's context (block_size ", config_.block_size, ")");
  if (!device().is_cpu() && tokens.device().is_cpu()) check_ids(tokens, 0, wte_.size(0), "token");
  Tensor x = ops::embedding(on_device(tokens, (int)wte_.size(0), "token"), wte_, wpe_);  // (B, T, C)
  for (const Layer& L : layers_) {
    mark(L.ln_1_w);
    x = block(L, x, [&](const Tensor& qkv) { return ops::attention(qkv, config_.n_head); });
  }
  mark(ln_f_w_);
  return ops::layernorm(x, ln_f_w_, ln_f_b_);
}

void GPT::mark(const Tensor& first_param) {
  if (!listener_ || !autograd::grad_enabled()) return;
  const int64_t at = ((const char*)first_param.raw() - (const char*)flat_params_.raw()) / (int64_t)dtype_size(dtype());
  listener_->forward_marked(at);
  // The listener is looked up when the mark is reached: one gone by then (a tape left behind by an
  // exception) is not called.
  autograd::record_marker([this, at] {
    if (listener_) listener_->backward_reached(at);
  });
}

Tensor GPT::block(const Layer& L, const Tensor& x_in, const std::function<Tensor(const Tensor&)>& attend) {
  // linear(layernorm(x)) and linear(gelu(pre)), fused when recomputing (the same values; see Recompute)
  auto ln_linear = [&](const Tensor& x, const Tensor& ln_w, const Tensor& ln_b, const Tensor& w, const Tensor& b) {
    return recompute_.layernorm ? ops::layernorm_linear(x, ln_w, ln_b, w, b)
                                : ops::linear(ops::layernorm(x, ln_w, ln_b), w, b);
  };
  Tensor a = attend(ln_linear(x_in, L.ln_1_w, L.ln_1_b, L.c_attn_w, L.c_attn_b));  // qkv (B, T, 3C) -> (B, T, C)
  Tensor x = ops::add(x_in, ops::linear(a, L.attn_proj_w, L.attn_proj_b));
  Tensor pre = ln_linear(x, L.ln_2_w, L.ln_2_b, L.c_fc_w, L.c_fc_b);  // (B, T, 4C)
  Tensor m = recompute_.gelu ? ops::gelu_linear(pre, L.mlp_proj_w, L.mlp_proj_b)
                             : ops::linear(ops::gelu(pre), L.mlp_proj_w, L.mlp_proj_b);
  return ops::add(x, m);  // (B, T, C)
}

Tensor GPT::lm_logits(const Tensor& hidden) {
  // tied LM head: logits (B, T, Vp) = h @ wte^T
  return ops::linear(hidden, wte_, Tensor(), ops::WeightLayout::out_in);
}

Tensor GPT::forward(const Tensor& tokens) { return lm_logits(hidden_states(tokens)); }

Tensor GPT::values(const Tensor& hidden) {
  GPTCU_CHECK(config_.value_head, "GPT::values: the model (", config_.str(), ") has no value head");
  GPTCU_CHECK(hidden.dim() == 3, "GPT::values: hidden must be (B, T, C), got ", hidden.str());
  Tensor v = ops::linear(hidden, score_w_, Tensor(), ops::WeightLayout::out_in);  // (B, T, 1)
  return ops::reshape(v, {hidden.size(0), hidden.size(1)});
}

Tensor GPT::loss(const Tensor& tokens, const Tensor& targets, const Tensor& mask) {
  return ops::cross_entropy(forward(tokens), on_device(targets, config_.vocab_size, "target"), config_.vocab_size,
                            on_device(mask, 0, "mask"));
}

}  // namespace gptcu
