#!/usr/bin/env python3
"""Config for the reload benchmark (bench/reload.sh, bench/README.md).

P pools of E endpoints, each endpoint answered as 198.18.x.y / 198.19.x.y (the benchmarking range)
and probed with one TCP check at its own 127.x.y.z, on a port where nothing listens (9 by default:
every probe is refused at once, so every endpoint goes down and the pools serve their primaries,
fail-open); one zone `bench.test` with `serial: auto` and one pooled A record `p{i}` per pool.
With E = 0 the same zone holds the same names as plain A records, with no pool and no check: the
baseline of a pure zone reload.

Usage: reload_config.py --pools P --endpoints E --port DNS_PORT [--probe-port 9] [--interval 5s]
                        > bench.yaml
"""
import argparse
import sys

MAX_ENDPOINTS = 2 * 256 * 250  # 198.18.0.0/15 answered, 127.1.0.0-127.2.255.255 probed


def endpoint_addresses(n):
    """The n-th endpoint's answered and probed addresses."""
    block, host = divmod(n, 250)
    hi, mid = divmod(block, 256)
    return f"198.{18 + hi}.{mid}.{host + 1}", f"127.{1 + hi}.{mid}.{host + 1}"


def config(pools, endpoints, port, probe_port=9, interval="5s", threads=1):
    if pools < 1 or endpoints < 0 or pools * endpoints > MAX_ENDPOINTS:
        raise ValueError(f"need 1 <= pools and 0 <= pools x endpoints <= {MAX_ENDPOINTS}")
    out = [
        f'server: {{ listen: ["127.0.0.1:{port}"], threads: {threads} }}',
        "log: { level: info }",
    ]
    if endpoints > 0:
        out += [
            "checks:",
            f"  tcp9: {{ type: tcp, port: {probe_port}, interval: {interval}, timeout: 1s, "
            "rise: 2, fall: 3 }",
            "pools:",
        ]
        n = 0
        for p in range(pools):
            out += [f"  p{p}:", "    policy: priority", "    check: tcp9", "    endpoints:"]
            for i in range(endpoints):
                answered, probed = endpoint_addresses(n)
                # Two tiers, so that the pool has a primary and a standby as in real use.
                prio = 1 if i < (endpoints + 1) // 2 else 2
                out.append(
                    f"      - {{ address: {answered}, probe_address: {probed}, priority: {prio} }}"
                )
                n += 1
    out += [
        "zones:",
        "  - name: bench.test",
        "    soa: { serial: auto }",
        "    records:",
        '      - { name: "@", type: NS, values: [ns1] }',
        "      - { name: ns1, type: A, value: 192.0.2.53 }",
    ]
    for p in range(pools):
        if endpoints > 0:
            out.append(f"      - {{ name: p{p}, type: A, pool: p{p}, ttl: 300 }}")
        else:
            answered, _ = endpoint_addresses(p)
            out.append(f"      - {{ name: p{p}, type: A, ttl: 300, value: {answered} }}")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pools", type=int, default=100)
    ap.add_argument("--endpoints", type=int, default=100, help="per pool; 0 = no pools at all")
    ap.add_argument("--port", type=int, required=True, help="DNS port on 127.0.0.1")
    ap.add_argument("--probe-port", type=int, default=9)
    ap.add_argument("--interval", default="5s")
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    try:
        sys.stdout.write(
            config(a.pools, a.endpoints, a.port, a.probe_port, a.interval, a.threads)
        )
    except ValueError as e:
        sys.exit(f"reload_config.py: {e}")


if __name__ == "__main__":
    main()
