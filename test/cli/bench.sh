#!/usr/bin/env bash
# test/cli/bench.sh GPTCU: `gptcu bench kernels` without a GPU (or in a build without CUDA) is one
# line "error: ... needs a CUDA GPU ..." and exit code 1, never a crash; its option mistakes are
# one-line errors too. The GPU is hidden (CUDA_VISIBLE_DEVICES=-1), so the test also holds, and
# stays short, on a machine with one; the benchmark itself runs in scripts/gpu_check.sh.
#   bash test/cli/bench.sh build/gptcu
# shellcheck source=test/cli/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cli_init "$@"
export CUDA_VISIBLE_DEVICES=-1

note "help"
run_ok help.txt "$GPTCU" bench kernels --help
for opt in --op --csv --tokens --runs; do
  grep -q -- "$opt" help.txt || { show_file help.txt; fail "bench kernels --help does not list $opt"; }
done
pass "gptcu bench kernels --help exits 0 and lists --op --csv --tokens --runs"
run_ok top_help.txt "$GPTCU" --help
grep -q bench top_help.txt || { show_file top_help.txt; fail "gptcu --help does not list bench"; }
pass "gptcu --help lists bench"

note "no GPU"
expect_error "bench kernels without a GPU" "bench kernels needs a CUDA GPU" -- "$GPTCU" bench kernels
expect_error "bench kernels --csv without a GPU" "needs a CUDA GPU" -- "$GPTCU" bench kernels --op gelu_forward --csv k.csv
[[ ! -e k.csv ]] || fail "bench kernels without a GPU wrote k.csv"
pass "no CSV written without a GPU"

note "option errors (before the GPU is looked for)"
expect_error "unknown op" "no_such_op" "layernorm_forward" -- "$GPTCU" bench kernels --op no_such_op
expect_error "tokens not a multiple of T" "--tokens 1500" "1024" -- "$GPTCU" bench kernels --tokens 1500
expect_error "tokens 0" "--tokens 0" -- "$GPTCU" bench kernels --tokens 0
expect_error "bad dtype" "fp8" -- "$GPTCU" bench kernels --dtype fp8
expect_error "runs 0" "--runs" -- "$GPTCU" bench kernels --runs 0
expect_error "bench without a subcommand" "subcommand" -- "$GPTCU" bench

echo "bench.sh: all checks passed"
