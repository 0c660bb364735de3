#!/usr/bin/env bash
# Instruction profile of understudy's query path (bench/README.md, "DNS benchmark").
# Usage: bash bench/dns/profile.sh [QUERIES]   (default 100000)
# Runs the Release daemon of bench/dns/run.sh (BUILD_DIR, default build-bench-dns) under
# valgrind --tool=callgrind on the 1,000-name benchmark zone, collects only while dnsperf sends
# QUERIES queries (one pass over the query file), and prints the top functions by instructions
# (self and inclusive) and the instructions per query. Hardware counters (perf stat) are not
# available in most VMs; callgrind counts are repeatable anyway.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$root/build-bench-dns}
queries=${1:-100000}
work=${WORKDIR:-$build/bench-dns}/profile
command -v valgrind >/dev/null || { [[ $(id -u) -ne 0 ]] && s=sudo; ${s:-} apt-get install -y -qq valgrind; }
[[ -x $build/understudy ]] || { echo "build first: bash bench/dns/run.sh --quick (or cmake as in run.sh)"; exit 1; }
rm -rf "$work" && mkdir -p "$work"
python3 "$root/bench/dns/gen.py" "$work" 1000 --yaml --queries "$queries"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
{
  printf 'server:\n  listen: ["127.0.0.1:%s"]\n  threads: 1\nlog:\n  level: warn\nzones:\n' "$port"
  cat "$work/bench.yaml-zone"
} >"$work/understudy.yaml"

out=$work/callgrind.out
valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$out" \
  "$build/understudy" -c "$work/understudy.yaml" >"$work/valgrind.log" 2>&1 &
vg=$!
trap 'kill "$vg" 2>/dev/null || true' EXIT
ok=
for _ in $(seq 1 600); do   # up to 60 s for the start under valgrind
  if dig +time=1 +tries=1 @127.0.0.1 -p "$port" bench.test SOA 2>/dev/null | grep -q 'status: NOERROR'; then ok=1; break; fi
  sleep 0.1
done
[[ -n $ok ]] || { echo "understudy did not start under valgrind"; cat "$work/valgrind.log"; exit 1; }
# Warm up (not collected), then collect over exactly one pass of the query file.
timeout 120 dnsperf -s 127.0.0.1 -p "$port" -d "$work/queries.txt" -n 1 -c 1 -T 1 -q 20 -t 5 >/dev/null || true
callgrind_control -i on "$vg" >/dev/null
timeout 600 dnsperf -s 127.0.0.1 -p "$port" -d "$work/queries.txt" -n 1 -c 1 -T 1 -q 20 -t 5 \
  | tee "$work/dnsperf.txt" | grep -E 'Queries (sent|completed|lost)|Queries per second'
callgrind_control -i off "$vg" >/dev/null
kill -TERM "$vg"; wait "$vg" || true
trap - EXIT
completed=$(awk '/Queries completed/ {print $3}' "$work/dnsperf.txt")
total=$(callgrind_annotate "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",","",$1); print $1; exit}')
echo "instructions collected: $total over $completed answered queries = $((total / completed)) per query (whole process)"
echo; echo "== top 15 by self instructions =="
callgrind_annotate --threshold=100 "$out" 2>/dev/null | sed -n '/file:function/,$p' | sed -n '2,16p' | cut -c1-220
echo; echo "== top 25 by inclusive instructions =="
callgrind_annotate --inclusive=yes --threshold=100 "$out" 2>/dev/null | sed -n '/file:function/,$p' | sed -n '2,26p' | cut -c1-220
echo; echo "full profile: callgrind_annotate $out   (or kcachegrind)"
