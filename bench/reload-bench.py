#!/usr/bin/env python3
"""Reload cost: latency of queries to a small zone while a large zone on the same
server is reloaded, against the same server idle, and memory before, during and
after the swap. One run of `mailzone serve` with two zones: the shipped
example.com and a generated zone of RECORDS records (bench/gen-zone.py).

  1. load both zones; RSS after load is the one-snapshot baseline;
  2. idle: paced UDP queries (example.com MX) for IDLE seconds;
  3. edit the large zone, `mailzone reload`, and keep querying the small zone
     throughout; RSS sampled every 50 ms;
  4. RSS again 3 s after the reload returned.

Latencies come from bench/probe (Rust, one query at a time at RATE per second).

usage: reload-bench.py [RECORDS] [RATE] [IDLE]    (defaults: 1000000 2000 10)
"""
import os
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)
records = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
rate = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
idle_s = float(sys.argv[3]) if len(sys.argv) > 3 else 10.0
origin = "bench.example."

subprocess.run(["cargo", "build", "--release", "-q", "-p", "mailzone", "-p", "mailzone-probe"],
               cwd=root, check=True)
mailzone = os.path.join(root, "target", "release", "mailzone")
probe = os.path.join(root, "target", "release", "mailzone-probe")
out = os.path.join(here, "out")
work = os.path.join(out, "reload")
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
gen = os.path.join(out, f"bench-{records}.zone")
if not os.path.exists(gen):
    with open(gen, "w") as f:
        subprocess.run([sys.executable, os.path.join(here, "gen-zone.py"), str(records), origin],
                       stdout=f, check=True)
big = os.path.join(work, "big.zone")
shutil.copy(gen, big)
shutil.copy(os.path.join(root, "zones", "example.com.zone"), os.path.join(work, "small.zone"))

s = socket.socket()
s.bind(("127.0.0.1", 0))
port = s.getsockname()[1]
s.close()
sock = os.path.join(work, "ctl.sock")
with open(os.path.join(work, "mailzone.toml"), "w") as f:
    f.write(f"""version = 1
[[zone]]
name = "example.com."
file = "small.zone"
[[zone]]
name = "{origin}"
file = "big.zone"
[zone.check]
on_error = "warn"
[server]
listen = ["127.0.0.1:{port}"]
control_socket = "ctl.sock"
[log]
level = "warn"
""")


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def ctl(*args):
    return subprocess.run([mailzone, *args, "--socket", sock], capture_output=True, text=True)


t0 = time.monotonic()
server = subprocess.Popen([mailzone, "serve", "--config", os.path.join(work, "mailzone.toml")],
                          stderr=open(os.path.join(work, "server.log"), "w"))
try:
    while ctl("status").returncode != 0:
        if server.poll() is not None or time.monotonic() - t0 > 300:
            sys.exit("the server did not start; see " + os.path.join(work, "server.log"))
        time.sleep(0.1)
    load_s = time.monotonic() - t0
    time.sleep(2)
    rss_loaded = rss_mib(server.pid)

    def run_probe(seconds, path):
        return subprocess.Popen([probe, f"127.0.0.1:{port}", "example.com.", "MX", str(rate),
                                 str(seconds), path])

    idle_file = os.path.join(work, "idle.txt")
    run_probe(idle_s, idle_file).wait()

    # The edit: one more record and a higher serial.
    with open(big, "a") as f:
        f.write('reload-bench IN TXT "edited"\n')
    with open(big, "r+") as f:
        head = f.read(400)
        f.seek(0)
        f.write(head.replace("2026112301", "2026112302"))

    busy_file = os.path.join(work, "busy.txt")
    p = run_probe(600, busy_file)
    peak = [0.0]
    sampling = [True]

    def sample():
        while sampling[0]:
            peak[0] = max(peak[0], rss_mib(server.pid))
            time.sleep(0.05)

    th = threading.Thread(target=sample)
    th.start()
    time.sleep(1)
    r0 = time.time_ns()
    res = ctl("reload")
    r1 = time.time_ns()
    if res.returncode != 0 or "loaded" not in res.stdout:
        sys.exit("reload failed: " + res.stdout + res.stderr)
    time.sleep(3)
    sampling[0] = False
    th.join()
    rss_after = rss_mib(server.pid)
    p.terminate()
    p.wait()
finally:
    server.terminate()
    server.wait()


def window(path, lo=0, hi=1 << 64):
    lat = []
    lost = 0
    with open(path) as f:
        for line in f:
            t, l = line.split()
            t, l = int(t), int(l)
            if lo <= t <= hi:
                if l < 0:
                    lost += 1
                else:
                    lat.append(l / 1000)
    lat.sort()
    return lat, lost


def stats(lat):
    return (statistics.median(lat), lat[int(len(lat) * 0.99) - 1], statistics.fmean(lat))


idle, idle_lost = window(idle_file)
busy, busy_lost = window(busy_file, r0, r1)
si, sb = stats(idle), stats(busy)
print(f"zone: {records} records; reload took {(r1 - r0) / 1e9:.2f} s (first load {load_s:.2f} s); "
      f"probe {rate} queries/s to example.com MX; {os.cpu_count()} cores")
print(f"{'window':<16} {'queries':>8} {'lost':>5} {'median us':>10} {'p99 us':>8} {'mean us':>8}")
print(f"{'idle':<16} {len(idle):>8} {idle_lost:>5} {si[0]:>10.1f} {si[1]:>8.1f} {si[2]:>8.1f}")
print(f"{'during reload':<16} {len(busy):>8} {busy_lost:>5} {sb[0]:>10.1f} {sb[1]:>8.1f} {sb[2]:>8.1f}")
print(f"latency ratio during/idle: median {sb[0] / si[0]:.2f}x, p99 {sb[1] / si[1]:.2f}x, mean {sb[2] / si[2]:.2f}x")
print(f"RSS MiB: after load {rss_loaded:.0f}, peak during reload {peak[0]:.0f}, "
      f"3 s after the swap {rss_after:.0f} ({rss_after / rss_loaded:.2f}x of after load)")
