#!/usr/bin/env bash
# The test command (README, .ci/run): install dependencies, build, run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tests/deps.sh
build_dir=${BUILD_DIR:-build}
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build "$build_dir" -j2
ctest --test-dir "$build_dir" --output-on-failure -j2 --timeout 300
# CI (or UNDERSTUDY_HARDENING=1): the whole suite again under ASan+UBSan+LSan, then each fuzz
# target for 60 s (issue 7).
if [[ "${CI:-}" == "true" || -n "${UNDERSTUDY_HARDENING:-}" ]]; then
  bash tests/sanitize.sh
  bash tests/fuzz/run.sh "${FUZZ_SECONDS:-60}"
fi
