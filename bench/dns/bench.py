#!/usr/bin/env python3
"""Side-by-side DNS benchmark: understudy against Knot, NSD and gdnsd (issue 6).

Run through bench/dns/run.sh, which builds understudy and installs the peers. This driver:
  - generates the zones and the query file (gen.py) into --workdir,
  - runs each server alone on loopback, pinned to CPU 0 with one serving thread, and dnsperf
    pinned to CPU 1, alternating servers round-robin, in saturation and fixed-rate modes,
  - measures load time and memory with a 1,000,000-name zone, and understudy's reload of the
    100,000-name zone under a fixed query rate,
  - prints markdown tables (and writes results.md / results.json into --workdir).

Every process it starts is stopped by PID; every wait is bounded.
"""
import argparse
import json
import os
import random
import re
import resource
import select
import signal
import socket
import statistics
import struct
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CLK_TCK = os.sysconf("SC_CLK_TCK")
QUIET_WAIT = 5
PRIO = []      # ["nice", "-n", "-20"] unless --nice 0: servers and dnsperf before other people's work
NOISY = 0.2    # cores of other load during a measured run above which the run is repeated
RETRIES = 0    # at most this many repeats; the quietest attempt is kept
SERVER_CPU = "0"
CLIENT_CPU = "1"
ZONE = "bench.test"


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# /proc helpers: a server may be several processes (NSD forks), so everything is summed over the
# process tree of the PID we started. /proc/PID/stat utime+stime cover all threads of a process.

def children_map():
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                s = f.read()
        except OSError:
            continue
        ppid = int(s[s.rindex(")") + 2:].split()[1])
        kids.setdefault(ppid, []).append(int(d))
    return kids


def tree(pid):
    kids = children_map()
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def cpu_ticks(pids):
    """(utime, stime) summed over pids, in clock ticks."""
    user = system = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/stat") as f:
                s = f.read()
        except OSError:
            continue
        fields = s[s.rindex(")") + 2:].split()
        user += int(fields[11])    # utime (field 14)
        system += int(fields[12])  # stime (field 15)
    return user, system


def status_kib(pids, key):
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith(key + ":"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def pss_kib(pids):
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def boost(pid):
    """Gives a process we started (alone in its new session) the scheduler weight of nice -20.

    On a shared machine other people's compiles and fuzzers would otherwise take half of each
    core. With autogroups (kernel.sched_autogroup_enabled=1, the default), fairness is between
    sessions and a plain `nice` only ranks processes within their session: the knob is the
    session's /proc/PID/autogroup. Without autogroups the `nice -n` prefix does the job."""
    if not PRIO:
        return
    try:
        with open(f"/proc/{pid}/autogroup", "w") as f:
            f.write(PRIO[-1])
    except OSError:
        pass


def machine_busy_s():
    """CPU seconds spent busy by the whole machine so far (all CPUs, from /proc/stat)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal ...
    return (v[0] + v[1] + v[2] + v[5] + v[6]) / CLK_TCK


def wait_quiet(max_wait, threshold=0.15):
    """Waits (at most max_wait s) until the rest of the machine uses < threshold of a core over
    one second. Other people's compiles on a 2-core box wreck latency and qps figures."""
    t0 = time.monotonic()
    said = -1e9
    while True:
        b0 = machine_busy_s()
        time.sleep(1)
        busy = machine_busy_s() - b0
        if busy < threshold or time.monotonic() - t0 >= max_wait:
            if busy >= threshold:
                log(f"machine still busy ({busy:.2f} cores) after {max_wait}s; measuring anyway")
            return busy
        if time.monotonic() - said >= 15:
            log(f"machine busy ({busy:.2f} cores used by other processes); waiting")
            said = time.monotonic()


def free_port():
    """A port free for both UDP and TCP on 127.0.0.1."""
    for _ in range(100):
        port = random.randint(20000, 32000)  # below the kernel's ephemeral range (32768-)
        ok = True
        for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
            s = socket.socket(socket.AF_INET, kind)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                ok = False
            finally:
                s.close()
        if ok:
            return port
    raise RuntimeError("no free port")


def soa_query(qid):
    q = struct.pack("!HHHHHH", qid, 0, 1, 0, 0, 0)
    for label in ZONE.split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\x00" + struct.pack("!HH", 6, 1)


def answers_soa(sock, port, qid, wait):
    try:
        sock.sendto(soa_query(qid), ("127.0.0.1", port))
        sock.settimeout(wait)
        while True:
            data, _ = sock.recvfrom(4096)
            if len(data) < 12:
                continue
            rid, flags, _, an = struct.unpack("!HHHH", data[:8])
            if rid != qid:
                continue
            return (flags & 0x000F) == 0 and (flags & 0x0400) != 0 and an >= 1
    except (socket.timeout, OSError):
        return False


# ---------------------------------------------------------------------------------------------
# The servers. Each writes its config into its own directory and is started pinned to CPU 0.

class ServerExited(RuntimeError):
    pass


class Server:
    name = "?"

    def __init__(self, base, port):
        self.dir = os.path.join(base, self.name)
        os.makedirs(self.dir, exist_ok=True)
        self.port = port
        self.proc = None
        self.logpath = os.path.join(self.dir, "server.log")

    def configure(self, zone_dir, n):
        raise NotImplementedError

    def command(self):
        raise NotImplementedError

    def start(self, timeout=300):
        """Starts the server; returns seconds from exec to the first good SOA answer.

        On a shared machine a port checked free can be taken before the server binds it; a
        server that exits at once is restarted on another port (at most 3 tries)."""
        for attempt in range(3):
            try:
                return self._start(timeout)
            except ServerExited:
                if attempt == 2:
                    raise
                self.proc = None
                log(f"{self.name} exited at startup (see {self.logpath}); retrying on another port")
                self.port = free_port()
                self.configure(*self.config_args)

    def _start(self, timeout):
        logf = open(self.logpath, "a")
        logf.write(f"\n===== start {time.ctime()} =====\n")
        logf.flush()
        t0 = time.monotonic()
        self.proc = subprocess.Popen(PRIO + ["taskset", "-c", SERVER_CPU] + self.command(),
                                     stdout=logf, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=self.dir,
                                     start_new_session=True)
        boost(self.proc.pid)
        logf.close()
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        qid = 1
        try:
            while time.monotonic() - t0 < timeout:
                if self.proc.poll() is not None:
                    raise ServerExited(f"{self.name} exited with {self.proc.returncode}; "
                                       f"see {self.logpath}")
                qid = (qid + 1) & 0xFFFF
                if answers_soa(sock, self.port, qid, 0.005):
                    return time.monotonic() - t0
            raise RuntimeError(f"{self.name} did not answer SOA within {timeout}s; see {self.logpath}")
        finally:
            sock.close()

    def pids(self):
        return tree(self.proc.pid)

    def stop(self):
        if not self.proc or self.proc.poll() is not None:
            self.proc = None
            return
        pids = self.pids()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            for p in pids:
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            self.proc.wait(timeout=5)
        # Children of a forking server (NSD) must be gone too: wait, then kill only those PIDs.
        deadline = time.monotonic() + 10
        for p in pids[1:]:
            while os.path.exists(f"/proc/{p}") and time.monotonic() < deadline:
                time.sleep(0.05)
            if os.path.exists(f"/proc/{p}"):
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        self.proc = None


class Understudy(Server):
    name = "understudy"

    def __init__(self, base, port, binary):
        super().__init__(base, port)
        self.binary = os.path.abspath(binary)

    def configure(self, zone_dir, n, form="yaml"):
        self.config_args = (zone_dir, n, form)
        self.form = form
        conf = os.path.join(self.dir, "understudy.yaml")
        with open(conf, "w") as f:
            f.write("server:\n")
            f.write(f'  listen: ["127.0.0.1:{self.port}"]\n')
            f.write("  threads: 1\n")
            f.write("log:\n  level: info\n")
            f.write("zones:\n")
            if form == "yaml":
                with open(os.path.join(zone_dir, "bench.yaml-zone")) as z:
                    f.write(z.read())
            else:
                f.write(f"  - name: {ZONE}\n    file: {os.path.join(zone_dir, 'bench.zone')}\n")
        self.conf = conf

    def command(self):
        return [self.binary, "-c", self.conf]


class Knot(Server):
    name = "knot"

    def configure(self, zone_dir, n):
        self.config_args = (zone_dir, n)
        for d in ("run", "db", "zones"):
            os.makedirs(os.path.join(self.dir, d), exist_ok=True)
        self.conf = os.path.join(self.dir, "knot.conf")
        with open(self.conf, "w") as f:
            f.write(f"""server:
    listen: 127.0.0.1@{self.port}
    rundir: {self.dir}/run
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
log:
  - target: stderr
    any: info
database:
    storage: {self.dir}/db
template:
  - id: default
    storage: {zone_dir}
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
    semantic-checks: off
zone:
  - domain: {ZONE}
    file: bench.zone
""")

    def command(self):
        return ["knotd", "-c", self.conf]

    def stop(self):
        super().stop()
        # Knot keeps a timer database between runs; start every run from the zone file alone.
        subprocess.run(["rm", "-rf", os.path.join(self.dir, "db")], check=False)
        os.makedirs(os.path.join(self.dir, "db"), exist_ok=True)


class Nsd(Server):
    name = "nsd"

    def configure(self, zone_dir, n):
        self.config_args = (zone_dir, n)
        self.conf = os.path.join(self.dir, "nsd.conf")
        for f in ("xfrd.state", "zone.list"):
            try:
                os.unlink(os.path.join(self.dir, f))
            except FileNotFoundError:
                pass
        with open(self.conf, "w") as f:
            f.write(f"""server:
  server-count: 1
  ip-address: 127.0.0.1@{self.port}
  do-ip6: no
  username: ""
  chroot: ""
  zonesdir: "{zone_dir}"
  database: ""
  pidfile: "{self.dir}/nsd.pid"
  xfrdfile: "{self.dir}/xfrd.state"
  zonelistfile: "{self.dir}/zone.list"
  verbosity: 1
  rrl-ratelimit: 0
  rrl-whitelist-ratelimit: 0
  minimal-responses: yes
remote-control:
  control-enable: no
zone:
  name: {ZONE}
  zonefile: bench.zone
""")

    def command(self):
        return ["nsd", "-d", "-c", self.conf]


class Gdnsd(Server):
    name = "gdnsd"

    def configure(self, zone_dir, n):
        self.config_args = (zone_dir, n)
        for d in ("zones", "run", "state"):
            os.makedirs(os.path.join(self.dir, d), exist_ok=True)
        target = os.path.join(self.dir, "zones", ZONE)
        if os.path.lexists(target):
            os.unlink(target)
        os.symlink(os.path.join(zone_dir, "bench.zone"), target)
        with open(os.path.join(self.dir, "config"), "w") as f:
            f.write(f"""options => {{
  listen => [ 127.0.0.1 ]
  dns_port => {self.port}
  udp_threads => 1
  tcp_threads => 1
  run_dir => {self.dir}/run
  state_dir => {self.dir}/state
}}
""")

    def command(self):
        return ["gdnsd", "-c", self.dir, "start"]


# ---------------------------------------------------------------------------------------------
# dnsperf

def dnsperf(port, qfile, seconds, outstanding, rate=None):
    cmd = PRIO + ["taskset", "-c", CLIENT_CPU, "dnsperf", "-s", "127.0.0.1", "-p", str(port),
           "-d", qfile, "-l", str(seconds), "-c", "1", "-T", "1", "-q", str(outstanding),
           "-t", "2"]
    if rate:
        cmd += ["-Q", str(int(rate))]
    return cmd


def parse_dnsperf(text):
    def num(pattern, cast=float, default=None):
        m = re.search(pattern, text)
        return cast(m.group(1)) if m else default

    r = {
        "sent": num(r"Queries sent:\s+(\d+)", int, 0),
        "completed": num(r"Queries completed:\s+(\d+)", int, 0),
        "lost": num(r"Queries lost:\s+(\d+)", int, 0),
        "runtime": num(r"Run time \(s\):\s+([\d.]+)"),
        "qps": num(r"Queries per second:\s+([\d.]+)"),
        "avg_lat": num(r"Average Latency \(s\):\s+([\d.]+)"),
        "max_lat": num(r"Average Latency \(s\):.*max ([\d.]+)"),
        "resp_size": num(r"Average packet size:.*response\s+(\d+)", int),
    }
    m = re.search(r"Response codes:\s+(.*)", text)
    r["rcodes"] = m.group(1).strip() if m else ""
    nx = re.search(r"NXDOMAIN (\d+)", r["rcodes"])
    r["nxdomain"] = int(nx.group(1)) if nx else 0
    return r


def start_dnsperf(cmd):
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         start_new_session=True)
    boost(p.pid)
    return p


