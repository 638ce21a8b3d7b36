// train/checkpoint.cpp
#include "train/checkpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "model/safetensors.h"
#include "model/weights.h"

namespace fs = std::filesystem;

namespace gptcu {
namespace {

constexpr const char* kPrefix = "step_";

void fsync_path(const fs::path& p) {
  const int fd = ::open(p.c_str(), O_RDONLY);
  GPTCU_USER_CHECK(fd >= 0, "cannot open '", p.string(), "' to sync it");
  ::fsync(fd);
  ::close(fd);
}

void write_text_file(const fs::path& p, const std::string& text) {
  {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    GPTCU_USER_CHECK(out.good(), "cannot write '", p.string(), "'");
    out << text;
    out.flush();
    GPTCU_USER_CHECK(out.good(), "error writing '", p.string(), "' (disk full?)");
  }
  fsync_path(p);
}

std::string read_text_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  GPTCU_USER_CHECK(in.good(), "cannot read '", p.string(), "'");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// step number of a complete checkpoint directory name, or -1
int64_t step_of(const fs::path& dir) {
  const std::string name = dir.filename().string();
  if (name.rfind(kPrefix, 0) != 0) return -1;
  const std::string digits = name.substr(std::strlen(kPrefix));
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) return -1;
  return std::stoll(digits);
}

bool is_checkpoint(const fs::path& dir) {
  return fs::is_directory(dir) && fs::exists(dir / "state.json") && fs::exists(dir / "model.safetensors");
}

std::vector<std::pair<int64_t, fs::path>> list_checkpoints(const fs::path& ckpt_root) {
  std::vector<std::pair<int64_t, fs::path>> found;
  if (!fs::is_directory(ckpt_root)) return found;
  for (const auto& e : fs::directory_iterator(ckpt_root)) {
    const int64_t s = step_of(e.path());
    if (s >= 0 && is_checkpoint(e.path())) found.emplace_back(s, e.path());
  }
  std::sort(found.begin(), found.end());
  return found;
}

}  // namespace

void write_file_atomic(const std::string& path, const std::string& text) {
  const fs::path p(path);
  const fs::path tmp = p.parent_path() / (".tmp-" + p.filename().string() + "-" + std::to_string(::getpid()));
  write_text_file(tmp, text);
  fs::rename(tmp, p);
}

void remove_partial_checkpoints(const std::string& run_dir) {
  const fs::path root = fs::path(run_dir) / "checkpoints";
  if (!fs::is_directory(root)) return;
  for (const auto& e : fs::directory_iterator(root))
    if (e.path().filename().string().rfind(".tmp-", 0) == 0) fs::remove_all(e.path());
}

std::string save_checkpoint(const std::string& run_dir, const GPT& model, const OptimizerState& opt,
                            const TrainerState& state, const Config& config, int keep) {
  const fs::path root = fs::path(run_dir) / "checkpoints";
  fs::create_directories(root);
  char name[64];
  std::snprintf(name, sizeof name, "%s%08lld", kPrefix, (long long)state.step);
  const fs::path final_dir = root / name;
  const fs::path tmp = root / (std::string(".tmp-") + name + "-" + std::to_string(::getpid()));
  fs::remove_all(tmp);
  fs::create_directories(tmp);

  save_weights(model, (tmp / "model.safetensors").string(), {{"step", std::to_string(state.step)}});
  const Tensor m = opt.exp_avg, v = opt.exp_avg_sq;
  GPTCU_CHECK(m.numel() == model.flat_parameters().numel() && v.numel() == m.numel(), "optimizer state ", m.str(),
              " for ", model.flat_parameters().str(), " parameters");
  write_safetensors((tmp / "optimizer.safetensors").string(),
                    {{"exp_avg", "F32", m.shape(), m.raw(), m.nbytes()},
                     {"exp_avg_sq", "F32", v.shape(), v.raw(), v.nbytes()}},
                    {{"optimizer", "adamw"}, {"steps", std::to_string(opt.steps)}});
  nlohmann::json js = {{"format", 1},
                       {"step", state.step},
                       {"optimizer_steps", opt.steps},
                       {"train_batches", state.train_batches},
                       {"data_position", state.data_position},
                       {"seed", config.train.seed},
                       {"world_size", state.world_size},
                       {"last_val_loss", state.last_val_loss},
                       {"model", model.config().str()}};
  write_text_file(tmp / "state.json", js.dump(2) + "\n");
  write_text_file(tmp / "config.yaml", dump_config(config));
  // The run's tokenizer (saved by the objective at start-up) goes with every checkpoint, so a
  // checkpoint directory alone is enough to sample from.
  for (const char* f : {kTokenizerFile, kTokenizerMetaFile})
    if (fs::exists(fs::path(run_dir) / f)) {
      fs::copy_file(fs::path(run_dir) / f, tmp / f);
      fsync_path(tmp / f);
    }
  fsync_path(tmp);

  // Publish: rename is atomic. The trainer never saves a step twice into one run.dir (a fresh
  // run refuses a run.dir that holds checkpoints), so the target cannot exist.
  GPTCU_CHECK(!fs::exists(final_dir), "checkpoint ", final_dir.string(), " already exists");
  fs::rename(tmp, final_dir);
  fsync_path(root);

  if (keep > 0) {
    auto all = list_checkpoints(root);
    for (size_t i = 0; i + (size_t)keep < all.size(); i++) {
      // rename first, so that a kill mid-delete leaves a .tmp- leftover (cleaned up by the
      // next run), never a half-deleted step_* directory
      const fs::path doomed = root / (".tmp-prune-" + all[i].second.filename().string());
      fs::remove_all(doomed);
      fs::rename(all[i].second, doomed);
      fs::remove_all(doomed);
    }
  }
  return final_dir.string();
}

