#!/usr/bin/env python3
"""Read speed: `mailzone check --read-only` against BIND's `named-checkzone` on the same
generated zone, measured in the same run. Prints median wall time over RUNS
runs, peak RSS, and the ratios.

usage: read-bench.py [RECORDS] [RUNS]      (defaults: 1000000 3)
Needs: bind9-utils (named-checkzone), python3, a cargo toolchain.
"""
import os
import shutil
import statistics
import subprocess
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)
records = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
origin = "bench.example."

if not shutil.which("named-checkzone"):
    sys.exit("named-checkzone not found: apt-get install bind9-utils")

subprocess.run(["cargo", "build", "--release", "-q", "-p", "mailzone"], cwd=root, check=True)
mailzone = os.path.join(root, "target", "release", "mailzone")
out_dir = os.path.join(here, "out")
os.makedirs(out_dir, exist_ok=True)
zone = os.path.join(out_dir, f"bench-{records}.zone")
if not os.path.exists(zone):
    with open(zone, "w") as f:
        subprocess.run([sys.executable, os.path.join(here, "gen-zone.py"), str(records), origin], stdout=f, check=True)


def measure(cmd):
    """Wall seconds and peak RSS (MiB) of one run of cmd."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    err = p.stderr.read().decode(errors="replace")
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{cmd[0]} failed: {err}")
    return wall, usage.ru_maxrss / 1024


tools = {
    "mailzone check --read-only": [mailzone, "check", "--read-only", "--origin", origin, zone],
    "named-checkzone": ["named-checkzone", "-q", "-i", "none", "-k", "ignore", "-n", "ignore", "-m", "ignore",
                        "-r", "ignore", "-M", "ignore", "-S", "ignore", "-T", "ignore", "-W", "ignore", origin, zone],
}
results = {}
for name, cmd in tools.items():
    measure(cmd)  # warm the page cache
    samples = [measure(cmd) for _ in range(runs)]
    results[name] = (statistics.median(s[0] for s in samples), max(s[1] for s in samples))

size = os.path.getsize(zone) / 2**20
print(f"zone: {records} records, {size:.0f} MiB, median of {runs} runs, {os.cpu_count()} cores")
print(f"{'tool':<28} {'wall s':>8} {'peak RSS MiB':>13}")
for name, (wall, rss) in results.items():
    print(f"{name:<28} {wall:>8.2f} {rss:>13.0f}")
mz, bind = results["mailzone check --read-only"], results["named-checkzone"]
print(f"speed ratio (named-checkzone time / mailzone time): {bind[0] / mz[0]:.2f}x")
print(f"memory ratio (mailzone RSS / named-checkzone RSS): {mz[1] / bind[1]:.2f}x")
