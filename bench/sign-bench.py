#!/usr/bin/env python3
"""Signing speed: `mailzone zone served` (read, every check, sign with NSEC3,
write the signed zone) against BIND's `dnssec-signzone` (read, sign with NSEC3,
write) on the same generated zone, one ECDSA P-256 combined signing key each,
measured in the same run. Prints median wall time over RUNS runs, peak RSS,
and the ratios. dnssec-signzone signs on every core; mailzone on one (its
checks use two).

usage: sign-bench.py [RECORDS] [RUNS]      (defaults: 160000 3; 160,000 records are about 100,000 names)
Needs: bind9-utils (dnssec-keygen, dnssec-signzone), python3, a cargo toolchain.
"""
import os
import shutil
import statistics
import subprocess
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)
records = int(sys.argv[1]) if len(sys.argv) > 1 else 160_000
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
origin = "bench.example."

for tool in ("dnssec-keygen", "dnssec-signzone"):
    if not shutil.which(tool):
        sys.exit(f"{tool} not found: apt-get install bind9-utils")

subprocess.run(["cargo", "build", "--release", "-q", "-p", "mailzone"], cwd=root, check=True)
mailzone = os.path.join(root, "target", "release", "mailzone")
work = os.path.join(here, "out", "sign")
shutil.rmtree(work, ignore_errors=True)
os.makedirs(os.path.join(work, "bind-keys"))
zone = os.path.join(work, "bench.zone")
with open(zone, "w") as f:
    subprocess.run([sys.executable, os.path.join(here, "gen-zone.py"), str(records), origin], stdout=f, check=True)
names = set()
with open(zone) as f:
    for line in f:
        if line[:1] not in ("$", " ", "\t", "\n", "@", '"') and not line.startswith("    "):
            names.add(line.split()[0].lower())
with open(os.path.join(work, "mailzone.toml"), "w") as f:
    f.write(f"""version = 1
[[zone]]
name = "{origin}"
file = "bench.zone"
[zone.check]
on_error = "warn"
[zone.dnssec]
keys = "keys"
denial = "nsec3"
""")
subprocess.run([mailzone, "keygen", origin, "--dir", os.path.join(work, "keys")], check=True,
               stdout=subprocess.DEVNULL)
subprocess.run(["dnssec-keygen", "-q", "-a", "ECDSAP256SHA256", "-f", "KSK", "-K",
                os.path.join(work, "bind-keys"), origin], check=True, stdout=subprocess.DEVNULL)


def measure(cmd, out):
    """Wall seconds and peak RSS (MiB) of one run of cmd, stdout to `out`."""
    t0 = time.perf_counter()
    with open(os.path.join(work, out), "w") as o:
        p = subprocess.Popen(cmd, stdout=o, stderr=subprocess.PIPE, cwd=work)
        _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    err = p.stderr.read().decode(errors="replace")
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{cmd[0]} failed: {err}")
    return wall, usage.ru_maxrss / 1024


tools = {
    "mailzone zone served": ([mailzone, "zone", "served", origin, "--config", "mailzone.toml"], "mailzone.signed"),
    "dnssec-signzone": (["dnssec-signzone", "-q", "-O", "full", "-S", "-z", "-K", "bind-keys", "-3", "-", "-H", "0",
                         "-o", origin, "-f", "bind.signed", "bench.zone"], os.devnull),
}
results = {}
for name, (cmd, out) in tools.items():
    measure(cmd, out)  # warm the page cache
    samples = [measure(cmd, out) for _ in range(runs)]
    results[name] = (statistics.median(s[0] for s in samples), max(s[1] for s in samples))


def count(path, t):
    """Records of type t (fields: owner, TTL, class, type, …)."""
    with open(path) as f:
        return sum(1 for l in f if l.split()[3:4] == [t])


print(f"zone: {records} records, {len(names)} names, NSEC3, one ECDSA P-256 key; median of {runs} runs, "
      f"{os.cpu_count()} cores")
print(f"signatures: mailzone {count(os.path.join(work, 'mailzone.signed'), 'RRSIG')}, "
      f"dnssec-signzone {count(os.path.join(work, 'bind.signed'), 'RRSIG')}")
print(f"{'tool':<24} {'wall s':>8} {'peak RSS MiB':>13}")
for name, (wall, rss) in results.items():
    print(f"{name:<24} {wall:>8.2f} {rss:>13.0f}")
mz, bind = results["mailzone zone served"], results["dnssec-signzone"]
print(f"speed ratio (dnssec-signzone time / mailzone time): {bind[0] / mz[0]:.2f}x")
print(f"memory ratio (mailzone RSS / dnssec-signzone RSS): {mz[1] / bind[1]:.2f}x")