std::string find_latest_checkpoint(const std::string& path) {
  const fs::path p(path);
  GPTCU_USER_CHECK(fs::exists(p), "checkpoint path '", path, "' does not exist");
  if (is_checkpoint(p)) return p.string();
  for (const fs::path& root : {p / "checkpoints", p}) {
    auto all = list_checkpoints(root);
    if (!all.empty()) return all.back().second.string();
  }
  return "";
}

Config checkpoint_config(const std::string& dir) {
  const fs::path p(dir);
  GPTCU_USER_CHECK(is_checkpoint(p), "'", dir, "' is not a checkpoint directory (no state.json/model.safetensors)");
  return parse_config(read_text_file(p / "config.yaml"), (p / "config.yaml").string());
}

namespace {
nlohmann::json checkpoint_state_json(const std::string& dir) {
  const fs::path p(dir);
  GPTCU_USER_CHECK(is_checkpoint(p), "'", dir, "' is not a checkpoint directory (no state.json/model.safetensors)");
  try {
    return nlohmann::json::parse(read_text_file(p / "state.json"));
  } catch (const nlohmann::json::exception& e) {
    user_error("checkpoint ", dir, ": state.json is corrupt: ", e.what());
  }
}
}  // namespace

int checkpoint_world_size(const std::string& dir) { return checkpoint_state_json(dir).value("world_size", 1); }

std::string checkpoint_model(const std::string& dir) { return checkpoint_state_json(dir).value("model", std::string()); }

void load_checkpoint(const std::string& dir, GPT& model, AdamW* opt, TrainerState* state) {
  if (!opt) return load_checkpoint_state(dir, model, nullptr, state);
  GPTCU_CHECK(opt->begin() == 0 && opt->end() == model.flat_parameters().numel(),
              "load_checkpoint into a sharded optimizer: load an OptimizerState and cut the shard out");
  OptimizerState s = optimizer_state(*opt);
  load_checkpoint_state(dir, model, &s, state);
  opt->set_steps_taken(s.steps);
}

void load_checkpoint_state(const std::string& dir, GPT& model, OptimizerState* opt, TrainerState* state) {
  const fs::path p(dir);
  const nlohmann::json js = checkpoint_state_json(dir);
  const std::string saved_model = js.value("model", std::string());
  GPTCU_USER_CHECK(saved_model == model.config().str(), "checkpoint ", dir, " holds a model with ", saved_model,
                   ", but the config asks for ", model.config().str());
  load_weights(model, (p / "model.safetensors").string());
  TrainerState saved;
  int64_t optimizer_steps = 0;
  try {
    saved.step = js.at("step").get<int64_t>();
    saved.train_batches = js.at("train_batches").get<uint64_t>();
    saved.last_val_loss = js.value("last_val_loss", -1.0);
    saved.data_position = js.value("data_position", std::string());
    saved.world_size = js.value("world_size", 1);
    optimizer_steps = js.at("optimizer_steps").get<int64_t>();
  } catch (const nlohmann::json::exception& e) {
    user_error("checkpoint ", dir, ": state.json is damaged: ", e.what());
  }
  if (opt) {
    SafetensorsFile f((p / "optimizer.safetensors").string());
    for (const auto& [name, dst] : {std::pair{"exp_avg", opt->exp_avg}, std::pair{"exp_avg_sq", opt->exp_avg_sq}}) {
      const SafeTensorView& t = f.get(name);
      GPTCU_USER_CHECK(t.nbytes == dst.nbytes(), "checkpoint ", dir, ": optimizer tensor ", name, " has the wrong size");
      std::memcpy(dst.raw(), t.data, t.nbytes);
    }
    opt->steps = optimizer_steps;
  }
  if (state) *state = saved;
}

}  // namespace gptcu
