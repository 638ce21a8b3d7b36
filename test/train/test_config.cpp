// test/train/test_config.cpp: the run config: defaults, YAML, --set overrides, dump round
// trip, and the messages of every kind of mistake (key, file and line named).
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "core/check.h"
#include "train/config.h"

using namespace gptcu;
using Catch::Matchers::Contains;

namespace {

// The UserError message of parse_config(text, "x.yaml", overrides), or "" if none is thrown.
std::string error_of(const std::string& text, const std::vector<std::string>& overrides = {}) {
  try {
    parse_config(text, "x.yaml", overrides);
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

const char* kFull = R"(# a full config
device: cuda:1
precision: fp32
attention: interim
model:
  n_layer: 4
  n_head: 4
  n_embd: 128
  block_size: 256
  vocab_size: 50257
  init_from: runs/sft
  value_head: true
data:
  path: data/shakespeare.txt
  tokenizer: byte
  val_fraction: 0.05
train:
  batch_size: 16
  grad_accum_steps: 2
  max_steps: 5000
  lr: 1e-3
  min_lr: 1.0e-4
  warmup_steps: 50
  lr_decay_steps: 4000
  lr_schedule: linear
  weight_decay: 0.0
  beta1: 0.8
  beta2: 0.99
  eps: 1e-6
  grad_clip: 0
  eval_every: 100
  eval_steps: 5
  checkpoint_every: 1000
  keep_checkpoints: 2
  log_every: 1
  seed: 9007199254740993
  zero: 1
  bucket_mb: 4.5
  comm_timeout_s: 30
  recompute: gelu
  cuda_graph: true
  deterministic: true
run:
  dir: runs/full
sft:
  sample_prompts: 5
  sample_max_new_tokens: 20
reward:
  margin: 0.5
dpo:
  beta: 0.2
  reference: runs/ref
rl:
  reward: model
  verifier: gsm8k
  reward_model: runs/rm
  reference: runs/ref2
  eval_prompts: data/test_prompts.bin
  eval_max_prompts: 50
  prompts_per_rollout: 8
  group_size: 4
  epochs: 3
  minibatches: 4
  max_new_tokens: 32
  temperature: 0.7
  top_k: 40
  top_p: 0.9
  kl_coef: 0.02
  kl_target: 6.0
  kl_horizon: 5000
  gamma: 0.99
  lam: 0.9
  clip_eps: 0.1
  value_clip_eps: 0.3
  vf_coef: 0.25
  whiten_advantages: false
  no_stop_penalty: 2.0
prepare:
  inputs: [a.txt, "b c.jsonl.gz"]
  kind: dialogue
  text_unit: line
  strict: true
  normalize: nfc
  invalid_utf8: drop
  dedup_exact: false
  dedup_near: false
  near_threshold: 0.7
  min_chars: 3
  max_chars: 5000
  max_dup_line_fraction: 0.5
  max_top_ngram_fraction: 0.25
  test_fraction: 0.01
  max_tokens: 1025
  shard_tokens: 1000000
  system_prompt: "You are helpful."
  threads: 2
)";

}  // namespace

TEST_CASE("config: defaults are nanoGPT's GPT-2 124M") {
  Config c;
  CHECK(c.device == "cpu");
  CHECK(c.model.n_layer == 12);
  CHECK(c.model.n_head == 12);
  CHECK(c.model.n_embd == 768);
  CHECK(c.model.block_size == 1024);
  CHECK(c.model.vocab_size == 0);
  CHECK(c.data.tokenizer == "byte");
  CHECK(c.train.lr == 6e-4);
  CHECK(c.train.min_lr == 6e-5);
  CHECK(c.train.lr_schedule == "cosine");
  CHECK(c.train.seed == 1337);
  CHECK(c.run.dir == "runs/default");
  CHECK_NOTHROW(validate_config(c));
  // An empty file and no file at all both give the defaults.
  CHECK(dump_config(parse_config("", "empty.yaml")) == dump_config(c));
  CHECK(dump_config(load_config("")) == dump_config(c));
}

TEST_CASE("config: a full file sets every key") {
  Config c = parse_config(kFull, "full.yaml");
  CHECK(c.device == "cuda:1");
  CHECK(c.precision == "fp32");
  CHECK(Config{}.precision == "bf16");
  CHECK_THROWS_WITH(validate_config([] {
                      Config bad;
                      bad.precision = "fp16";
                      return bad;
                    }()),
                    Catch::Contains("precision") && Catch::Contains("bf16 or fp32"));
  CHECK(c.model.n_layer == 4);
  CHECK(c.model.n_head == 4);
  CHECK(c.model.n_embd == 128);
  CHECK(c.model.block_size == 256);
  CHECK(c.model.vocab_size == 50257);
  CHECK(c.data.path == "data/shakespeare.txt");
  CHECK(c.data.tokenizer == "byte");
  CHECK(c.data.val_fraction == 0.05);
  CHECK(c.train.batch_size == 16);
  CHECK(c.train.grad_accum_steps == 2);
  CHECK(c.train.max_steps == 5000);
  CHECK(c.train.lr == 1e-3);
  CHECK(c.train.min_lr == 1e-4);
  CHECK(c.train.warmup_steps == 50);
  CHECK(c.train.lr_decay_steps == 4000);
  CHECK(c.train.lr_schedule == "linear");
  CHECK(c.train.weight_decay == 0.0);
  CHECK(c.train.beta1 == 0.8);
  CHECK(c.train.beta2 == 0.99);
  CHECK(c.train.eps == 1e-6);
  CHECK(c.train.grad_clip == 0.0);
  CHECK(c.train.eval_every == 100);
  CHECK(c.train.eval_steps == 5);
  CHECK(c.train.checkpoint_every == 1000);
  CHECK(c.train.keep_checkpoints == 2);
  CHECK(c.train.log_every == 1);
  CHECK(c.train.seed == 9007199254740993LL);  // > 2^53: not routed through a double
  CHECK(c.train.zero == 1);
  CHECK(c.train.bucket_mb == 4.5);
  CHECK(c.train.comm_timeout_s == 30);
  CHECK(c.attention == "interim");
  CHECK(c.train.recompute == "gelu");
  CHECK(c.train.cuda_graph);
  CHECK(c.train.deterministic);
  CHECK(Config{}.attention == "auto");
  CHECK(Config{}.train.recompute == "none");
  CHECK_FALSE(Config{}.train.cuda_graph);
  CHECK_FALSE(Config{}.train.deterministic);
  CHECK_THROWS_WITH(parse_config("train:\n  recompute: mlp\n", "x.yaml"),
                    Catch::Contains("train.recompute") && Catch::Contains("none, gelu, layernorm or all"));
  CHECK_THROWS_WITH(parse_config("attention: fast\n", "x.yaml"),
                    Catch::Contains("attention") && Catch::Contains("auto, flash or interim"));
  CHECK(c.run.dir == "runs/full");
  CHECK(c.model.init_from == "runs/sft");
  CHECK(c.model.value_head);
  CHECK(c.sft.sample_prompts == 5);
  CHECK(c.sft.sample_max_new_tokens == 20);
  CHECK(c.reward.margin == 0.5);
  CHECK(c.dpo.beta == 0.2);
  CHECK(c.dpo.reference == "runs/ref");
  CHECK(c.rl.reward == "model");
  CHECK(c.rl.verifier == "gsm8k");
  CHECK(c.rl.reward_model == "runs/rm");
  CHECK(c.rl.reference == "runs/ref2");
  CHECK(c.rl.eval_prompts == "data/test_prompts.bin");
  CHECK(c.rl.eval_max_prompts == 50);
  CHECK(c.rl.prompts_per_rollout == 8);
  CHECK(c.rl.group_size == 4);
  CHECK(c.rl.epochs == 3);
  CHECK(c.rl.minibatches == 4);
  CHECK(c.rl.max_new_tokens == 32);
  CHECK(c.rl.temperature == 0.7);
  CHECK(c.rl.top_k == 40);
  CHECK(c.rl.top_p == 0.9);
  CHECK(c.rl.kl_coef == 0.02);
  CHECK(c.rl.kl_target == 6.0);
  CHECK(c.rl.kl_horizon == 5000);
  CHECK(c.rl.gamma == 0.99);
  CHECK(c.rl.lam == 0.9);
  CHECK(c.rl.clip_eps == 0.1);
  CHECK(c.rl.value_clip_eps == 0.3);
  CHECK(c.rl.vf_coef == 0.25);
  CHECK_FALSE(c.rl.whiten_advantages);
  CHECK(c.rl.no_stop_penalty == 2.0);
  CHECK(c.prepare.inputs == std::vector<std::string>{"a.txt", "b c.jsonl.gz"});
  CHECK(c.prepare.kind == "dialogue");
  CHECK(c.prepare.text_unit == "line");
  CHECK(c.prepare.strict);
  CHECK(c.prepare.normalize == "nfc");
  CHECK(c.prepare.invalid_utf8 == "drop");
  CHECK_FALSE(c.prepare.dedup_exact);
  CHECK_FALSE(c.prepare.dedup_near);
  CHECK(c.prepare.near_threshold == 0.7);
  CHECK(c.prepare.min_chars == 3);
  CHECK(c.prepare.max_chars == 5000);
  CHECK(c.prepare.max_dup_line_fraction == 0.5);
  CHECK(c.prepare.max_top_ngram_fraction == 0.25);
  CHECK(c.prepare.test_fraction == 0.01);
  CHECK(c.prepare.max_tokens == 1025);
  CHECK(c.prepare.shard_tokens == 1000000);
  CHECK(c.prepare.system_prompt == "You are helpful.");
  CHECK(c.prepare.threads == 2);
  // A list round-trips through dump_config; a single string is a list of one; --set takes a flow list.
  CHECK(dump_config(parse_config(dump_config(c), "dump")) == dump_config(c));
  CHECK(parse_config("prepare:\n  inputs: one.txt\n", "x").prepare.inputs == std::vector<std::string>{"one.txt"});
  CHECK(parse_config("", "x", {"prepare.inputs=[p.txt, q.txt]"}).prepare.inputs ==
        std::vector<std::string>{"p.txt", "q.txt"});
  CHECK_THAT(error_of("prepare:\n  inputs: [[a]]\n"), Contains("a list of strings"));
  // Every key of the table appears in the full file.
  for (const std::string& key : config_keys()) {
    std::string leaf = key.substr(key.rfind('.') + 1);
    CHECK_THAT(std::string(kFull), Contains(leaf + ":"));
  }
}

TEST_CASE("config: a partial file keeps the other defaults") {
  Config c = parse_config("model:\n  n_layer: 2\ntrain:\n", "p.yaml");
  CHECK(c.model.n_layer == 2);
  CHECK(c.model.n_head == 12);
  CHECK(c.train.max_steps == 1000);
}

TEST_CASE("config: load_config reads a file and names a missing one") {
  auto path = std::filesystem::temp_directory_path() /
              ("gptcu_test_config_" + std::to_string(::getpid()) + ".yaml");
  {
    std::ofstream out(path);
    out << "model:\n  n_layer: 3\n  n_layers: 3\n";
  }
  std::string msg;
  try {
    load_config(path.string());
  } catch (const UserError& e) {
    msg = e.what();
  }
  CHECK_THAT(msg, Contains("'model.n_layers'"));
  CHECK_THAT(msg, Contains(path.string() + ":3"));
  {
    std::ofstream out(path);
    out << "model:\n  n_layer: 3\n";
  }
  CHECK(load_config(path.string()).model.n_layer == 3);
  std::filesystem::remove(path);

  try {
    load_config("/nonexistent/dir/run.yaml");
    FAIL("no error");
  } catch (const UserError& e) {
    CHECK_THAT(e.what(), Contains("/nonexistent/dir/run.yaml"));
  }
}

TEST_CASE("config: unknown keys are named with file and line and a suggestion") {
  std::string msg = error_of("device: cpu\nmodel:\n  n_layers: 4\n");
  CHECK(msg == "unknown config key 'model.n_layers' at x.yaml:3 (did you mean 'model.n_layer'?)");
  // A misspelt section.
  msg = error_of("modle:\n  n_layer: 4\n");
  CHECK_THAT(msg, Contains("'modle'"));
  CHECK_THAT(msg, Contains("x.yaml:1"));
  CHECK_THAT(msg, Contains("did you mean 'model'?"));
  // The right name in the wrong section.
  msg = error_of("train:\n  lr: 1e-3\n  n_layer: 4\n");
  CHECK_THAT(msg, Contains("'train.n_layer' at x.yaml:3"));
  CHECK_THAT(msg, Contains("did you mean 'model.n_layer'?"));
  // A prefix of a key.
  CHECK_THAT(error_of("train:\n  warmup: 4\n"), Contains("did you mean 'train.warmup_steps'?"));
  // Nothing close: no suggestion.
  msg = error_of("\n\ntrain:\n  completely_unrelated: 4\n");
  CHECK(msg == "unknown config key 'train.completely_unrelated' at x.yaml:4");
  // A key too deep.
  CHECK_THAT(error_of("model:\n  n_layer:\n    deep: 1\n"), Contains("model.n_layer"));
  // A key given twice.
  msg = error_of("model:\n  n_layer: 4\n  n_layer: 5\n");
  CHECK_THAT(msg, Contains("duplicate config key 'model.n_layer' at x.yaml:3"));
}

TEST_CASE("config: wrong types name the key and line and the expected type and value") {
  CHECK(error_of("model:\n\n  n_layer: four\n") ==
        "config model.n_layer at x.yaml:3: expected an integer, got 'four'");
  std::string msg = error_of("model:\n  n_layer: 3.5\n");
  CHECK_THAT(msg, Contains("model.n_layer at x.yaml:2"));
  CHECK_THAT(msg, Contains("expected an integer, got '3.5'"));
  msg = error_of("model:\n  n_embd: 99999999999\n");
  CHECK_THAT(msg, Contains("model.n_embd at x.yaml:2"));
  CHECK_THAT(msg, Contains("2147483647"));
  CHECK_THAT(msg, Contains("'99999999999'"));
  msg = error_of("train:\n  lr: fast\n");
  CHECK(msg == "config train.lr at x.yaml:2: expected a number, got 'fast'");
  CHECK_THAT(error_of("train:\n  lr: .nan\n"), Contains("expected a number, got '.nan'"));
  CHECK_THAT(error_of("train:\n  seed: 1e3\n"), Contains("train.seed at x.yaml:2"));
  CHECK_THAT(error_of("train:\n  seed: 99999999999999999999\n"), Contains("train.seed"));
  CHECK_THAT(error_of("train:\n  max_steps:\n"),
             Contains("train.max_steps at x.yaml:2: expected an integer, got nothing"));
  // A map where a scalar is expected, and a list.
  msg = error_of("device:\n  name: cpu\n");
  CHECK_THAT(msg, Contains("config device at x.yaml:"));
  CHECK_THAT(msg, Contains("expected a string, got a map"));
  msg = error_of("train:\n  lr: [1, 2]\n");
  CHECK_THAT(msg, Contains("train.lr at x.yaml:2: expected a number, got a list"));
  // A scalar where a map is expected.
  msg = error_of("device: cpu\nmodel: 3\n");
  CHECK_THAT(msg, Contains("config model at x.yaml:2"));
  CHECK_THAT(msg, Contains("expected a map"));
  // A top level that is not a map.
  CHECK_THAT(error_of("just some text\n"), Contains("x.yaml:1"));
  // Integers are accepted where numbers are expected; signs are fine.
  Config c = parse_config("train:\n  lr: 1\n  min_lr: +0\n  seed: -5\n", "ok.yaml");
  CHECK(c.train.lr == 1.0);
  CHECK(c.train.seed == -5);
  // Quoted numbers are accepted too (YAML users quote things).
  CHECK(parse_config("model:\n  n_layer: \"6\"\n", "ok.yaml").model.n_layer == 6);
}

TEST_CASE("config: YAML syntax errors name the file and line") {
  std::string msg = error_of("model:\n  n_layer: 4\n  n_head: [4\n");
  CHECK_THAT(msg, Contains("x.yaml:"));
  CHECK_THAT(msg, Contains("YAML syntax error"));
  msg = error_of("model:\n  n_layer: 4\n n_head: 4\n");
  CHECK_THAT(msg, Contains("x.yaml:3"));
}

TEST_CASE("config: --set overrides beat the file") {
  Config c = parse_config(kFull, "full.yaml",
                          {"model.n_layer=6", "train.lr=3e-4", "device=cpu", "data.path=a b.txt",
                           " train.lr_schedule = constant", "train.seed=7", "train.lr=2e-4"});
  CHECK(c.model.n_layer == 6);
  CHECK(c.train.lr == 2e-4);  // the last one wins
  CHECK(c.device == "cpu");
  CHECK(c.data.path == "a b.txt");
  CHECK(c.train.lr_schedule == "constant");
  CHECK(c.train.seed == 7);
  CHECK(c.model.n_head == 4);  // from the file
  CHECK(parse_config("", "x", {"device=cuda:0"}).device == "cuda:0");
  CHECK(parse_config("", "x", {"data.path="}).data.path.empty());
  CHECK(load_config("", {"model.n_head=4", "model.n_embd=64"}).model.n_embd == 64);

  std::string msg = error_of("", {"model.n_layer"});
  CHECK_THAT(msg, Contains("'model.n_layer'"));
  CHECK_THAT(msg, Contains("--set"));
  CHECK_THAT(msg, Contains("key=value"));
  CHECK_THAT(error_of("", {"=4"}), Contains("--set"));
  CHECK(error_of("", {"model.n_layers=4"}) ==
        "unknown config key 'model.n_layers' at --set (did you mean 'model.n_layer'?)");
  CHECK(error_of("", {"model.n_layer=four"}) ==
        "config model.n_layer at --set: expected an integer, got 'four'");
  CHECK_THAT(error_of("", {"train.lr=[1"}), Contains("train.lr at --set"));
  CHECK_THAT(error_of("", {"model=3"}), Contains("config model at --set: a section"));
  // Validation runs after the overrides.
  CHECK_THAT(error_of("", {"model.n_head=5"}), Contains("model.n_embd"));
}

TEST_CASE("config: dump -> parse gives the identical config") {
  Config c = parse_config(kFull, "full.yaml");
  c.train.lr = 0.1 + 0.2;  // not representable in few digits
  c.train.eps = 1.0 / 3.0;
  c.data.path = "we\"ird: path # not a comment\n\tand 中文";
  c.run.dir = "null";  // a string that YAML would read as null if unquoted
  std::string dump = dump_config(c);
  Config back = parse_config(dump, "dump.yaml");
  CHECK(dump_config(back) == dump);
  CHECK(back.train.lr == c.train.lr);
  CHECK(back.train.eps == c.train.eps);
  CHECK(back.data.path == c.data.path);
  CHECK(back.run.dir == "null");
  CHECK(back.train.seed == c.train.seed);
  // Doubles print in their shortest exact form, whatever the magnitude.
  for (double x : {1e-300, 5e-324, 1e-5, 9.99999e-5, 1e-4, 0.1, 1.0, 2.5, 1e14, 1e15, 1.7e308,
                   123456.789012345, 6e-5}) {
    Config v;
    v.train.weight_decay = x;
    CHECK(parse_config(dump_config(v), "v.yaml").train.weight_decay == x);
  }
  // Defaults round-trip too, and the dump shows every key in nested maps.
  std::string d = dump_config(Config{});
  CHECK(dump_config(parse_config(d, "d.yaml")) == d);
  CHECK_THAT(d, Contains("model:\n  n_layer: 12\n"));
  CHECK_THAT(d, Contains("  lr: 0.0006\n"));
  CHECK_THAT(d, Contains("  min_lr: 6e-5\n"));
  CHECK_THAT(d, Contains("  eps: 1e-8\n"));
  CHECK_THAT(d, Contains("  grad_clip: 1.0"));
  for (const std::string& key : config_keys()) {
    std::string leaf = key.substr(key.rfind('.') + 1);
    CHECK_THAT(d, Contains(leaf + ": "));
  }
}

TEST_CASE("config: validation names the key") {
  auto invalid = [](const std::vector<std::string>& sets) { return error_of("", sets); };
  CHECK_THAT(invalid({"model.n_layer=0"}), Contains("model.n_layer"));
  CHECK_THAT(invalid({"model.n_head=-1"}), Contains("model.n_head"));
  CHECK_THAT(invalid({"model.block_size=0"}), Contains("model.block_size"));
  CHECK_THAT(invalid({"model.vocab_size=-3"}), Contains("model.vocab_size"));
  std::string msg = invalid({"model.n_embd=100", "model.n_head=12"});
  CHECK_THAT(msg, Contains("model.n_embd"));
  CHECK_THAT(msg, Contains("divisible"));
  CHECK_THAT(invalid({"train.lr=1e-5"}), Contains("train.lr"));  // below min_lr 6e-5
  CHECK_THAT(invalid({"train.lr=0", "train.min_lr=-1"}), Contains("train.min_lr"));
  msg = invalid({"train.lr_schedule=cosin"});
  CHECK_THAT(msg, Contains("train.lr_schedule"));
  CHECK_THAT(msg, Contains("cosine, linear, constant"));
  CHECK_THAT(invalid({"data.val_fraction=0"}), Contains("data.val_fraction"));
  CHECK_THAT(invalid({"data.val_fraction=1"}), Contains("data.val_fraction"));
  CHECK_THAT(invalid({"data.tokenizer="}), Contains("data.tokenizer"));
  CHECK_THAT(invalid({"prepare.kind=chat"}), Contains("prepare.kind"));
  CHECK_THAT(invalid({"prepare.text_unit=page"}), Contains("prepare.text_unit"));
  CHECK_THAT(invalid({"prepare.normalize=nfd"}), Contains("prepare.normalize"));
  CHECK_THAT(invalid({"prepare.near_threshold=0"}), Contains("prepare.near_threshold"));
  CHECK_THAT(invalid({"prepare.max_chars=2", "prepare.min_chars=5"}), Contains("prepare.max_chars"));
  CHECK_THAT(invalid({"prepare.test_fraction=0.95"}), Contains("prepare.test_fraction"));
  CHECK_THAT(invalid({"prepare.shard_tokens=10"}), Contains("prepare.shard_tokens"));
  for (const char* bad : {"gpu", "cuda:", "cuda:-1", "cuda:x", "CPU", "cuda:0:1"})
    CHECK_THAT(invalid({std::string("device=") + bad}), Contains("device"));
  CHECK_THAT(invalid({"train.batch_size=0"}), Contains("train.batch_size"));
  CHECK_THAT(invalid({"train.zero=2"}), Contains("train.zero"));
  CHECK_THAT(invalid({"train.bucket_mb=0"}), Contains("train.bucket_mb"));
  CHECK_THAT(invalid({"train.comm_timeout_s=-1"}), Contains("train.comm_timeout_s"));
  // post-training sections
  CHECK_THAT(invalid({"dpo.beta=0"}), Contains("dpo.beta"));
  CHECK_THAT(invalid({"rl.reward=human"}), Contains("rl.reward"));
  CHECK_THAT(invalid({"rl.verifier=fuzzy"}), Contains("rl.verifier"));
  CHECK_THAT(invalid({"rl.reward=model"}), Contains("rl.reward_model"));  // a model reward needs its checkpoint
  CHECK_THAT(invalid({"rl.group_size=1"}), Contains("rl.group_size"));
  CHECK_THAT(invalid({"rl.temperature=0"}), Contains("rl.temperature"));
  CHECK_THAT(invalid({"rl.top_p=1.5"}), Contains("rl.top_p"));
  CHECK_THAT(invalid({"rl.gamma=0"}), Contains("rl.gamma"));
  CHECK_THAT(invalid({"rl.lam=1.5"}), Contains("rl.lam"));
  CHECK_THAT(invalid({"rl.clip_eps=0"}), Contains("rl.clip_eps"));
  CHECK_THAT(invalid({"rl.minibatches=0"}), Contains("rl.minibatches"));
  CHECK_THAT(invalid({"rl.kl_coef=-0.1"}), Contains("rl.kl_coef"));
  CHECK_THAT(invalid({"sft.sample_max_new_tokens=0"}), Contains("sft.sample_max_new_tokens"));
  CHECK_THAT(invalid({"train.grad_accum_steps=0"}), Contains("train.grad_accum_steps"));
  CHECK_THAT(invalid({"train.max_steps=0"}), Contains("train.max_steps"));
  CHECK_THAT(invalid({"train.warmup_steps=-1"}), Contains("train.warmup_steps"));
  CHECK_THAT(invalid({"train.beta1=1"}), Contains("train.beta1"));
  CHECK_THAT(invalid({"train.beta2=-0.1"}), Contains("train.beta2"));
  CHECK_THAT(invalid({"train.eps=0"}), Contains("train.eps"));
  CHECK_THAT(invalid({"train.weight_decay=-1"}), Contains("train.weight_decay"));
  CHECK_THAT(invalid({"train.grad_clip=-1"}), Contains("train.grad_clip"));
  CHECK_THAT(invalid({"train.eval_every=-1"}), Contains("train.eval_every"));
  CHECK_THAT(invalid({"train.eval_steps=0"}), Contains("train.eval_steps"));
  CHECK_THAT(invalid({"train.checkpoint_every=-1"}), Contains("train.checkpoint_every"));
  CHECK_THAT(invalid({"train.keep_checkpoints=0"}), Contains("train.keep_checkpoints"));
  CHECK_THAT(invalid({"train.log_every=0"}), Contains("train.log_every"));
  CHECK_THAT(invalid({"run.dir="}), Contains("run.dir"));
  // The edges that are allowed.
  CHECK_NOTHROW(parse_config("", "x", {"device=cuda", "train.grad_clip=0", "train.eval_every=0",
                                       "train.lr=0", "train.min_lr=0", "train.warmup_steps=0"}));
}
