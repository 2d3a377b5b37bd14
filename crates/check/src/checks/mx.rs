//! MX records (RFC 1035 §3.3.9, RFC 5321 §5.1, RFC 2181 §10.3, RFC 7505): the
//! targets (address literals, aliases, missing or private addresses, host
//! name syntax), null MX, and the MX set of each owner.

use super::{Out, fqdn};
use crate::index::{Few, Index, Text};
use hickory_proto::rr::{Name, RData, RecordType};
use std::net::IpAddr;

fn non_routable(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => {
            let o = a.octets();
            o[0] == 0
                || o[0] == 127
                || o[0] == 10
                || (o[0] == 172 && (16..=31).contains(&o[1]))
                || (o[0] == 192 && o[1] == 168)
                || (o[0] == 169 && o[1] == 254)
        }
        IpAddr::V6(a) => {
            let s = a.segments();
            a.is_loopback()
                || a.is_unspecified()
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] & 0xfe00) == 0xfc00
        }
    }
}

/// The exchange looks like an address: a dotted quad at its start, or an IPv6 literal.
fn address_like(n: &Name) -> Option<String> {
    // Asked of every MX target: the labels are read in place, and the
    // address text is made only for a target that is one.
    let octet = |l: &[u8]| {
        !l.is_empty()
            && l.len() <= 3
            && l.iter().all(u8::is_ascii_digit)
            && l.iter().fold(0u16, |v, d| v * 10 + u16::from(d - b'0')) <= 255
    };
    if n.iter().len() >= 4 && n.iter().take(4).all(octet) {
        return Some(
            n.iter()
                .take(4)
                .map(|l| String::from_utf8_lossy(l))
                .collect::<Vec<_>>()
                .join("."),
        );
    }
    n.iter()
        .find(|l| l.contains(&b':'))
        .map(|l| String::from_utf8_lossy(l).into_owned())
}

fn ldh_problem(n: &Name) -> Option<String> {
    for l in n.iter() {
        if l.iter().any(|&b| !(b.is_ascii_alphanumeric() || b == b'-')) {
            let bad = l
                .iter()
                .find(|&&b| !(b.is_ascii_alphanumeric() || b == b'-'))
                .copied()
                .unwrap_or(b'?');
            return Some(if bad == b'_' {
                "underscore".into()
            } else {
                format!("character `{}`", bad as char)
            });
        }
        if l.starts_with(b"-") || l.ends_with(b"-") {
            return Some("a label that starts or ends with `-`".into());
        }
    }
    None
}

pub fn run(ix: &Index<'_>, out: &mut Out) {
    for (owner, idx) in ix.owners() {
        let entries = ix.mx_of(idx);
        if entries.is_empty() {
            mx016(ix, out, owner, idx);
            continue;
        }
        let nulls: Few<_> = entries.iter().filter(|e| e.2.is_root()).collect();
        if !nulls.is_empty() && nulls.len() < entries.len() {
            out.emit(
                "MX007",
                nulls[0].0.span,
                owner,
                "MX",
                format!(
                    "`{}` has a null MX (accepts no mail) and other MX records",
                    fqdn(owner)
                ),
            )
            .help("remove the null MX if the domain receives mail, or remove the others")
            .related(entries.iter().map(|e| e.0.span));
        }
        for e in &nulls {
            if e.1 != 0 {
                out.emit(
                    "MX008",
                    e.0.span,
                    owner,
                    "MX",
                    format!(
                        "a null MX is written `MX 0 .`; this one has preference {}",
                        e.1
                    ),
                )
                .help("change the preference to 0");
            }
        }
        if entries.len() > 10 {
            out.emit(
                "MX015",
                entries[10].0.span,
                owner,
                "MX",
                format!(
                    "`{}` has {} MX records; an SPF `mx` mechanism over this name fails (limit 10)",
                    fqdn(owner),
                    entries.len()
                ),
            );
        }
        let mut reported_pref = Vec::new();
        for (i, e) in entries.iter().enumerate() {
            if e.2.is_root() {
                continue;
            }
            if let Some(prev) = entries[..i].iter().find(|p| p.1 == e.1 && !p.2.is_root())
                && !reported_pref.contains(&e.1)
            {
                reported_pref.push(e.1);
                out.emit(
                    "MX005",
                    e.0.span,
                    owner,
                    "MX",
                    format!(
                        "`{}` and `{}` share preference {}: senders pick between them at random",
                        fqdn(prev.2),
                        fqdn(e.2),
                        e.1
                    ),
                )
                .related([prev.0.span]);
            }
            if let Some(prev) = entries[..i]
                .iter()
                .find(|p| crate::index::same_name(p.2, e.2))
            {
                out.emit("MX011", e.0.span, owner, "MX", format!("`{}` is listed twice (preferences {} and {}); the second entry adds nothing", fqdn(e.2), prev.1, e.1))
                    .help("remove one")
                    .related([prev.0.span]);
            }
            target(ix, out, owner, e.0, e.2);
        }
    }
}

