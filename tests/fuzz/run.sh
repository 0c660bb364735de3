#!/usr/bin/env bash
# Builds the libFuzzer targets (clang-14, ASan+UBSan, in build-fuzz/) and runs each for SECONDS
# (default 60), JOBS at a time (default: the number of cores). Fails if any target finds a crash,
# a sanitizer report, a leak, a hang (-timeout) or runaway memory (-rss_limit_mb).
#
#   tests/fuzz/run.sh [SECONDS] [TARGET...]
#     targets: message answer tcp_framer tcp_connection config zone_file
#
# Seeds are read from tests/fuzz/corpus/<target>/ and never written; what the fuzzer finds goes to
# $FUZZ_BUILD_DIR/corpus/<target>/ (kept between runs), crashes to $FUZZ_BUILD_DIR/artifacts/.
# Reproduce one with:  build-fuzz/tests/fuzz/fuzz_<target> <artifact file>
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-60}
shift || true
targets=("$@")
((${#targets[@]})) || targets=(message answer tcp_framer tcp_connection config zone_file)
build_dir=${FUZZ_BUILD_DIR:-build-fuzz}
jobs=${JOBS:-$(nproc)}

if ! command -v clang++-14 >/dev/null || ! dpkg-query -W -f='${Status}' libclang-rt-14-dev 2>/dev/null |
  grep -q "install ok installed"; then
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update
  $SUDO apt-get install -y --no-install-recommends clang-14 libclang-rt-14-dev
fi

CC=clang-14 CXX=clang++-14 cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DUNDERSTUDY_FUZZ=ON >/dev/null
python3 tests/check_includes.py "$build_dir"  # the fuzz targets' includes (issue 13)
cmake --build "$build_dir" -j"$(nproc)" --target fuzzers

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

run_one() {
  local t=$1
  local work="$build_dir/corpus/$t" artifacts="$build_dir/artifacts/$t/" log="$build_dir/logs/$t.log"
  mkdir -p "$work" "$artifacts" "$(dirname "$log")"
  local extra=()
  [[ -f tests/fuzz/$t.dict ]] && extra+=(-dict="tests/fuzz/$t.dict")
  "$build_dir/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len=4096 -print_final_stats=1 -artifact_prefix="$artifacts" "${extra[@]}" \
    "$work" "tests/fuzz/corpus/$t" >"$log" 2>&1
}

summary() {
  local t=$1 log="$build_dir/logs/$t.log"
  local execs cov corpus
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  corpus=$(find "$build_dir/corpus/$t" -type f | wc -l)
  printf '%-14s %10s execs  cov %6s  corpus %5s\n' "$t" "${execs:-?}" "${cov:-?}" "$corpus"
}

failed=()
pids=()
names=()
wait_one() {
  local pid=${pids[0]} t=${names[0]}
  pids=("${pids[@]:1}")
  names=("${names[@]:1}")
  if wait "$pid"; then
    summary "$t"
  else
    failed+=("$t")
    echo "FUZZ FAILURE in $t: $(ls "$build_dir/artifacts/$t/" | head -3 | tr '\n' ' ')"
    grep -E -A40 'ERROR: |==ERROR|runtime error|deadly signal|timeout|out-of-memory' \
      "$build_dir/logs/$t.log" | head -80 || tail -40 "$build_dir/logs/$t.log"
  fi
}
echo "fuzzing ${targets[*]} for ${seconds}s each, $jobs at a time"
for t in "${targets[@]}"; do
  ((${#pids[@]} >= jobs)) && wait_one
  run_one "$t" &
  pids+=($!)
  names+=("$t")
done
while ((${#pids[@]})); do wait_one; done

if ((${#failed[@]})); then
  echo "fuzz: ${#failed[@]} target(s) failed: ${failed[*]}"
  exit 1
fi
echo "fuzz: all ${#targets[@]} targets ran clean for ${seconds}s each"
