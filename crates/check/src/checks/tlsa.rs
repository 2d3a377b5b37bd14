//! DANE TLSA records for SMTP (RFC 7672, RFC 6698, RFC 7671): usable usages,
//! data lengths, and whether the zone and the MX set make them count.

use super::{Out, fqdn};
use crate::index::Index;
use hickory_proto::rr::RecordType;

pub fn run(ix: &Index<'_>, out: &mut Out) {
    if !ix.has_tlsa() {
        return;
    }
    let signed = ix.signed();
    for (owner, idx) in ix.owners() {
        let tlsa = ix.of_type(idx, RecordType::TLSA);
        if tlsa.is_empty() {
            continue;
        }
        let smtp = owner.iter().next().is_some_and(|l| l == b"_25")
            && owner
                .iter()
                .nth(1)
                .is_some_and(|l| l.eq_ignore_ascii_case(b"_tcp"));
        if !signed {
            out.emit(
                "TLSA004",
                tlsa[0].span,
                owner,
                "TLSA",
                "TLSA records take effect only in a DNSSEC-signed zone; this zone has no DNSKEY",
            )
            .help("sign the zone or remove them");
        }
        if smtp {
            let host = owner.base_name().base_name();
            if !ix.is_mx_target(&host) {
                out.emit("TLSA005", tlsa[0].span, owner, "TLSA", format!("`{}` is not an MX host in this zone: this TLSA is not used for SMTP delivery", fqdn(&host)));
            }
        }
        for r in tlsa {
            let w = r.rdata_wire();
            if w.len() < 3 {
                continue;
            }
            let (usage, selector, mtype, data) = (w[0], w[1], w[2], &w[3..]);
            if smtp && usage <= 1 {
                out.emit(
                    "TLSA001",
                    r.span,
                    owner,
                    "TLSA",
                    format!(
                        "usage {usage} ({}) is ignored by SMTP DANE clients",
                        if usage == 0 { "PKIX-TA" } else { "PKIX-EE" }
                    ),
                )
                .help("use usage 3 (DANE-EE) or 2 (DANE-TA) for SMTP");
            }
            if usage > 3 || selector > 1 || mtype > 2 {
                let what = if usage > 3 {
                    format!("usage {usage}")
                } else if selector > 1 {
                    format!("selector {selector}")
                } else {
                    format!("matching type {mtype}")
                };
                out.emit(
                    "TLSA003",
                    r.span,
                    owner,
                    "TLSA",
                    format!("{what} is unassigned, so clients cannot use this record"),
                );
            }
            let want = match mtype {
                1 => Some(32),
                2 => Some(64),
                _ => None,
            };
            if let Some(want) = want.filter(|&n| n != data.len()) {
                out.emit(
                    "TLSA002",
                    r.span,
                    owner,
                    "TLSA",
                    format!(
                        "matching type {mtype} ({}) needs {want} bytes of data; this has {}",
                        if mtype == 1 { "SHA-256" } else { "SHA-512" },
                        data.len()
                    ),
                );
            }
            if mtype == 0 {
                out.emit(
                    "TLSA006",
                    r.span,
                    owner,
                    "TLSA",
                    "matching type 0 publishes the full certificate or key",
                )
                .help("consider `3 1 1` (SPKI SHA-256)");
            }
        }
    }
}
