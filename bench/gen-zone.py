#!/usr/bin/env python3
"""Writes a synthetic zone of N records (default 1,000,000) with the shapes a mail
hoster's zone has: hosts with A/AAAA, MX, SPF and DMARC TXT, DKIM keys split over
strings, CNAMEs, SRV, and delegations with glue. Deterministic for a given N.

usage: gen-zone.py [N] [ORIGIN] > zone
"""
import random
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
origin = sys.argv[2] if len(sys.argv) > 2 else "bench.example."
rnd = random.Random(20261123)
out = sys.stdout
w = out.write
w(f"$ORIGIN {origin}\n$TTL 3600\n")
w("@ IN SOA ns1 hostmaster ( 2026112301 7200 900 1209600 300 )\n")
w("@ IN NS ns1\n@ IN NS ns2\nns1 IN A 192.0.2.1\nns2 IN A 192.0.2.2\n")
count = 5
# A real 2048-bit RSA public key (SubjectPublicKeyInfo), so DKIM checks see a valid key.
key = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAn5keJxQ2snE3Eg2qwNPcZPa4ZEk9FXZTKmmx2JVNLGOPvZBgndl4+k5dTG+o03FMT0bH43koagL7kURf0stC0mW5USQS00XUC2WYED5fjvC9PVsbrXkV12SJzL2Ckt2BPwQJkk1MswVQbCVw4uICg7Eh1GpUCIJLRCbP7S+Gna24mRBzXpPgG3x2OmRWDqaylEhCNFBx0MnR0kZm3VtDn7+memLh33YbxLM96Wa5hNG0D+WCRFPBAKuEfT62CPCcRT5FMn/cwC3E9ly4ktX9P+eXMoXl3qoTdHIEA8xqY2j1qoyqfxNlJJPKdNQaz5s9hW+hoEmmo/NoEVg05pjMXwIDAQAB"
i = 0
while count < n:
    i += 1
    d = f"d{i}"
    kind = i % 10
    if kind < 4:
        w(f"host{i} IN A 10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}\n")
        w(f"host{i} 300 IN AAAA 2001:db8:{i >> 16 & 0xffff:x}::{i & 0xffff:x}\n")
        count += 2
    elif kind < 6:
        w(f"{d} IN MX 10 mx{i % 50}.mail.example.net.\n")
        w(f"{d} IN MX 20 mx{(i + 1) % 50}.mail.example.net.\n")
        w(f'{d} IN TXT "v=spf1 ip4:198.51.100.{i & 255} include:_spf.example.net ~all"\n')
        w(f'_dmarc.{d} IN TXT "v=DMARC1; p=quarantine; rua=mailto:dmarc@{d}.{origin[:-1]}"\n')
        count += 4
    elif kind == 6:
        w(f'sel{i}._domainkey IN TXT ( "v=DKIM1; k=rsa; p={key[:200]}"\n    "{key[200:]}" )\n')
        count += 1
    elif kind == 7:
        w(f"www{i} IN CNAME host{i - 1}\n")
        w(f"_submission._tcp.{d} IN SRV 0 1 587 host{i - 3}\n")
        count += 2
    elif kind == 8:
        w(f"child{i} IN NS ns1.child{i}\nchild{i} IN NS ns2.child{i}\n")
        w(f"ns1.child{i} IN A 192.0.2.{i & 255}\nns2.child{i} IN A 198.51.100.{i & 255}\n")
        count += 4
    else:
        w(f'info{i} IN TXT "{rnd.randrange(10**12)}" "free text with \\"escapes\\" and ;"\n')
        count += 1
