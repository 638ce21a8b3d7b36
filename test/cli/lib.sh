# shellcheck shell=bash
# test/cli/lib.sh: helpers shared by the end-to-end tests of the gptcu command.
#
# Source it from a test script that was run as `bash SCRIPT.sh /path/to/gptcu`:
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#   cli_init "$@"          # sets $GPTCU (absolute), makes and enters a fresh temp dir ($WORK)
# Every helper prints what it checks; a failed check prints "FAIL: ..." and exits 1.

set -u -o pipefail

cli_init() {
  if [[ $# -lt 1 || ! -x "$1" ]]; then
    echo "usage: bash $0 /path/to/gptcu   (got '${1:-}', which is not an executable)" >&2
    exit 2
  fi
  GPTCU="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
  command -v python3 >/dev/null || { echo "FAIL: python3 is needed by the cli tests" >&2; exit 1; }
  WORK="$(mktemp -d "${TMPDIR:-/tmp}/gptcu-cli-test.XXXXXX")"
  # KEEP_WORK=1 keeps the directory for debugging a failure.
  if [[ "${KEEP_WORK:-0}" == 1 ]]; then
    trap 'echo "(kept $WORK)"' EXIT
  else
    trap 'rm -rf "$WORK"' EXIT
  fi
  cd "$WORK" || exit 1
  export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"
  echo "# $(basename "$0"): gptcu=$GPTCU work=$WORK"
}

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

pass() { echo "ok: $*"; }

# note "text": prints a heading for the next group of checks.
note() { echo "-- $*"; }

# show_file FILE [LABEL]: prints a file (indented), for failure messages.
show_file() {
  echo "   ---- ${2:-$1} ----" >&2
  sed 's/^/   | /' "$1" >&2 || true
}

# make_corpus FILE [LINES] [SEED]: a few KB of simple, repeated sentences from a seeded
# generator ("the cat sees the fish.\n" ...), so that a tiny model learns something quickly.
make_corpus() {
  python3 - "$1" "${2:-200}" "${3:-1}" <<'EOF'
import random, sys
path, lines, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
r = random.Random(seed)
subj = ["the cat", "a dog", "my friend", "the king", "a bird"]
verb = ["sees", "likes", "eats", "finds", "calls"]
obj = ["the fish.", "a ball.", "the queen.", "some bread.", "the moon."]
with open(path, "w") as f:
    for _ in range(lines):
        f.write(f"{r.choice(subj)} {r.choice(verb)} {r.choice(obj)}\n")
EOF
}

# tiny_config FILE DATA RUN_DIR: a seconds-long CPU config (1 layer, 16 wide, block 16).
# Vary it with `--set` on the command line.
tiny_config() {
  cat >"$1" <<EOF
device: cpu
model:
  n_layer: 1
  n_head: 2
  n_embd: 16
  block_size: 16
data:
  path: $2
  tokenizer: byte
  val_fraction: 0.1
train:
  batch_size: 4
  grad_accum_steps: 1
  max_steps: 40
  lr: 1.0e-2
  min_lr: 1.0e-3
  warmup_steps: 5
  lr_schedule: cosine
  eval_every: 10
  eval_steps: 2
  checkpoint_every: 0
  keep_checkpoints: 3
  log_every: 10
  seed: 7
run:
  dir: $3
EOF
}

# run_ok LOG CMD...: runs CMD with stdout+stderr to LOG; fails (showing LOG) unless it exits 0.
run_ok() {
  local log="$1"
  shift
  "$@" >"$log" 2>&1
  local rc=$?
  if [[ $rc -ne 0 ]]; then
    show_file "$log" "output of: $*"
    fail "exit code $rc from: $*"
  fi
}

# metrics_table RUN_DIR [FIELDS]: one line per metrics.jsonl row, "step loss [val_loss]" by
# default, numbers printed exactly (repr), so that two runs can be compared with cmp/diff.
# Fails if a line is not valid JSON or lacks "step"/"loss".
metrics_table() {
  python3 - "$1/metrics.jsonl" "${2:-step,loss,val_loss}" <<'EOF'
import json, sys
path, fields = sys.argv[1], sys.argv[2].split(",")
for n, line in enumerate(open(path), 1):
    if not line.strip():
        continue
    try:
        row = json.loads(line)
    except ValueError as e:
        sys.exit(f"{path}:{n}: not JSON ({e}): {line!r}")
    for required in ("step", "loss"):
        if required not in row:
            sys.exit(f"{path}:{n}: no '{required}' in {line!r}")
    print(" ".join(f"{f}={row[f]!r}" for f in fields if f in row))
EOF
}

# check_steps RUN_DIR N: metrics.jsonl has exactly the steps 1..N, in order, once each.
check_steps() {
  local got
  got="$(python3 - "$1/metrics.jsonl" "$2" <<'EOF'
import json, sys
steps = [json.loads(l)["step"] for l in open(sys.argv[1]) if l.strip()]
want = list(range(1, int(sys.argv[2]) + 1))
if steps != want:
    print(f"steps are {steps}, expected 1..{sys.argv[2]}")
EOF
)" || fail "cannot read $1/metrics.jsonl"
  [[ -z "$got" ]] || fail "$1/metrics.jsonl: $got"
}

# same_file A B WHAT: the two files are byte-identical (on failure, shows a diff).
same_file() {
  if ! cmp -s "$1" "$2"; then
    diff "$1" "$2" | head -20 >&2
    fail "$3: $1 and $2 differ"
  fi
}

# json_field FILE KEY: prints one top-level field of a JSON file.
json_field() {
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"
}

# no_crash OUT ERR: neither output shows a crash.
no_crash() {
  if grep -Eqi 'terminate called|aborted|core dumped|segmentation fault|internal error|stack trace|#[0-9]+ +0x' "$1" "$2"; then
    show_file "$2" stderr
    fail "$DESC: the output shows a crash"
  fi
}

# expect_error DESC KEYWORD... -- CMD ARGS...: CMD exits 1 with exactly one stderr line,
# starting with "error: " and containing every KEYWORD (fixed strings).
expect_error() {
  DESC="$1"
  shift
  local keywords=()
  while [[ $# -gt 0 && "$1" != "--" ]]; do
    keywords+=("$1")
    shift
  done
  shift
  "$@" >out.txt 2>err.txt
  local rc=$?
  no_crash out.txt err.txt
  if [[ $rc -ne 1 ]]; then
    show_file err.txt stderr
    fail "$DESC: exit code $rc, expected 1 (a user error) from: $*"
  fi
  local lines
  lines=$(wc -l <err.txt)
  if [[ $lines -ne 1 ]]; then
    show_file err.txt stderr
    fail "$DESC: $lines lines on stderr, expected exactly one"
  fi
  if ! grep -q '^error: ' err.txt; then
    show_file err.txt stderr
    fail "$DESC: stderr does not start with 'error: '"
  fi
  local k
  for k in "${keywords[@]}"; do
    if ! grep -qF -- "$k" err.txt; then
      show_file err.txt stderr
      fail "$DESC: the message does not mention '$k'"
    fi
  done
  pass "$DESC -> $(cat err.txt)"
}
