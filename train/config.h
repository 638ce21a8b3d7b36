// train/config.h: the run configuration, nanoGPT style.
//
// A typed struct with defaults in code, overridden by a YAML file, overridden by `--set`
// strings from the command line, then checked by validate_config() and printed in full
// (dump_config) at start-up:
//
//   Config c = load_config("configs/toy.yaml", {"model.n_layer=4", "train.lr=1e-3"});
//   std::cout << dump_config(c);
//
// The YAML file mirrors the structs: top-level `device`, and maps `model`, `data`, `train`,
// `run`. Every key is listed once, in the field table in config.cpp; adding a key is one
// member below plus one line there. Mistakes (unknown key, wrong type, bad YAML, missing
// file) are gptcu::UserError with the key, file and line, e.g.
//   unknown config key 'model.n_layers' at configs/x.yaml:3 (did you mean 'model.n_layer'?)
//   config model.n_layer at configs/x.yaml:3: expected an integer, got 'four'
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/prepare.h"

namespace gptcu {

struct ModelConfig {
  int n_layer = 12;
  int n_head = 12;
  int n_embd = 768;
  int block_size = 1024;
  int vocab_size = 0;  // 0: taken from the tokenizer
  // Post-training starts from a trained model: a checkpoint, or a run directory (its newest
  // checkpoint). Its shape replaces the sizes above; the optimizer starts fresh.
  std::string init_from;
  bool value_head = false;  // a scalar head (reward model, PPO critic); set by `gptcu reward` / `ppo`
};

struct DataConfig {
  std::string path;               // a text file (tokenized on the fly) or a `gptcu data prepare` directory
  std::string tokenizer = "byte";  // "byte", a GPT-2 directory or a .tiktoken file (data/bpe_tokenizer.h)
  double val_fraction = 0.1;
};

struct TrainConfig {
  int batch_size = 8;
  int grad_accum_steps = 1;
  int max_steps = 1000;
  double lr = 6e-4;
  double min_lr = 6e-5;
  int warmup_steps = 100;
  int lr_decay_steps = 0;              // 0: max_steps
  std::string lr_schedule = "cosine";  // cosine | linear | constant
  double weight_decay = 0.1;
  double beta1 = 0.9;
  double beta2 = 0.95;
  double eps = 1e-8;
  double grad_clip = 1.0;  // 0: off
  int eval_every = 250;    // 0: only at the end
  int eval_steps = 20;
  int checkpoint_every = 0;  // 0: only at the end
  int keep_checkpoints = 3;
  int log_every = 10;
  int64_t seed = 1337;
  // Data parallelism (several ranks: scripts/launch.sh, mpirun, srun; see train/data_parallel.h).
  // batch_size is per rank: the global batch is world x batch_size x grad_accum_steps.
  int zero = 0;                  // 0: every rank holds the optimizer state; 1: sharded (ZeRO-1)
  double bucket_mb = 25;         // gradient all-reduce bucket size (zero: 0)
  double comm_timeout_s = 600;   // a collective waiting longer ends the rank with a message (0: never)
  // Speed and memory (device: cuda; see docs/design-notes.md note 20).
  std::string recompute = "none";  // none | gelu | layernorm | all: activations recomputed in backward
  bool cuda_graph = false;         // capture a micro-batch's forward + backward once, replay it after
  bool deterministic = false;      // bitwise-reproducible GPU runs (same seed, same GPU -> same losses)
};

// `gptcu sft`: cross-entropy on assistant tokens (the mask of dialogue shards), packed windows.
struct SftConfig {
  int sample_prompts = 3;          // replies to this many validation prompts logged at each evaluation
  int sample_max_new_tokens = 48;
};

// `gptcu reward`: pairwise loss -log sigmoid(r_chosen - r_rejected - margin).
struct RewardConfig {
  double margin = 0.0;
};

// `gptcu dpo`
struct DpoConfig {
  double beta = 0.1;
  std::string reference;  // frozen reference model: "" = model.init_from
};

// `gptcu ppo` and `gptcu grpo`: rollouts, rewards, the clipped objective.
struct RlConfig {
  std::string reward = "verifier";  // verifier | model
  std::string verifier = "exact";   // exact | gsm8k (checks a reply against the prompt's answer)
  std::string reward_model;         // a reward checkpoint (gptcu reward) when reward: model
  std::string reference;            // frozen reference for the KL: "" = model.init_from
  std::string eval_prompts;         // held-out prompt shard: "" = DATA/val_prompts.bin
  int eval_max_prompts = 200;       // evaluation uses at most this many held-out prompts (greedy)
  int prompts_per_rollout = 16;     // prompts per rollout (GRPO: each sampled group_size times)
  int group_size = 8;               // GRPO samples per prompt
  int epochs = 2;                   // passes over each rollout
  int minibatches = 2;              // optimizer steps per pass
  int max_new_tokens = 16;
  double temperature = 1.0;
  int top_k = 0;
  double top_p = 1.0;
  double kl_coef = 0.05;       // PPO: per-token KL penalty in the reward; GRPO: k3 KL in the loss (0: off)
  double kl_target = 0.0;      // PPO: > 0 adapts kl_coef towards this KL per sequence (Ziegler et al.)
  double kl_horizon = 10000;
  double gamma = 1.0;
  double lam = 0.95;
  double clip_eps = 0.2;
  double value_clip_eps = 0.2;
  double vf_coef = 0.1;
  bool whiten_advantages = true;
  double no_stop_penalty = 1.0;  // subtracted from the score of a response that never ends
};

struct RunConfig {
  std::string dir = "runs/default";
};

struct Config {
  std::string device = "cpu";
  std::string precision = "bf16";  // on a GPU: bf16 parameters/activations + fp32 master weights, or fp32
  std::string attention = "auto";  // on a GPU: auto (flash where it applies) | flash | interim
  ModelConfig model;
  DataConfig data;
  TrainConfig train;
  RunConfig run;
  SftConfig sft;
  RewardConfig reward;
  DpoConfig dpo;
  RlConfig rl;
  PrepareConfig prepare;  // `gptcu data prepare`: inputs -> shards in data.path
};

// Defaults <- YAML file (if path is non-empty) <- overrides ("model.n_layer=4", "train.lr=1e-3",
// "device=cpu"; each value parsed as a YAML scalar). Then validate_config().
Config load_config(const std::string& path, const std::vector<std::string>& overrides = {});

// The same from YAML text; source_name is used in error messages in place of a file path.
Config parse_config(const std::string& yaml_text, const std::string& source_name,
                    const std::vector<std::string>& overrides = {});

// YAML with every key, as nested maps; parse_config(dump_config(c)) gives back c exactly.
std::string dump_config(const Config& c);

// Semantic checks (positive sizes, n_embd % n_head == 0, lr >= min_lr >= 0, known schedule,
// tokenizer and device, ...); a UserError naming the offending key.
void validate_config(const Config& c);

// Every dotted key, in table order (for help text and completion).
std::vector<std::string> config_keys();

}  // namespace gptcu
