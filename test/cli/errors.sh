#!/usr/bin/env bash
# test/cli/errors.sh GPTCU: user mistakes end as exactly one line "error: ..." on stderr that
# names the problem, exit code 1, and never a crash (terminate called, Aborted, a core dump,
# a stack trace, "internal error").
#   bash test/cli/errors.sh build/gptcu
# shellcheck source=test/cli/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cli_init "$@"

# no_crash and expect_error are in lib.sh.
make_corpus corpus.txt 200
tiny_config good.yaml "$WORK/corpus.txt" "$WORK/run"

note "help and version"
run_ok help.txt "$GPTCU" --help
{ grep -q pretrain help.txt && grep -q sample help.txt; } || { show_file help.txt; fail "--help does not list pretrain and sample"; }
pass "gptcu --help exits 0 and lists the subcommands"
run_ok version.txt "$GPTCU" version
grep -Eq '^gptcu [0-9]+\.[0-9]+' version.txt || { show_file version.txt; fail "gptcu version prints no version"; }
pass "gptcu version exits 0: $(cat version.txt)"
run_ok help2.txt "$GPTCU" pretrain --help
grep -q -- --resume help2.txt || { show_file help2.txt; fail "pretrain --help does not list --resume"; }
pass "gptcu pretrain --help exits 0"

note "data errors"
sed "s#path: .*#path: $WORK/no_such_corpus.txt#" good.yaml >missing_data.yaml
expect_error "missing data file" "no_such_corpus.txt" -- "$GPTCU" pretrain --config missing_data.yaml
: >empty.txt
sed "s#path: .*#path: $WORK/empty.txt#" good.yaml >empty_data.yaml
expect_error "empty data file" "empty.txt" "empty" -- "$GPTCU" pretrain --config empty_data.yaml
head -c 30 corpus.txt >tiny.txt
sed "s#path: .*#path: $WORK/tiny.txt#" good.yaml >tiny_data.yaml
expect_error "block_size larger than the data" "block_size" "tiny.txt" -- "$GPTCU" pretrain --config tiny_data.yaml
expect_error "block_size larger than the data (--set)" "block_size" "4096" -- \
  "$GPTCU" pretrain --config good.yaml --set model.block_size=4096
mkdir a_directory
sed "s#path: .*#path: $WORK/a_directory#" good.yaml >dir_data.yaml
expect_error "data path is a directory" "a_directory" -- "$GPTCU" pretrain --config dir_data.yaml

note "GPU errors (this test runs where no GPU is visible: CI, and the CPU machine)"
if [ "${GPTCU_TEST_HAS_GPU:-0}" = 1 ]; then
  echo "  (skipped: GPTCU_TEST_HAS_GPU=1, a GPU is visible)"
else
  expect_error "device: cuda without a GPU" "device cuda:0 was asked for" "device: cpu" -- \
    "$GPTCU" pretrain --config good.yaml --set device=cuda --set run.dir="$WORK/run_cuda"
  expect_error "device: cuda:3 without a GPU" "cuda:3" -- \
    "$GPTCU" pretrain --config good.yaml --set device=cuda:3 --set run.dir="$WORK/run_cuda3"
fi
expect_error "bad precision" "precision" "bf16 or fp32" -- "$GPTCU" pretrain --config good.yaml --set precision=fp8

note "config errors"
# line 3 of the file is the key (line 1 is `device:`, line 2 `model:`)
sed 's/^  n_layer: 1$/  n_layers: 1/' good.yaml >unknown_key.yaml
[[ "$(sed -n 3p unknown_key.yaml)" == "  n_layers: 1" ]] || fail "fixture: n_layers is not on line 3"
expect_error "unknown config key" "model.n_layers" "unknown_key.yaml:3" -- "$GPTCU" pretrain --config unknown_key.yaml
sed 's/^  n_layer: 1$/  n_layer: four/' good.yaml >wrong_type.yaml
expect_error "wrong type" "model.n_layer" "four" "wrong_type.yaml:3" -- "$GPTCU" pretrain --config wrong_type.yaml
printf 'model:\n  n_layer: [1\n' >bad_yaml.yaml
expect_error "YAML syntax error" "bad_yaml.yaml" -- "$GPTCU" pretrain --config bad_yaml.yaml
expect_error "invalid value (n_embd not divisible by n_head)" "model.n_embd" -- \
  "$GPTCU" pretrain --config good.yaml --set model.n_head=3
expect_error "missing config file" "no_such_config.yaml" -- "$GPTCU" pretrain --config "$WORK/no_such_config.yaml"
expect_error "--set without '='" "model.n_layer" "=" -- "$GPTCU" pretrain --config good.yaml --set model.n_layer
expect_error "--set of an unknown key" "train.nope" -- "$GPTCU" pretrain --config good.yaml --set train.nope=1
expect_error "--set with a wrong type" "train.lr" "fast" -- "$GPTCU" pretrain --config good.yaml --set train.lr=fast

