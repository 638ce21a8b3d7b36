#!/usr/bin/env bash
# test/cli/launch.sh GPTCU: scripts/launch.sh.
#   - --procs 2 (through mpirun, the CPU backend's launcher) trains a tiny model: both ranks ran,
#     their output is prefixed "[rank R]", rank 0 alone wrote the checkpoint and metrics;
#   - the spawn launcher (what --gpus uses) sets RANK/WORLD_SIZE/LOCAL_RANK/NCCL_COMM_ID/GPTCU_COMM per rank,
#     and a rank that dies stops the others at once with "launch: rank 1 exited with code 3".
#   bash test/cli/launch.sh build/gptcu
# shellcheck source=test/cli/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
LAUNCH="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../scripts" && pwd)/launch.sh"
cli_init "$@"

note "spawn launcher: the environment of each rank, prefixed output"
run_ok env.log bash "$LAUNCH" --procs 2 --launcher spawn --master 127.0.0.1:31000 -- \
  bash -c 'echo "rank=$RANK world=$WORLD_SIZE local=$LOCAL_RANK master=$MASTER_ADDR:$MASTER_PORT nccl=$NCCL_COMM_ID comm=$GPTCU_COMM"'
for r in 0 1; do
  grep -qx "\[rank $r\] rank=$r world=2 local=$r master=127.0.0.1:31000 nccl=127.0.0.1:31001 comm=mpi" env.log ||
    { show_file env.log; fail "rank $r's environment or prefix is wrong"; }
done
pass "RANK, WORLD_SIZE, LOCAL_RANK, MASTER_*, NCCL_COMM_ID, GPTCU_COMM set per rank; output prefixed"

note "spawn launcher: a dying rank stops the others"
start=$SECONDS
bash "$LAUNCH" --procs 3 --launcher spawn -- bash -c 'if [ "$RANK" = 1 ]; then sleep 0.3; exit 3; fi; sleep 60' >die.log 2>&1
rc=$?
[[ $rc == 3 ]] || { show_file die.log; fail "expected exit code 3 (the dead rank's), got $rc"; }
((SECONDS - start < 20)) || fail "the other ranks were not stopped (took $((SECONDS - start)) s)"
grep -q "launch: rank 1 exited with code 3; stopping the other ranks" die.log || { show_file die.log; fail "no message"; }
pass "rank 1's death ended the run in $((SECONDS - start)) s: $(grep 'launch:' die.log)"

note "--procs 2 -- gptcu pretrain (CPU, through mpirun)"
if ! command -v mpirun >/dev/null || [[ "${GPTCU_TEST_MPI:-ON}" != ON ]]; then
  echo "skipped: Open MPI not installed (no mpirun, or gptcu built without MPI)"
  echo "PASS: launch.sh"
  exit 0
fi
make_corpus corpus.txt 200
tiny_config cfg.yaml "$WORK/corpus.txt" "$WORK/run"
run_ok train.log bash "$LAUNCH" --procs 2 -- "$GPTCU" pretrain --config cfg.yaml --set train.max_steps=6 \
  --set train.batch_size=2
# (not anchored at ^: under mpirun the two ranks write one file, and a line of one can land inside
# a line of the other)
grep -q "\[rank 0\] data parallel: 2 ranks (mpi)" train.log || { show_file train.log; fail "rank 0 did not log"; }
grep -q "\[rank 1\] gptcu: rank 1 of 2 training" train.log || { show_file train.log; fail "rank 1 did not run"; }
grep -q "^\[rank 0\] done: step 6" train.log || fail "no done line from rank 0"
if grep -q "^\[rank 1\] done:" train.log; then fail "rank 1 printed the summary too"; fi
[[ -f run/checkpoints/step_00000006/model.safetensors ]] || fail "rank 0 wrote no checkpoint"
check_steps run 6
pass "both ranks trained; rank 0 wrote run/checkpoints/step_00000006 and the metrics"

note "--procs 2: a rank that fails stops the run with a clear message"
if bash "$LAUNCH" --procs 2 -- bash -c '[ "$RANK" = 1 ] && exit 5; sleep 60' >fail.log 2>&1; then
  fail "a failing rank gave exit code 0"
fi
grep -qi "exited\|non-zero" fail.log || { show_file fail.log; fail "mpirun gave no message"; }
pass "$(grep -i 'exited\|non-zero' fail.log | head -1 | sed 's/^ *//')"

echo "PASS: launch.sh"
