//! Generic hygiene of policy text (catalogue GEN): stray quotes or blanks
//! before a version tag, non-ASCII bytes, CNAME beside other data, and
//! wildcards that publish mail records for every name.

use super::{Out, fqdn};
use crate::index::{Few, First, Index, Text};
use hickory_proto::rr::{Name, RecordType};

const VERSIONS: &[&[u8]] = &[
    b"v=spf1",
    b"v=dmarc1",
    b"v=dkim1",
    b"v=stsv1",
    b"v=tlsrptv1",
    b"v=bimi1",
];

pub(crate) fn version_at(t: &[u8]) -> bool {
    VERSIONS
        .iter()
        .any(|v| t.len() >= v.len() && t[..v.len()].eq_ignore_ascii_case(v))
}

fn looks_like(b: &[u8]) -> &'static str {
    match b {
        [0xe2, 0x80, 0x93, ..] | [0xe2, 0x80, 0x94, ..] => " (looks like a typographic dash)",
        [0xe2, 0x80, 0x98..=0x9d, ..] => " (looks like a typographic quote)",
        [0xc2, 0xa0, ..] => " (a no-break space)",
        [0xe2, 0x80, 0x8b, ..] => " (a zero-width space)",
        _ => "",
    }
}

pub fn run(ix: &Index<'_>, out: &mut Out) {
    for (owner, idx) in ix.owners() {
        // CNAME conflicts, TXT text and wildcard MX are all there is to see.
        if ix.owner_may_have(idx, RecordType::CNAME) {
            cname_beside_data(ix, out, owner, idx);
        }
        let wildcard = ix.owner_first_is(idx, First::STAR);
        if wildcard && ix.owner_may_have(idx, RecordType::MX) {
            for r in idx.iter().map(|&i| &ix.zone.records[i]) {
                if r.rtype() == RecordType::MX {
                    out.emit("GEN004", r.span, owner, "MX", format!("wildcard `{}` publishes MX for every undefined name, including mistyped hosts", fqdn(owner)))
                        .help("make sure that is intended");
                }
            }
        }
        // The index's texts: building them again copied every key split
        // over strings.
        // Only padded or non-ASCII texts, or a wildcard's versioned ones,
        // are findings here: the others are not read.
        let kinds = ix.owner_text_kinds(idx);
        if kinds & (Text::PADDED | Text::NON_ASCII) == 0
            && !(wildcard && kinds & Text::VERSIONED != 0)
        {
            continue;
        }
        let texts = ix.texts_of(idx);
        let at_key = !texts.is_empty() && ix.owner_has_label(idx, b"_domainkey");
        // What each text is was worked out with the index's texts: reading
        // every text's bytes here again was a cache miss each.
        for t in texts {
            let r = t.record;
            let j = t.joined();
            if t.is(Text::PADDED) && t.is(Text::VERSIONED) {
                let skip = j
                    .iter()
                    .take_while(|&&b| b == b'"' || b.is_ascii_whitespace())
                    .count();
                let what = if j[0] == b'"' { "`\"`" } else { "whitespace" };
                out.emit(
                    "GEN001",
                    ix.term_span(&t, 0, skip),
                    owner,
                    "TXT",
                    format!("the record text begins with {what}, so verifiers ignore it"),
                )
                .help("remove the extra quotes or space so the text starts with the version tag");
            }
            let policy = t.is(Text::VERSIONED) || at_key;
            if policy
                && t.is(Text::NON_ASCII)
                && let Some(p) = j.iter().position(|&b| !(0x20..0x7f).contains(&b))
            {
                let d = out.emit("GEN002", ix.term_span(&t, p, 1), owner, "TXT", format!("byte 0x{:02X} at offset {p} is not ASCII{}: terms containing it do not parse", j[p], looks_like(&j[p..])));
                d.help("retype the text with plain ASCII characters");
                d.term(&t.strings(), p, &j[p..(p + 1).min(j.len())]);
            }
            if wildcard && policy && t.is(Text::VERSIONED) && !j.starts_with(b"v=DKIM1") {
                out.emit(
                    "GEN004",
                    r.span,
                    owner,
                    "TXT",
                    format!(
                        "wildcard `{}` publishes a mail policy for every undefined name",
                        fqdn(owner)
                    ),
                )
                .help("make sure that is intended");
            }
        }
    }
}

/// A CNAME beside other data (DNSSEC records may sit beside it).
fn cname_beside_data(ix: &Index<'_>, out: &mut Out, owner: &Name, idx: &[usize]) {
    let recs: Few<_> = idx.iter().map(|&i| &ix.zone.records[i]).collect();
    let Some(c) = recs.iter().find(|r| r.rtype() == RecordType::CNAME) else {
        return;
    };
    let others: Few<_> = recs
        .iter()
        .filter(|r| {
            !matches!(
                r.rtype(),
                RecordType::CNAME | RecordType::RRSIG | RecordType::NSEC
            ) && u16::from(r.rtype()) != 46
        })
        .collect();
    let mx = others.iter().any(|r| r.rtype() == RecordType::MX);
    if mx {
        out.emit(
            "MX010",
            c.span,
            owner,
            "CNAME",
            format!(
                "`{}` is a CNAME and cannot also hold MX records",
                fqdn(owner)
            ),
        )
        .help("remove the CNAME or move the MX records")
        .related(others.iter().map(|r| r.span));
    } else if let Some(o) = others.first() {
        let types: Vec<String> = others.iter().map(|r| r.rtype().to_string()).collect();
        out.emit(
            "GEN003",
            c.span,
            owner,
            "CNAME",
            format!(
                "`{}` has a CNAME and also {}: a CNAME must be alone at its name",
                fqdn(owner),
                types.join(", ")
            ),
        )
        .help("keep one of them")
        .related([o.span]);
    }
}
