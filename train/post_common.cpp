// train/post_common.cpp
#include "train/post_common.h"

#include "core/comm.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "data/chat_template.h"
#include "data/shard_corpus.h"
#include "model/weights.h"
#include "train/checkpoint.h"
#include "train/pretrain.h"

namespace fs = std::filesystem;

namespace gptcu {

std::string resolve_checkpoint(const std::string& path, const std::string& key) {
  GPTCU_USER_CHECK(!path.empty(), key, " is not set: name a checkpoint directory or a run directory");
  GPTCU_USER_CHECK(fs::exists(path), key, ": '", path, "' does not exist");
  const std::string ckpt = find_latest_checkpoint(path);
  GPTCU_USER_CHECK(!ckpt.empty(), key, ": '", path, "' holds no checkpoint");
  return ckpt;
}

StartingPoint start_from(const Config& config, bool value_head, std::ostream& log) {
  StartingPoint s{resolve_checkpoint(config.model.init_from, "model.init_from"), config, BpeTokenizer::bytes()};
  const Config saved = checkpoint_config(s.checkpoint);
  s.config.model = saved.model;
  s.config.model.init_from = config.model.init_from;
  s.config.model.value_head = value_head;
  s.tokenizer = checkpoint_tokenizer(s.checkpoint);
  log << "init: " << s.checkpoint << " (" << gpt_config(s.config.model, s.tokenizer.vocab_size()).str() << ")\n";
  return s;
}

std::unique_ptr<GPT> load_model(const std::string& ckpt, bool value_head) {
  const Config saved = checkpoint_config(ckpt);
  const BpeTokenizer tok = checkpoint_tokenizer(ckpt);
  GPTConfig gc = gpt_config(saved.model, tok.vocab_size());
  const bool saved_head = gc.value_head;
  GPTCU_USER_CHECK(saved_head == value_head || value_head, "checkpoint ", ckpt,
                   " has a value head: it is a reward model or critic, not a language model");
  gc.value_head = value_head;
  auto model = std::make_unique<GPT>(gc);
  model->init_weights(1);  // everything but the head is overwritten below; the head starts at 0
  load_weights(*model, (fs::path(ckpt) / "model.safetensors").string(), /*value_head_may_be_missing=*/!saved_head);
  return model;
}

void check_same_tokenizer(const BpeTokenizer& model_tok, const BpeTokenizer& data_tok, const std::string& what) {
  GPTCU_USER_CHECK(model_tok.vocab_size() == data_tok.vocab_size(), what, " was tokenized with ", data_tok.name(),
                   " (", data_tok.vocab_size(), " ids), the model with ", model_tok.name(), " (",
                   model_tok.vocab_size(), " ids): prepare the data with the model's tokenizer");
  for (const char* sp : {kEndOfText, kSystemToken, kUserToken, kAssistantToken, kEndToken, kPadToken})
    GPTCU_USER_CHECK(model_tok.special_id(sp) == data_tok.special_id(sp), what, ": special token ", sp, " has id ",
                     data_tok.special_id(sp), " in the data but ", model_tok.special_id(sp), " in the model's tokenizer");
}

void check_prepared_data(const Config& config, const BpeTokenizer& model_tok, const std::string& reads) {
  GPTCU_USER_CHECK(is_prepared_dir(config.data.path), "data.path '", config.data.path,
                   "' is not a `gptcu data prepare` directory (", reads, ")");
  check_same_tokenizer(model_tok, prepared_tokenizer(config.data.path), "data.path " + config.data.path);
}

void save_run_tokenizer(const Config& config, const BpeTokenizer& tokenizer) {
  try {
    fs::create_directories(config.run.dir);
  } catch (const fs::filesystem_error& e) {
    user_error("run.dir '", config.run.dir, "' cannot be created: ", e.code().message());
  }
  if (dist_env().rank == 0) tokenizer.save((fs::path(config.run.dir) / "tokenizer").string());  // one writer
}

SeqBatch make_seq_batch(const std::vector<std::vector<int32_t>>& prompts,
                        const std::vector<std::vector<int32_t>>& responses, int32_t pad, int max_len) {
  GPTCU_CHECK(prompts.size() == responses.size() && !prompts.empty(), "make_seq_batch: ", prompts.size(),
              " prompts, ", responses.size(), " responses");
  SeqBatch b;
  b.B = (int)prompts.size();
  std::vector<size_t> keep(b.B);  // prompt tokens kept (from the right)
  for (int i = 0; i < b.B; i++) {
    const size_t R = responses[i].size();
    GPTCU_USER_CHECK(R > 0, "make_seq_batch: response ", i, " is empty");
    GPTCU_USER_CHECK((int)R < max_len, "a response of ", R, " tokens does not fit the context of ", max_len);
    keep[i] = std::min(prompts[i].size(), (size_t)max_len - R);
    GPTCU_USER_CHECK(keep[i] > 0, "make_seq_batch: prompt ", i, " is empty");
    if (keep[i] < prompts[i].size()) b.truncated++;
    b.T = std::max(b.T, (int)(keep[i] + R));
  }
  std::vector<int32_t> tokens((size_t)b.B * b.T, pad), targets((size_t)b.B * b.T, -1), last(b.B);
  std::vector<float> mask((size_t)b.B * b.T, 0.0f);
  for (int i = 0; i < b.B; i++) {
    const auto& p = prompts[i];
    const auto& r = responses[i];
    const int P = (int)keep[i], R = (int)r.size();
    int32_t* row = &tokens[(size_t)i * b.T];
    std::copy(p.end() - P, p.end(), row);
    std::copy(r.begin(), r.end(), row + P);
    for (int j = 0; j < R; j++) {
      targets[(size_t)i * b.T + P - 1 + j] = r[j];
      mask[(size_t)i * b.T + P - 1 + j] = 1.0f;
    }
    last[i] = P + R - 1;
    b.response_start.push_back(P - 1);
    b.response_len.push_back(R);
  }
  b.tokens = Tensor::from_vector(tokens, {b.B, b.T});
  b.targets = Tensor::from_vector(targets, {b.B, b.T});
  b.mask = Tensor::from_vector(mask, {b.B, b.T});
  b.last = Tensor::from_vector(last, {b.B});
  return b;
}

Tensor gather_rows(const Tensor& x, const std::vector<int>& rows) {
  GPTCU_CHECK(x.dim() >= 1, "gather_rows: ", x.str());
  Shape shape = x.shape();
  const int64_t B = shape[0], row_bytes = (int64_t)x.nbytes() / std::max<int64_t>(B, 1);
  shape[0] = (int64_t)rows.size();
  Tensor out = Tensor::empty(shape, x.dtype(), x.device());
  for (size_t i = 0; i < rows.size(); i++) {
    GPTCU_CHECK(rows[i] >= 0 && rows[i] < B, "gather_rows: row ", rows[i], " of ", B);
    std::memcpy((char*)out.raw() + i * row_bytes, (const char*)x.raw() + rows[i] * row_bytes, row_bytes);
  }
  return out;
}

SeqBatch select_rows(const SeqBatch& b, const std::vector<int>& rows) {
  SeqBatch s;
  s.B = (int)rows.size();
  s.T = b.T;
  s.tokens = gather_rows(b.tokens, rows);
  s.targets = gather_rows(b.targets, rows);
  s.mask = gather_rows(b.mask, rows);
  s.last = gather_rows(b.last, rows);
  for (int r : rows) {
    s.response_start.push_back(b.response_start[r]);
    s.response_len.push_back(b.response_len[r]);
  }
  return s;
}

void MetricMeans::add(const std::string& name, double value, double weight) {
  auto it = std::find(names_.begin(), names_.end(), name);
  if (it == names_.end()) {
    names_.push_back(name);
    sums_.push_back(0);
    weights_.push_back(0);
    it = names_.end() - 1;
  }
  const size_t i = (size_t)(it - names_.begin());
  sums_[i] += value * weight;
  weights_[i] += weight;
}

std::vector<Metric> MetricMeans::take() {
  std::vector<Metric> out;
  for (size_t i = 0; i < names_.size(); i++)
    if (weights_[i] > 0) out.push_back({names_[i], sums_[i] / weights_[i]});
  names_.clear();
  sums_.clear();
  weights_.clear();
  return out;
}

}  // namespace gptcu
