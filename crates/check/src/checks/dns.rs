//! DNS sanity of the zone as a whole (ids DNSnnn): NS targets, glue,
//! occluded data below delegations, out-of-zone data, apex NS, SOA timers,
//! duplicate records and TTLs that differ within an RRset.

use super::{Out, fqdn};
use crate::index::{Index, Key, key_at_or_below};
use hickory_proto::rr::{Name, RData, RecordType};
use mailzone_zone::ZoneRecord;

pub fn run(ix: &Index<'_>, out: &mut Out) {
    let zone = ix.zone;
    let origin = &ix.origin;
    if ix.rrset(origin, RecordType::NS).is_empty()
        && let Some(soa) = ix.rrset(origin, RecordType::SOA).first()
    {
        out.emit(
            "DNS007",
            soa.span,
            origin,
            "NS",
            format!("the zone apex `{}` has no NS records", fqdn(origin)),
        )
        .help("add the zone's name servers: `@ NS ns1.example.net.`");
    }
    // RRsets grouped per owner: the owner's records sorted by type (stably,
    // so file order holds within an RRset) into buffers reused throughout.
    let mut by_type: Vec<usize> = Vec::new();
    let mut recs: Vec<&ZoneRecord> = Vec::new();
    for (owner, owner_idx) in ix.owners() {
        if !ix.owner_in_zone(owner_idx) {
            for &i in owner_idx {
                let r = &zone.records[i];
                out.emit(
                    "DNS006",
                    r.span,
                    &r.owner,
                    &r.rtype().to_string(),
                    format!(
                        "`{}` is outside the zone `{}`; servers ignore it",
                        fqdn(&r.owner),
                        fqdn(origin)
                    ),
                )
                .help("remove it, or move it to the zone it belongs to");
            }
            continue;
        }
        // An owner not below a cut, without NS or SOA, whose RRsets hold
        // one record each has nothing here to find: most owners of a large
        // zone, skipped without grouping their records.
        let cut = ix.owner_cut_above(owner_idx);
        if cut.is_none()
            && !ix.owner_may_have(owner_idx, RecordType::NS)
            && !ix.owner_may_have(owner_idx, RecordType::SOA)
            && ix.owner_type_count(owner_idx) == Some(owner_idx.len())
        {
            continue;
        }
        by_type.clear();
        by_type.extend_from_slice(owner_idx);
        by_type.sort_by_key(|&i| u16::from(ix.rtype(i)));
        // The owner's facts are the same for each of its RRsets.
        let at = Owner {
            name: owner,
            key: ix.owner_key(owner_idx),
            apex: ix.owner_is_apex(owner_idx),
            cut,
        };
        for idx in by_type.chunk_by(|&a, &b| ix.rtype(a) == ix.rtype(b)) {
            recs.clear();
            recs.extend(idx.iter().map(|&i| &zone.records[i]));
            rrset(ix, out, &at, ix.rtype(idx[0]), &recs, idx);
        }
    }
}

/// An owner in the zone: its name, whether it is the apex, and the zone cut
/// strictly above it, if any (its node and label count).
struct Owner<'a> {
    name: &'a Name,
    /// The name's key in the index: comparing keys costs a fraction of
    /// comparing hickory names.
    key: &'a [u8],
    apex: bool,
    cut: Option<(u32, usize)>,
}

