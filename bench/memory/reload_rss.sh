#!/usr/bin/env bash
# Resident memory of the daemon after a fresh start and after each of several reloads of one big
# zone (issue 11, "Memory after reload"). Usage:
#   bash bench/memory/reload_rss.sh [DAEMON] [NAMES] [RELOADS]
# DAEMON defaults to build/understudy, NAMES to 1300000 (a ~37 MB zone file), RELOADS to 5.
# Prints VmRSS (MiB) after start and after each reload, once the daemon has settled (RSS unchanged
# over two seconds, or 20 s at most). Loopback only; the daemon is stopped by its PID.
set -euo pipefail
daemon=${1:-build/understudy}
names=${2:-1300000}
reloads=${3:-5}
dir=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; [[ -n "${KEEP:-}" ]] && echo "kept $dir" || rm -rf "$dir"' EXIT

# ZONES (default 1) splits the names over that many zones (z0.big.test, z1.big.test, ...): many
# small zones keep their arrays on the heap rather than in mappings of their own.
zones=${ZONES:-1}
echo "server: { listen: [\"127.0.0.1:0\"], threads: 2 }" > "$dir/understudy.yaml"
echo "zones:" >> "$dir/understudy.yaml"
for z in $(seq 0 $((zones - 1))); do
  origin=big.test
  ((zones > 1)) && origin=z$z.big.test
  awk -v n="$((names / zones))" -v origin="$origin" 'BEGIN {
    print "$ORIGIN " origin ".\n$TTL 300\n@ SOA ns1 hostmaster 1 3600 600 1209600 300\n@ NS ns1"
    print "ns1 A 192.0.2.53"
    for (i = 0; i < n; i++) printf "host%07d 300 IN A 198.51.%d.%d\n", i, int(i / 256) % 256, i % 256
  }' > "$dir/$origin.zone"
  printf "  - { name: %s, file: %s.zone }\n" "$origin" "$origin" >> "$dir/understudy.yaml"
done
zone_one=$( ((zones > 1)) && echo z0.big.test || echo big.test)

rss() { awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$pid/status"; }
# Waits until the RSS stays the same for two seconds (the old zones are freed when the serving
# threads let go of them, within a second, and returned to the system after that).
settle() {
  local last="" now i
  for i in $(seq 1 20); do
    sleep 1
    now=$(rss)
    [[ "$now" == "$last" ]] && break
    last=$now
  done
  echo "$now"
}
waitlog() {  # waitlog PATTERN COUNT
  local i
  for i in $(seq 1 600); do
    (($(grep -c "$1" "$dir/log" || true) >= $2)) && return 0
    sleep 0.1
  done
  echo "timed out waiting for '$1' x$2" >&2
  cat "$dir/log" >&2
  exit 1
}

"$daemon" -c "$dir/understudy.yaml" > "$dir/log" 2>&1 &
pid=$!
start=$(date +%s.%N)
waitlog "ready:" 1
port=$(grep -o 'listening on tcp 127.0.0.1:[0-9]*' "$dir/log" | head -1 | sed 's/.*://')
# A query over TCP and a few over UDP first, so every kind of serving thread holds a snapshot of
# the configuration the reloads replace (an idle TCP thread must not keep it alive).
for i in 1 2 3 4; do
  dig +tcp +short +tries=1 +time=2 -p "$port" @127.0.0.1 host0000001.$zone_one A > /dev/null
  dig +short +tries=1 +time=2 -p "$port" @127.0.0.1 host0000001.$zone_one A > /dev/null
done
echo "zones: $zones, names: $names, $(du -cm "$dir"/*.zone | tail -1 | cut -f1) MB; daemon: $daemon"
printf "fresh start (loaded in %.1f s): %s MiB\n" "$(echo "$(date +%s.%N) - $start" | bc)" "$(settle)"
for r in $(seq 1 "$reloads"); do
  kill -HUP "$pid"
  waitlog "reload done:" "$r"
  echo "after reload $r: $(settle) MiB"
done
if [[ -n "${SMAPS:-}" ]]; then  # the ten mappings with the most resident KiB
  awk '/^[0-9a-f]+-[0-9a-f]+ /{m=$0} /^Rss:/{print $2, m}' "/proc/$pid/smaps" | sort -rn | head -10
fi
kill -TERM "$pid"
wait "$pid" || true
