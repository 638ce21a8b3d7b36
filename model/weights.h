// model/weights.h: GPT weights <-> safetensors files with Hugging Face GPT-2 names.
//
// The file holds f32 tensors named as GPT2LMHeadModel's state_dict ("transformer.h.0.ln_1.weight",
// ...), wte with the real vocabulary rows only, and no lm_head.weight (tied to wte), which is what
// `GPT2LMHeadModel.save_pretrained(..., safe_serialization=True)` writes. Loading also accepts the
// unprefixed names of the original GPT-2 checkpoints ("h.0.ln_1.weight") and skips the attention
// mask buffers ("h.N.attn.bias", "h.N.attn.masked_bias") those carry. A model with a value head
// adds "score.weight" (1, C), as GPT2ForSequenceClassification names it.
#pragma once
#include <map>
#include <string>

#include "model/gpt.h"

namespace gptcu {

void save_weights(const GPT& model, const std::string& path,
                  const std::map<std::string, std::string>& metadata = {});

// Every parameter must be present with the right shape: UserError naming the tensor otherwise.
// With `value_head_may_be_missing`, a file without "score.weight" (a language model loaded into
// a reward model or critic) leaves the model's scalar head as it is.
void load_weights(GPT& model, const std::string& path, bool value_head_may_be_missing = false);

}  // namespace gptcu
