#!/usr/bin/env bash
# test/cli/kill_checkpoint.sh GPTCU: checkpoints survive SIGKILL at any moment.
#
# A run that checkpoints every step (~1.7 MB of weights + 3.4 MB of Adam moments, each
# fsync'ed, so a write takes a measurable time) is killed with SIGKILL at random moments,
# five times, resuming in between. After every kill:
#   - every checkpoints/step_* directory is complete (the four files, state.json readable
#     and naming its own step);
#   - `gptcu sample --checkpoint RUN` loads the newest one;
#   - `--resume` (in a copy of the run) finishes the run, with exactly the losses of an
#     uninterrupted run at every step.
# Then the "died while writing" state is built by hand: a .tmp-step_* directory with a
# truncated model.safetensors next to a good checkpoint; sample and resume ignore it, and
# the next run removes it.
#   bash test/cli/kill_checkpoint.sh build/gptcu        (GPTCU_TEST_SEED=N to replay)
# shellcheck source=test/cli/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cli_init "$@"

seed="${GPTCU_TEST_SEED:-$(( $(date +%s) % 100000 ))}"
RANDOM=$seed
echo "# random kill times from seed $seed (replay with GPTCU_TEST_SEED=$seed)"

python3 - <<'EOF'
import random
r = random.Random(3)
words = ["alpha", "beta", "gamma", "delta", "the", "a", "cat", "dog", "runs", "sleeps"]
open("corpus.txt", "w").write("\n".join(" ".join(r.choice(words) for _ in range(8)) + "." for _ in range(400)))
EOF
tiny_config cfg.yaml "$WORK/corpus.txt" "$WORK/run"
max_steps=60
sets=(--set model.n_layer=2 --set model.n_embd=128 --set model.block_size=32
      --set "train.max_steps=$max_steps" --set train.eval_every=20 --set train.checkpoint_every=1)

# check_checkpoints RUN WHAT: every step_* directory under RUN/checkpoints is complete.
check_checkpoints() {
  local d n=0 step
  for d in "$1"/checkpoints/step_*; do
    [[ -e $d ]] || continue
    n=$((n + 1))
    for f in model.safetensors optimizer.safetensors state.json config.yaml; do
      if [[ ! -s $d/$f ]]; then
        ls -la "$1"/checkpoints "$d" >&2
        [[ "$d" != "$(ls -d "$1"/checkpoints/step_* | tail -1)" ]] &&
          echo "hint: $d is not the newest checkpoint: a kill while an old checkpoint was being pruned" \
            "(deleted in place, file by file) leaves it like this; renaming it to .tmp-* before deleting avoids it" >&2
        fail "$2: $d has no (or an empty) $f"
      fi
    done
    step=$(json_field "$d/state.json" step) || fail "$2: $d/state.json is not readable JSON"
    [[ "$(basename "$d")" == "$(printf 'step_%08d' "$step")" ]] || fail "$2: $d/state.json says step $step"
  done
  echo "$n"
}

note "reference: an uninterrupted run"
run_ok ref.log "$GPTCU" pretrain --config cfg.yaml "${sets[@]}" --set run.dir="$WORK/ref" --set train.checkpoint_every=0
check_steps ref $max_steps
metrics_table ref >ref.txt || fail "bad metrics in ref"