note "checkpoint errors"
expect_error "sample from a missing checkpoint" "/nonexistent" -- "$GPTCU" sample --checkpoint /nonexistent --prompt hi
mkdir not_a_run
expect_error "sample from a directory without checkpoints" "not_a_run" -- "$GPTCU" sample --checkpoint not_a_run --prompt hi

run_ok train.txt "$GPTCU" pretrain --config good.yaml --set train.max_steps=10
ckpt="run/checkpoints/step_00000010"
[[ -f $ckpt/model.safetensors ]] || fail "no checkpoint $ckpt after training"
cp run/metrics.jsonl metrics.before
expect_error "resume with a different model" "n_layer=3" "n_layer=1" "step_00000010" -- \
  "$GPTCU" pretrain --config good.yaml --resume --set model.n_layer=3
same_file metrics.before run/metrics.jsonl "a refused resume must leave metrics.jsonl alone"
[[ -f $ckpt/model.safetensors ]] || fail "a refused resume removed $ckpt"
run_ok sample_after.txt "$GPTCU" sample --checkpoint run --prompt hi --max-new-tokens 3
pass "a refused resume leaves the run intact (metrics.jsonl unchanged, checkpoint still samples)"

expect_error "resume with a different block_size" "block_size=32" -- \
  "$GPTCU" pretrain --config good.yaml --resume --set model.block_size=32

expect_error "a fresh run into a run.dir that holds checkpoints" "already holds checkpoints" "--resume" -- \
  "$GPTCU" pretrain --config good.yaml
[[ -f $ckpt/model.safetensors ]] || fail "a refused fresh run removed $ckpt"
expect_error "resume with another seed (another data order)" "train.seed" -- \
  "$GPTCU" pretrain --config good.yaml --resume --set train.seed=8
expect_error "resume with another batch size" "train.batch_size" -- \
  "$GPTCU" pretrain --config good.yaml --resume --set train.batch_size=3
expect_error "resume from a checkpoint past max_steps" "max_steps" -- \
  "$GPTCU" pretrain --config good.yaml --resume --set train.max_steps=5
same_file metrics.before run/metrics.jsonl "refused runs must leave metrics.jsonl alone"

cp -r run run_nostep
python3 - run_nostep/checkpoints/step_00000010/state.json <<'PY'
import json, sys
js = json.load(open(sys.argv[1])); del js["optimizer_steps"]; json.dump(js, open(sys.argv[1], "w"))
PY
expect_error "resume from a state.json missing a field" "state.json" "optimizer_steps" -- \
  "$GPTCU" pretrain --config good.yaml --resume --set run.dir=run_nostep
expect_error "sample with a NaN temperature" "temperature" -- \
  "$GPTCU" sample --checkpoint run --prompt hi --temperature nan
expect_error "a model too large for this machine's memory" "GB" -- \
  "$GPTCU" pretrain --config good.yaml --set model.n_layer=1000000 --set run.dir=run_huge
bad_dir_parent="$WORK/a_file"
echo x >"$bad_dir_parent"
expect_error "a run.dir that cannot be created" "run.dir" -- \
  "$GPTCU" pretrain --config good.yaml --set "run.dir=$bad_dir_parent/run"

cp -r run run_badcfg
sed -i 's/^  n_layer: 1$/  n_layer: 2/' run_badcfg/checkpoints/step_00000010/config.yaml
expect_error "sample from a checkpoint whose config.yaml does not match its weights" "n_layer=2" -- \
  "$GPTCU" sample --checkpoint run_badcfg --prompt hi

cp -r run run_trunc
truncate -s 1000 run_trunc/checkpoints/step_00000010/model.safetensors
expect_error "sample from a truncated model.safetensors" "model.safetensors" -- \
  "$GPTCU" sample --checkpoint run_trunc --prompt hi

cp -r run run_json
echo '{"step": ' >run_json/checkpoints/step_00000010/state.json
expect_error "sample from a corrupt state.json" "state.json" -- "$GPTCU" sample --checkpoint run_json --prompt hi

expect_error "empty prompt" "prompt" -- "$GPTCU" sample --checkpoint run --prompt ""

note "command-line parse errors (CLI11)"
# main.cpp promises one "error: ..." line for every user mistake, CLI11's parse errors included.
for args in "bogus" "pretrain" "pretrain --config good.yaml --no-such-flag" "pretrain --config good.yaml --stop-after 0" ""; do
  # shellcheck disable=SC2086
  "$GPTCU" $args >out.txt 2>err.txt
  rc=$?
  DESC="gptcu $args"
  no_crash out.txt err.txt
  [[ $rc -ne 0 && $rc -lt 128 ]] || { show_file err.txt stderr; fail "'gptcu $args' exited $rc, expected a plain non-zero exit"; }
  if [[ $(wc -l <err.txt) -ne 1 ]] || ! grep -q '^error: ' err.txt; then
    fail "'gptcu $args' (exit $rc) does not print one 'error: ' line: $(tr '\n' '|' <err.txt | cut -c1-160)"
  else
    pass "'gptcu $args' -> $(cat err.txt)"
  fi
done

echo "PASS: errors.sh"
