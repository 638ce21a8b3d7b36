#!/usr/bin/env bash
# scripts/test.sh: set up, configure, build and run every test (the README's test command).
#   bash scripts/test.sh            # build dir: build/
# CUDA kernels are compiled when nvcc is present (GPTCU_CUDA=AUTO); CUDA tests skip without a GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release ${GPTCU_CMAKE_ARGS:-}
cmake --build build -j "$(nproc)"
ctest --test-dir build --output-on-failure -j "$(nproc)"
