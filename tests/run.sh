#!/usr/bin/env bash
# The test command (README, .ci/run): install dependencies, build, run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tests/deps.sh
build_dir=${BUILD_DIR:-build}
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build "$build_dir" -j2
ctest --test-dir "$build_dir" --output-on-failure -j2 --timeout 300