fn target(ix: &Index<'_>, out: &mut Out, owner: &Name, r: &mailzone_zone::ZoneRecord, host: &Name) {
    if let Some(addr) = address_like(host) {
        out.emit(
            "MX001",
            r.span,
            owner,
            "MX",
            format!(
                "the MX target `{}` is an address, not a host name",
                fqdn(host)
            ),
        )
        .help(format!(
            "add `mx1 A {addr}` and use `MX 10 mx1.{}`",
            fqdn(&ix.origin)
        ));
        return;
    }
    // A name written out in full without its trailing dot gets the origin twice.
    let doubled = host.num_labels() > 2 * ix.origin.num_labels() && ix.in_zone(host);
    let o: Vec<Vec<u8>> = match doubled {
        true => ix.origin.iter().map(|l| l.to_ascii_lowercase()).collect(),
        false => Vec::new(),
    };
    let h: Vec<Vec<u8>> = match doubled {
        true => host.iter().map(|l| l.to_ascii_lowercase()).collect(),
        false => Vec::new(),
    };
    if !o.is_empty()
        && h.len() > 2 * o.len()
        && h.ends_with(&o)
        && h[..h.len() - o.len()].ends_with(&o)
    {
        let meant = Name::from_labels(host.iter().take(h.len() - o.len()))
            .map(|n| fqdn(&n))
            .unwrap_or_default();
        out.emit(
            "MX009",
            r.span,
            owner,
            "MX",
            format!(
                "the target became `{}` because the trailing dot is missing",
                fqdn(host)
            ),
        )
        .help(format!(
            "write `{meant}` (with the dot) or just the host label"
        ));
        return;
    }
    if let Some(p) = ldh_problem(host) {
        out.emit(
            "MX014",
            r.span,
            owner,
            "MX",
            format!(
                "`{}` is not a valid host name ({p}); many MTAs reject it",
                fqdn(host)
            ),
        )
        .help("rename the host");
    }
    if !ix.authoritative_for(host) {
        // Asked first: most zones have many of these, and a server only counts them.
        if out.counted("MX004") {
            return;
        }
        out.emit("MX004", r.span, owner, "MX", format!("MX target `{}` is outside this zone{}: its address and alias status were not verified", fqdn(host), if ix.in_zone(host) { " (below a zone cut)" } else { "" }));
        return;
    }
    if let Some(c) = ix.cname(host) {
        let to = match &c.rdata {
            RData::CNAME(t) => fqdn(&t.0),
            _ => String::new(),
        };
        out.emit(
            "MX002",
            r.span,
            owner,
            "MX",
            format!("MX target `{}` is a CNAME to `{to}`", fqdn(host)),
        )
        .help(format!("point the MX at `{to}` directly"))
        .related([c.span]);
        return;
    }
    let addrs = ix.addresses(host);
    if addrs.is_empty() {
        out.emit("MX003", r.span, owner, "MX", format!("MX target `{}` has no A or AAAA record in this zone, so mail cannot be delivered there", fqdn(host)))
            .help("add its address or fix the target name");
        return;
    }
    let ips: Vec<IpAddr> = addrs.iter().filter_map(|a| a.rdata.ip_addr()).collect();
    if ips.iter().all(|&ip| non_routable(ip)) {
        out.emit("MX012", r.span, owner, "MX", format!("MX target `{}` resolves only to non-routable address {}, which outside senders cannot reach", fqdn(host), ips[0]))
            .related(addrs.iter().map(|a| a.span));
    }
    if ips.iter().all(IpAddr::is_ipv6) {
        out.emit(
            "MX013",
            r.span,
            owner,
            "MX",
            format!(
                "MX target `{}` has no IPv4 address; IPv4-only senders cannot deliver",
                fqdn(host)
            ),
        )
        .help("add an A record");
    }
}

fn mx016(ix: &Index<'_>, out: &mut Out, owner: &Name, idx: &[usize]) {
    // The cheap tests first: most owners without MX are hosts, with an
    // address but no sign of taking mail.
    if !ix.owner_may_have(idx, RecordType::A) && !ix.owner_may_have(idx, RecordType::AAAA) {
        return;
    }
    let apex = ix.owner_is_apex(idx);
    let spf = ix.texts_of(idx).iter().any(|t| t.is(Text::SPF));
    let dmarc = ix.owner_has_underscore_child(idx) && ix.child_exists(owner, "_dmarc");
    if !apex && !spf && !dmarc {
        return;
    }
    let addr = ix
        .of_type(idx, RecordType::A)
        .into_iter()
        .chain(ix.of_type(idx, RecordType::AAAA))
        .next();
    let Some(a) = addr else { return };
    // An MX host's own SPF record is for HELO checks (SPF039), not a sign it takes mail.
    let mx_host = ix.is_mx_target(owner);
    if (apex || (spf && !mx_host) || dmarc) && ix.cname(owner).is_none() {
        out.emit(
            "MX016",
            a.span,
            owner,
            "A",
            format!(
                "`{}` has no MX, so mail is delivered to its address record (implicit MX)",
                fqdn(owner)
            ),
        )
        .help("publish an MX, or `MX 0 .` if it takes no mail");
    }
}
