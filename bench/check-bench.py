#!/usr/bin/env python3
"""What checking adds to reading: `mailzone check --read-only` against a full
`mailzone check` on the same generated zone (JSON output to /dev/null, the
pipeline case), median of RUNS runs, with peak RSS.

usage: check-bench.py [RECORDS] [RUNS]      (defaults: 1000000 3)
"""
import os
import statistics
import subprocess
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)
records = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
origin = "bench.example."

subprocess.run(["cargo", "build", "--release", "-q", "-p", "mailzone"], cwd=root, check=True)
mailzone = os.path.join(root, "target", "release", "mailzone")
os.makedirs(os.path.join(here, "out"), exist_ok=True)
zone = os.path.join(here, "out", f"bench-{records}.zone")
if not os.path.exists(zone):
    with open(zone, "w") as f:
        subprocess.run([sys.executable, os.path.join(here, "gen-zone.py"), str(records), origin], stdout=f, check=True)


def measure(cmd):
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(p.pid, 0)
    return time.perf_counter() - t0, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


results = {}
for name, extra in (("read only", ["--read-only"]), ("read + checks", [])):
    cmd = [mailzone, "check", "--format", "json", "--origin", origin, *extra, zone]
    measure(cmd)
    samples = [measure(cmd) for _ in range(runs)]
    results[name] = (statistics.median(s[0] for s in samples), max(s[1] for s in samples))

findings = subprocess.run([mailzone, "check", "--format", "json", "--origin", origin, zone], capture_output=True, text=True).stdout
import json
rep = json.loads(findings)["reports"][0]
print(f"zone: {records} records, median of {runs} runs, {os.cpu_count()} cores")
print(f"findings: {rep['errors']} errors, {rep['warnings']} warnings, {rep['infos']} info")
for name, (wall, rss) in results.items():
    print(f"{name:<15} {wall:6.2f} s  {rss:6.0f} MiB")
ro, full = results["read only"][0], results["read + checks"][0]
print(f"checking adds {100 * (full - ro) / ro:.0f}% to the read time")
