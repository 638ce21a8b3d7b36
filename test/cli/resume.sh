#!/usr/bin/env bash
# test/cli/resume.sh GPTCU: stopping and resuming does not change training. A straight
# 40-step run and the same run done as --stop-after 20 + --resume (and as three pieces with
# gradient accumulation, stopping between eval steps) have identical loss at every step,
# identical val_loss entries, and byte-identical final weights. --init-only writes the starting
# weights as step 0 and trains nothing; resuming from it is the straight run, byte for byte.
#   bash test/cli/resume.sh build/gptcu
# shellcheck source=test/cli/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cli_init "$@"

make_corpus corpus.txt 200
tiny_config cfg.yaml "$WORK/corpus.txt" "$WORK/straight"
final=checkpoints/step_00000040

compare_runs() {  # compare_runs A B WHAT
  check_steps "$1" 40
  check_steps "$2" 40
  metrics_table "$1" step,loss,val_loss,lr >"$1.txt" || fail "bad metrics in $1"
  metrics_table "$2" step,loss,val_loss,lr >"$2.txt" || fail "bad metrics in $2"
  [[ $(grep -c val_loss "$1.txt") -eq 4 ]] || fail "$1: expected val_loss at steps 10, 20, 30, 40"
  same_file "$1.txt" "$2.txt" "$3: loss/val_loss/lr differ from the straight run"
  pass "$3: identical step/loss/val_loss/lr at steps 1..40 (4 val_loss entries)"
  same_file "$1/$final/model.safetensors" "$2/$final/model.safetensors" "$3: final model.safetensors"
  same_file "$1/$final/optimizer.safetensors" "$2/$final/optimizer.safetensors" "$3: final optimizer.safetensors"
  pass "$3: byte-identical final model.safetensors and optimizer.safetensors"
}

note "straight 40 steps vs --stop-after 20 + --resume"
run_ok straight.log "$GPTCU" pretrain --config cfg.yaml
run_ok part1.log "$GPTCU" pretrain --config cfg.yaml --set run.dir="$WORK/split" --stop-after 20
[[ -f split/checkpoints/step_00000020/model.safetensors ]] || { show_file part1.log; fail "--stop-after 20 wrote no checkpoint step_00000020"; }
[[ ! -e split/$final ]] || fail "--stop-after 20 trained past step 20"
check_steps split 20
[[ $(json_field split/checkpoints/step_00000020/state.json step) == 20 ]] || fail "step_00000020/state.json does not say step 20"
pass "--stop-after 20 stops at step 20 with a checkpoint"
run_ok part2.log "$GPTCU" pretrain --config cfg.yaml --set run.dir="$WORK/split" --resume
grep -q "step_00000020" part2.log || { show_file part2.log; fail "--resume does not say it continues from step_00000020"; }
compare_runs straight split "20 + 20"

note "three pieces (13 + 14 + 13 steps), grad_accum_steps 2"
sets=(--set train.grad_accum_steps=2)
run_ok straight2.log "$GPTCU" pretrain --config cfg.yaml "${sets[@]}" --set run.dir="$WORK/straight2"
run_ok p1.log "$GPTCU" pretrain --config cfg.yaml "${sets[@]}" --set run.dir="$WORK/pieces" --stop-after 13
run_ok p2.log "$GPTCU" pretrain --config cfg.yaml "${sets[@]}" --set run.dir="$WORK/pieces" --resume --stop-after 14
check_steps pieces 27
run_ok p3.log "$GPTCU" pretrain --config cfg.yaml "${sets[@]}" --set run.dir="$WORK/pieces" --resume
compare_runs straight2 pieces "13 + 14 + 13"

note "resume of a finished run"
cp straight/metrics.jsonl straight.metrics
run_ok again.log "$GPTCU" pretrain --config cfg.yaml --resume
same_file straight.metrics straight/metrics.jsonl "--resume of a finished run changed metrics.jsonl"
pass "--resume of a finished run trains nothing and keeps metrics.jsonl"

note "--init-only: the starting weights as step 0, then --resume trains the straight run"
run_ok init.log "$GPTCU" pretrain --config cfg.yaml --set run.dir="$WORK/init" --init-only
[[ -f init/checkpoints/step_00000000/model.safetensors ]] || { show_file init.log; fail "--init-only wrote no step_00000000"; }
[[ $(ls init/checkpoints) == step_00000000 ]] || fail "--init-only trained: $(ls init/checkpoints)"
[[ ! -s init/metrics.jsonl ]] || fail "--init-only logged training steps"
grep -q "^init-only: wrote the starting weights at step 0" init.log || { show_file init.log; fail "no init-only line"; }
pass "--init-only wrote init/checkpoints/step_00000000 and trained nothing"
run_ok init2.log "$GPTCU" pretrain --config cfg.yaml --set run.dir="$WORK/init" --resume
compare_runs straight init "--init-only + --resume"
if "$GPTCU" pretrain --config cfg.yaml --set run.dir="$WORK/init" --init-only --resume >bad.log 2>&1; then
  fail "--init-only with --resume was accepted"
fi
grep -q "excludes" bad.log || { show_file bad.log; fail "no clear message for --init-only --resume"; }
pass "--init-only refuses --resume: $(head -1 bad.log)"

echo "PASS: resume.sh"