note "SIGKILL at random moments"
for round in 1 2 3 4 5; do
  resume=()
  [[ $round -gt 1 ]] && resume=(--resume)
  "$GPTCU" pretrain --config cfg.yaml "${sets[@]}" "${resume[@]}" >"kill$round.log" 2>&1 &
  pid=$!
  delay=$(printf '0.%03d' $((50 + RANDOM % 750)))  # 0.05 .. 0.8 s
  sleep "$delay"
  if kill -KILL "$pid" 2>/dev/null; then how="killed after ${delay}s"; else how="had finished before ${delay}s"; fi
  wait "$pid" 2>/dev/null
  n=$(check_checkpoints run "round $round") || exit 1
  newest=$(ls -d run/checkpoints/step_* 2>/dev/null | tail -1)
  tmp=$(ls -d run/checkpoints/.tmp-* 2>/dev/null | wc -l)
  echo "   round $round: $how; $n complete checkpoints (newest ${newest##*/}), $tmp .tmp-* left over"
  if [[ -n $newest ]]; then
    run_ok "sample$round.log" "$GPTCU" sample --checkpoint run --prompt "the " --max-new-tokens 5 --seed 1
    grep -q '^the ' "sample$round.log" || { show_file "sample$round.log"; fail "round $round: sample printed no 'the ...'"; }
  fi
  # finish a copy of the run (checkpointing only at the end, to stay fast)
  rm -rf fin && cp -r run fin
  run_ok "fin$round.log" "$GPTCU" pretrain --config cfg.yaml "${sets[@]}" --resume --set run.dir="$WORK/fin" \
    --set train.checkpoint_every=0
  check_steps fin $max_steps
  metrics_table fin >fin.txt || fail "bad metrics after resuming round $round"
  same_file ref.txt fin.txt "round $round: the resumed run's losses differ from the uninterrupted run"
  [[ -z $(ls -d fin/checkpoints/.tmp-* 2>/dev/null) ]] || fail "round $round: a .tmp-* directory survived the resumed run"
  pass "round $round: checkpoints complete, newest samples, resume finishes with identical losses"
done

note "finish the killed run itself"
run_ok final.log "$GPTCU" pretrain --config cfg.yaml "${sets[@]}" --resume
check_checkpoints run "final" >/dev/null || exit 1
check_steps run $max_steps
metrics_table run >run.txt || fail "bad metrics in run"
same_file ref.txt run.txt "after 5 kills and resumes, the losses differ from the uninterrupted run"
[[ -z $(ls -d run/checkpoints/.tmp-* 2>/dev/null) ]] || fail "a .tmp-* directory survived the final run"
[[ $(ls -d run/checkpoints/step_* | wc -l) -eq 3 ]] || fail "keep_checkpoints 3, but $(ls run/checkpoints) are left"
pass "after 5 kills: the run finishes with the losses of an uninterrupted run, 3 checkpoints kept, no .tmp-*"

note "a write interrupted by hand: .tmp-step_00000099-12345 with a truncated model.safetensors"
tiny_config small.yaml "$WORK/corpus.txt" "$WORK/half"
run_ok half.log "$GPTCU" pretrain --config small.yaml --stop-after 10
good=half/checkpoints/step_00000010
partial=half/checkpoints/.tmp-step_00000099-12345
mkdir "$partial"
cp "$good"/* "$partial"/
sed -i 's/"step": 10/"step": 99/' "$partial/state.json"
head -c 1000 "$good/model.safetensors" >"$partial/model.safetensors"
run_ok s1.log "$GPTCU" sample --checkpoint half --prompt "the " --max-new-tokens 20 --seed 3
run_ok s2.log "$GPTCU" sample --checkpoint "$good" --prompt "the " --max-new-tokens 20 --seed 3
same_file s2.log s1.log "sample --checkpoint RUN with a .tmp-* dir present does not use step_00000010"
pass "sample ignores the .tmp-* directory (same text as from step_00000010 itself)"
[[ -d $partial ]] || fail "sample removed $partial (it should only read)"
run_ok resume.log "$GPTCU" pretrain --config small.yaml --resume --stop-after 5
grep -q "step_00000010" resume.log || { show_file resume.log; fail "resume did not continue from step_00000010"; }
[[ ! -e $partial ]] || fail "the next run did not remove $partial"
[[ -f half/checkpoints/step_00000015/model.safetensors ]] || fail "resume from step 10 + 5 steps wrote no step_00000015"
check_steps half 15
pass "resume continues from step_00000010, removes the .tmp-* directory, saves step_00000015"

echo "PASS: kill_checkpoint.sh"
