#!/usr/bin/env bash
# test/dist/rank_failure.sh GPTCU MPIRUN: a rank that dies or hangs ends a 2-rank CPU run with a
# clear message, within the communication timeout, never a silent hang.
#   - kill -9 of rank 1: the run ends (mpirun names the rank that died);
#   - kill -STOP of rank 1 (a hang): rank 0's watchdog ends it after GPTCU_COMM_TIMEOUT_S = 3 s
#     with "did not complete within 3 s".
#   bash test/dist/rank_failure.sh build/gptcu /usr/bin/mpirun
# shellcheck source=test/cli/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../cli/lib.sh"
MPIRUN="${2:?usage: rank_failure.sh GPTCU MPIRUN}"
cli_init "$1"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1

make_corpus corpus.txt 200
tiny_config cfg.yaml "$WORK/corpus.txt" "$WORK/unused"
sets=(--set model.n_layer=1 --set model.n_embd=16 --set train.max_steps=1000000 --set train.eval_every=0
      --set train.log_every=1000)

# start_run NAME: a long 2-rank run in the background; waits until it has taken steps.
start_run() {
  "$MPIRUN" -np 2 "$GPTCU" pretrain --config cfg.yaml "${sets[@]}" --set run.dir="$WORK/$1" >"$1.log" 2>&1 &
  RUN_PID=$!
  for _ in $(seq 300); do
    [[ -s "$WORK/$1/metrics.jsonl" ]] && break
    sleep 0.1
  done
  [[ -s "$WORK/$1/metrics.jsonl" ]] || { show_file "$1.log"; fail "the 2-rank run did not start"; }
}
# rank_pid N: the process of rank N (the gptcu child of mpirun whose environment says so).
rank_pid() {
  local p
  for p in $(pgrep -f "$GPTCU pretrain"); do
    if tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$1"; then echo "$p"; return; fi
  done
}
# wait_end SECONDS: waits for the run to end; fails (and cleans up) if it outlives SECONDS.
wait_end() {
  local start=$SECONDS
  while kill -0 "$RUN_PID" 2>/dev/null; do
    if ((SECONDS - start > $1)); then
      pkill -9 -P "$RUN_PID"; kill -9 "$RUN_PID"
      fail "the run still runs $1 s after the failure"
    fi
    sleep 0.2
  done
  wait "$RUN_PID"
  RC=$?
  ELAPSED=$((SECONDS - start))
}

note "kill -9 of rank 1"
export GPTCU_COMM_TIMEOUT_S=3
start_run dead
victim="$(rank_pid 1)"
[[ -n "$victim" ]] || fail "cannot find rank 1's process"
kill -9 "$victim"
wait_end 30
[[ $RC -ne 0 ]] || fail "the run exited 0 after rank 1 was killed"
grep -Eqi "rank 1|signal 9|Killed" dead.log || { show_file dead.log; fail "no message naming the dead rank"; }
pass "ended in ${ELAPSED}s with exit code $RC: $(grep -Ei 'rank 1|signal 9|Killed' dead.log | head -1 | sed 's/^ *//')"

note "rank 1 hangs (SIGSTOP): the watchdog"
start_run hang
victim="$(rank_pid 1)"
[[ -n "$victim" ]] || fail "cannot find rank 1's process"
kill -STOP "$victim"
wait_end 30
kill -9 "$victim" 2>/dev/null  # mpirun may leave a stopped process behind
[[ $RC -ne 0 ]] || fail "the run exited 0 after rank 1 hung"
grep -q "gptcu: rank 0 of 2: .* did not complete within 3 s" hang.log || { show_file hang.log; fail "no watchdog message"; }
pass "ended in ${ELAPSED}s with exit code $RC: $(grep 'did not complete' hang.log | head -1)"

echo "PASS: rank_failure.sh"
