#!/usr/bin/env python3
"""What checking adds to reading: `mailzone check --read-only` against
`mailzone check` on the same generated zone (JSON output to /dev/null, the
pipeline case), median of RUNS runs, with peak RSS. Two ways of checking:
with info findings counted by id, as the server does on every load
(`--info count`), and with each of them listed in the JSON (`--info list`,
the default), which adds writing them out.

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
modes = (
    ("read only", ["--read-only"]),
    ("checks, count", ["--info", "count"]),
    ("checks, list", ["--info", "list"]),
)
for name, extra in modes:
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
ro = results["read only"][0]
for name, what in (("checks, count", "checking (info counted, as on load)"), ("checks, list", "checking and listing every finding")):
    print(f"{what} adds {100 * (results[name][0] - ro) / ro:.0f}% to the read time")
