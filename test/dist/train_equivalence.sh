#!/usr/bin/env bash
# test/dist/train_equivalence.sh GPTCU MPIRUN: data parallelism on the CPU through Open MPI.
#   1. 2 ranks x batch 2 end with the same parameters and optimizer state after 10 steps as
#      1 rank x batch 4, with train.zero 0 (buckets started during the backward) and 1, and with
#      gradient accumulation; one rank through MPI (GPTCU_COMM=mpi: the data-parallel code path)
#      is bit for bit the plain run;
#   2. the same for SFT, whose masked loss gives the ranks different numbers of loss tokens (each
#      rank's gradient is weighted by its share: without that the parameters differ by 3e-2);
#   3. a checkpoint written by 2 ranks (ZeRO-1) resumes on 1 rank: the next step's loss and the
#      final parameters are those of the 2-rank run continuing; and a 1-rank checkpoint resumes
#      on 2 ranks; a resume that changes the global batch is refused.
#   bash test/dist/train_equivalence.sh build/gptcu /usr/bin/mpirun
# shellcheck source=test/cli/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../cli/lib.sh"
MPIRUN="${2:?usage: train_equivalence.sh GPTCU MPIRUN}"
COMPARE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/compare_safetensors.py"
cli_init "$1"
# Open MPI refuses root without these, and 2 ranks on fewer cores without --oversubscribe.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
# Tolerance: the 2-rank gradient sums its halves in another order than one rank's matmuls do;
# observed after 10 steps at lr 1e-2: max |a - b| / (1 + |b|) = 6.9e-6 (pretraining), 2.5e-5 (SFT)
# for the parameters, 7e-8 for the moments; SFT with unweighted rank means: 3.4e-2.
TOL=1e-4

make_corpus corpus.txt 200
tiny_config cfg.yaml "$WORK/corpus.txt" "$WORK/unused"
sets=(--set model.n_layer=2 --set model.n_embd=32 --set train.max_steps=10 --set train.eval_every=5
      --set train.bucket_mb=0.01)  # ~2600 floats a bucket: the 2-layer model's gradient is ~10 buckets

one() { local log=$1; shift; run_ok "$log" "$GPTCU" pretrain --config cfg.yaml "${sets[@]}" "$@"; }
two() { local log=$1; shift; run_ok "$log" "$MPIRUN" -np 2 "$GPTCU" pretrain --config cfg.yaml "${sets[@]}" "$@"; }
same_weights() {  # RUN_A RUN_B STEP
  local d=checkpoints/step_$(printf %08d "$3")
  for f in model optimizer; do
    python3 "$COMPARE" "$1/$d/$f.safetensors" "$2/$d/$f.safetensors" "${TOL_NOW:-$TOL}" ||
      fail "$1 and $2 differ in $f.safetensors at step $3"
  done
}
loss_at() { python3 -c "import json,sys; print([r['loss'] for r in map(json.loads, open('$1/metrics.jsonl')) if r['step']==$2][0])"; }

note "1 rank x batch 4 against 2 ranks x batch 2"
one one.log --set run.dir="$WORK/one" --set train.batch_size=4
two two.log --set run.dir="$WORK/two" --set train.batch_size=2
grep -q "data parallel: 2 ranks (mpi)" two.log || { show_file two.log; fail "the 2-rank run did not say it ran data parallel"; }
[[ $(grep -c "^done:" two.log) == 1 ]] || fail "expected one 'done:' line (rank 0 only) in two.log"
check_steps two 10
same_weights one two 10
pass "zero 0: same parameters and moments after 10 steps"
early=$(sed -n 's/.*gradient buckets of up to .* MB; \([0-9]*\) started their all-reduce during the backward.*/\1/p' two.log)
[[ -n "$early" && "$early" -gt 0 ]] || { show_file two.log; fail "no bucket started its all-reduce during the backward"; }
pass "zero 0: $(grep -o '[0-9]* gradient buckets.*backward' two.log)"

GPTCU_COMM=mpi run_ok mpi1.log "$MPIRUN" -np 1 "$GPTCU" pretrain --config cfg.yaml "${sets[@]}" --set run.dir="$WORK/mpi1" \
  --set train.batch_size=4
