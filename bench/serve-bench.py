#!/usr/bin/env python3
"""Query throughput, CPU cost and latency of mailzone against NSD and Knot DNS,
measured in one run on the same machine; or, with --load, the time until a
large zone answers and the RSS after load.

Serve mode (default):
  * one zone of DOMAINS mail domains (MX, SPF, DKIM 2048-bit split over two
    strings, DMARC, a CNAME, addresses), a wildcard and delegations with glue,
    and a query mix of 30% MX, 30% TXT, 20% A/AAAA, 10% NXDOMAIN, 5% wildcard,
    5% referral; both generated deterministically;
  * each server on its own loopback port with one worker, pinned to CPU 0;
    dnsperf (Debian `dnsperf`) pinned to CPU 1;
  * rounds interleaved (mailzone, NSD, Knot, mailzone, ...), ROUNDS per
    protocol, SECONDS each, UDP then TCP;
  * per server: queries/s (median, min, max), queries per server-CPU-second
    (the server's own utime+stime over the round, all its threads and
    children), dnsperf's average latency, lost queries, RSS after load
    (once the server is idle); then p99 latency at the same offered load,
    also in interleaved rounds (bench/probe replaying the mix one query at
    a time at RATE/s, pinned to CPU 1), reported as the median round;
  * with --signed, the zone is first signed by ldns-signzone (Debian
    `ldnsutils`; ECDSA P-256, NSEC3 without extra iterations or salt) and
    every server serves that same pre-signed file, and every query has DO
    set (dnsperf -D; the probe sends EDNS with 1,232 bytes and DO).

Load mode (--load [RECORDS]): bench/gen-zone.py's zone of RECORDS records
(default 1,000,000); --rounds rounds with the servers interleaved, per server
the median (min-max) over them of the wall time from start until the zone's
SOA is answered, and until the server has settled (its CPU time no longer
grows: mailzone's checks done, the read zone freed), with RSS then; each
server pinned to CPU 0, or with --all-cores free to use every core. mailzone
runs twice: with on_error = "warn", as in the throughput rounds, where the
zone answers as soon as it is compiled and the checks end after; and with
"refuse" (mailzone-refuse), where it answers only once the checks found no
error.

Instruction mode (--instructions): the same zone and query mix, 100,000
queries answered by the engine alone (bench/probe's mailzone-replay, no
sockets) under `valgrind --tool=callgrind`, after one warm-up pass over the
query file, counting only the measured loop: instructions per query,
noise-free, for the served path and for the general path alone; then the
same for a zone a tenth the size signed in memory (ECDSA P-256, NSEC3),
every query with DO set, as validating resolvers send them.

A server whose binary is missing is skipped and named.

usage: serve-bench.py [--domains N] [--rounds R] [--seconds S] [--rate Q]
       serve-bench.py --load [RECORDS] [--all-cores] [--rounds R]
       serve-bench.py --instructions
"""
import argparse
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)
out = os.path.join(here, "out", "serve")

p = argparse.ArgumentParser()
p.add_argument("--domains", type=int, default=20000)
p.add_argument("--rounds", type=int, default=3)
p.add_argument("--seconds", type=float, default=10)
p.add_argument("--rate", type=int, default=20000, help="offered load for the p99 probe (q/s)")
p.add_argument("--load", nargs="?", const=1_000_000, type=int, metavar="RECORDS")
p.add_argument("--workers", type=int, default=1, help="mailzone workers (the others use one)")
p.add_argument("--servers", default="mailzone,nsd,knot")
p.add_argument("--baseline", metavar="BINARY",
               help="also run this mailzone binary (as server mailzone-base, "
                    "configured as mailzone), interleaved: an A/B of two commits")
p.add_argument("--instructions", action="store_true")
p.add_argument("--signed", action="store_true",
               help="serve the zone signed (ldns-signzone: ECDSA P-256, NSEC3) and set DO on every query")
p.add_argument("--all-cores", action="store_true",
               help="load mode: let the servers use every core instead of pinning them to CPU 0")
args = p.parse_args()

