#!/usr/bin/env bash
# scripts/launch.sh: start one gptcu process per GPU (or per CPU process) with the environment of
# torchrun's convention, prefix each rank's output with "[rank R]", forward Ctrl-C / SIGTERM, and
# stop every rank as soon as one fails.
#
#   scripts/launch.sh --gpus 8 -- build/gptcu pretrain --config configs/gpt2.yaml          # one node
#   scripts/launch.sh --gpus 8 --nodes 2 --node-rank 0 --master 10.0.0.1:29500 -- build/gptcu pretrain ...
#   scripts/launch.sh --gpus 8 --nodes 2 --node-rank 1 --master 10.0.0.1:29500 -- build/gptcu pretrain ...
#   scripts/launch.sh --procs 2 -- build/gptcu pretrain --config configs/toy.yaml          # CPU, via mpirun
#
# Each rank gets RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT and
# NCCL_COMM_ID=MASTER_ADDR:(MASTER_PORT + 1) (NCCL's own bootstrap: rank 0 listens there). GPU ranks
# bind cuda:LOCAL_RANK (core/comm.h). GPTCU_COMM=nccl (--gpus) or mpi (--procs), unless already set:
# even --gpus 1 then trains through NCCL and the data-parallel code path, as a multi-GPU run does.
#
# Launchers (--launcher):
#   spawn   (default with --gpus) this script starts the processes, watches them, and when one
#           exits non-zero prints "launch: rank R exited with code C; stopping the other ranks"
#           and stops the rest (SIGTERM, then SIGKILL after 10 s).
#   mpirun  (default with --procs) the CPU backend is MPI, whose world only mpirun (or srun) can
#           create: this script runs `mpirun -np N` on itself, which sets the variables from
#           Open MPI's and prefixes the output; mpirun stops every rank when one fails and names it.
#           One node only (many CPU nodes: mpirun --hostfile or Slurm directly).
# A rank stuck in a collective (a hung peer) ends itself after train.comm_timeout_s (or
# GPTCU_COMM_TIMEOUT_S) seconds with a message, so the run never hangs silently.
set -uo pipefail

usage() {
  sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# ---- internal: one rank under mpirun (set the variables, prefix the output, become the command)
if [[ "${1:-}" == "--mpi-rank" ]]; then
  shift
  [[ "${1:-}" == "--" ]] && shift
  export RANK="${OMPI_COMM_WORLD_RANK:?--mpi-rank runs under mpirun}" WORLD_SIZE="$OMPI_COMM_WORLD_SIZE"
  export LOCAL_RANK="$OMPI_COMM_WORLD_LOCAL_RANK" LOCAL_WORLD_SIZE="$OMPI_COMM_WORLD_LOCAL_SIZE"
  exec > >(sed -u "s/^/[rank $RANK] /") 2> >(sed -u "s/^/[rank $RANK] /" >&2)
  exec "$@"
fi

gpus=0 procs=0 nodes=1 node_rank=0 master="127.0.0.1:29500" launcher=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --gpus) gpus="${2:?--gpus N}"; shift 2 ;;
    --procs) procs="${2:?--procs N}"; shift 2 ;;
    --nodes) nodes="${2:?--nodes M}"; shift 2 ;;
    --node-rank) node_rank="${2:?--node-rank R}"; shift 2 ;;
    --master) master="${2:?--master ADDR:PORT}"; shift 2 ;;
    --launcher) launcher="${2:?--launcher spawn|mpirun}"; shift 2 ;;
    --) shift; break ;;
    -h|--help) usage ;;
    *) echo "launch: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ $# -gt 0 ]] || { echo "launch: no command after --" >&2; exit 2; }
is_count() { [[ "$1" =~ ^[0-9]+$ && "$1" -ge 1 ]]; }
if [[ $gpus != 0 && $procs != 0 ]] || [[ $gpus == 0 && $procs == 0 ]]; then
  echo "launch: give one of --gpus N or --procs N" >&2; exit 2
fi
per_node=$((gpus + procs))
is_count "$per_node" || { echo "launch: --gpus/--procs must be a positive integer" >&2; exit 2; }
is_count "$nodes" || { echo "launch: --nodes must be a positive integer, got '$nodes'" >&2; exit 2; }
[[ "$node_rank" =~ ^[0-9]+$ && $node_rank -lt $nodes ]] ||
  { echo "launch: --node-rank must be in [0, $nodes), got '$node_rank'" >&2; exit 2; }
