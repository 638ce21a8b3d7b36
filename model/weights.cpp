// model/weights.cpp: GPT weights <-> safetensors (see model/weights.h).
#include "model/weights.h"

#include <cstring>

#include "model/safetensors.h"

namespace gptcu {
namespace {
// The HF shape of a parameter: wte without the padding rows.
Shape hf_shape(const GPT& model, const Parameter& p) {
  Shape s = p.value.shape();
  if (p.name == "transformer.wte.weight") s[0] = model.config().vocab_size;
  return s;
}

bool is_attention_buffer(const std::string& name) {
  auto ends_with = [&](const char* suffix) {
    const size_t n = std::strlen(suffix);
    return name.size() >= n && name.compare(name.size() - n, n, suffix) == 0;
  };
  return ends_with(".attn.bias") || ends_with(".attn.masked_bias");
}
}  // namespace

void save_weights(const GPT& model, const std::string& path,
                  const std::map<std::string, std::string>& metadata) {
  std::vector<SafeTensorView> views;
  for (const Parameter& p : model.parameters()) {
    const Shape s = hf_shape(model, p);
    views.push_back({p.name, "F32", s, p.value.raw(), (size_t)shape_numel(s) * sizeof(float)});
  }
  auto meta = metadata;
  meta["format"] = "pt";
  write_safetensors(path, views, meta);
}

void load_weights(GPT& model, const std::string& path, bool value_head_may_be_missing) {
  SafetensorsFile file(path);
  // Which naming does the file use?
  const bool prefixed = file.contains("transformer.wte.weight");
  size_t used = 0;  // tensors taken from the file
  for (Parameter& p : model.parameters()) {
    const bool in_transformer = p.name.rfind("transformer.", 0) == 0;
    const std::string name = prefixed || !in_transformer ? p.name : p.name.substr(std::strlen("transformer."));
    if (name == "score.weight" && value_head_may_be_missing && !file.contains(name)) continue;
    GPTCU_USER_CHECK(file.contains(name), "weights file ", path, " has no tensor '", name, "'");
    const SafeTensorView& t = file.get(name);
    const Shape want = hf_shape(model, p);
    GPTCU_USER_CHECK(t.shape == want, "weights file ", path, ": tensor '", name, "' has shape ",
                     shape_str(t.shape), ", the model (", model.config().str(), ") needs ", shape_str(want));
    GPTCU_USER_CHECK(t.dtype == "F32", "weights file ", path, ": tensor '", name, "' is ", t.dtype,
                     ", only F32 is supported");
    p.value.zero();  // the padded vocabulary rows stay zero
    std::memcpy(p.value.raw(), t.data, t.nbytes);
    used++;
  }
  // A tensor the model has no place for means the file is from another architecture
  // (e.g. more layers): refuse rather than silently drop it.
  if (file.names().size() > used) {
    for (const std::string& name : file.names()) {
      if (name == "lm_head.weight" || is_attention_buffer(name)) continue;
      const std::string full = prefixed || name == "score.weight" ? name : "transformer." + name;
      bool found = false;
      for (const Parameter& p : model.parameters()) found = found || p.name == full;
      GPTCU_USER_CHECK(found, "weights file ", path, " has tensor '", name, "' that the model (",
                       model.config().str(), ") does not have");
    }
  }
}

}  // namespace gptcu
