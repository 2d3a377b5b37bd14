#!/usr/bin/env python3
"""Independent verdicts on the SPF, DKIM and DMARC records of zones, for
tests/agreement.rs. Reads JSON on stdin:
  {"zones": [{"name": fixture, "origin": name, "records": [[owner, type, data], ...],
              "queries": [[family, owner], ...]}]}
and writes one verdict per query: "valid" or "invalid", with the judge's reason.

Judges: pyspf (the RFC 7208 reference implementation) evaluates SPF offline,
its DNS lookups answered from the zone itself; dkimpy parses DKIM key records
(plus its verifier's 1024-bit minimum); the `dmarc` package parses DMARC records.
"""
import json
import sys

import spf
import dkim
import dkim.util
import dmarc

CLIENT_IP = "203.0.113.77"  # an address no fixture authorises


def lookup_table(records):
    t = {}
    for owner, rtype, data in records:
        t.setdefault(owner, {}).setdefault(rtype, []).append(data)
    return t


def make_dns(table, origin):
    def resolve(name, qtype, depth=0, asked=None):
        name = name.rstrip(".").lower()
        asked = asked or name
        if name != origin and not name.endswith("." + origin):
            # Outside the zone nothing can be known offline; mailzone assumes
            # such names are healthy (it reports them as info), so the judge
            # sees a benign answer: an SPF record that matches nobody, an address.
            if qtype == "TXT":
                return [((asked, qtype), [b"v=spf1 ?all"])]
            if qtype == "A":
                return [((asked, qtype), "198.51.100.250")]
            return []
        node = table.get(name, {})
        if qtype != "CNAME" and "CNAME" in node and depth < 8:
            return resolve(node["CNAME"][0], qtype, depth + 1, asked)
        out = []
        # Answers carry the name asked for, as dnspython's lookup in pyspf reports them.
        for v in node.get(qtype, []):
            if qtype in ("TXT", "SPF"):
                out.append(((asked, qtype), [bytes(s) for s in v]))
            elif qtype == "MX":
                out.append(((asked, qtype), (v[0], v[1])))
            else:
                out.append(((asked, qtype), v))
        return out

    def dns_lookup(name, qtype, *args, **kwargs):
        return resolve(name, qtype)

    return dns_lookup, resolve


def spf_verdict(resolve, owner):
    q = spf.query(i=CLIENT_IP, s="postmaster@" + owner, h=owner)
    result, _code, expl = q.check()
    if result == "permerror":
        return "invalid", expl
    return "valid", result


def dkim_verdict(resolve, owner):
    txts = resolve(owner, "TXT")
    if len(txts) != 1:
        return "skip", "%d TXT records" % len(txts)
    text = b"".join(txts[0][1])
    try:
        tags = dkim.util.parse_tag_value(text)
    except Exception as e:
        return "invalid", "%s: %s" % (type(e).__name__, e)
    if tags.get(b"p", None) is not None and tags[b"p"].strip() == b"":
        # An empty p= is a revoked key (RFC 6376 §3.6.1): a well-formed record.
        return "valid", "revoked"
    try:
        _pk, keysize, ktag, _seq = dkim.evaluate_pk(owner.encode(), text)
    except Exception as e:  # dkimpy raises several KeyFormatError kinds
        return "invalid", "%s: %s" % (type(e).__name__, e)
    if ktag == b"rsa" and keysize is not None and keysize < 1024:
        return "invalid", "RSA key of %d bits (dkimpy's verifier minimum is 1024)" % keysize
    return "valid", "ok"


def dmarc_verdict(resolve, owner):
    txts = [b"".join(t[1]) for t in resolve(owner, "TXT")]
    recs = [t for t in txts if t.lower().startswith(b"v=dmarc")]
    if len(recs) != 1:
        return "invalid" if len(recs) > 1 else "skip", "%d DMARC records" % len(recs)
    domain = owner.split(".", 1)[1]
    try:
        dmarc.DMARC().parse_record(recs[0].decode("ascii", "replace"), domain)
    except Exception as e:
        return "invalid", "%s: %s" % (type(e).__name__, e)
    return "valid", "ok"


def main():
    req = json.load(sys.stdin)
    out = []
    for z in req["zones"]:
        table = lookup_table(z["records"])
        dns_lookup, resolve = make_dns(table, z["origin"])
        spf.DNSLookup = dns_lookup
        for family, owner in z["queries"]:
            fn = {"SPF": spf_verdict, "DKIM": dkim_verdict, "DMARC": dmarc_verdict}[family]
            try:
                verdict, why = fn(resolve, owner)
            except Exception as e:
                verdict, why = "error", "%s: %s" % (type(e).__name__, e)
            out.append([z["name"], family, owner, verdict, str(why)])
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
