#!/usr/bin/env bash
# scripts/gpu_check.sh: the one command for a GPU machine that has the CUDA toolkit, cmake, a C++
# compiler and PyTorch but no package registry (first, on a machine with apt: scripts/gpu_bundle.sh,
# then carry .gpu-bundle/ along).
#
#   bash scripts/gpu_check.sh [--budget SECONDS] [--only STAGE,...] [--no-cuda] [--keep-build] [--dry-run]
#
# Stages, in this order (each with its own time limit, all inside --budget, default 570 s, so the
# whole check ends inside 10 minutes; a stage that fails is recorded and the next one runs):
#   env          nvidia-smi, nvcc, cmake, compiler, PyTorch, compute-sanitizer: what the machine has
#   deps         unpack .gpu-bundle/bundle.tar.gz into build-gpu/deps (headers, libraries, pkg-config
#                files, pkgconf); CMAKE_PREFIX_PATH and PKG_CONFIG_PATH point there, and a folder on
#                LD_LIBRARY_PATH holds only the bundled shared libraries the system lacks
#   configure    cmake -G Ninja -DGPTCU_CUDA=ON into build-gpu/build
#   build        everything, -j $(nproc)
#   test         ctest: every test, the CUDA kernel tests included
#   bench        gptcu bench kernels --csv                               (GPU)
#   torch-eager  bench/torch_kernels.py --modes eager                     (GPU)
#   compare      bench/compare_kernels.py gptcu vs PyTorch                (GPU)
#   memcheck     compute-sanitizer --tool memcheck  over test_kernels "[cuda]"   (GPU)
#   racecheck    compute-sanitizer --tool racecheck over test_kernels "[cuda]"   (GPU)
#   train-gpu    gptcu pretrain --config configs/shakespeare_char.yaml --set device=cuda, 200 steps (GPU)
#   train-cpu    the same on the CPU, and the two validation losses side by side
#   train-nccl   scripts/launch.sh --gpus 1 -- gptcu pretrain (the same config, 100 steps, deterministic):
#                NCCL at world size 1 through the data-parallel code path (gradient buckets
#                all-reduced during the backward), and again with train.zero 1; the final weights
#                and moments of both must be the plain single-GPU run's, bit for bit (GPU)
#   train-bench  scripts/bench_train.sh: GPT-2 124M (configs/gpt2_124m.yaml) on Tiny Shakespeare in
#                GPT-2 BPE, gptcu beside PyTorch, BENCH_STEPS (20) steps each, BENCH_SEARCH (0: no
#                largest-micro-batch search); its table goes to the results folder (GPU)
#   train-tang   GPT-2 124M (configs/gpt2_124m.yaml, micro-batch 64 x 1024, no accumulation) for
#                TANG_STEPS (300) steps on the Tang poems in GPT-2 BPE, evaluating every 50: the
#                metrics go to the results folder (tang_metrics.jsonl) with a plot of the training
#                and validation curves (tang_curves.png, when matplotlib is there) (GPU)
#   torch-compile  bench/torch_kernels.py --modes compile, then compare again, in the time left (GPU)
# On a machine without a GPU the GPU stages say "skipped (no GPU)" and the rest still runs.
#
# It writes bench/results/<date>-<gpu>-<commit>.md (build-gpu/results/ without a GPU; with --only,
# <commit>-<stages>.md): the commands,
# the GPU, the commit, each stage's status and time, and the raw outputs; rewritten after every
# stage, so a run cut short still leaves what it did. If $OUT is set, the results file, the two
# CSVs and all logs (logs.tar.gz) are copied there too. Exit code 0 only if every stage that ran
# passed and none was cut short or skipped for time.
#
# Options: --budget S  total seconds (default 570; each stage's limit scales with it); --only a,b
# run only these stages (the deps are always set up); --no-cuda  configure with GPTCU_CUDA=OFF (a
# check of the script on a CPU machine); --keep-build  reuse build-gpu/build (no clean configure);
# --dry-run  print the environment and the commands, run nothing. GPTCU_COMMIT names the commit
# where the tree has no .git; GPTCU_CMAKE_ARGS adds options to the cmake configure.
set -u -o pipefail
cd "$(dirname "$0")/.." || exit 2
ROOT="$PWD"
START=$(date +%s)
ARGS="$*"

