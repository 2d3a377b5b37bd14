#!/usr/bin/env python3
"""Transfers against answers: latency of UDP queries to a small zone while a
100,000-record zone is transferred out over and over, back to back (AXFR over
TCP, by dig), against the same server idle. One `mailzone serve` pinned to
CPU 0; the clients (bench/probe: Rust, one query at a time at RATE per
second; dig) pinned to CPU 1, so they do not take the server's CPU.

usage: transfer-bench.py [RECORDS] [RATE] [SECONDS]    (defaults: 100000 2000 10)
Needs: dig (bind9-dnsutils), python3, a cargo toolchain.
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
records = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
rate = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 10.0
origin = "bench.example."
if not shutil.which("dig"):
    sys.exit("dig not found: apt-get install bind9-dnsutils")

subprocess.run(["cargo", "build", "--release", "-q", "-p", "mailzone", "-p", "mailzone-probe"],
               cwd=root, check=True)
mailzone = os.path.join(root, "target", "release", "mailzone")
probe = os.path.join(root, "target", "release", "mailzone-probe")
work = os.path.join(here, "out", "transfer")
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
with open(os.path.join(work, "big.zone"), "w") as f:
    subprocess.run([sys.executable, os.path.join(here, "gen-zone.py"), str(records), origin], stdout=f, check=True)
shutil.copy(os.path.join(root, "zones", "example.com.zone"), os.path.join(work, "small.zone"))
s = socket.socket()
s.bind(("127.0.0.1", 0))
port = s.getsockname()[1]
s.close()
with open(os.path.join(work, "mailzone.toml"), "w") as f:
    f.write(f"""version = 1
[[zone]]
name = "example.com."
file = "small.zone"
[[zone]]
name = "{origin}"
file = "big.zone"
transfer = ["127.0.0.1"]
[zone.check]
on_error = "warn"
[server]
listen = ["127.0.0.1:{port}"]
control_socket = "ctl.sock"
[log]
level = "warn"
""")

pin = ["taskset", "-c"] if shutil.which("taskset") and (os.cpu_count() or 1) >= 2 else None
server_cmd = [mailzone, "serve", "--config", os.path.join(work, "mailzone.toml")]
server = subprocess.Popen((pin + ["0"] if pin else []) + server_cmd,
                          stderr=open(os.path.join(work, "server.log"), "w"))

try:
    t0 = time.monotonic()
    while subprocess.run([mailzone, "status", "--socket", os.path.join(work, "ctl.sock")],
                         capture_output=True).returncode != 0:
        if server.poll() is not None or time.monotonic() - t0 > 120:
            sys.exit("the server did not start")
        time.sleep(0.1)
    time.sleep(1)

    def run_probe(path):
        subprocess.run((pin + ["1"] if pin else []) + [probe, f"127.0.0.1:{port}", "example.com.", "MX",
                                                       str(rate), str(seconds), path], check=True)

    idle = os.path.join(work, "idle.txt")
    run_probe(idle)
    busy = os.path.join(work, "busy.txt")
    stop = [False]
    done = [0]

    def transfers():
        while not stop[0]:
            r = subprocess.run((pin + ["1"] if pin else []) +
                               ["dig", "+tries=1", "+time=10", "@127.0.0.1", "-p", str(port), origin, "AXFR"],
                               capture_output=True, text=True)
            if "XFR size" in r.stdout:
                done[0] += 1

    th = threading.Thread(target=transfers)
    th.start()
    time.sleep(0.5)
    run_probe(busy)
    stop[0] = True
    th.join()
finally:
    server.terminate()
    server.wait()


def load(path):
    lat, lost = [], 0
    with open(path) as f:
        for line in f:
            _, l = line.split()
            if int(l) < 0:
                lost += 1
            else:
                lat.append(int(l) / 1000)
    lat.sort()
    return lat, lost


def stats(lat):
    return statistics.median(lat), lat[int(len(lat) * 0.99) - 1], statistics.fmean(lat)


(i, il), (b, bl) = load(idle), load(busy)
si, sb = stats(i), stats(b)
print(f"zone: {records} records transferred {done[0]} times by AXFR in {seconds:.0f} s; "
      f"probe {rate} queries/s to example.com MX; {os.cpu_count()} cores; "
      f"{'server on CPU 0, clients on CPU 1' if pin else 'no pinning'}")
print(f"{'window':<16} {'queries':>8} {'lost':>5} {'median us':>10} {'p99 us':>8} {'mean us':>8}")
print(f"{'idle':<16} {len(i):>8} {il:>5} {si[0]:>10.1f} {si[1]:>8.1f} {si[2]:>8.1f}")
print(f"{'during AXFRs':<16} {len(b):>8} {bl:>5} {sb[0]:>10.1f} {sb[1]:>8.1f} {sb[2]:>8.1f}")
print(f"latency ratio during/idle: median {sb[0] / si[0]:.2f}x, p99 {sb[1] / si[1]:.2f}x, mean {sb[2] / si[2]:.2f}x")
