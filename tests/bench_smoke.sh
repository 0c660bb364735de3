#!/usr/bin/env bash
# Smoke-runs the benchmarks (bench/README.md) against an already built Release daemon: small
# sizes, one repetition, so a broken benchmark fails CI instead of rotting unseen. The figures
# printed here are not measurements: the real runs are bench/failover.sh, bench/dns/run.sh and
# bench/reload.sh.
# Usage: bash tests/bench_smoke.sh BUILD/understudy   (about 3 minutes on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
daemon=$(realpath "$1")
work=$(mktemp -d /tmp/understudy-bench-smoke.XXXXXX)
trap 'rm -rf "$work"' EXIT
export UNDERSTUDY_BIN=$daemon UNDERSTUDY_WERROR=ON

echo "== bench/failover.sh (smoke: 1 repetition; 200 endpoints for 5 s; routes at 50 and 500 pools)"
BUILD_DIR=$work/failover REPS=1 ENDPOINTS=200 SECONDS_CPU=5 \
  ROUTE_POOLS=50,500 ROUTE_REQUESTS=20 ROUTE_INTERVAL_MS=1000 \
  timeout -k 10 600 bash bench/failover.sh

echo "== bench/dns/run.sh --quick (smoke: 1,000 names, 1 repetition of 3 s)"
BUILD_DIR=$work/dns timeout -k 10 900 bash bench/dns/run.sh --quick --seconds 3 --warmup 1
echo "== bench/reload.sh (smoke: 10 pools x 20 endpoints, 2 reloads)"
POOLS=10 ENDPOINTS=20 RELOADS=2 GAP=1 QPS=200 timeout -k 10 120 bash bench/reload.sh
echo "bench smoke: all benchmarks ran"