budget=570
only=""
cuda=ON
dry=0
keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --budget) budget="$2"; shift 2 ;;
    --only) only=",$2,"; shift 2 ;;
    --no-cuda) cuda=OFF; shift ;;
    --dry-run) dry=1; shift ;;
    --keep-build) keep=1; shift ;;
    -h|--help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "gpu_check: error: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
DEADLINE=$((START + budget))

# ---- where things go -------------------------------------------------------------------------
W="$ROOT/build-gpu"            # everything this script makes (git-ignored through /build*/)
BUILD="$W/build"
DEPS="$W/deps"
LOGS="$W/logs"
FILES="$W/files"               # the CSVs
mkdir -p "$LOGS" "$FILES"
rm -f "$LOGS"/*.log "$FILES"/*.csv "$FILES"/*.png "$FILES"/*.jsonl

if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L 2>/dev/null | grep -q '^GPU'; then
  HAVE_GPU=1
  GPU_NAME=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)
  GPU_INFO=$(nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader 2>/dev/null | head -1)
else
  HAVE_GPU=0
  GPU_NAME="no GPU"
  GPU_INFO="no GPU (nvidia-smi missing or lists none)"
fi
if git rev-parse --git-dir >/dev/null 2>&1; then
  COMMIT=$(git rev-parse --short=12 HEAD)
  git diff --quiet HEAD -- . ':!bench/results' 2>/dev/null || COMMIT="$COMMIT-dirty"
else
  COMMIT="${GPTCU_COMMIT:-nogit}"
fi
slug() { echo "$1" | tr 'A-Z' 'a-z' | sed 's/[^a-z0-9]\{1,\}/-/g; s/^-//; s/-$//'; }
DATE=$(date -u +%F)
if [ "$HAVE_GPU" = 1 ]; then RESULTS_DIR="$ROOT/bench/results"; else RESULTS_DIR="$W/results"; fi
RESULTS="$RESULTS_DIR/$DATE-$(slug "$GPU_NAME")-$COMMIT.md"
# --only: its own file (a later call with other stages must not overwrite the first one's)
[ -n "$only" ] && RESULTS="${RESULTS%.md}-$(slug "$only").md"
mkdir -p "$RESULTS_DIR"

# ---- the bundled libraries -----------------------------------------------------------------------
SAN=""
for c in "$(command -v compute-sanitizer 2>/dev/null)" /usr/local/cuda/bin/compute-sanitizer \
         /usr/local/cuda/compute-sanitizer/compute-sanitizer /opt/nvidia/compute-sanitizer/compute-sanitizer; do
  if [ -n "$c" ] && [ -x "$c" ]; then SAN="$c"; break; fi
done
NVCC=$(command -v nvcc 2>/dev/null || { [ -x /usr/local/cuda/bin/nvcc ] && echo /usr/local/cuda/bin/nvcc; } || echo "")
PY=$(command -v python3 2>/dev/null || echo python3)
export W DEPS BUILD FILES ROOT SAN PY
LIBDIR="$DEPS/usr/lib/x86_64-linux-gnu"
export CMAKE_PREFIX_PATH="$DEPS/usr${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}"
export PKG_CONFIG_PATH="$LIBDIR/openblas-openmp/pkgconfig:$LIBDIR/pkgconfig:$DEPS/usr/share/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
export LD_LIBRARY_PATH="$DEPS/runtime${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
CMAKE_EXTRA=""
if ! command -v pkg-config >/dev/null 2>&1; then
  export PKG_CONFIG="$DEPS/usr/bin/pkgconf"   # FindPkgConfig reads $PKG_CONFIG
  CMAKE_EXTRA="-DPKG_CONFIG_EXECUTABLE=$PKG_CONFIG"
fi
# Tiny Shakespeare for the training runs: from the bundle (../shared does not travel), else ../shared
DATA="$DEPS/data/tinyshakespeare.txt"
GPT2_TOK="$DEPS/data/gpt2"
TANG="$DEPS/data/quan_tang_shi.txt"
if [ ! -f "$ROOT/.gpu-bundle/bundle.tar.gz" ]; then
  DATA="$ROOT/../shared/data/pretrain/tinyshakespeare.txt"
  GPT2_TOK="$ROOT/../shared/data/tokenizers/gpt2"
  TANG="$ROOT/../shared/data/pretrain/quan_tang_shi.txt"
fi
export DATA GPT2_TOK TANG

# deps: unpack the bundle and make build-gpu/deps/runtime hold links to the bundled shared
# libraries whose soname the system's loader does not know (libgfortran for OpenBLAS, say), so
# that LD_LIBRARY_PATH never replaces a library the system (or PyTorch) already uses.
setup_deps() {
  if [ ! -f "$ROOT/.gpu-bundle/bundle.tar.gz" ]; then
    echo "no .gpu-bundle/bundle.tar.gz: relying on the system's packages (run scripts/gpu_bundle.sh on a machine with apt)"
    return 0
  fi
  rm -rf "$DEPS" && mkdir -p "$DEPS/runtime" &&
    tar -xzf "$ROOT/.gpu-bundle/bundle.tar.gz" -C "$DEPS" || return 1
  cat "$ROOT/.gpu-bundle/MANIFEST" 2>/dev/null
  local known f so
  known=$(ldconfig -p 2>/dev/null | awk '{print $1}')
  for f in "$LIBDIR"/*.so.* "$LIBDIR"/openblas-openmp/*.so.*; do
    [ -e "$f" ] || continue
    so=$(basename "$f")
    case "$so" in *.so.[0-9]*) ;; *) continue ;; esac
    # only the soname links (libfoo.so.N), not libfoo.so.N.M.K files
    [[ "$so" =~ \.so\.[0-9]+$ ]] || continue
    if ! grep -qxF "$so" <<<"$known"; then ln -sf "$f" "$DEPS/runtime/$so"; echo "runtime: $so (not on this system)"; fi
  done
  echo "CMAKE_PREFIX_PATH=$CMAKE_PREFIX_PATH"
  echo "PKG_CONFIG_PATH=$PKG_CONFIG_PATH"
  echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
  echo "pkg-config: ${PKG_CONFIG:-$(command -v pkg-config)}"
}

# ---- stages ------------------------------------------------------------------------------------
NAMES=() STATUS=() SECS=() CMDS=() FAILED=0

record() {  # name status seconds command
  NAMES+=("$1"); STATUS+=("$2"); SECS+=("$3"); CMDS+=("$4")
  case "$2" in ok|skipped\ \(no\ GPU\)|skipped\ \(not\ in\ --only\)|skipped\ \(no\ compute-sanitizer\)) ;; *) FAILED=1 ;; esac
  printf '== %-14s %-34s %5s s\n' "$1" "$2" "$3"
  write_results
}

wanted() { [ -z "$only" ] || [[ "$only" == *",$1,"* ]]; }

# run_stage NAME CAP_SECONDS GPU|CPU COMMAND: runs COMMAND (a bash string) with a time limit of
# min(CAP * budget / 570, time left - 10 s), output to build-gpu/logs/NAME.log.
run_stage() {
  local name="$1" cap=$(($2 * budget / 570)) kind="$3" cmd="$4"
  if ! wanted "$name"; then record "$name" "skipped (not in --only)" 0 "$cmd"; return 0; fi
  if [ "$kind" = GPU ] && [ "$HAVE_GPU" = 0 ]; then
    echo "skipped: no GPU on this machine" >"$LOGS/$name.log"
    record "$name" "skipped (no GPU)" 0 "$cmd"
    return 0
  fi
  local left=$((DEADLINE - $(date +%s) - 10))
  local limit=$((cap < left ? cap : left))
  if [ "$limit" -lt 15 ]; then
    echo "skipped: the time budget (--budget $budget s) is spent" >"$LOGS/$name.log"
    record "$name" "skipped (time budget spent)" 0 "$cmd"
    return 1
  fi
  echo "-- $name (limit $limit s): $cmd"
  local t0 rc status
  t0=$(date +%s)
  timeout --kill-after=10 "$limit" bash -c "$cmd" >"$LOGS/$name.log" 2>&1
  rc=$?
  case $rc in
    0) status=ok ;;
    124|137) status="TIMEOUT (limit $limit s)" ;;
    *) status="FAILED (exit $rc)" ;;
  esac
  record "$name" "$status" $(($(date +%s) - t0)) "$cmd"
  [ $rc -eq 0 ]
}

# ---- the results file --------------------------------------------------------------------------
tail_log() {  # file lines: the last lines of a log (the whole log if shorter)
  local n
  n=$(wc -l <"$1")
  if [ "$n" -gt "$2" ]; then echo "[... $((n - $2)) earlier lines in logs.tar.gz/$(basename "$1") ...]"; fi
  tail -n "$2" "$1"
}

write_results() {
  {
    echo "# GPU check: $GPU_NAME, $DATE, commit $COMMIT"
    echo
    echo "- command: \`bash scripts/gpu_check.sh${ARGS:+ $ARGS}\` (scripts/gpu_check.sh; budget $budget s)"
    echo "- GPU: $GPU_INFO"
    echo "- commit: $COMMIT$(git log -1 --format=' (%s)' 2>/dev/null | cut -c1-120)"
    echo "- host: $(nproc) CPUs, $(uname -sr), $(date -u '+%F %T') UTC, $(( $(date +%s) - START )) s so far"
    echo "- CUDA build: GPTCU_CUDA=$cuda; nvcc: ${NVCC:-none}; compute-sanitizer: ${SAN:-none}"
    echo
    echo "| stage | status | seconds |"
    echo "|---|---|---|"
    local i
    for i in "${!NAMES[@]}"; do echo "| ${NAMES[$i]} | ${STATUS[$i]} | ${SECS[$i]} |"; done
    echo
    echo "## Commands"
    echo
    echo "Run from the repository root (\$W = build-gpu, \$PY = python3, \$SAN = compute-sanitizer)."
    echo
    echo '```bash'
    for i in "${!NAMES[@]}"; do echo "# ${NAMES[$i]}"; echo "${CMDS[$i]}" | sed "s#$ROOT/##g; s#$ROOT#.#g"; done
    echo '```'
    for i in "${!NAMES[@]}"; do
      local log="$LOGS/${NAMES[$i]}.log" lines=400
      [ -f "$log" ] || continue
      case "${NAMES[$i]}" in build) lines=60 ;; test) lines=200 ;; memcheck|racecheck) lines=80 ;; esac
      echo
      echo "## ${NAMES[$i]}: ${STATUS[$i]}"
      echo
      echo '```text'
      tail_log "$log" "$lines" | sed "s#$ROOT/##g"
      echo '```'
    done
  } >"$RESULTS.tmp" && mv "$RESULTS.tmp" "$RESULTS"
  if [ -n "${OUT:-}" ] && [ -d "${OUT:-}" ]; then
    cp "$RESULTS" "$OUT/" 2>/dev/null
    cp "$FILES"/*.csv "$FILES"/*-train.md "$FILES"/*.png "$FILES"/*.jsonl "$OUT/" 2>/dev/null
    tar -czf "$OUT/logs.tar.gz" -C "$W" logs 2>/dev/null
  fi
  return 0
}

# ---- the plan ----------------------------------------------------------------------------------
G="$BUILD/gptcu"
TRAIN_SET="--set data.path=$DATA --set train.max_steps=200 --set train.lr_decay_steps=200 --set train.warmup_steps=20 \
--set train.eval_every=100 --set train.eval_steps=20 --set train.checkpoint_every=0 --set train.log_every=50"
VAL_CMP='$PY -c "import json,os,sys
for d in (\"gpu\", \"cpu\"):
    p = os.path.join(sys.argv[1], d, \"metrics.jsonl\")
    r = [json.loads(l) for l in open(p) if \"val_loss\" in l] if os.path.exists(p) else []
    print(d + \":\", \"val_loss %.4f at step %d\" % (r[-1][\"val_loss\"], r[-1][\"step\"]) if r else \"no validation loss (no run)\")" $W/runs'

S_ENV='nvidia-smi || true; echo; echo "nvcc: $(${NVCC:-nvcc} --version 2>&1 | tail -2 | head -1)"; cmake --version | head -1; ninja --version 2>&1 | sed "s/^/ninja /"; c++ --version | head -1; echo "compute-sanitizer: ${SAN:-not found}"; $PY -c "import torch; print(\"torch\", torch.__version__, \"cuda\", torch.version.cuda, \"available\", torch.cuda.is_available())" 2>&1 | tail -1; echo "nproc $(nproc)"; free -g | head -2'
S_CONFIGURE="$([ "$keep" = 1 ] || echo "rm -rf $BUILD && ")cmake -S $ROOT -B $BUILD -G Ninja -DCMAKE_BUILD_TYPE=Release -DGPTCU_CUDA=$cuda -DCMAKE_POLICY_VERSION_MINIMUM=3.5 $CMAKE_EXTRA ${GPTCU_CMAKE_ARGS:-}"
S_BUILD="cmake --build $BUILD -j $(nproc)"
S_TEST="ctest --test-dir $BUILD --output-on-failure -j $(nproc) --timeout 180"
S_BENCH="$G bench kernels --csv $FILES/kernels.csv"
S_TORCH_EAGER="PYTHONUNBUFFERED=1 $PY $ROOT/bench/torch_kernels.py --modes eager --csv $FILES/torch_eager.csv"
S_COMPARE="{ cat $FILES/torch_eager.csv; tail -n +2 $FILES/torch_compile.csv 2>/dev/null || true; } >$FILES/torch_kernels.csv && $PY $ROOT/bench/compare_kernels.py $FILES/kernels.csv $FILES/torch_kernels.csv"
S_MEMCHECK="\"\$SAN\" --tool memcheck --error-exitcode 1 --print-limit 20 $BUILD/test/test_kernels '[cuda]'"
S_RACECHECK="\"\$SAN\" --tool racecheck --error-exitcode 1 --print-limit 20 $BUILD/test/test_kernels '[cuda]'"
S_TRAIN_GPU="rm -rf $W/runs/gpu && $G pretrain --config $ROOT/configs/shakespeare_char.yaml --set device=cuda $TRAIN_SET --set run.dir=$W/runs/gpu"
S_TRAIN_CPU="rm -rf $W/runs/cpu && $G pretrain --config $ROOT/configs/shakespeare_char.yaml --set device=cpu $TRAIN_SET --set run.dir=$W/runs/cpu; rc=\$?; echo; $VAL_CMP; exit \$rc"
NCCL_SET="--config $ROOT/configs/shakespeare_char.yaml --set device=cuda --set data.path=$DATA --set train.max_steps=100 \
--set train.lr_decay_steps=100 --set train.eval_every=50 --set train.eval_steps=10 --set train.checkpoint_every=0 \
--set train.log_every=25 --set train.deterministic=true --set train.bucket_mb=1"
S_TRAIN_NCCL="rm -rf $W/runs/plain $W/runs/nccl $W/runs/nccl_zero1 && $G pretrain $NCCL_SET --set run.dir=$W/runs/plain >$LOGS/train-nccl-plain.log 2>&1 \
&& bash $ROOT/scripts/launch.sh --gpus 1 -- $G pretrain $NCCL_SET --set run.dir=$W/runs/nccl >$LOGS/train-nccl-launch.log 2>&1 \
&& bash $ROOT/scripts/launch.sh --gpus 1 -- $G pretrain $NCCL_SET --set train.zero=1 --set run.dir=$W/runs/nccl_zero1 >$LOGS/train-nccl-zero1.log 2>&1; \
rc=\$?; tail -n 25 $LOGS/train-nccl-launch.log; tail -n 5 $LOGS/train-nccl-zero1.log; [ \$rc = 0 ] || exit \$rc; echo; \
for run in nccl nccl_zero1; do for f in model optimizer; do echo \"\$f: plain vs \$run\"; \
$PY $ROOT/test/dist/compare_safetensors.py $W/runs/plain/checkpoints/step_00000100/\$f.safetensors \
$W/runs/\$run/checkpoints/step_00000100/\$f.safetensors 0 || exit 1; done; done"
S_TRAIN_BENCH="rm -rf $W/gpt2_data $W/runs/bench_train && $G data prepare --config $ROOT/configs/gpt2_124m.yaml --set data.path=$W/gpt2_data --set data.tokenizer=$GPT2_TOK --set 'prepare.inputs=[$DATA]' >$LOGS/gpt2_prepare.log && STEPS=\${BENCH_STEPS:-20} SEARCH=\${BENCH_SEARCH:-0} GPTCU=$G RUN_DIR=$W/runs/bench_train OUT_DIR=$FILES bash $ROOT/scripts/bench_train.sh $ROOT/configs/gpt2_124m.yaml --set data.path=$W/gpt2_data --set data.tokenizer=$GPT2_TOK"
S_TRAIN_TANG="rm -rf $W/tang_data $W/runs/tang && $G data prepare --config $ROOT/configs/gpt2_124m.yaml --set data.path=$W/tang_data \
--set data.tokenizer=$GPT2_TOK --set 'prepare.inputs=[$TANG]' --set prepare.text_unit=paragraph --set prepare.normalize=nfc \
--set data.val_fraction=0.02 && $G pretrain --config $ROOT/configs/gpt2_124m.yaml --set data.path=$W/tang_data \
--set data.tokenizer=$GPT2_TOK --set train.grad_accum_steps=1 --set train.max_steps=\${TANG_STEPS:-300} \
--set train.lr_decay_steps=\${TANG_STEPS:-300} --set train.warmup_steps=40 --set train.eval_every=50 --set train.eval_steps=20 \
--set train.log_every=25 --set train.checkpoint_every=0 --set run.dir=$W/runs/tang; rc=\$?; \
cp $W/runs/tang/metrics.jsonl $FILES/tang_metrics.jsonl 2>/dev/null; \
$PY $ROOT/scripts/plot_metrics.py $W/runs/tang --out $FILES/tang_curves.png || echo 'no plot (matplotlib?): plot tang_metrics.jsonl elsewhere'; \
grep -h val_loss $W/runs/tang/metrics.jsonl | $PY -c \"import json,sys; print('validation loss:', ' '.join('%d:%.3f' % (r['step'], r['val_loss']) for r in map(json.loads, sys.stdin)))\"; exit \$rc"
S_TORCH_COMPILE="PYTHONUNBUFFERED=1 $PY $ROOT/bench/torch_kernels.py --modes compile --csv $FILES/torch_compile.csv"

if [ "$dry" = 1 ]; then
  echo "gpu_check: dry run ($GPU_INFO; results would go to ${RESULTS#$ROOT/})"
  echo "CMAKE_PREFIX_PATH=$CMAKE_PREFIX_PATH"
  echo "PKG_CONFIG_PATH=$PKG_CONFIG_PATH"
  echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
  for s in S_ENV S_CONFIGURE S_BUILD S_TEST S_BENCH S_TORCH_EAGER S_COMPARE S_MEMCHECK S_RACECHECK S_TRAIN_GPU S_TRAIN_CPU S_TRAIN_NCCL S_TRAIN_BENCH S_TRAIN_TANG S_TORCH_COMPILE; do
    echo "$s: ${!s}"
  done
  exit 0
fi

echo "gpu_check: $GPU_INFO; commit $COMMIT; budget $budget s; results: ${RESULTS#$ROOT/}"
run_stage env 30 CPU "$S_ENV"
# deps runs in this shell (its environment is everyone's): no time limit of its own
t0=$(date +%s)
if setup_deps >"$LOGS/deps.log" 2>&1; then record deps ok $(($(date +%s) - t0)) "setup_deps (unpack .gpu-bundle)"
else record deps "FAILED" $(($(date +%s) - t0)) "setup_deps (unpack .gpu-bundle)"; fi

built=0
if run_stage configure 90 CPU "$S_CONFIGURE" && run_stage build 300 CPU "$S_BUILD"; then built=1; fi
if [ "$built" = 1 ] || ! wanted configure; then
  run_stage test 150 CPU "$S_TEST"
  run_stage bench 150 GPU "$S_BENCH"
  run_stage torch-eager 100 GPU "$S_TORCH_EAGER"
  run_stage compare 20 GPU "$S_COMPARE"
  if [ -n "$SAN" ] || [ "$HAVE_GPU" = 0 ]; then
    run_stage memcheck 90 GPU "$S_MEMCHECK"
    run_stage racecheck 90 GPU "$S_RACECHECK"
  else
    record memcheck "skipped (no compute-sanitizer)" 0 "$S_MEMCHECK"
    record racecheck "skipped (no compute-sanitizer)" 0 "$S_RACECHECK"
  fi
  if [ -f "$DATA" ]; then
    run_stage train-gpu 90 GPU "$S_TRAIN_GPU"
    run_stage train-cpu 90 CPU "$S_TRAIN_CPU"
    run_stage train-nccl 120 GPU "$S_TRAIN_NCCL"
  else
    record train-gpu "FAILED (no $DATA)" 0 "$S_TRAIN_GPU"
    record train-nccl "FAILED (no $DATA)" 0 "$S_TRAIN_NCCL"
  fi
  run_stage train-bench 240 GPU "$S_TRAIN_BENCH"
  run_stage train-tang 240 GPU "$S_TRAIN_TANG"
  run_stage torch-compile 300 GPU "$S_TORCH_COMPILE"
  [ "$HAVE_GPU" = 1 ] && wanted compare && run_stage compare-all 20 GPU "$S_COMPARE"
else
  record test "skipped (no build)" 0 "$S_TEST"
fi

write_results
echo
echo "gpu_check: $(( $(date +%s) - START )) s; results in ${RESULTS#$ROOT/}${OUT:+ and \$OUT}"
[ -f "$LOGS/compare-all.log" ] && tail -n 60 "$LOGS/compare-all.log"
[ ! -f "$LOGS/compare-all.log" ] && [ -f "$LOGS/compare.log" ] && tail -n 60 "$LOGS/compare.log"
for i in "${!NAMES[@]}"; do printf '  %-14s %-34s %5s s\n' "${NAMES[$i]}" "${STATUS[$i]}" "${SECS[$i]}"; done
if [ "$FAILED" = 0 ]; then echo "gpu_check: every stage passed"; exit 0; fi
echo "gpu_check: some stages failed or did not run (see above)"
exit 1
