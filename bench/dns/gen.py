#!/usr/bin/env python3
"""Generate the benchmark zone (one zone, several formats) and the dnsperf query file.

Usage: gen.py OUTDIR N [--queries Q] [--yaml] [--seed S]

Writes into OUTDIR:
  bench.zone        RFC 1035 zone file (Knot, NSD, gdnsd and understudy's `file:` form)
  bench.yaml-zone   understudy YAML `zones:` entry with every record inline (only with --yaml)
  queries.txt       dnsperf query file (only when --queries > 0)

The zone is bench.test: apex SOA, NS ns1/ns2 with glue, and N names host0..host{N-1}:
  i % 10 == 9   CNAME to host{i-1}             (10% of the names)
  otherwise     A 10.x.y.z
                AAAA 2001:db8::x:y  when i is even
                MX "10 host{i+1}"   when i % 10 == 3
                TXT "v=bench i"     when i % 10 == 5
Every server gets byte-for-byte the same data; the zone file is plain enough for all four
parsers (one record per line, absolute owner names, explicit TTL and class).
"""
import argparse
import os
import random

ORIGIN = "bench.test."
TTL = 3600
SOA = ("ns1.bench.test.", "hostmaster.bench.test.", 2026010101, 3600, 600, 1209600, 300)


def name(i):
    return f"host{i}"


def a_addr(i):
    return f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"


def aaaa_addr(i):
    return f"2001:db8::{(i >> 16) & 0xffff:x}:{i & 0xffff:x}"


def records(n):
    """Yields (owner-relative, type, rdata) in zone order, apex first (without the SOA)."""
    yield ("@", "NS", "ns1.bench.test.")
    yield ("@", "NS", "ns2.bench.test.")
    yield ("ns1", "A", "192.0.2.53")
    yield ("ns2", "A", "192.0.2.54")
    for i in range(n):
        h = name(i)
        if i % 10 == 9:
            yield (h, "CNAME", f"{name(i - 1)}.bench.test.")
            continue
        yield (h, "A", a_addr(i))
        if i % 2 == 0:
            yield (h, "AAAA", aaaa_addr(i))
        if i % 10 == 3:
            yield (h, "MX", f"10 {name(i + 1)}.bench.test.")
        if i % 10 == 5:
            yield (h, "TXT", f'"v=bench {i}"')


def write_zone(path, n):
    with open(path, "w") as f:
        f.write(f"$ORIGIN {ORIGIN}\n$TTL {TTL}\n")
        f.write(f"bench.test. {TTL} IN SOA {SOA[0]} {SOA[1]} {SOA[2]} {SOA[3]} {SOA[4]} {SOA[5]} {SOA[6]}\n")
        for owner, rtype, rdata in records(n):
            fq = ORIGIN if owner == "@" else f"{owner}.{ORIGIN}"
            f.write(f"{fq} {TTL} IN {rtype} {rdata}\n")


def write_yaml_zone(path, n):
    """The body of one `zones:` list entry (indented for inclusion under `zones:`)."""
    with open(path, "w") as f:
        f.write("  - name: bench.test\n")
        f.write(f"    default_ttl: {TTL}\n")
        f.write("    soa: { mname: ns1, rname: hostmaster, serial: %d, refresh: %d, retry: %d, "
                "expire: %d, minimum: %d }\n" % SOA[2:])
        f.write("    records:\n")
        f.write('      - { name: "@", type: NS, values: [ns1, ns2] }\n')
        for owner, rtype, rdata in records(n):
            if owner == "@":
                continue
            if rtype == "TXT":
                f.write(f"      - {{ name: {owner}, type: TXT, value: '{rdata}' }}\n")
            else:
                f.write(f'      - {{ name: {owner}, type: {rtype}, value: "{rdata}" }}\n')


def write_queries(path, n, count, rng):
    """~80% existing A/AAAA, 10% NXDOMAIN, 10% other types (MX, TXT, CNAME, SOA, NS)."""
    def data_name():  # a name that is not a CNAME
        while True:
            i = rng.randrange(n)
            if i % 10 != 9:
                return i

    lines = []
    for _ in range(count):
        r = rng.random()
        if r < 0.60:  # existing A
            lines.append(f"{name(data_name())}.{ORIGIN} A")
        elif r < 0.80:  # existing AAAA (even names only hold one)
            i = data_name()
            while i % 2:
                i = data_name()
            lines.append(f"{name(i)}.{ORIGIN} AAAA")
        elif r < 0.90:  # NXDOMAIN
            lines.append(f"nx{rng.randrange(10**9)}.{ORIGIN} A")
        else:  # other types, 2% each
            k = rng.randrange(5)
            if k == 0:
                i = rng.randrange(max(1, n // 10)) * 10 + 3
                lines.append(f"{name(i if i < n else 3)}.{ORIGIN} MX")
            elif k == 1:
                i = rng.randrange(max(1, n // 10)) * 10 + 5
                lines.append(f"{name(i if i < n else 5)}.{ORIGIN} TXT")
            elif k == 2:  # an A query at a CNAME: answered with the CNAME and its target's A
                i = rng.randrange(max(1, n // 10)) * 10 + 9
                lines.append(f"{name(i if i < n else 9)}.{ORIGIN} A")
            elif k == 3:
                lines.append(f"{ORIGIN} SOA")
            else:
                lines.append(f"{ORIGIN} NS")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("n", type=int)
    ap.add_argument("--queries", type=int, default=0)
    ap.add_argument("--yaml", action="store_true")
    ap.add_argument("--seed", type=int, default=6)
    a = ap.parse_args()
    os.makedirs(a.outdir, exist_ok=True)
    write_zone(os.path.join(a.outdir, "bench.zone"), a.n)
    if a.yaml:
        write_yaml_zone(os.path.join(a.outdir, "bench.yaml-zone"), a.n)
    if a.queries:
        write_queries(os.path.join(a.outdir, "queries.txt"), a.n, a.queries, random.Random(a.seed))


if __name__ == "__main__":
    main()
