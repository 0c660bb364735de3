#!/usr/bin/env bash
# The second pass of the test suite: everything built with ASan+UBSan (LeakSanitizer included in
# ASan) in build-asan/, and the whole ctest suite run against it. The system tests start the
# daemon from the same build, so the daemon runs sanitized too. Any sanitizer report fails: ASan
# and UBSan abort the process (and so fail its test), and the logs are searched for reports from
# child processes whose exit a test might not have checked.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${ASAN_BUILD_DIR:-build-asan}
# Warnings stay warnings here: GCC's flow-based warnings misfire on sanitizer-instrumented code
# (-Wmaybe-uninitialized inside Boost.Beast's optional<> in src/control, -Wmismatched-new-delete
# on the allocation counter in tests/unit/query/no_alloc_test.cc). The normal build keeps -Werror.
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DUNDERSTUDY_SANITIZE=ON \
  -DCMAKE_CXX_FLAGS="-Wno-error" >/dev/null
cmake --build "$build_dir" -j"$(nproc)"

# Reports also go to files, one per process, so none is lost when a test swallows a child's stderr.
report_dir="$build_dir/sanitizer-reports"
rm -rf "$report_dir"
mkdir -p "$report_dir"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:log_path=$PWD/$report_dir/asan"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$PWD/$report_dir/ubsan"

status=0
ctest --test-dir "$build_dir" --output-on-failure -j"$(nproc)" --timeout 600 || status=$?

if compgen -G "$report_dir/*" >/dev/null; then
  echo "sanitizer reports:"
  for f in "$report_dir"/*; do
    echo "== $f"
    head -60 "$f"
  done
  status=1
fi
exit "$status"
