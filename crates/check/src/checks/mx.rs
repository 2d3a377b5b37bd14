//! MX records (RFC 1035 §3.3.9, RFC 5321 §5.1, RFC 2181 §10.3, RFC 7505): the
//! targets (address literals, aliases, missing or private addresses, host
//! name syntax), null MX, and the MX set of each owner.

use super::{Out, fqdn};
use crate::index::{Few, Index, Mx, MxPlace, Text};
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
        // The records are read only for what is found: on a large zone
        // each read is a cache miss.
        let span = |e: &Mx| e.record(ix).span;
        let host = |e: &Mx| e.exchange(ix);
        let nulls: Few<_> = entries
            .iter()
            .filter(|e| e.place == MxPlace::Null)
            .collect();
        if !nulls.is_empty() && nulls.len() < entries.len() {
            out.emit(
                "MX007",
                span(nulls[0]),
                owner,
                "MX",
                format!(
                    "`{}` has a null MX (accepts no mail) and other MX records",
                    fqdn(owner)
                ),
            )
            .help("remove the null MX if the domain receives mail, or remove the others")
            .related(entries.iter().map(span));
        }
        for e in &nulls {
            if e.preference != 0 {
                out.emit(
                    "MX008",
                    span(e),
                    owner,
                    "MX",
                    format!(
                        "a null MX is written `MX 0 .`; this one has preference {}",
                        e.preference
                    ),
                )
                .help("change the preference to 0");
            }
        }
        if entries.len() > 10 {
            out.emit(
                "MX015",
                span(&entries[10]),
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
            if e.place == MxPlace::Null {
                continue;
            }
            if let Some(prev) = entries[..i]
                .iter()
                .find(|p| p.preference == e.preference && p.place != MxPlace::Null)
                && !reported_pref.contains(&e.preference)
            {
                reported_pref.push(e.preference);
                out.emit(
                    "MX005",
                    span(e),
                    owner,
                    "MX",
                    format!(
                        "`{}` and `{}` share preference {}: senders pick between them at random",
                        fqdn(host(prev)),
                        fqdn(host(e)),
                        e.preference
                    ),
                )
                .related([span(prev)]);
            }
            // Names with different prints differ; equal prints are compared.
            if let Some(prev) = entries[..i]
                .iter()
                .find(|p| p.print == e.print && crate::index::same_name(host(p), host(e)))
            {
                out.emit("MX011", span(e), owner, "MX", format!("`{}` is listed twice (preferences {} and {}); the second entry adds nothing", fqdn(host(e)), prev.preference, e.preference))
                    .help("remove one")
                    .related([span(prev)]);
            }
            target(ix, out, owner, e);
        }
    }
}

fn target(ix: &Index<'_>, out: &mut Out, owner: &Name, e: &Mx) {
    // A plain host name outside the zone can only be MX004, which a server
    // counts: nothing of the record need be read for it.
    if e.plain && e.place == MxPlace::Outside && out.counted("MX004") {
        return;
    }
    let (r, host) = (e.record(ix), e.exchange(ix));
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
    // (Hosts have no TXT: their texts, which another family may still be
    // working out, are not waited for.)
    let spf = ix.owner_text_kinds(idx) & Text::SPF != 0;
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

#[cfg(test)]
mod tests {
    use crate::Severity;
    use crate::checks::{
        NameStream, check_zone, check_zone_counting, read_ahead_of, read_test_zone,
    };
    use hickory_proto::rr::Name;

    /// Counting info findings (as a server does) skips reading plain
    /// exchanges outside the zone: it must find what listing them finds,
    /// for exchanges of every shape, in the zone and outside it.
    #[test]
    fn counting_finds_what_listing_finds() {
        let origin = Name::from_ascii("example.com.").unwrap();
        let exchanges = [
            "mx.other.example.",
            "MX.Other.Example.",
            "192.0.2.1.",
            "192.0.2.1.example.com.",
            "mx_1.other.example.",
            "-mx.other.example.",
            "mx-.other.example.",
            "mx.example.com.example.com.",
            "123.other.example.",
            "123abc.other.example.",
            "a.b.c.d.e.other.example.",
            "*.other.example.",
            "mail",
            "www",
            "nowhere",
            ".",
        ];
        let mut text = String::from(
            "@ SOA ns h 1 7200 900 1209600 300\n@ NS ns.other.example.\n\
             mail A 192.0.2.9\nwww CNAME mail\n",
        );
        for (k, x) in exchanges.iter().enumerate() {
            text += &format!("d{k} MX 10 {x}\nd{k} MX 20 {x}\nd{k} MX 20 mx.other.example.\n");
        }
        let r = read_test_zone(&origin, &text);
        let listed = check_zone(&r.zone);
        let mut ahead = read_ahead_of(&r.zone, NameStream::on_thread(&origin, 0));
        let (built, counted) = check_zone_counting(&r.zone, Some(&mut ahead), Vec::new());
        let (info, rest): (Vec<_>, Vec<_>) = listed
            .into_iter()
            .partition(|d| d.severity == Severity::Info);
        assert_eq!(built, rest);
        let mut want: Vec<(&str, usize)> = Vec::new();
        for d in &info {
            match want.iter_mut().find(|(id, _)| *id == d.id) {
                Some(c) => c.1 += 1,
                None => want.push((d.id, 1)),
            }
        }
        want.sort_unstable();
        assert_eq!(counted, want);
        // Every shape was there to see.
        for id in [
            "MX001", "MX002", "MX003", "MX004", "MX009", "MX011", "MX014",
        ] {
            assert!(
                rest.iter().chain(&info).any(|d| d.id == id),
                "no {id}: {rest:#?}"
            );
        }
    }
}