def finish_dnsperf(p, seconds):
    try:
        out, err = p.communicate(timeout=seconds + 60)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate(timeout=10)
        raise
    if p.returncode != 0:
        raise RuntimeError(f"dnsperf failed ({p.returncode}): {err}\n{out}")
    return out


def run_dnsperf(cmd, seconds, during=None):
    """Runs dnsperf to the end. `during(t_start)`, if given, runs meanwhile (in this thread)
    with the monotonic time dnsperf was started at; dnsperf is killed if it raises."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    p = start_dnsperf(cmd)
    if during:
        try:
            during(time.monotonic())
        except BaseException:
            p.kill()
            p.communicate(timeout=10)
            raise
    out = finish_dnsperf(p, seconds)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    r = parse_dnsperf(out)
    r["client_cpu_s"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    r["raw"] = out
    return r


def measure(server, qfile, seconds, warmup, outstanding, rate=None, during=None, helpers=None):
    """One round: warm-up, then a measured dnsperf run with the server's CPU delta.

    during: see run_dnsperf. helpers: PIDs of other processes of the benchmark (besides this
    script, whose own CPU is then counted too): their CPU is reported as helper_cpu_s and not
    counted as other load."""
    if warmup:
        run_dnsperf(dnsperf(server.port, qfile, warmup, outstanding, rate), warmup)
    pids = server.pids()
    wait_quiet(QUIET_WAIT)
    t0 = time.monotonic()
    m0 = machine_busy_s()
    c0 = cpu_ticks(pids)
    if helpers is not None:
        h0, s0 = cpu_ticks(helpers), resource.getrusage(resource.RUSAGE_SELF)
    r = run_dnsperf(dnsperf(server.port, qfile, seconds, outstanding, rate), seconds, during)
    c1 = cpu_ticks(pids)
    helper_s = 0.0
    if helpers is not None:
        h1, s1 = cpu_ticks(helpers), resource.getrusage(resource.RUSAGE_SELF)
        helper_s = ((h1[0] + h1[1] - h0[0] - h0[1]) / CLK_TCK + (s1.ru_utime - s0.ru_utime) +
                    (s1.ru_stime - s0.ru_stime))
        r["helper_cpu_s"] = helper_s
    m1 = machine_busy_s()
    wall = time.monotonic() - t0
    r["server_cpu_s"] = (c1[0] + c1[1] - c0[0] - c0[1]) / CLK_TCK
    r["user_us_per_q"] = (c1[0] - c0[0]) / CLK_TCK * 1e6 / max(1, r["completed"])
    r["sys_us_per_q"] = (c1[1] - c0[1]) / CLK_TCK * 1e6 / max(1, r["completed"])
    r["cpu_us_per_q"] = r["server_cpu_s"] * 1e6 / max(1, r["completed"])
    # Whatever else ran on the machine meanwhile, in cores (0 on an idle machine).
    r["other_load"] = max(0.0, (m1 - m0) - r["server_cpu_s"] - r["client_cpu_s"] - helper_s) / wall
    r["server_util"] = r["server_cpu_s"] / (r["runtime"] or wall)
    r["client_util"] = r["client_cpu_s"] / wall
    r["rss_kib"] = status_kib(pids, "VmRSS")
    r["pss_kib"] = pss_kib(pids)
    r["nprocs"] = len(pids)
    return r


# ---------------------------------------------------------------------------------------------
# Reporting

def fmt(v, kind):
    if v is None:
        return "–"
    if kind == "qps":
        return f"{v:,.0f}"
    if kind == "us":
        return f"{v:.2f}"
    if kind == "lat":
        return f"{v * 1e6:,.0f}"
    if kind == "int":
        return f"{v:,}"
    if kind == "mib":
        return f"{v / 1024:,.1f}"
    if kind == "pct":
        return f"{v * 100:.0f}%"
    if kind == "cores":
        return f"{v:.2f}"
    if kind == "s":
        return f"{v:.2f}"
    return str(v)


def summarise(runs):
    """Median of the repetitions, except max latency (max), lost (sum) and RSS (max)."""
    med = lambda k: statistics.median(r[k] for r in runs)
    return {
        "qps": med("qps"),
        "cpu_us_per_q": med("cpu_us_per_q"),
        "user_us_per_q": med("user_us_per_q"),
        "sys_us_per_q": med("sys_us_per_q"),
        "avg_lat": med("avg_lat"),
        "max_lat": max(r["max_lat"] for r in runs),
        "lost": sum(r["lost"] for r in runs),
        "completed": sum(r["completed"] for r in runs),
        "rss_kib": max(r["rss_kib"] for r in runs),
        "pss_kib": max(r["pss_kib"] for r in runs),
        "server_util": med("server_util"),
        "other_load": max(r.get("other_load", 0) for r in runs),
        "client_util": med("client_util"),
        "nx_pct": 100.0 * sum(r["nxdomain"] for r in runs) / max(1, sum(r["completed"] for r in runs)),
        "resp_size": med("resp_size"),
        "reps": len(runs),
    }


COLUMNS = [  # key, header, format, ratio shown
    ("qps", "queries/s", "qps", True),
    ("cpu_us_per_q", "server CPU µs/query", "us", True),
    ("user_us_per_q", "of which user", "us", True),
    ("sys_us_per_q", "of which kernel", "us", True),
    ("avg_lat", "avg latency µs", "lat", True),
    ("max_lat", "max latency µs", "lat", True),
    ("lost", "lost", "int", True),
    ("rss_kib", "RSS MiB", "mib", True),
    ("pss_kib", "PSS MiB", "mib", True),
    ("server_util", "server core busy", "pct", False),
    ("client_util", "dnsperf core busy", "pct", False),
    ("other_load", "other load (max)", "cores", False),
    ("nx_pct", "NXDOMAIN %", "nx", False),
    ("resp_size", "avg resp bytes", "int", False),
]


def table(title, summary, order):
    lines = [f"#### {title}", ""]
    lines.append("| server | " + " | ".join(c[1] for c in COLUMNS) + " |")
    lines.append("|---" * (len(COLUMNS) + 1) + "|")
    for name in order:
        if name not in summary:
            continue
        s = summary[name]
        cells = []
        for key, _, kind, _ in COLUMNS:
            cells.append(f"{s[key]:.1f}" if kind == "nx" else fmt(s[key], kind))
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    u = summary.get("understudy")
    if u:
        for name in order:
            if name == "understudy" or name not in summary:
                continue
            p = summary[name]
            cells = []
            for key, _, kind, ratio in COLUMNS:
                if not ratio:
                    cells.append("")
                elif p[key]:
                    cells.append(f"{u[key] / p[key]:.2f}×")
                else:
                    cells.append("–" if not u[key] else "∞")
            lines.append(f"| understudy / {name} | " + " | ".join(cells) + " |")
    lines.append("")
    return "\n".join(lines)


def raw_lines(title, results, order):
    lines = [f"Raw runs, {title} (qps, CPU µs/query, avg/max latency µs, lost, VmRSS KiB):", "```"]
    for name in order:
        for i, r in enumerate(results.get(name, [])):
            lines.append(f"{name:<11} rep {i + 1}: {r['qps']:>11,.0f} qps  {r['cpu_us_per_q']:6.3f} µs  "
                         f"{r['avg_lat'] * 1e6:7.0f} / {r['max_lat'] * 1e6:7.0f} µs  lost {r['lost']:>6}  "
                         f"rss {r['rss_kib']} KiB  completed {r['completed']}  cpu {r['server_cpu_s']:.2f} s  "
                         f"other load {r.get('other_load', 0):.2f}")
    lines += ["```", ""]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------

def make_zone(a, n):
    """Generates the zone of n names and its query file into WORKDIR/zone-n (deterministic)."""
    zdir = os.path.join(a.workdir, f"zone-{n}")
    qcount = max(100_000, 2 * n)
    log(f"generating zone N={n} and {qcount} queries")
    # YAML for understudy at N=1,000; at 100,000 the zone file (`file:`), see README.
    subprocess.run([sys.executable, os.path.join(HERE, "gen.py"), zdir, str(n),
                    "--queries", str(qcount)] + (["--yaml"] if n <= 1000 or n == 100000 else []),
                   check=True, timeout=600)
    return zdir


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--understudy", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--reps", type=int)
    ap.add_argument("--seconds", type=int)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--outstanding", type=int, default=int(os.environ.get("OUTSTANDING", 200)))
    ap.add_argument("--sizes", default=None, help="comma-separated zone sizes")
    ap.add_argument("--servers", default="understudy,knot,nsd,gdnsd")
    ap.add_argument("--big", type=int, default=1_000_000)
    ap.add_argument("--skip-big", action="store_true")
    ap.add_argument("--skip-reload", action="store_true")
    ap.add_argument("--skip-fixed", action="store_true")
    ap.add_argument("--skip-failover", action="store_true",
                    help="leave out the failover-under-load phase (understudy only)")
    ap.add_argument("--only-failover", action="store_true",
                    help="run only the failover-under-load phase")
    ap.add_argument("--failover-rate", type=int, default=50_000,
                    help="dnsperf -Q for the failover phase (queries/s)")
    ap.add_argument("--failover-seconds", type=int, default=30, help="length of each of its runs")
    ap.add_argument("--failover-flaps", type=int, default=10,
                    help="backend stop/start cycles in the flapping run")
    ap.add_argument("--failover-down", type=float, default=1.2, help="seconds stopped per cycle")
    ap.add_argument("--failover-up", type=float, default=1.2, help="seconds up per cycle")
    ap.add_argument("--failover-share", type=float, default=0.5,
                    help="share of the queries that ask the pooled name")
    ap.add_argument("--failover-reps", type=int, default=1,
                    help="baseline + flapping pairs (figures are medians over them)")
    ap.add_argument("--nice", type=int, default=-20,
                    help="nice level of the servers and dnsperf (0: do not renice); a shared "
                         "machine's compiles then take only what the benchmark leaves idle")
    ap.add_argument("--retries", type=int, default=0,
                    help="repeat a run disturbed by other load (> 0.2 cores) up to this often")
    ap.add_argument("--quiet-wait", type=int, default=5,
                    help="max seconds to wait for an idle machine before each measured run")
    a = ap.parse_args()

    global QUIET_WAIT, RETRIES, PRIO
    # On SIGTERM (e.g. the overall timeout), unwind so every `finally: stop()` runs.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    QUIET_WAIT = a.quiet_wait
    RETRIES = a.retries
    PRIO = ["nice", "-n", str(a.nice)] if a.nice else []
    reps = a.reps or (1 if a.quick else 3)
    seconds = a.seconds or (5 if a.quick else 20)
    sizes = [int(x) for x in a.sizes.split(",")] if a.sizes else ([1000] if a.quick else [1000, 100000])
    order = a.servers.split(",")
    big = not (a.quick or a.skip_big)
    do_reload = not (a.quick or a.skip_reload) and 100000 in sizes
    do_failover = a.only_failover or not (a.quick or a.skip_failover) and "understudy" in order
    if a.only_failover:
        sizes, big = [], False
    os.makedirs(a.workdir, exist_ok=True)
    random.seed(os.getpid())

    runs_txt = ("" if a.only_failover else
                f"{reps} repetition(s) of {seconds} s after a {a.warmup} s warm-up; ")
    report = [f"Machine: {os.cpu_count()} cores, {os.uname().sysname} {os.uname().release}; "
              f"servers pinned to CPU {SERVER_CPU}, dnsperf to CPU {CLIENT_CPU}; "
              f"{runs_txt}dnsperf -c 1 -T 1 "
              f"-q {a.outstanding}. "
              f"{'' if a.only_failover else 'Figures: median over repetitions; max latency = max over them; lost = sum over them; RSS/PSS = max at the end of a run. '}"
              f"{'Servers and dnsperf run at ' + ' '.join(PRIO) + '. ' if PRIO else ''}"
              f"Load average at start: {os.getloadavg()[0]:.2f}.", ""]
    for tool, cmd in (("dnsperf", ["dnsperf", "-h"]), ("knotd", ["knotd", "-V"]),
                      ("nsd", ["nsd", "-v"]), ("gdnsd", ["gdnsd", "-h"])):
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
            first = (out.stdout + out.stderr).strip().splitlines()
            ver = next((l for l in first if re.search(r"\d+\.\d+", l)), first[0] if first else "?")
            report.append(f"- {tool}: {ver.strip()}")
        except Exception as e:  # noqa: BLE001
            report.append(f"- {tool}: ? ({e})")
    report.append("")
    everything = {"sizes": {}, "big": {}, "reload": []}

    for n in sizes:
        zdir = make_zone(a, n)
        qcount = max(100_000, 2 * n)
        form = "yaml" if n <= 1000 else "file"
        qfile = os.path.join(zdir, "queries.txt")
        base = os.path.join(a.workdir, f"run-{n}")
        servers = {}
        for name in order:
            port = free_port()
            if name == "understudy":
                s = Understudy(base, port, a.understudy)
                s.configure(zdir, n, form)
            else:
                s = {"knot": Knot, "nsd": Nsd, "gdnsd": Gdnsd}[name](base, port)
                s.configure(zdir, n)
            servers[name] = s

        sat = {k: [] for k in order}
        fixed = {k: [] for k in order}
        loads = {k: [] for k in order}
        for rep in range(reps):
            for name in order:
                s = servers[name]
                r = None
                for attempt in range(1 + RETRIES):
                    try:
                        t = s.start()
                        got = measure(s, qfile, seconds, a.warmup, a.outstanding)
                    finally:
                        s.stop()
                    if r is None or got["other_load"] < r["other_load"]:
                        r, load_t = got, t
                    if r["other_load"] <= NOISY or attempt == RETRIES:
                        break
                    log(f"{name}: {r['other_load']:.2f} cores of other load during the run; repeating")
                loads[name].append(load_t)
                sat[name].append(r)
                log(f"N={n} saturation rep {rep + 1}/{reps} {name}: {r['qps']:,.0f} qps, "
                    f"{r['cpu_us_per_q']:.3f} µs/q, server core {r['server_util'] * 100:.0f}%, "
                    f"dnsperf core {r['client_util'] * 100:.0f}%, lost {r['lost']}")
        sat_sum = {k: summarise(v) for k, v in sat.items()}
        rate = None
        if not a.skip_fixed:
            rate = int(0.8 * min(s["qps"] for s in sat_sum.values()) / 1000) * 1000
            for rep in range(reps):
                for name in order:
                    s = servers[name]
                    r = None
                    for attempt in range(1 + RETRIES):
                        try:
                            s.start()
                            got = measure(s, qfile, seconds, a.warmup, a.outstanding, rate)
                        finally:
                            s.stop()
                        if r is None or got["other_load"] < r["other_load"]:
                            r = got
                        if r["other_load"] <= NOISY or attempt == RETRIES:
                            break
                        log(f"{name}: {r['other_load']:.2f} cores of other load during the run; repeating")
                    fixed[name].append(r)
                    log(f"N={n} fixed {rate} qps rep {rep + 1}/{reps} {name}: {r['qps']:,.0f} qps, "
                        f"{r['cpu_us_per_q']:.3f} µs/q, max lat {r['max_lat'] * 1e6:.0f} µs, lost {r['lost']}")
        fixed_sum = {k: summarise(v) for k, v in fixed.items() if v}

        report.append(f"### Zone of {n:,} names (understudy: {'YAML records' if form == 'yaml' else 'zone file via `file:`'}; "
                      f"{qcount:,} queries in the file)")
        report.append("")
        report.append(table(f"Saturation (dnsperf as fast as it can), N={n:,}", sat_sum, order))
        if fixed_sum:
            report.append(table(f"Fixed rate {rate:,} queries/s (dnsperf -Q, 80% of the slowest "
                                f"server's saturation), N={n:,}", fixed_sum, order))
        report.append("Startup (exec to first SOA answer, s): " + ", ".join(
            f"{k} {statistics.median(v):.3f}" for k, v in loads.items() if v))
        report.append("")
        report.append(raw_lines(f"saturation N={n:,}", sat, order))
        if fixed_sum:
            report.append(raw_lines(f"fixed rate N={n:,}", fixed, order))
        strip = lambda d: {k: [{kk: vv for kk, vv in r.items() if kk != "raw"} for r in v] for k, v in d.items()}
        everything["sizes"][n] = {"saturation": strip(sat), "fixed": strip(fixed), "fixed_rate": rate,
                                  "load_s": loads, "understudy_form": form}

        if n == 100000 and do_reload:
            report.append(reload_test(a, zdir, base, qfile, rate or 50000, reps, everything))
            report.append(yaml_load_test(a, zdir, base, everything))

        print("\n".join(report[-8:]), flush=True)

    if do_failover:
        report.append(failover_test(a, everything))
        print(report[-1], flush=True)

    if big:
        report.append(big_test(a, reps, everything))

    text = "\n".join(report)
    # A run of the failover phase alone must not overwrite a full run's results.
    stem = "results-failover" if a.only_failover else "results"
    with open(os.path.join(a.workdir, stem + ".md"), "w") as f:
        f.write(text + "\n")
    with open(os.path.join(a.workdir, stem + ".json"), "w") as f:
        json.dump(everything, f, indent=1, default=str)
    print("\n" + "=" * 100 + "\n" + text)
    log(f"results in {a.workdir}/{stem}.md and {stem}.json")


def reload_test(a, zdir, base, qfile, rate, reps, everything):
    """understudy: SIGHUP with the 100,000-name zone while dnsperf runs at a fixed rate."""
    s = Understudy(base + "-reload", free_port(), a.understudy)
    s.configure(zdir, 100000, "file")
    rows = []
    try:
        s.start()
        run_dnsperf(dnsperf(s.port, qfile, a.warmup, a.outstanding, rate), a.warmup)
        for rep in range(reps):
            with open(s.logpath) as f:
                f.seek(0, 2)
                pos = f.tell()
            secs = 12
            wait_quiet(QUIET_WAIT)
            p = start_dnsperf(dnsperf(s.port, qfile, secs, a.outstanding, rate))
            time.sleep(4)
            t0 = time.monotonic()
            os.kill(s.proc.pid, signal.SIGHUP)
            done = None
            while time.monotonic() - t0 < 60 and done is None:
                with open(s.logpath) as f:
                    f.seek(pos)
                    tail = f.read()
                if "reload done" in tail:
                    done = time.monotonic() - t0
                elif "reload failed" in tail:
                    raise RuntimeError("understudy reload failed: " + tail)
                else:
                    time.sleep(0.001)
            r = parse_dnsperf(finish_dnsperf(p, secs))
            r["reload_s"] = done
            rows.append(r)
            log(f"reload rep {rep + 1}: {done:.3f} s, max latency during the run "
                f"{r['max_lat'] * 1e6:.0f} µs, lost {r['lost']}")
            time.sleep(1)
    finally:
        s.stop()
    everything["reload"] = rows
    base_max = everything["sizes"][100000]["fixed"].get("understudy", [])
    base_txt = (f"; the same rate without a reload: max {max(r['max_lat'] for r in base_max) * 1e6:,.0f} µs"
                if base_max else "")
    lines = ["#### understudy reload of the 100,000-name zone (zone file) under load", "",
             f"SIGHUP sent 4 s into a 12 s dnsperf run at {rate:,} queries/s (all of understudy pinned "
             f"to CPU {SERVER_CPU}, so the reload competes with the serving thread for that core)."
             f" Reload time = SIGHUP to the `reload done` log line{base_txt}.", "",
             "| rep | reload s | max latency µs (whole run) | avg latency µs | lost | completed |",
             "|---|---|---|---|---|---|"]
    for i, r in enumerate(rows):
        lines.append(f"| {i + 1} | {r['reload_s']:.3f} | {r['max_lat'] * 1e6:,.0f} | "
                     f"{r['avg_lat'] * 1e6:,.0f} | {r['lost']} | {r['completed']:,} |")
    lines.append("")
    return "\n".join(lines)


def yaml_load_test(a, zdir, base, everything):
    """Why the 100,000-name zone is given to understudy as a zone file: YAML vs file load."""
    res = {}
    for form in ("yaml", "file"):
        s = Understudy(base + "-load-" + form, free_port(), a.understudy)
        s.configure(zdir, 100000, form)
        wait_quiet(QUIET_WAIT)
        try:
            t = s.start()
            time.sleep(1)
            res[form] = (t, status_kib(s.pids(), "VmRSS"))
        finally:
            s.stop()
    everything["understudy_100k_forms"] = res
    return ("understudy load of the 100,000-name zone: YAML `records:` "
            f"{res['yaml'][0]:.2f} s (RSS {res['yaml'][1] / 1024:.1f} MiB), zone file `file:` "
            f"{res['file'][0]:.2f} s (RSS {res['file'][1] / 1024:.1f} MiB).\n")


def big_test(a, reps, everything):
    n = a.big
    zdir = os.path.join(a.workdir, f"zone-{n}")
    log(f"generating zone N={n}")
    subprocess.run([sys.executable, os.path.join(HERE, "gen.py"), zdir, str(n)], check=True, timeout=900)
    base = os.path.join(a.workdir, f"run-{n}")
    servers = []
    for name in ("understudy", "knot", "nsd"):
        port = free_port()
        if name == "understudy":
            s = Understudy(base, port, a.understudy)
            s.configure(zdir, n, "file")
        else:
            s = {"knot": Knot, "nsd": Nsd}[name](base, port)
            s.configure(zdir, n)
        servers.append(s)
    res = {s.name: [] for s in servers}
    for rep in range(reps):
        for s in servers:
            wait_quiet(QUIET_WAIT)
            try:
                t = s.start(timeout=600)
                time.sleep(2)  # let a forking server settle before reading memory
                pids = s.pids()
                res[s.name].append({"load_s": t, "rss_kib": status_kib(pids, "VmRSS"),
                                    "pss_kib": pss_kib(pids), "nprocs": len(pids)})
            finally:
                s.stop()
            r = res[s.name][-1]
            log(f"N={n} rep {rep + 1}: {s.name} load {r['load_s']:.2f} s, RSS {r['rss_kib'] / 1024:.0f} MiB, "
                f"PSS {r['pss_kib'] / 1024:.0f} MiB ({r['nprocs']} processes)")
    everything["big"] = res
    lines = [f"### Zone of {n:,} names: load time and memory (all from the same RFC 1035 file)", "",
             "| server | load s (median) | load s (runs) | RSS MiB | PSS MiB | processes |",
             "|---|---|---|---|---|---|"]
    summ = {}
    for name, rows in res.items():
        summ[name] = (statistics.median(r["load_s"] for r in rows), max(r["rss_kib"] for r in rows),
                      max(r["pss_kib"] for r in rows))
        lines.append(f"| {name} | {summ[name][0]:.2f} | " + ", ".join(f"{r['load_s']:.2f}" for r in rows) +
                     f" | {summ[name][1] / 1024:,.1f} | {summ[name][2] / 1024:,.1f} | {rows[0]['nprocs']} |")
    u = summ["understudy"]
    for name in ("knot", "nsd"):
        p = summ[name]
        lines.append(f"| understudy / {name} | {u[0] / p[0]:.2f}× | | {u[1] / p[1]:.2f}× | {u[2] / p[2]:.2f}× | |")
    lines.append("")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Failover under load (understudy only): dnsperf at a fixed rate against a zone with a pooled
# name while the primary endpoint's HTTP backend is closed and reopened.

POOLED = "app.bench.test"
PRIMARY, STANDBY = "192.0.2.10", "192.0.2.20"
POOLED_TTL, FAILOVER_TTL = 60, 10
CHECK = {"interval_ms": 200, "timeout_ms": 100, "rise": 2, "fall": 2}
SAMPLE_PERIOD = 0.02


class FailoverUnderstudy(Understudy):
    """understudy with the 1,000-name YAML zone plus a pool `web`: PRIMARY checked over HTTP
    against a local backend, STANDBY `check: none`, and app.bench.test A from that pool."""

    def configure(self, zone_dir, n, backend_port):
        self.config_args = (zone_dir, n, backend_port)
        self.conf = os.path.join(self.dir, "understudy.yaml")
        with open(os.path.join(zone_dir, "bench.yaml-zone")) as z:
            zone = z.read()
        with open(self.conf, "w") as f:
            f.write(f"""server:
  listen: ["127.0.0.1:{self.port}"]
  threads: 1
