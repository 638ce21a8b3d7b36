#!/usr/bin/env bash
# test/cli/configs.sh GPTCU: every configs/*.yaml parses and validates with the command it is for.
#   - each config is given to its command (by name: sft_*, reward_*, dpo_*, ppo_*, grpo_*; else
#     pretrain) with train.max_steps=1 and a missing starting point (model.init_from, or data.path
#     and the byte tokenizer for pretraining): the one-line error must name that key, which shows the config itself
#     loaded and validated (a config problem is reported first, as "config ...");
#   - with GPTCU_DATA_DIR set (the shared data, e.g. /work/shared/data), the prepare section of
#     each post-training config runs on the real files (paths ../shared/data/ pointed there) and
#     keeps records of the expected kind in both splits; unset: skipped, with a note.
#   bash test/cli/configs.sh build/gptcu
# shellcheck source=test/cli/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
CONFIGS="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../configs" && pwd)"
cli_init "$@"

command_of() {
  case "$(basename "$1")" in
    sft_*) echo sft ;;
    reward_*) echo reward ;;
    dpo_*) echo dpo ;;
    ppo_*) echo ppo ;;
    grpo_*) echo grpo ;;
    *) echo pretrain ;;
  esac
}

note "each config validates"
n=0
for cfg in "$CONFIGS"/*.yaml; do
  cmd=$(command_of "$cfg")
  # device=cpu: the GPU configs (gpt2_*: device cuda) validate on a machine without one too
  common=(--config "$cfg" --set train.max_steps=1 --set device=cpu --set run.dir="$WORK/run")
  if [[ $cmd == pretrain ]]; then
    expect_error "$(basename "$cfg") ($cmd)" "$WORK/missing" -- \
      "$GPTCU" pretrain "${common[@]}" --set data.path="$WORK/missing" --set data.tokenizer=byte
  else
    expect_error "$(basename "$cfg") ($cmd)" "model.init_from" "$WORK/missing" -- \
      "$GPTCU" "$cmd" "${common[@]}" --set model.init_from="$WORK/missing"
  fi
  grep -q "^error: config" err.txt && fail "$(basename "$cfg"): a config error"
  [[ -e $WORK/run ]] && fail "$(basename "$cfg"): the failed run left $WORK/run behind"
  n=$((n + 1))
done
[[ $n -ge 10 ]] || fail "only $n configs found in $CONFIGS"
pass "$n configs"

note "prepare sections on the real data"
if [[ -z "${GPTCU_DATA_DIR:-}" ]]; then
  echo "skipped: set GPTCU_DATA_DIR (e.g. /work/shared/data) to prepare the real data sets"
else
  for cfg in "$CONFIGS"/{sft,reward,dpo,ppo,grpo}_*.yaml; do
    name=$(basename "$cfg" .yaml)
    grep -q "inputs:.*prepared/" "$cfg" && continue  # made by a script first (bench/reward_hh_cpu.sh)
    sed "s#\.\./shared/data#$GPTCU_DATA_DIR#g" "$cfg" >"$name.yaml"
    run_ok "prep_$name.log" "$GPTCU" data prepare --config "$name.yaml" --out "prep_$name" --set prepare.threads=1
    python3 - "prep_$name/meta.json" "$name" <<'PY' || fail "prepare of $name: unexpected meta.json"
import json, sys
m, name = json.load(open(sys.argv[1])), sys.argv[2]
want = {"sft": "dialogue", "reward": "preference", "dpo": "preference", "ppo": "rl_prompt", "grpo": "rl_prompt"}
kind = want[name.split("_")[0]]
if m["kind"] != kind: sys.exit(f"kind {m['kind']}, expected {kind}")
train, val = m["splits"]["train"]["records"], m["splits"]["val"]["records"]
if train < 100 or val < 10: sys.exit(f"only {train} train and {val} val records")
print(f"ok: {name}: {m['report']['records_read']} read, {train} train, {val} val {kind} records")
PY
  done
fi
echo "all config checks passed"
