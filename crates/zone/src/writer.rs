//! The canonical writer: a zone as a master file with absolute names, explicit
//! TTL and class, one record per line, SOA first and the rest in DNSSEC
//! canonical order. Its output reads back to the same records.

use crate::rdata::{type_name, write_rdata};
use crate::record::{Zone, ZoneRecord, name_to_wire_bytes};
use crate::text::write_wire_name;
use hickory_proto::rr::{DNSClass, RecordType};
use std::fmt::Write as _;

fn class_name(c: DNSClass) -> String {
    match c {
        DNSClass::IN => "IN".into(),
        DNSClass::CH => "CH".into(),
        DNSClass::HS => "HS".into(),
        other => format!("CLASS{}", u16::from(other)),
    }
}

/// One record as a master-file line (no newline).
pub fn write_record(r: &ZoneRecord, out: &mut String) {
    write_wire_name(&name_to_wire_bytes(&r.owner), out);
    let code = u16::from(r.rtype());
    let _ = write!(
        out,
        " {} {} {} ",
        r.ttl,
        class_name(r.class),
        type_name(code)
    );
    write_rdata(code, &r.rdata_wire(), out);
}

/// The records in canonical order: SOA first, then owner (RFC 4034 §6.1), type, RDATA.
pub fn canonical_order(zone: &Zone) -> Vec<&ZoneRecord> {
    let mut keyed: Vec<(bool, &ZoneRecord, u16, Vec<u8>)> = zone
        .records
        .iter()
        .map(|r| {
            (
                r.rtype() != RecordType::SOA,
                r,
                u16::from(r.rtype()),
                r.rdata_wire(),
            )
        })
        .collect();
    keyed.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then_with(|| a.1.owner.cmp(&b.1.owner))
            .then_with(|| a.2.cmp(&b.2))
            .then_with(|| a.3.cmp(&b.3))
    });
    keyed.into_iter().map(|k| k.1).collect()
}

/// The whole zone in canonical form.
pub fn write_canonical(zone: &Zone) -> String {
    let mut out = String::with_capacity(zone.records.len() * 64);
    let mut origin = String::new();
    write_wire_name(&name_to_wire_bytes(&zone.origin), &mut origin);
    let _ = writeln!(
        out,
        "; zone {origin} in canonical form, {} records",
        zone.records.len()
    );
    for r in canonical_order(zone) {
        write_record(r, &mut out);
        out.push('\n');
    }
    out
}
