#!/usr/bin/env bash
# Reload benchmark (issue 18; bench/README.md "Reload"): builds a Release daemon if needed, then
# runs bench/reload_bench.py: start-up and SIGHUP reload times with P pools x E endpoints, against
# a baseline reload of the same zone with no pooled endpoint, while a query loop counts lost
# answers. Everything on loopback; each daemon is stopped by its PID.
# Usage: bash bench/reload.sh
# Environment: POOLS (100), ENDPOINTS per pool (100), RELOADS (5), QPS (500), GAP seconds between
#   reloads (2), KEEP=1 (keep configs and logs), BUILD_DIR (build-bench),
#   UNDERSTUDY_BIN (use this daemon instead of building one).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build-bench}

if [[ -n ${UNDERSTUDY_BIN:-} ]]; then
  daemon=$UNDERSTUDY_BIN
else
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DUNDERSTUDY_BUILD_TESTS=OFF \
    -DCMAKE_CXX_FLAGS="${BENCH_CXX_FLAGS-}" >/dev/null
  cmake --build "$build" -j"$(nproc)" --target understudy >/dev/null
  daemon=$build/understudy
fi
echo "understudy: $daemon ($("$daemon" --version 2>/dev/null | head -1 || true))"
echo "host: $(nproc) cores, $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)"
# A probe round opens one connection per endpoint; keep enough descriptors.
ulimit -n 65536 2>/dev/null || true
exec timeout -k 10 1800 python3 "$root/bench/reload_bench.py" --daemon "$daemon" \
  --pools "${POOLS:-100}" --endpoints "${ENDPOINTS:-100}" --reloads "${RELOADS:-5}" \
  --qps "${QPS:-500}" --gap "${GAP:-2}" --keep "${KEEP:-0}"