ORIGIN = "bench.test."
KEY = ("MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAn5keJxQ2snE3Eg2qwNPcZPa4ZEk9FXZTKmmx2JVNLGOPvZBgndl4+"
       "k5dTG+o03FMT0bH43koagL7kURf0stC0mW5USQS00XUC2WYED5fjvC9PVsbrXkV12SJzL2Ckt2BPwQJkk1MswVQbCVw4uICg7Eh1GpU"
       "CIJLRCbP7S+Gna24mRBzXpPgG3x2OmRWDqaylEhCNFBx0MnR0kZm3VtDn7+memLh33YbxLM96Wa5hNG0D+WCRFPBAKuEfT62CPCcRT5FM"
       "n/cwC3E9ly4ktX9P+eXMoXl3qoTdHIEA8xqY2j1qoyqfxNlJJPKdNQaz5s9hW+hoEmmo/NoEVg05pjMXwIDAQAB")


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def write_zone(path, domains):
    with open(path, "w") as f:
        w = f.write
        w(f"$ORIGIN {ORIGIN}\n$TTL 3600\n")
        w("@ SOA ns1 hostmaster 2026120301 7200 900 1209600 300\n@ NS ns1\n@ NS ns2\n")
        w("ns1 A 192.0.2.1\nns2 A 192.0.2.2\n*.wild A 192.0.2.80\n*.wild TXT \"wildcard\"\n")
        for i in range(domains):
            d = f"d{i}"
            a = f"{i >> 8 & 255}.{i & 255}"
            w(f"{d} A 198.51.{a}\n{d} MX 10 mx1.{d}\n{d} MX 20 mx2.{d}\n")
            w(f"{d} TXT \"v=spf1 ip4:198.51.{a} include:_spf.example.net -all\"\n")
            w(f"mx1.{d} A 10.1.{a}\nmx1.{d} AAAA 2001:db8:1::{i:x}\nmx2.{d} A 10.2.{a}\n")
            w(f"_dmarc.{d} TXT \"v=DMARC1; p=reject; rua=mailto:dmarc@{d}.bench.test\"\n")
            w(f"sel._domainkey.{d} TXT ( \"v=DKIM1; k=rsa; p={KEY[:200]}\" \"{KEY[200:]}\" )\n")
            w(f"www.{d} CNAME {d}\n")
            if i % 10 == 0:
                w(f"sub{i} NS ns1.sub{i}\nsub{i} NS ns2.sub{i}\nns1.sub{i} A 192.0.2.{i % 250 + 1}\n"
                  f"ns2.sub{i} A 198.51.100.{i % 250 + 1}\n")


def write_queries(path, domains, n=200_000):
    rnd = random.Random(20261203)
    lines = []
    for _ in range(n):
        i = rnd.randrange(domains)
        d = f"d{i}.{ORIGIN}"
        r = rnd.random()
        if r < 0.30:
            lines.append(f"{d} MX")
        elif r < 0.60:
            lines.append(rnd.choice([f"{d} TXT", f"_dmarc.{d} TXT", f"sel._domainkey.{d} TXT"]))
        elif r < 0.80:
            lines.append(rnd.choice([f"mx1.{d} A", f"mx1.{d} AAAA", f"www.{d} A", f"{d} A"]))
        elif r < 0.90:
            lines.append(f"nx{rnd.randrange(10**6)}.{d} A")
        elif r < 0.95:
            lines.append(f"h{rnd.randrange(10**6)}.wild.{ORIGIN} A")
        else:
            j = rnd.randrange(0, domains, 10)
            lines.append(f"host.sub{j}.{ORIGIN} A")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def soa_query(port, name):
    """True when the server answers the zone's SOA (NOERROR, an answer)."""
    labels = b"".join(bytes([len(x)]) + x.encode() for x in name.rstrip(".").split(".")) + b"\0"
    q = b"\x12\x34\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00" + labels + b"\x00\x06\x00\x01"
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.2)
    try:
        s.sendto(q, ("127.0.0.1", port))
        r = s.recv(4096)
        return len(r) > 12 and r[3] & 0xF == 0 and int.from_bytes(r[6:8], "big") > 0
    except OSError:
        return False
    finally:
        s.close()


def tree(pid):
    """pid and all its descendants."""
    pids, todo = [], [pid]
    while todo:
        p_ = todo.pop()
        pids.append(p_)
        try:
            with open(f"/proc/{p_}/task/{p_}/children") as f:
                todo.extend(int(x) for x in f.read().split())
        except OSError:
            pass
    return pids


