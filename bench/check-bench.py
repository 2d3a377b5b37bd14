#!/usr/bin/env python3
"""What checking adds to reading: `mailzone check --read-only` against
`mailzone check` on the same generated zone (JSON output to /dev/null, the
pipeline case), median of RUNS runs interleaved, with peak RSS and CPU
time (user and system, every thread). Two ways of checking:
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
    """Wall seconds, peak RSS in MiB, CPU seconds (user and system, every thread)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(p.pid, 0)
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        sys.exit(f"{' '.join(cmd)} failed")
    return time.perf_counter() - t0, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


modes = (
    ("read only", ["--read-only"]),
    ("checks, count", ["--info", "count"]),
    ("checks, list", ["--info", "list"]),
)
cmds = {name: [mailzone, "check", "--format", "json", "--origin", origin, *extra, zone] for name, extra in modes}
for cmd in cmds.values():
    measure(cmd)
# Interleaved (A B C A B C ...): this machine's speed moves from minute to
# minute, and a mode measured all at once would carry its own phase.
samples = {name: [] for name in cmds}
for _ in range(runs):
    for name, cmd in cmds.items():
        samples[name].append(measure(cmd))
results = {
    name: (statistics.median(s[0] for s in v), max(s[1] for s in v), statistics.median(s[2] for s in v))
    for name, v in samples.items()
}

findings = subprocess.run([mailzone, "check", "--format", "json", "--origin", origin, zone], capture_output=True, text=True).stdout
import json
rep = json.loads(findings)["reports"][0]
print(f"zone: {records} records, median of {runs} runs, {os.cpu_count()} cores")
print(f"findings: {rep['errors']} errors, {rep['warnings']} warnings, {rep['infos']} info")
print(f"{'':<15} {'wall':>8}  {'peak RSS':>10}  {'CPU':>8}")
for name, (wall, rss, cpu) in results.items():
    print(f"{name:<15} {wall:6.2f} s  {rss:6.0f} MiB  {cpu:6.2f} s")
ro, ro_cpu = results["read only"][0], results["read only"][2]
for name, what in (("checks, count", "checking (info counted, as on load)"), ("checks, list", "checking and listing every finding")):
    wall, cpu = results[name][0], results[name][2]
    print(f"{what} adds {100 * (wall - ro) / ro:.0f}% to the read time "
          f"({cpu - ro_cpu:.2f} s of CPU on {os.cpu_count()} cores)")
