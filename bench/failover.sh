#!/usr/bin/env bash
# Failover benchmarks (bench/README.md): builds a Release daemon and the bench tool if needed,
# then measures
#   1. failover latency at interval 1s / fall 3 and at interval 200ms / fall 2, 5 repetitions each;
#   2. the health thread's CPU use with 10,000 endpoints probed every second;
#   3. the cost of the control endpoint's /explain, /status and /metrics with 100 and 2,000 pools.
# Usage: bash bench/failover.sh [latency|cpu|routes|all]   (default all)
# Environment: BUILD_DIR (default build-bench), REPS (5), ENDPOINTS (10000), SECONDS_CPU (30),
#   ROUTE_POOLS (100,2000), ROUTE_REQUESTS (200), ROUTE_INTERVAL_MS (10000),
#   UNDERSTUDY_BIN (use this daemon instead of building one).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build-bench}
what=${1:-all}
case $what in
  latency | cpu | routes | all) ;;
  *)
    echo "usage: bash bench/failover.sh [latency|cpu|routes|all]" >&2
    exit 2
    ;;
esac
jobs=$(nproc)

if [[ -n ${UNDERSTUDY_BIN:-} ]]; then
  daemon=$UNDERSTUDY_BIN  # a Release daemon built elsewhere (CI's smoke run reuses its build)
else
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DUNDERSTUDY_BUILD_TESTS=OFF \
    -DCMAKE_CXX_FLAGS="${BENCH_CXX_FLAGS-}" >/dev/null
  cmake --build "$build" -j"$jobs" --target understudy >/dev/null
  daemon=$build/understudy
fi
cmake -S "$root/bench" -B "$build/bench" -DCMAKE_BUILD_TYPE=Release \
  -DUNDERSTUDY_WERROR="${UNDERSTUDY_WERROR:-OFF}" >/dev/null
cmake --build "$build/bench" -j"$jobs" >/dev/null

tool=$build/bench/failover_bench
echo "understudy: $daemon ($("$daemon" --version 2>/dev/null | head -1 || true))"
echo "host: $(nproc) cores, $(uname -r)"
echo

if [[ $what == all || $what == latency ]]; then
  "$tool" latency --daemon "$daemon" --interval-ms 1000 --fall 3 --timeout-ms 500 --reps "${REPS:-5}"
  echo
  "$tool" latency --daemon "$daemon" --interval-ms 200 --fall 2 --timeout-ms 100 --reps "${REPS:-5}"
  echo
fi
if [[ $what == all || $what == cpu ]]; then
  # 10,000 probes a second open 10,000 connections a second; keep enough descriptors.
  ulimit -n 65536 2>/dev/null || true
  "$tool" cpu --daemon "$daemon" --endpoints "${ENDPOINTS:-10000}" --seconds "${SECONDS_CPU:-30}"
  echo
fi
if [[ $what == all || $what == routes ]]; then
  # A probe round opens one connection per endpoint (20,000 with 10,000 pools).
  ulimit -n 65536 2>/dev/null || true
  "$tool" routes --daemon "$daemon" --pools "${ROUTE_POOLS:-100,2000}" \
    --requests "${ROUTE_REQUESTS:-200}" --interval-ms "${ROUTE_INTERVAL_MS:-10000}"
fi