def cpu_seconds(pid):
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for p_ in tree(pid):
        try:
            with open(f"/proc/{p_}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except OSError:
            pass
    return total / tick


def rss_mib(pid):
    total = 0
    for p_ in tree(pid):
        try:
            with open(f"/proc/{p_}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


class Server:
    def __init__(self, name, port, argv, workdir):
        self.name, self.port, self.argv, self.dir = name, port, argv, workdir
        self.proc = None

    def start(self, zone_origin, timeout=600):
        log = open(os.path.join(self.dir, "server.log"), "w")
        t0 = time.monotonic()
        pin = [] if args.all_cores else ["taskset", "-c", "0"]
        self.proc = subprocess.Popen(pin + self.argv, stdout=log, stderr=log, cwd=self.dir)
        while not soa_query(self.port, zone_origin):
            if self.proc.poll() is not None:
                sys.exit(f"{self.name} exited: see {self.dir}/server.log")
            if time.monotonic() - t0 > timeout:
                sys.exit(f"{self.name} did not answer within {timeout} s")
            time.sleep(0.02)
        self.ready = time.monotonic() - t0
        self.t0 = t0
        return self.ready

    def settle(self, quiet=0.5, timeout=300):
        """Seconds from start until the server's CPU time (every process of
        it) stopped growing for `quiet` seconds."""
        last, since = cpu_seconds(self.proc.pid), time.monotonic()
        while time.monotonic() - self.t0 < timeout:
            time.sleep(0.05)
            now = cpu_seconds(self.proc.pid)
            if now != last:
                last, since = now, time.monotonic()
            elif time.monotonic() - since >= quiet:
                break
        return since - self.t0

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        # NSD's children outlive a killed parent; knotd is one process.
        subprocess.run(["pkill", "-f", self.dir], stderr=subprocess.DEVNULL)


def make_servers(zone_file, names, workers):
    mailzone = os.path.join(root, "target", "release", "mailzone")
    made = []
    for name in names:
        d = os.path.join(out, name)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        port = free_port()
        if name.startswith("mailzone"):
            on_error = "refuse" if name.endswith("-refuse") else "warn"
            with open(os.path.join(d, "mailzone.toml"), "w") as f:
                f.write(f'version = 1\n[[zone]]\nname = "{ORIGIN}"\nfile = "{zone_file}"\n'
                        f'[zone.check]\non_error = "{on_error}"\n'
                        f'[server]\nlisten = ["127.0.0.1:{port}"]\nworkers = {workers}\n'
                        f'max_tcp_connections = 1024\n[log]\nlevel = "warn"\n')
            binary = args.baseline if name.startswith("mailzone-base") else mailzone
            made.append(Server(name, port, [binary, "serve", "--config", "mailzone.toml"], d))
        elif name == "nsd":
            if not shutil.which("nsd"):
                print("skipping NSD: not installed (Debian package nsd)")
                continue
            with open(os.path.join(d, "nsd.conf"), "w") as f:
                f.write(f'server:\n  ip-address: 127.0.0.1@{port}\n  server-count: 1\n'
                        f'  tcp-count: 1024\n  username: ""\n  chroot: ""\n  database: ""\n'
                        f'  zonesdir: "{d}"\n  pidfile: "{d}/nsd.pid"\n  xfrdfile: "{d}/xfrd.state"\n'
                        f'  zonelistfile: "{d}/zone.list"\n  logfile: "{d}/nsd.log"\n'
                        f'  verbosity: 0\n  hide-version: yes\n  tcp-timeout: 10\n'
                        f'  rrl-ratelimit: 0\n  rrl-whitelist-ratelimit: 0\n'  # Debian builds NSD with RRL on (200 q/s)
                        f'remote-control:\n  control-enable: no\n'
                        f'zone:\n  name: "{ORIGIN}"\n  zonefile: "{zone_file}"\n')
            made.append(Server(name, port, ["nsd", "-d", "-c", os.path.join(d, "nsd.conf")], d))
        elif name == "knot":
            if not shutil.which("knotd"):
                print("skipping Knot DNS: not installed (Debian package knot)")
                continue
            with open(os.path.join(d, "knot.conf"), "w") as f:
                f.write(f"server:\n  listen: 127.0.0.1@{port}\n  rundir: {d}\n  udp-workers: 1\n"
                        f"  tcp-workers: 1\n  background-workers: 1\n  tcp-max-clients: 1024\n"
                        f"database:\n  storage: {d}\ntemplate:\n  - id: default\n    storage: {d}\n"
                        f"    semantic-checks: off\n    journal-content: none\n    zonefile-sync: -1\n"
                        f"log:\n  - target: stderr\n    any: error\n"
                        f"zone:\n  - domain: {ORIGIN}\n    file: {zone_file}\n")
            made.append(Server(name, port, ["knotd", "-c", os.path.join(d, "knot.conf")], d))
    return made


def sign_zone(zone):
    """The zone signed by ldns-signzone with a fresh ECDSA P-256 key: NSEC3
    with RFC 9276's parameters (no extra iterations, no salt), so that every
    server serves the same signed records."""
    for tool in ["ldns-keygen", "ldns-signzone"]:
        if not shutil.which(tool):
            sys.exit(f"{tool} is not installed (Debian package ldnsutils)")
    d = os.path.join(out, "signing")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    key = subprocess.run(["ldns-keygen", "-a", "ECDSAP256SHA256", "-k", ORIGIN], cwd=d,
                         capture_output=True, text=True, check=True).stdout.strip()
    signed = os.path.join(out, f"bench-{args.domains}.signed.zone")
    sh(["ldns-signzone", "-n", "-t", "0", "-o", ORIGIN, "-f", signed, zone, os.path.join(d, key)])
    return signed


def dnsperf(server, queries, tcp, seconds):
    cmd = ["taskset", "-c", "1", "dnsperf", "-s", "127.0.0.1", "-p", str(server.port), "-d", queries,
           "-l", str(seconds), "-c", "64" if tcp else "4", "-q", "200" if tcp else "100", "-t", "2"]
    if tcp:
        cmd += ["-m", "tcp"]
    if args.signed:
        cmd += ["-D"]
    c0 = cpu_seconds(server.proc.pid)
    r = subprocess.run(cmd, capture_output=True, text=True)
    cpu = cpu_seconds(server.proc.pid) - c0
    res = {"cpu": cpu}
    for line in r.stdout.splitlines():
        f = line.split()
        if "Queries completed:" in line:
            res["done"] = int(f[2])
        elif "Queries lost:" in line:
            res["lost"] = int(f[2])
        elif "Queries per second:" in line:
            res["qps"] = float(f[3])
        elif "Average Latency (s):" in line:
            res["lat"] = float(f[3]) * 1e6
    if "qps" not in res:
        sys.exit(f"dnsperf against {server.name} failed:\n{r.stdout}\n{r.stderr}")
    res["per_cpu"] = res["done"] / cpu if cpu > 0 else float("nan")
    return res


def p99(server, queries, rate, seconds):
    probe = os.path.join(root, "target", "release", "mailzone-probe")
    lat_file = os.path.join(server.dir, "lat.txt")
    sh(["taskset", "-c", "1", probe, f"127.0.0.1:{server.port}", "@" + queries, "A", str(rate),
        str(seconds), lat_file] + (["do"] if args.signed else []))
    lat = []
    lost = 0
    with open(lat_file) as f:
        for line in f:
            v = int(line.split()[1])
            if v < 0:
                lost += 1
            else:
                lat.append(v / 1000)
    lat.sort()
    return {"p50": lat[len(lat) // 2], "p99": lat[int(len(lat) * 0.99)], "n": len(lat), "lost": lost}


def ratio(a, b):
    return f"{a / b:.2f}x" if b else "-"


def serve_mode():
    for tool in ["dnsperf", "taskset"]:
        if not shutil.which(tool):
            sys.exit(f"{tool} is not installed (Debian package {'dnsperf' if tool == 'dnsperf' else 'util-linux'})")
    os.makedirs(out, exist_ok=True)
    zone = os.path.join(out, f"bench-{args.domains}.zone")
    queries = os.path.join(out, f"queries-{args.domains}.txt")
    write_zone(zone, args.domains)
    write_queries(queries, args.domains)
    if args.signed:
        zone = sign_zone(zone)
    names = args.servers.split(",") + (["mailzone-base"] if args.baseline else [])
    servers = make_servers(zone, names, args.workers)
    rows = {}
    try:
        for s in servers:
            s.start(ORIGIN)
            # RSS once the server is idle: mailzone (on_error = "warn")
            # answers before its checks finish, and frees the zone as read
            # after that.
            s.settle()
            rows[s.name] = {"rss": rss_mib(s.proc.pid), "udp": [], "tcp": []}
        for proto in ["udp", "tcp"]:
            for rnd in range(args.rounds):
                for s in servers:
                    r = dnsperf(s, queries, proto == "tcp", args.seconds)
                    rows[s.name][proto].append(r)
                    print(f"{proto} round {rnd + 1} {s.name:9} {r['qps']:>10.0f} q/s  "
                          f"{r['per_cpu']:>10.0f} q/cpu-s  cpu {r['cpu']:.2f} s  lat {r['lat']:.0f} us  "
                          f"lost {r['lost']}", flush=True)
        # Latency rounds interleaved too: one probe run's p99 moves with
        # whatever else the machine does; the median of several does not.
        for s in servers:
            rows[s.name]["probe"] = []
        for rnd in range(args.rounds):
            for s in servers:
                pr = p99(s, queries, args.rate, args.seconds)
                rows[s.name]["probe"].append(pr)
                print(f"p99 round {rnd + 1} {s.name:9} p50 {pr['p50']:.0f} us  p99 {pr['p99']:.0f} us  "
                      f"lost {pr['lost']}", flush=True)
    finally:
        for s in servers:
            s.stop()

    if args.signed:
        print("\nthe zone signed by ldns-signzone (ECDSA P-256, NSEC3 without extra iterations or salt), "
              "served as a pre-signed zone by all; DO set on every query (dnsperf -D, probe with EDNS 1232)")
    print(f"\nzone: {args.domains} mail domains; {args.rounds} rounds of {args.seconds:g} s per protocol; "
          f"server on CPU 0, dnsperf on CPU 1; mailzone workers = {args.workers}")
    print(f"{'server':9} {'proto':5} {'q/s median':>11} {'min':>9} {'max':>9} {'q/cpu-s':>9} "
          f"{'avg lat us':>10} {'lost':>6}")
    summary = {}
    for name, r in rows.items():
        for proto in ["udp", "tcp"]:
            q = [x["qps"] for x in r[proto]]
            pc = statistics.median(x["per_cpu"] for x in r[proto])
            lat = statistics.median(x["lat"] for x in r[proto])
            lost = sum(x["lost"] for x in r[proto])
            summary[(name, proto)] = (statistics.median(q), pc)
            print(f"{name:9} {proto:5} {statistics.median(q):>11.0f} {min(q):>9.0f} {max(q):>9.0f} "
                  f"{pc:>9.0f} {lat:>10.0f} {lost:>6}")
    print(f"\np99 at {args.rate} q/s offered (bench/probe, one query at a time, the same mix; "
          f"median of {args.rounds} rounds, min-max):")
    for name, r in rows.items():
        p99s = [x["p99"] for x in r["probe"]]
        r["p99"] = statistics.median(p99s)
        p50 = statistics.median(x["p50"] for x in r["probe"])
        print(f"{name:9} p50 {p50:.0f} us  p99 {r['p99']:.0f} us ({min(p99s):.0f}-{max(p99s):.0f})  "
              f"answered {sum(x['n'] for x in r['probe'])}  lost {sum(x['lost'] for x in r['probe'])}  "
              f"RSS after load, settled {r['rss']:.0f} MiB")
    if "mailzone" in rows:
        print("\nratios mailzone / other:")
        for other in [n for n in rows if n != "mailzone"]:
            for proto in ["udp", "tcp"]:
                mq, mc = summary[("mailzone", proto)]
                oq, oc = summary[(other, proto)]
                print(f"  vs {other:5} {proto}: q/s {ratio(mq, oq)}  q/cpu-s {ratio(mc, oc)}")
            print(f"  vs {other:5} p99: {ratio(rows['mailzone']['p99'], rows[other]['p99'])} "
                  f"(lower is better)  RSS: {ratio(rows['mailzone']['rss'], rows[other]['rss'])}")


def load_mode():
    os.makedirs(out, exist_ok=True)
    gen = os.path.join(here, "out", f"bench-{args.load}.zone")
    if not os.path.exists(gen):
        with open(gen, "w") as f:
            sh([sys.executable, os.path.join(here, "gen-zone.py"), str(args.load), "bench.example."], stdout=f)
    global ORIGIN
    ORIGIN = "bench.example."
    where = f"all {os.cpu_count()} cores" if args.all_cores else "pinned to CPU 0"
    names = args.servers.split(",")
    if "mailzone" in names:
        names.insert(names.index("mailzone") + 1, "mailzone-refuse")
    if args.baseline:
        names += ["mailzone-base", "mailzone-base-refuse"]
    print(f"zone: {args.load} records (bench/gen-zone.py), time until its SOA is answered, RSS then; "
          f"servers {where}; {args.rounds} rounds, servers interleaved, median (min-max)")
    # Rounds interleave the servers (A B C A B C ...), as the throughput
    # rounds do: on a shared machine one run of each moved by a third.
    runs = {}
    for r in range(args.rounds):
        for name in names:
            made = make_servers(gen, [name], args.workers)
            for s in made:
                try:
                    t = s.start(ORIGIN)
                    done = s.settle()
                    runs.setdefault(name, []).append((t, done, rss_mib(s.proc.pid)))
                    print(f"  round {r + 1}: {name:15} answers {t:5.2f} s, settled {done:5.2f} s",
                          flush=True)
                finally:
                    s.stop()
    med = {n: tuple(statistics.median(x[i] for x in v) for i in range(3)) for n, v in runs.items()}
    print(f"{'':15} {'answers':>22} {'settled':>22} {'RSS':>10}")
    for name, v in runs.items():
        span = lambda i: f"{med[name][i]:5.2f} ({min(x[i] for x in v):.2f}-{max(x[i] for x in v):.2f}) s"
        print(f"{name:15} {span(0):>22} {span(1):>22} {med[name][2]:6.0f} MiB")
    for m in [n for n in ("mailzone", "mailzone-refuse") if n in med]:
        for other in [n for n in med if not n.startswith("mailzone")]:
            print(f"  {m} / {other}: time to answer {ratio(med[m][0], med[other][0])}, "
                  f"RSS settled {ratio(med[m][2], med[other][2])}")


def instructions_mode():
    if not shutil.which("valgrind"):
        sys.exit("valgrind is not installed (Debian package valgrind)")
    os.makedirs(out, exist_ok=True)
    zone = os.path.join(out, f"bench-{args.domains}.zone")
    queries = os.path.join(out, f"queries-{args.domains}.txt")
    write_zone(zone, args.domains)
    write_queries(queries, args.domains)
    replay = os.path.join(root, "target", "release", "mailzone-replay")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True,
                            text=True).stdout.strip()
    count = 100_000
    # The signed runs sign their zone in memory first, which under valgrind
    # takes minutes for the full zone: they use one a tenth its size.
    small = max(args.domains // 10, 100)
    szone = os.path.join(out, f"bench-{small}.zone")
    squeries = os.path.join(out, f"queries-{small}.txt")
    write_zone(szone, small)
    write_queries(squeries, small)
    print(f"zone: {args.domains} mail domains; {count} queries of the mix through the engine; commit {commit}")
    print(f"signed: the zone of {small} domains signed in memory (ECDSA P-256, NSEC3), DO on every query")
    runs = [("served", zone, queries, []), ("general", zone, queries, ["general"]),
            ("signed, served", szone, squeries, ["signed"]),
            ("signed, general", szone, squeries, ["general", "signed"])]
    for mode, z, qs, extra in runs:
        cg = os.path.join(out, f"callgrind.{mode.replace(', ', '-')}.out")
        cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={cg}",
               "--toggle-collect=mailzone_replay::measure*", "--collect-atstart=no",
               replay, z, ORIGIN, qs, str(count)] + extra
        sh(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        total = 0
        with open(cg) as f:
            for line in f:
                if line.startswith("summary:") or line.startswith("totals:"):
                    total = int(line.split()[1])
        print(f"{mode:16} {total / count:10.0f} instructions per query")


sh(["cargo", "build", "--release", "-q", "-p", "mailzone", "-p", "mailzone-probe"], cwd=root)
if args.instructions:
    instructions_mode()
elif args.load:
    load_mode()
else:
    serve_mode()