[[ "$master" =~ ^[^:]+:[0-9]+$ ]] || { echo "launch: --master must be ADDR:PORT, got '$master'" >&2; exit 2; }
master_addr="${master%:*}" master_port="${master##*:}"
[[ -n "$launcher" ]] || launcher=$([[ $gpus != 0 ]] && echo spawn || echo mpirun)
if [[ $gpus != 0 ]] && command -v nvidia-smi >/dev/null; then
  have=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU')
  [[ $have -ge $gpus ]] || { echo "launch: --gpus $gpus but this node shows $have GPU(s) (nvidia-smi -L)" >&2; exit 2; }
fi

[[ $gpus != 0 ]] && export GPTCU_COMM="${GPTCU_COMM:-nccl}" || export GPTCU_COMM="${GPTCU_COMM:-mpi}"

if [[ $launcher == mpirun ]]; then
  [[ $nodes == 1 ]] || { echo "launch: --launcher mpirun covers one node; for many use mpirun --hostfile or Slurm" >&2; exit 2; }
  command -v mpirun >/dev/null || { echo "launch: mpirun not found (apt-get install openmpi-bin)" >&2; exit 2; }
  extra=()
  [[ $(id -u) == 0 ]] && extra+=(--allow-run-as-root)
  [[ $per_node -gt $(nproc) ]] && extra+=(--oversubscribe)
  export MASTER_ADDR="$master_addr" MASTER_PORT="$master_port" NCCL_COMM_ID="$master_addr:$((master_port + 1))"
  exec mpirun "${extra[@]}" -np "$per_node" -x MASTER_ADDR -x MASTER_PORT -x NCCL_COMM_ID -x GPTCU_COMM \
    bash "$0" --mpi-rank -- "$@"
fi
[[ $launcher == spawn ]] || { echo "launch: --launcher must be spawn or mpirun, got '$launcher'" >&2; exit 2; }

# ---- spawn: start, watch, stop
world=$((nodes * per_node))
declare -A rank_of  # pid -> rank
pids=()
for ((i = 0; i < per_node; i++)); do
  r=$((node_rank * per_node + i))
  # The prefixers are this shell's own children (made here, not inside the rank's fork), so the
  # final `wait` waits for them to print the ranks' last lines before this script exits.
  exec {out}> >(sed -u "s/^/[rank $r] /") {err}> >(sed -u "s/^/[rank $r] /" >&2)
  RANK=$r WORLD_SIZE=$world LOCAL_RANK=$i LOCAL_WORLD_SIZE=$per_node MASTER_ADDR="$master_addr" \
    MASTER_PORT="$master_port" NCCL_COMM_ID="$master_addr:$((master_port + 1))" \
    "$@" >&"$out" 2>&"$err" {out}>&- {err}>&- &
  pids+=($!)
  rank_of[$!]=$r
  exec {out}>&- {err}>&-  # the rank holds the only writers: its prefixers end when it does
done

stop_all() {  # SIGNAL: to every rank still running; SIGKILL for those left after 10 s
  local p
  for p in "${pids[@]}"; do kill "-$1" "$p" 2>/dev/null; done
  for _ in $(seq 100); do
    local alive=0
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [[ $alive == 0 ]] && return
    sleep 0.1
  done
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
}
trap 'echo "launch: SIGINT: stopping every rank" >&2; stop_all INT; exit 130' INT
trap 'echo "launch: SIGTERM: stopping every rank" >&2; stop_all TERM; exit 143' TERM

live=("${pids[@]}")
while [[ ${#live[@]} -gt 0 ]]; do
  done_pid=""
  wait -n -p done_pid "${live[@]}"
  rc=$?
  [[ -n "$done_pid" ]] || continue  # a trapped signal interrupted wait
  still=()
  for p in "${live[@]}"; do [[ $p == "$done_pid" ]] || still+=("$p"); done
  live=("${still[@]}")
  if [[ $rc -ne 0 ]]; then
    echo "launch: rank ${rank_of[$done_pid]} exited with code $rc; stopping the other ranks" >&2
    stop_all TERM
    wait 2>/dev/null
    exit "$rc"
  fi
done
wait  # the output prefixers
exit 0
