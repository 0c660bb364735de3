#!/usr/bin/env bash
# The test command (README, .ci/run): install dependencies, build, run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tests/deps.sh
build_dir=${BUILD_DIR:-build}
ci=false
[[ "${CI:-}" == "true" ]] && ci=true
# Release: what users and packagers build (-O3 warns where -O2 does not). Warnings are errors in
# CI only (UNDERSTUDY_WERROR), so a newer compiler never breaks a user's build.
werror=OFF
[[ $ci == true || -n "${UNDERSTUDY_WERROR:-}" ]] && werror=ON
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DUNDERSTUDY_WERROR=$werror
# Layering (issue 13): no file includes a header of a module its target does not link. Seconds,
# so before the build: a violation fails here, not after the long stages.
python3 tests/check_includes.py "$build_dir"
cmake --build "$build_dir" -j2
ctest --test-dir "$build_dir" --output-on-failure -j2 --timeout 300
# CI (or UNDERSTUDY_HARDENING=1): the whole suite again under ASan+UBSan+LSan, each fuzz target
# for 60 s (issue 7), and each benchmark in its smoke mode so none can rot unseen (issue 11).
if [[ $ci == true || -n "${UNDERSTUDY_HARDENING:-}" ]]; then
  bash tests/sanitize.sh
  bash tests/fuzz/run.sh "${FUZZ_SECONDS:-60}"
  bash tests/bench_smoke.sh "$build_dir/understudy"
fi