/// The checks of one RRset: its records, and their numbers in the zone.
fn rrset(
    ix: &Index<'_>,
    out: &mut Out,
    at: &Owner<'_>,
    t: RecordType,
    recs: &[&ZoneRecord],
    idx: &[usize],
) {
    let owner = at.name;
    let t = &t;
    {
        // Duplicates and TTL differences within the RRset. Records are
        // compared by what the index took of them while the zone was read
        // first: on a large zone reading them again is a cache miss each.
        for (j, r) in recs.iter().enumerate().skip(1) {
            // Equal RDATA compares cheaper than wire forms made for the
            // purpose; the wire one keeps names' case significant.
            let dup = recs[..j].iter().zip(idx).position(|(x, &k)| {
                ix.may_share_rdata(k, idx[j])
                    && x.rdata == r.rdata
                    && x.rdata_wire() == r.rdata_wire()
            });
            if let Some(k) = dup {
                out.emit(
                    "DNS009",
                    r.span,
                    owner,
                    &t.to_string(),
                    "this record repeats an earlier one; servers keep only one copy",
                )
                .help("remove the duplicate")
                .related([recs[k].span]);
            }
        }
        // RRSIG TTLs follow the RRsets they cover, so they differ legitimately.
        // From the second record: a lone record is not read at all (on a
        // large zone each read is a cache miss).
        let first_ttl = ix.ttl(idx[0]);
        if let Some(r) = (idx.len() > 1 && *t != RecordType::RRSIG)
            .then(|| {
                idx.iter()
                    .position(|&i| ix.ttl(i) != first_ttl)
                    .map(|k| recs[k])
            })
            .flatten()
        {
            out.emit("DNS010", r.span, owner, &t.to_string(), format!("TTLs differ within the {t} RRset ({} and {}); servers answer with one TTL (RFC 2181 §5.2)", recs[0].ttl, r.ttl))
                .help("give every record of the RRset the same TTL")
                .related([recs[0].span]);
        }
        // Occluded data below a delegation (glue is allowed).
        if let Some((cut_node, cut_labels)) = at.cut {
            let glue =
                matches!(t, RecordType::A | RecordType::AAAA) && ix.ns_names(cut_node, at.key);
            if !glue {
                let cut = owner.trim_to(cut_labels);
                out.emit("DNS005", recs[0].span, owner, &t.to_string(), format!("`{}` is below the delegation `{}`; this data is hidden (occluded) and never served", fqdn(owner), fqdn(&cut)))
                    .help("move it to the child zone");
            }
        }
        if *t == RecordType::NS {
            for (r, &i) in recs.iter().zip(idx) {
                let delegation = !at.apex;
                // In the delegated zone and with an address, from the
                // target's key the names thread kept: nothing to read.
                if delegation
                    && let Some(key) = ix.ns_target_key(i)
                    && key_at_or_below(key, at.key)
                    && (ix.ns_target_addressed(i) || ix.has_address_key(key))
                {
                    continue;
                }
                let RData::NS(target) = &r.rdata else {
                    continue;
                };
                let target = &target.0;
                let key = Key::of(target);
                if delegation && key.is_at_or_below(at.key) {
                    if ix.addresses_key(&key).is_empty() {
                        out.emit("DNS004", r.span, owner, "NS", format!("`{}` is inside the delegated zone `{}` and needs glue, but has no A or AAAA here", fqdn(target), fqdn(owner)))
                            .help(format!("add the address of `{}` to this zone", fqdn(target)));
                    }
                    continue;
                }
                if !ix.authoritative_for(target) {
                    continue;
                }
                if ix.cname(target).is_some() {
                    out.emit("DNS002", r.span, owner, "NS", format!("NS target `{}` is an alias (CNAME); NS must name a host (RFC 2181 §10.3)", fqdn(target)));
                } else if ix.addresses(target).is_empty() {
                    out.emit(
                        "DNS003",
                        r.span,
                        owner,
                        "NS",
                        format!(
                            "NS target `{}` has no A or AAAA record in this zone",
                            fqdn(target)
                        ),
                    )
                    .help("add its address or fix the name");
                }
            }
        }
        if *t == RecordType::SOA {
            let w = recs[0].rdata_wire();
            if w.len() >= 20 {
                let n = |i: usize| {
                    u32::from_be_bytes([
                        w[w.len() - 20 + i * 4],
                        w[w.len() - 19 + i * 4],
                        w[w.len() - 18 + i * 4],
                        w[w.len() - 17 + i * 4],
                    ])
                };
                let (refresh, retry, expire, minimum) = (n(1), n(2), n(3), n(4));
                let mut problems = Vec::new();
                if retry >= refresh {
                    problems.push(format!("retry ({retry}) is not below refresh ({refresh})"));
                }
                if expire < refresh.saturating_add(retry) || expire < 604_800 {
                    problems.push(format!(
                        "expire ({expire}) is below one week or below refresh + retry"
                    ));
                }
                if minimum > 86_400 {
                    problems.push(format!("minimum ({minimum}) caches negative answers for over a day (RFC 2308 suggests 1–3 hours)"));
                }
                if refresh < 300 {
                    problems.push(format!("refresh ({refresh}) is under 5 minutes"));
                }
                if !problems.is_empty() {
                    out.emit(
                        "DNS008",
                        recs[0].span,
                        owner,
                        "SOA",
                        format!("SOA timers out of sensible ranges: {}", problems.join("; ")),
                    )
                    .help("typical values: refresh 2h, retry 15m, expire 2w, minimum 1h");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::NameStream;

    /// The DNS family's findings over an index, by id and line, sorted.
    fn ids_and_lines(ix: &Index<'_>) -> Vec<(&'static str, u32)> {
        let mut out = Out::default();
        run(ix, &mut out);
        let mut d: Vec<(&'static str, u32)> =
            out.diags.iter().map(|d| (d.id, d.span.line)).collect();
        d.sort();
        d
    }

    /// Delegations come out the same whether the index compares NS
    /// targets by the keys the names thread kept or by the records: glue
    /// present and missing, targets in other case, outside the delegation
    /// or named by another delegation, and data below a cut.
    #[test]
    fn ns_targets_kept_beside_the_reader_find_what_the_records_do() {
        let zone = "$TTL 3600\n@ SOA ns1 hostmaster 1 7200 900 1209600 3600\n@ NS ns1\n\
            ns1 A 192.0.2.1\n\
            a NS ns1.a\na NS NS2.A\nns1.a A 192.0.2.2\nns2.a AAAA 2001:db8::2\n\
            b NS ns1.b\nb NS ns2.b\nns1.b A 192.0.2.3\nwww.b A 192.0.2.4\n\
            c NS ns1.a\nc NS ns.example.net.\nc NS ns1\nhost.c A 192.0.2.5\n\
            d NS ns1.e\ne NS ns2.e\nns1.e A 192.0.2.6\nns2.e A 192.0.2.7\n\
            f NS alias\nalias CNAME ns1\ng NS missing\n\
            h NS *.h\n*.h A 192.0.2.8\n\
            i NS both\nboth CNAME ns1\nboth A 192.0.2.9\n\
            j NS ns.j\nns.j TXT \"no address\"\n";
        let origin = Name::from_ascii("example.test.").unwrap();
        let r = crate::checks::read_test_zone(&origin, zone);
        let plain = Index::new(&r.zone);
        let streamed = crate::checks::index_streamed(&r.zone, NameStream::on_thread(&origin, 0));
        let mut addressed = 0;
        for (i, rec) in r.zone.records.iter().enumerate() {
            let RData::NS(n) = &rec.rdata else {
                assert_eq!(streamed.ns_target_key(i), None);
                continue;
            };
            assert_eq!(streamed.ns_target_key(i), Some(Key::of(&n.0).bytes()));
            assert_eq!(plain.ns_target_key(i), None);
            // Found with an address on the names thread as the index
            // finds it (the zone is one batch, looked for at its end).
            let has = plain.has_address_key(Key::of(&n.0).bytes());
            assert_eq!(streamed.ns_target_addressed(i), has, "{}", n.0);
            assert!(!plain.ns_target_addressed(i));
            addressed += usize::from(has);
        }
        assert_eq!(addressed, 10);
        let want = ids_and_lines(&plain);
        assert_eq!(ids_and_lines(&streamed), want);
        let ids: Vec<&str> = want.iter().map(|d| d.0).collect();
        for id in ["DNS002", "DNS003", "DNS004", "DNS005"] {
            assert!(ids.contains(&id), "{id} not in {want:?}");
        }
    }

    /// NS targets looked for a batch behind the reader: over many batches,
    /// with glue after its NS records, before them, far after them (in a
    /// later batch) and missing, the DNS checks find what they find from
    /// the records.
    #[test]
    fn ns_targets_over_many_batches_find_what_the_records_do() {
        let mut zone =
            String::from("@ SOA ns1 h 1 7200 900 1209600 300\n@ NS ns1\nns1 A 192.0.2.1\n");
        for i in 0..3000 {
            match i % 4 {
                0 => zone += &format!("c{i} NS ns.c{i}\nns.c{i} A 192.0.2.2\n"),
                1 => zone += &format!("ns.c{i} A 192.0.2.3\nc{i} NS ns.c{i}\n"),
                2 => zone += &format!("c{i} NS ns.c{i}\nfiller{i} TXT \"x\"\n"),
                _ => zone += &format!("c{i} NS ns.c{i}\nh{i} A 192.0.2.4\n"),
            }
        }
        // The glue of the `% 4 == 2` delegations, several batches later.
        for i in (0..3000).filter(|i| i % 8 == 2) {
            zone += &format!("ns.c{i} A 192.0.2.5\n");
        }
        let origin = Name::from_ascii("example.test.").unwrap();
        let r = crate::checks::read_test_zone(&origin, &zone);
        let plain = ids_and_lines(&Index::new(&r.zone));
        let streamed = crate::checks::index_streamed(&r.zone, NameStream::on_thread(&origin, 0));
        assert_eq!(ids_and_lines(&streamed), plain);
        // The glue missing for half of those and for every `% 4 == 3`.
        assert_eq!(plain.len(), 375 + 750);
        assert!(plain.iter().all(|d| d.0 == "DNS004"));
        let addressed = (0..r.zone.records.len())
            .filter(|&i| streamed.ns_target_addressed(i))
            .count();
        assert!(addressed >= 1500, "{addressed}");
    }

    /// Duplicates and TTL differences come out the same whether the index
    /// compares records by the TTLs and RDATA prints taken while the zone
    /// was read or by the records themselves: repeats, near repeats (a
    /// name's case, another address), RRsets split across the file.
    #[test]
    fn records_compared_by_prints_find_what_the_records_do() {
        let zone = "$TTL 3600\n@ SOA ns1 hostmaster 1 7200 900 1209600 3600\n@ NS ns1\n\
            ns1 A 192.0.2.1\n\
            www A 192.0.2.1\nwww A 192.0.2.1\nwww A 192.0.2.2\n\
            mail MX 10 mx.example.test.\nmail MX 10 MX.example.test.\n\
            mail MX 20 mx.example.test.\nmail 300 MX 30 other.example.net.\n\
            t TXT \"a\" \"b\"\nother A 192.0.2.9\nt TXT \"ab\"\nt TXT \"a\" \"b\"\n\
            x 600 AAAA 2001:db8::1\nother AAAA 2001:db8::9\nx 600 AAAA 2001:db8::1\n\
            x 300 AAAA 2001:db8::2\n";
        let origin = Name::from_ascii("example.test.").unwrap();
        let r = crate::checks::read_test_zone(&origin, zone);
        let found = |ix: &Index<'_>| {
            let mut out = Out::default();
            run(ix, &mut out);
            let mut d: Vec<(&'static str, u32, Vec<u32>)> = out
                .diags
                .iter()
                .map(|d| {
                    (
                        d.id,
                        d.span.line,
                        d.related.iter().map(|s| s.line).collect(),
                    )
                })
                .collect();
            d.sort();
            d
        };
        let plain = found(&Index::new(&r.zone));
        let streamed = crate::checks::index_streamed(&r.zone, NameStream::on_thread(&origin, 0));
        // The streamed index has what it compares by.
        assert_eq!(streamed.prints_taken(), r.zone.records.len());
        assert_eq!(found(&streamed), plain);
        let ids: Vec<&str> = plain.iter().map(|d| d.0).collect();
        assert_eq!(
            ids,
            ["DNS009", "DNS009", "DNS009", "DNS010", "DNS010"],
            "{plain:?}"
        );
    }
}