log:
  level: info
checks:
  bench-http:
    type: http
    port: {backend_port}
    path: /
    interval: {CHECK['interval_ms']}ms
    timeout: {CHECK['timeout_ms']}ms
    rise: {CHECK['rise']}
    fall: {CHECK['fall']}
pools:
  web:
    policy: priority
    endpoints:
      - {{ address: {PRIMARY}, probe_address: 127.0.0.1, priority: 1, check: bench-http }}
      - {{ address: {STANDBY}, priority: 2, check: none }}
zones:
""")
            f.write(zone.rstrip("\n") + "\n")
            f.write(f"      - {{ name: app, type: A, pool: web, ttl: {POOLED_TTL}, "
                    f"failover_ttl: {FAILOVER_TTL} }}\n")


class Backend:
    """bench/dns/backend.py in its own session (boosted like the servers), driven over a pipe."""

    def __init__(self, logpath):
        self.port = free_port()
        self.logpath = logpath
        self.proc = None
        self.buf = b""
        self.events = []  # ("down" | "up", wall-clock time the socket was closed / listening)

    def start(self):
        with open(self.logpath, "a") as logf:
            self.proc = subprocess.Popen(PRIO + [sys.executable, os.path.join(HERE, "backend.py"),
                                                 str(self.port)],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=logf, start_new_session=True)
        boost(self.proc.pid)
        self._expect("up")

    def _expect(self, word, timeout=5.0):
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError(f"backend: no '{word}' within {timeout}s (see {self.logpath})")
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 4096)
                if not chunk:
                    raise RuntimeError(f"backend exited ({self.proc.poll()}); see {self.logpath}")
                self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        parts = line.decode().split()
        if not parts or parts[0] != word:
            raise RuntimeError(f"backend: expected '{word}', got '{line.decode()}'")
        return parts[1]

    def command(self, word):
        self.proc.stdin.write(word.encode() + b"\n")
        self.proc.stdin.flush()
        v = self._expect(word)
        if word in ("down", "up"):
            self.events.append((word, float(v)))
        return v

    def stop(self):
        if not self.proc:
            return
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            try:
                os.kill(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=5)
        self.proc.stdout.close()
        self.proc = None


def pooled_query(qid):
    q = struct.pack("!HHHHHH", qid, 0, 1, 0, 0, 0)
    for label in POOLED.split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\x00" + struct.pack("!HH", 1, 1)


def skip_name(buf, off):
    while True:
        n = buf[off]
        if n == 0:
            return off + 1
        if n & 0xC0 == 0xC0:
            return off + 2
        off += 1 + n


def classify_pooled(data, qid):
    """None for an answer to another query; else ("primary" | "standby" | "invalid", detail).

    Valid: NOERROR, AA, the question echoed as A IN, exactly one answer record, an A IN of
    PRIMARY with TTL POOLED_TTL or of STANDBY with TTL FAILOVER_TTL."""
    if len(data) < 12:
        return None
    rid, flags, qd, an = struct.unpack("!HHHH", data[:8])
    if rid != qid:
        return None
    try:
        if not flags & 0x8000 or flags & 0x7800 or flags & 0x0200:
            return "invalid", f"flags {flags:#06x}"
        if flags & 0x000F:
            return "invalid", f"rcode {flags & 0xF}"
        if not flags & 0x0400:
            return "invalid", "AA not set"
        if qd != 1 or an != 1:
            return "invalid", f"qdcount {qd} ancount {an}"
        off = skip_name(data, 12)
        if struct.unpack("!HH", data[off:off + 4]) != (1, 1):
            return "invalid", "question is not A IN"
        off = skip_name(data, off + 4)
        rtype, rclass, ttl, rdlen = struct.unpack("!HHIH", data[off:off + 10])
        if (rtype, rclass, rdlen) != (1, 1, 4):
            return "invalid", f"answer type {rtype} class {rclass} rdlength {rdlen}"
        addr = socket.inet_ntoa(data[off + 10:off + 14])
    except (IndexError, struct.error, OSError):
        return "invalid", "truncated or malformed"
    if addr == PRIMARY and ttl == POOLED_TTL:
        return "primary", ""
    if addr == STANDBY and ttl == FAILOVER_TTL:
        return "standby", ""
    return "invalid", f"{addr} ttl {ttl}"


def ask_pooled(port, wait=1.0):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        qid = random.randrange(65536)
        sock.sendto(pooled_query(qid), ("127.0.0.1", port))
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            sock.settimeout(max(0.001, deadline - time.monotonic()))
            try:
                data, _ = sock.recvfrom(4096)
            except socket.timeout:
                break
            c = classify_pooled(data, qid)
            if c:
                return c[0]
        return "unanswered"
    finally:
        sock.close()


class Sampler(threading.Thread):
    """Asks POOLED A every SAMPLE_PERIOD seconds (one query at a time, 2 s to answer) and keeps
    (wall time sent, kind, detail) for every query."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port = port
        self.samples = []
        self.halt = threading.Event()

    def run(self):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.connect(("127.0.0.1", self.port))
        qid = random.randrange(65536)
        nxt = time.monotonic()
        try:
            while not self.halt.is_set():
                qid = (qid + 1) & 0xFFFF
                sent = time.time()
                sock.send(pooled_query(qid))
                deadline = time.monotonic() + 2.0
                kind, detail = "unanswered", ""
                while True:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    sock.settimeout(left)
                    try:
                        data = sock.recv(4096)
                    except socket.timeout:
                        break
                    except ConnectionRefusedError:
                        detail = "port unreachable"
                        break
                    c = classify_pooled(data, qid)
                    if c:
                        kind, detail = c
                        break
                self.samples.append((sent, kind, detail))
                nxt += SAMPLE_PERIOD
                now = time.monotonic()
                if nxt < now:
                    nxt = now
                self.halt.wait(nxt - now)
        finally:
            sock.close()

    def summary(self):
        kinds = [k for _, k, _ in self.samples]
        switches = {"to_standby": 0, "to_primary": 0}
        last = None
        for k in kinds:
            if k in ("primary", "standby"):
                if last and k != last:
                    switches["to_standby" if k == "standby" else "to_primary"] += 1
                last = k
        bad = [f"{time.strftime('%H:%M:%S', time.localtime(t))}.{int(t * 1000) % 1000:03d} {k} {d}"
               for t, k, d in self.samples if k not in ("primary", "standby")]
        return {"samples": len(kinds), "primary": kinds.count("primary"),
                "standby": kinds.count("standby"), "invalid": kinds.count("invalid"),
                "unanswered": kinds.count("unanswered"), "switches": switches,
                "bad_examples": bad[:10]}