grep -q "data parallel: 1 ranks (mpi)" mpi1.log || { show_file mpi1.log; fail "GPTCU_COMM=mpi did not run the data-parallel path"; }
TOL_NOW=0 same_weights one mpi1 10
pass "one rank through MPI, buckets and all: the same bits as the plain run"
two zero.log --set run.dir="$WORK/zero" --set train.batch_size=2 --set train.zero=1
same_weights one zero 10
pass "zero 1: same parameters and moments after 10 steps"
python3 -c "import sys; sys.exit(abs($(loss_at one 10) - $(loss_at zero 10)) > 1e-5)" ||
  fail "logged loss at step 10: $(loss_at one 10) (1 rank) vs $(loss_at zero 10) (2 ranks)"
pass "the logged loss is the global mean ($(loss_at one 10) vs $(loss_at zero 10))"

note "with gradient accumulation: 1 x 4 x 2 against 2 x 2 x 2"
one acc1.log --set run.dir="$WORK/acc1" --set train.batch_size=4 --set train.grad_accum_steps=2
two acc2.log --set run.dir="$WORK/acc2" --set train.batch_size=2 --set train.grad_accum_steps=2 --set train.zero=1
same_weights acc1 acc2 10
pass "accumulation: same parameters after 10 steps"

note "SFT (masked loss, unequal token counts per rank): 1 x 4 against 2 x 2"
run_ok task.log "$GPTCU" data task --out task --seed 3 --pretrain 300 --sft 100
run_ok prep_pre.log "$GPTCU" data prepare --input task/pretrain.jsonl --kind text --out prep/pre --set model.block_size=32
run_ok prep_sft.log "$GPTCU" data prepare --input task/sft.jsonl --kind dialogue --out prep/sft --set model.block_size=32
sft_sets=(--set model.block_size=32 --set data.path=prep/sft --set model.init_from=pre --set sft.sample_prompts=0)
one pre.log --set model.block_size=32 --set data.path=prep/pre --set run.dir="$WORK/pre" --set train.max_steps=5
run_ok sft1.log "$GPTCU" sft --config cfg.yaml "${sets[@]}" "${sft_sets[@]}" --set run.dir="$WORK/sft1" --set train.batch_size=4
run_ok sft2.log "$MPIRUN" -np 2 "$GPTCU" sft --config cfg.yaml "${sets[@]}" "${sft_sets[@]}" --set run.dir="$WORK/sft2" \
  --set train.batch_size=2 --set train.zero=1
same_weights sft1 sft2 10
python3 -c "import sys; sys.exit(abs($(loss_at sft1 10) - $(loss_at sft2 10)) > 1e-5)" ||
  fail "SFT loss at step 10: $(loss_at sft1 10) (1 rank) vs $(loss_at sft2 10) (2 ranks)"
pass "SFT: same parameters after 10 steps, same logged loss ($(loss_at sft1 10))"

note "a checkpoint of 2 ranks (ZeRO-1) resumes on 1"
two half.log --set run.dir="$WORK/resume21" --set train.batch_size=2 --set train.zero=1 --stop-after 5
[[ -d resume21/checkpoints/step_00000005 ]] || fail "no step-5 checkpoint from 2 ranks"
one cont.log --set run.dir="$WORK/resume21" --set train.batch_size=4 --resume
grep -q "resume: continuing from .*step_00000005" cont.log || { show_file cont.log; fail "did not resume at step 5"; }
python3 -c "import sys; a, b = $(loss_at resume21 6), $(loss_at zero 6); print('step 6 loss', a, b); sys.exit(abs(a - b) > 1e-5)" ||
  fail "the resumed step 6 loss differs from the 2-rank run's"
same_weights zero resume21 10
pass "2 ranks -> 1: step 6 loss and final parameters are those of the 2-rank run"

note "a checkpoint of 1 rank resumes on 2 (ZeRO-1 re-shards the moments)"
one half1.log --set run.dir="$WORK/resume12" --set train.batch_size=4 --stop-after 5
two cont2.log --set run.dir="$WORK/resume12" --set train.batch_size=2 --set train.zero=1 --resume
same_weights one resume12 10
pass "1 rank -> 2: final parameters are those of the 1-rank run"

note "a resume that changes the global batch is refused"
if "$MPIRUN" -np 2 "$GPTCU" pretrain --config cfg.yaml "${sets[@]}" --set run.dir="$WORK/resume12" \
  --set train.batch_size=4 --set train.max_steps=12 --resume >bad.log 2>&1; then
  fail "2 ranks x batch 4 resumed a 1 x 4 run"
fi
grep -q "global batch of 2 rank(s) x train.batch_size=2, now 2 rank(s) x 4" bad.log || { show_file bad.log; fail "no clear message"; }
pass "refused: $(grep -o 'cannot resume.*' bad.log | head -1)"

echo "PASS: train_equivalence.sh"
