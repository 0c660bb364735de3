#!/usr/bin/env bash
# DNS benchmark (issue 6): understudy against Knot, NSD and gdnsd on this machine, side by side.
# Usage: bash bench/dns/run.sh [--quick] [more bench.py options, e.g. --reps 5 --seconds 30]
#   --quick   1 repetition of 5 s, 1,000-name zone only (a smoke run, ~2 minutes)
#   default   3 repetitions of 20 s, 1,000 and 100,000 names, saturation and fixed rate, plus
#             1,000,000-name load time/memory and the 100,000-name reload (~30 minutes)
# Environment: BUILD_DIR (default build-bench-dns), WORKDIR (default $BUILD_DIR/bench-dns),
#              OUTSTANDING (dnsperf -q, default 200), BENCH_CXX_FLAGS (extra compiler flags),
#              UNDERSTUDY_BIN (use this daemon instead of building one).
# Builds understudy in Release, installs dnsperf/knot/nsd/gdnsd from Debian when missing (the
# understudy build dependencies come from tests/deps.sh), prints markdown tables and writes
# $WORKDIR/results.md and results.json. Every server runs on 127.0.0.1 on a free high port.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$root/build-bench-dns}
workdir=${WORKDIR:-$build/bench-dns}

SUDO=""
[[ $(id -u) -ne 0 ]] && SUDO="sudo"

# The peers and the load generator.
declare -A pkg_of=([dnsperf]=dnsperf [knotd]=knot [nsd]=nsd [gdnsd]=gdnsd [taskset]=util-linux
                   [python3]=python3)
missing=()
for cmd in "${!pkg_of[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${pkg_of[$cmd]}")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
  # The packages enable their own services on port 53; this benchmark starts its own instances
  # on high ports. Where systemd runs, stop and disable what was just installed.
  if [[ -d /run/systemd/system ]]; then
    for unit in knot nsd gdnsd; do
      for p in "${missing[@]}"; do
        [[ $p == "$unit" ]] && $SUDO systemctl disable --now "$unit.service" 2>/dev/null || true
      done
    done
  fi
fi

if [[ -n ${UNDERSTUDY_BIN:-} ]]; then
  # A Release daemon built elsewhere (CI's smoke run reuses its build).
  exec timeout --foreground -k 30 7200 \
    python3 "$root/bench/dns/bench.py" --understudy "$UNDERSTUDY_BIN" --workdir "$workdir" "$@"
fi
echo "building understudy (Release) in $build"
configure() {
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DUNDERSTUDY_BUILD_TESTS=OFF \
    -DCMAKE_CXX_FLAGS="${BENCH_CXX_FLAGS-}" >/dev/null
}
# On a clean machine the build dependencies come from tests/deps.sh (installs what is missing).
configure || { bash "$root/tests/deps.sh" && configure; }
cmake --build "$build" -j2 --target understudy >/dev/null

# Generous overall bound: the full run takes ~30 minutes; nothing here should hang past 2 hours.
exec timeout --foreground -k 30 7200 \
  python3 "$root/bench/dns/bench.py" --understudy "$build/understudy" --workdir "$workdir" "$@"