LOG_LINE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{3}) (\S+) (.*)$")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def failover_log(path, pos):
    """The daemon's WARN transitions after byte offset pos: health up -> down / down -> up
    lines, and the pooled record's answer changes PRIMARY -> STANDBY (failover) and back."""
    with open(path, errors="replace") as f:
        f.seek(pos)
        text = f.read()
    out = {"health_down": [], "health_up": [], "failover": [], "failback": [], "other": []}
    answer = re.compile(r"answer " + re.escape(POOLED) + r"\. A from pool web: (.*) -> (.*)$")
    for raw in text.splitlines():
        m = LOG_LINE.match(ANSI.sub("", raw))
        if not m:
            continue
        t = time.mktime(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")) + int(m.group(2)) / 1000
        msg = m.group(4)
        h = re.match(r"health .*: (up|down) -> (up|down) \(", msg)
        a = answer.match(msg)
        if h and (h.group(1), h.group(2)) == ("up", "down"):
            out["health_down"].append(t)
        elif h and (h.group(1), h.group(2)) == ("down", "up"):
            out["health_up"].append(t)
        elif a and a.group(1).startswith(f"{PRIMARY} (primary, ttl {POOLED_TTL})") and \
                a.group(2).startswith(f"{STANDBY} (failed over to priority 2, ttl {FAILOVER_TTL})"):
            out["failover"].append(t)
        elif a and a.group(2).startswith(f"{PRIMARY} (primary, ttl {POOLED_TTL})") and \
                a.group(1).startswith(f"{STANDBY} (failed over"):
            out["failback"].append(t)
        elif h or a or "override" in msg or "down at start" in msg:
            out["other"].append(msg)
    return out


def reaction_ms(events, backend_events, kind, answer_kind):
    """For each backend event `kind` ("down"/"up"): ms until the first `answer_kind` log line
    after it and before the backend's next event."""
    out = []
    for i, (k, t) in enumerate(backend_events):
        if k != kind:
            continue
        t_next = backend_events[i + 1][1] if i + 1 < len(backend_events) else float("inf")
        hit = [e for e in events[answer_kind] if t <= e < t_next + 1.0]
        # log times have 1 ms resolution; a change logged in the same ms as the event is 0.
        out.append(round((hit[0] - t) * 1000) if hit else None)
    return out


def failover_run(a, kind, zdir, qfile, rate, seconds, flaps, down_s, up_s):
    """One measured run with its own daemon and backend; kind is "baseline" or "flapping"."""
    base = os.path.join(a.workdir, "failover", kind)
    os.makedirs(base, exist_ok=True)
    backend = Backend(os.path.join(base, "backend.log"))
    s = FailoverUnderstudy(base, free_port(), a.understudy)
    s.configure(zdir, 1000, backend.port)
    sampler = Sampler(s.port)
    n_flaps = flaps if kind == "flapping" else 0
    lead = (seconds - n_flaps * (down_s + up_s)) / 2 if n_flaps else 0

    def during(t_start):
        sampler.start()
        if n_flaps:
            time.sleep(max(0.0, t_start + lead - time.monotonic()))
            for i in range(n_flaps):
                t = time.monotonic()
                backend.command("down")
                time.sleep(max(0.0, t + down_s - time.monotonic()))
                t = time.monotonic()
                backend.command("up")
                time.sleep(max(0.0, t + up_s - time.monotonic()))
        # Sample until dnsperf's run is over (bounded: dnsperf -l).
        time.sleep(max(0.0, t_start + seconds - 0.05 - time.monotonic()))
        sampler.halt.set()
        sampler.join(timeout=5)

    try:
        backend.start()
        s.start()
        first = ask_pooled(s.port)
        if first != "primary":
            raise RuntimeError(f"{POOLED} is not answered with the primary at start ({first}); "
                               f"see {s.logpath}")
        with open(s.logpath) as f:
            f.seek(0, 2)
            pos = f.tell()
        probes0, t0 = int(backend.command("stats")), time.monotonic()
        r = measure(s, qfile, seconds, a.warmup, a.outstanding, rate, during=during,
                    helpers=[backend.proc.pid])
        # Probes the backend answered per second (warm-up included: the same rate throughout).
        probes = (int(backend.command("stats")) - probes0) / (time.monotonic() - t0)
        # The last failback is logged within ~rise x interval of the last reopening, well before
        # dnsperf's end; allow a little more before reading the log.
        time.sleep(0.5)
        last = ask_pooled(s.port)
        events = failover_log(s.logpath, pos)
    finally:
        sampler.halt.set()
        s.stop()
        backend.stop()
    r.pop("raw", None)
    r.update({
        "kind": kind, "flaps": n_flaps, "health_down": len(events["health_down"]),
        "health_up": len(events["health_up"]), "failovers": len(events["failover"]),
        "failbacks": len(events["failback"]), "other_transitions": events["other"],
        "failover_ms": reaction_ms(events, backend.events, "down", "failover"),
        "failback_ms": reaction_ms(events, backend.events, "up", "failback"),
        "sampler": sampler.summary(), "answer_after": last, "probes_answered_per_s": probes,
        "backend_events": backend.events, "log": s.logpath,
    })
    return r


def failover_checks(runs, flaps):
    """The pass/fail list of the issue's criteria, over all runs."""
    problems = []
    for r in runs:
        tag = f"{r['kind']} run"
        if r["lost"]:
            problems.append(f"{tag}: {r['lost']} queries lost")
        sm = r["sampler"]
        if sm["invalid"]:
            problems.append(f"{tag}: {sm['invalid']} invalid answers to {POOLED}")
        if sm["unanswered"]:
            problems.append(f"{tag}: {sm['unanswered']} sampler queries unanswered")
        want = r["flaps"]
        got = (r["health_down"], r["health_up"], r["failovers"], r["failbacks"])
        if got != (want,) * 4:
            problems.append(f"{tag}: expected {want} of each, logged {got[0]} up -> down, "
                            f"{got[1]} down -> up, {got[2]} failovers, {got[3]} failbacks")
        if r["other_transitions"]:
            problems.append(f"{tag}: unexpected log lines: {r['other_transitions'][:3]}")
        if r["answer_after"] != "primary":
            problems.append(f"{tag}: {POOLED} answered '{r['answer_after']}' after the run")
        if want == 0 and sm["standby"]:
            problems.append(f"{tag}: {sm['standby']} standby answers with the backend up")
    return problems


def failover_test(a, everything):
    rate, seconds = a.failover_rate, a.failover_seconds
    flaps, down_s, up_s = a.failover_flaps, a.failover_down, a.failover_up
    if flaps * (down_s + up_s) > seconds - 2:
        raise SystemExit(f"--failover-seconds {seconds} is too short for {flaps} x "
                         f"({down_s} + {up_s}) s of flapping plus 1 s on each side")
    zdir = make_zone(a, 1000)
    qfile = os.path.join(a.workdir, "failover", "queries.txt")
    os.makedirs(os.path.dirname(qfile), exist_ok=True)
    with open(os.path.join(zdir, "queries.txt")) as f:
        normal = f.read().split("\n")
    normal = [l for l in normal if l]
    rng = random.Random(7)
    total = int(round(len(normal) / (1 - a.failover_share))) if a.failover_share < 1 else len(normal)
    lines, j = [], 0
    for _ in range(total):
        if rng.random() < a.failover_share:
            lines.append(f"{POOLED}. A")
        else:
            lines.append(normal[j % len(normal)])
            j += 1
    with open(qfile, "w") as f:
        f.write("\n".join(lines) + "\n")
    share = sum(1 for l in lines if l.startswith(POOLED + ".")) / len(lines)
    log(f"failover under load: {rate:,} q/s for {seconds} s, {share:.0%} {POOLED} A; "
        f"flapping run: {flaps} x (down {down_s} s, up {up_s} s)")

    runs = {"baseline": [], "flapping": []}
    for rep in range(a.failover_reps):
        for kind in ("baseline", "flapping"):
            best = None
            for attempt in range(1 + RETRIES):
                got = failover_run(a, kind, zdir, qfile, rate, seconds, flaps, down_s, up_s)
                if best is None or got["other_load"] < best["other_load"]:
                    best = got
                if best["other_load"] <= NOISY or attempt == RETRIES:
                    break
                log(f"failover {kind}: {got['other_load']:.2f} cores of other load; repeating")
            runs[kind].append(best)
            sm = best["sampler"]
            log(f"failover {kind} rep {rep + 1}/{a.failover_reps}: {best['qps']:,.0f} qps, "
                f"{best['cpu_us_per_q']:.3f} µs/q, lost {best['lost']}, max lat "
                f"{best['max_lat'] * 1e6:,.0f} µs, failovers/failbacks {best['failovers']}/"
                f"{best['failbacks']}, samples {sm['primary']} primary / {sm['standby']} standby / "
                f"{sm['invalid']} invalid / {sm['unanswered']} unanswered, other load "
                f"{best['other_load']:.2f}")

    problems = failover_checks(runs["baseline"] + runs["flapping"], flaps)
    med = lambda rows, k: statistics.median(r[k] for r in rows)
    summ = {}
    for kind, rows in runs.items():
        summ[kind] = {
            "qps": med(rows, "qps"), "lost": sum(r["lost"] for r in rows),
            "cpu_us_per_q": med(rows, "cpu_us_per_q"), "user_us_per_q": med(rows, "user_us_per_q"),
            "sys_us_per_q": med(rows, "sys_us_per_q"), "avg_lat": med(rows, "avg_lat"),
            "max_lat": max(r["max_lat"] for r in rows), "server_util": med(rows, "server_util"),
            "client_util": med(rows, "client_util"),
            "other_load": max(r["other_load"] for r in rows),
            "health": f"{sum(r['health_down'] for r in rows)} / {sum(r['health_up'] for r in rows)}",
            "answers": f"{sum(r['failovers'] for r in rows)} / {sum(r['failbacks'] for r in rows)}",
            "samples": f"{sum(r['sampler']['primary'] for r in rows):,} / "
                       f"{sum(r['sampler']['standby'] for r in rows):,}",
            "invalid": sum(r["sampler"]["invalid"] for r in rows),
            "unanswered": sum(r["sampler"]["unanswered"] for r in rows),
            "probes": med(rows, "probes_answered_per_s"),
        }
    ratio = {k: summ["flapping"][k] / summ["baseline"][k] if summ["baseline"][k] else None
             for k in ("qps", "cpu_us_per_q", "user_us_per_q", "sys_us_per_q", "avg_lat", "max_lat")}
    fo = [v for r in runs["flapping"] for v in r["failover_ms"] if v is not None]
    fb = [v for r in runs["flapping"] for v in r["failback_ms"] if v is not None]
    everything["failover"] = {
        "rate": rate, "seconds": seconds, "flaps": flaps, "down_s": down_s, "up_s": up_s,
        "pooled_share": share, "check": CHECK, "runs": runs, "summary": summ, "ratio": ratio,
        "failover_ms": fo, "failback_ms": fb, "problems": problems,
    }

    cols = [("qps", "queries/s", "qps"), ("lost", "lost", "int"),
            ("cpu_us_per_q", "server CPU µs/query", "us"), ("user_us_per_q", "of which user", "us"),
            ("sys_us_per_q", "of which kernel", "us"), ("avg_lat", "avg latency µs", "lat"),
            ("max_lat", "max latency µs", "lat"), ("server_util", "server core busy", "pct"),
            ("client_util", "dnsperf core busy", "pct"), ("other_load", "other load (max)", "cores"),
            ("probes", "probes answered /s", "s"),
            ("health", "health up→down / down→up (log)", None),
            ("answers", "failovers / failbacks (log)", None),
            ("samples", "sampled answers primary / standby", None),
            ("invalid", "invalid answers", "int"), ("unanswered", "unanswered samples", "int")]
    ck = CHECK
    lines = [f"### Failover under load (understudy, 1,000-name zone + pooled {POOLED} A)", "",
             f"dnsperf -Q {rate:,} for {seconds} s per run ({a.warmup} s warm-up), {share:.0%} of "
             f"the queries `{POOLED} A`, the rest the 1,000-name query file; understudy `threads: 1` "
             f"pinned to CPU {SERVER_CPU}. Pool `web`: {PRIMARY} checked over HTTP against a local "
             f"backend on 127.0.0.1 (interval {ck['interval_ms']}ms, timeout {ck['timeout_ms']}ms, "
             f"rise {ck['rise']}, fall {ck['fall']}), standby {STANDBY} `check: none`; ttl "
             f"{POOLED_TTL}, failover_ttl {FAILOVER_TTL}. Flapping run: the backend's listening "
             f"socket closed for {down_s} s and reopened for {up_s} s, {flaps} times, from "
             f"{(seconds - flaps * (down_s + up_s)) / 2:.1f} s into the run. A sampler asks "
             f"`{POOLED} A` every {SAMPLE_PERIOD * 1000:.0f} ms in both runs. "
             f"{a.failover_reps} repetition(s); medians, max latency = max, counts summed.", "",
             "| run | " + " | ".join(c[1] for c in cols) + " |",
             "|---" * (len(cols) + 1) + "|"]
    for kind in ("baseline", "flapping"):
        cells = [str(summ[kind][k]) if f is None else fmt(summ[kind][k], f) for k, _, f in cols]
        lines.append(f"| {kind} | " + " | ".join(cells) + " |")
    lines.append("| flapping / baseline | " + " | ".join(
        (f"{ratio[k]:.2f}×" if ratio[k] is not None else "–") if k in ratio else ""
        for k, _, _ in cols) + " |")
    lines.append("")
    bound = ck["fall"] * ck["interval_ms"] * 1.1
    if fo or fb:
        lines.append(
            f"Reaction, from the daemon's log timestamps (ms resolution) against the backend's close "
            f"/ reopen: backend closed → answer changed to the standby: median "
            f"{statistics.median(fo) if fo else float('nan'):.0f} ms, max {max(fo) if fo else float('nan'):.0f} ms "
            f"({len(fo)} events); reopened → primary again: median "
            f"{statistics.median(fb) if fb else float('nan'):.0f} ms, max {max(fb) if fb else float('nan'):.0f} ms "
            f"({len(fb)}). A refused connect fails at once, so both should lie within "
            f"(fall − 1) × interval .. fall × interval (+10% jitter) ≈ "
            f"{(ck['fall'] - 1) * ck['interval_ms']}-{bound:.0f} ms.")
        lines.append("")
    verdict = ("**All checks passed**: no query lost, no invalid answer, "
               f"{flaps} failovers and {flaps} failbacks per flapping run, none in the baseline."
               if not problems else "**Checks failed**:\n" + "\n".join(f"- {p}" for p in problems))
    lines += [verdict + f" Server CPU per query, flapping / baseline: "
              f"{ratio['cpu_us_per_q']:.2f}×.", ""]
    lines += ["Raw runs (qps, CPU µs/query, avg/max latency µs, lost, failovers/failbacks, "
              "reaction ms):", "```"]
    for kind in ("baseline", "flapping"):
        for i, r in enumerate(runs[kind]):
            lines.append(f"{kind:<9} rep {i + 1}: {r['qps']:>9,.0f} qps  {r['cpu_us_per_q']:6.3f} µs  "
                         f"{r['avg_lat'] * 1e6:6.0f} / {r['max_lat'] * 1e6:7.0f} µs  lost {r['lost']}  "
                         f"completed {r['completed']}  cpu {r['server_cpu_s']:.2f} s  "
                         f"other load {r['other_load']:.2f}  helpers {r.get('helper_cpu_s', 0):.2f} s  "
                         f"{r['failovers']}/{r['failbacks']}  "
                         f"down→standby {r['failover_ms']}  up→primary {r['failback_ms']}")
            for b in r["sampler"]["bad_examples"]:
                lines.append(f"    bad sample: {b}")
    lines += ["```", ""]
    if problems:
        log("failover checks FAILED: " + "; ".join(problems))
    return "\n".join(lines)


if __name__ == "__main__":
    main()
