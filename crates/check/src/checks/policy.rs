//! MTA-STS (RFC 8461), TLS-RPT (RFC 8460) and BIMI records: where they must
//! live, their version tags and required tags, duplicates, and what they
//! depend on elsewhere in the zone.

use super::dkim::tag_list;
use super::dmarc::policy_for;
use super::{Out, first_label, fqdn, more_than_one};
use crate::index::{FewTexts, First, Index, Text, Texts};
use hickory_proto::rr::{Name, RecordType};

fn starts(t: &[u8], tag: &[u8]) -> bool {
    t.starts_with(tag)
        && t[tag.len()..]
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .is_none_or(|&b| b == b';')
}

fn is_smtp_tls(n: &Name) -> bool {
    first_label(n) == b"_smtp"
        && n.iter()
            .nth(1)
            .is_some_and(|l| l.eq_ignore_ascii_case(b"_tls"))
}

fn is_bimi(n: &Name) -> bool {
    n.iter()
        .nth(1)
        .is_some_and(|l| l.eq_ignore_ascii_case(b"_bimi"))
}

pub fn run(ix: &Index<'_>, out: &mut Out) {
    for (owner, idx) in ix.owners() {
        if !ix.owner_may_have(idx, RecordType::TXT) {
            continue;
        }
        // Only MTA-STS, TLS-RPT and BIMI records, and whatever is at
        // `_mta-sts` or `_bimi`, concern these checks. Asked of the texts'
        // kinds and the index's key, not of the owner's name: on a large
        // zone reading every TXT owner's name was a cache miss each.
        if ix.owner_text_kinds(idx) & (Text::STS | Text::TLSRPT) == 0
            && !ix.owner_first_is(idx, First::MTA_STS)
            && ix.owner_labels(idx).nth(1) != Some(b"_bimi".as_slice())
        {
            continue;
        }
        let texts = ix.texts_of(idx);
        mta_sts(ix, out, owner, texts);
        tls_rpt(ix, out, owner, texts);
        bimi(ix, out, owner, texts);
    }
}

fn mta_sts(ix: &Index<'_>, out: &mut Out, owner: &Name, texts: Texts<'_>) {
    let at_sts = first_label(owner) == b"_mta-sts";
    let sts: FewTexts<'_> = texts.iter().filter(|t| t.is(Text::STS)).collect();
    if !at_sts {
        for t in &sts {
            let domain = if first_label(owner) == b"mta-sts" {
                owner.base_name()
            } else {
                owner.clone()
            };
            out.emit(
                "STS006",
                t.record.span,
                owner,
                "TXT",
                format!(
                    "MTA-STS TXT must be at `_mta-sts.{}`, not `{}`",
                    fqdn(&domain),
                    fqdn(owner)
                ),
            )
            .help(format!("move it to `_mta-sts.{}`", fqdn(&domain)));
        }
        return;
    }
    for t in texts.iter().filter(|t| !t.is(Text::STS)) {
        out.emit(
            "STS007",
            t.record.span,
            owner,
            "TXT",
            "an unrelated TXT record at `_mta-sts` is ignored",
        )
        .help("remove it");
    }
    more_than_one(
        out,
        "STS003",
        owner,
        &sts,
        "MTA-STS",
        "senders then assume no MTA-STS",
    );
    let domain = owner.base_name();
    for t in &sts {
        let tl = tag_list(t.joined());
        let ok_version = starts(t.joined(), b"v=STSv1") && t.joined().contains(&b';');
        match tl.get("id") {
            Some(id) if ok_version => {
                if id.is_empty() || id.len() > 32 || !id.bytes().all(|b| b.is_ascii_alphanumeric())
                {
                    let pos = tl.pos("id").unwrap_or(0);
                    let cleaned: String = id
                        .chars()
                        .filter(|c| c.is_ascii_alphanumeric())
                        .take(32)
                        .collect();
                    let d = out.emit(
                        "STS002",
                        ix.term_span(t, pos, 3 + id.len()),
                        owner,
                        "TXT",
                        format!("`id={id}` may contain only letters and digits (1–32)"),
                    );
                    d.term(
                        &t.strings(),
                        pos,
                        &t.joined()[pos..(pos + 3 + id.len()).min(t.joined().len())],
                    );
                    d.help(format!("use `id={cleaned}`"));
                }
            }
            _ => {
                out.emit(
                    "STS001",
                    t.record.span,
                    owner,
                    "TXT",
                    "the MTA-STS record needs `v=STSv1; id=<1-32 letters and digits>;`",
                )
                .help("write e.g. `v=STSv1; id=20261123`");
            }
        }
        if let Some(host) = super::child("mta-sts", &domain)
            && ix.authoritative_for(&host)
            && ix.addresses(&host).is_empty()
            && ix.cname(&host).is_none()
        {
            out.emit(
                "STS004",
                t.record.span,
                owner,
                "TXT",
                format!(
                    "senders fetch `https://{}/.well-known/mta-sts.txt`, but `{}` has no address",
                    fqdn(&host).trim_end_matches('.'),
                    fqdn(&host)
                ),
            )
            .help(format!(
                "add A/AAAA records (or a CNAME) for `{}`",
                fqdn(&host)
            ));
        }
        out.emit(
            "STS005",
            t.record.span,
            owner,
            "TXT",
            "the MTA-STS policy file and its certificate need an HTTPS fetch: not checked offline",
        );
    }
}

fn rua_uri_ok(u: &str) -> bool {
    let l = u.to_ascii_lowercase();
    (l.starts_with("mailto:")
        && u[7..]
            .rsplit_once('@')
            .is_some_and(|(a, d)| !a.is_empty() && d.contains('.')))
        || (l.starts_with("https://") && u.len() > 8)
}

fn tls_rpt(ix: &Index<'_>, out: &mut Out, owner: &Name, texts: Texts<'_>) {
    let rpt: FewTexts<'_> = texts.iter().filter(|t| t.is(Text::TLSRPT)).collect();
    if rpt.is_empty() {
        return;
    }
    if !is_smtp_tls(owner) {
        let domain = if first_label(owner).starts_with(b"_") {
            owner.base_name().base_name()
        } else {
            owner.clone()
        };
        for t in &rpt {
            out.emit(
                "TLSRPT004",
                t.record.span,
                owner,
                "TXT",
                format!(
                    "TLS-RPT TXT must be at `_smtp._tls.{}`, not `{}`",
                    fqdn(&domain),
                    fqdn(owner)
                ),
            )
            .help(format!("move it to `_smtp._tls.{}`", fqdn(&domain)));
        }
        return;
    }
    more_than_one(
        out,
        "TLSRPT003",
        owner,
        &rpt,
        "TLS-RPT",
        "senders then assume no TLS-RPT",
    );
    let domain = owner.base_name().base_name();
    for t in &rpt {
        let tl = tag_list(t.joined());
        match tl.get("rua") {
            Some(rua) if starts(t.joined(), b"v=TLSRPTv1") => {
                if let Some(bad) = rua.split(',').map(str::trim).find(|u| !rua_uri_ok(u)) {
                    let pos = tl.pos("rua").unwrap_or(0);
                    let d = out.emit(
                        "TLSRPT002",
                        ix.term_span(t, pos, 4 + rua.len()),
                        owner,
                        "TXT",
                        format!("`{bad}` is not a `mailto:` or `https:` URI"),
                    );
                    d.term(
                        &t.strings(),
                        pos,
                        &t.joined()[pos..(pos + 4 + rua.len()).min(t.joined().len())],
                    );
                    if bad.contains('@') && !bad.contains(':') {
                        d.help(format!("write `rua=mailto:{bad}`"));
                    }
                }
            }
            _ => {
                out.emit(
                    "TLSRPT001",
                    t.record.span,
                    owner,
                    "TXT",
                    "the TLS-RPT record needs `v=TLSRPTv1;` and `rua=mailto:…` or `rua=https://…`",
                );
            }
        }
        let sts = super::child("_mta-sts", &domain)
            .is_some_and(|n| ix.texts(&n).iter().any(|t| t.is(Text::STS)));
        let tlsa = ix.has_tlsa();
        if !sts && !tlsa {
            out.emit("TLSRPT005", t.record.span, owner, "TXT", "TLS-RPT reports on MTA-STS and DANE failures, but neither is published in this zone");
        }
    }
}

fn bimi(ix: &Index<'_>, out: &mut Out, owner: &Name, texts: Texts<'_>) {
    if !is_bimi(owner) {
        return;
    }
    let domain = owner.base_name().base_name();
    let recs: FewTexts<'_> = texts
        .iter()
        .filter(|t| t.is(Text::BIMI) || tag_list(t.joined()).get("l").is_some())
        .collect();
    more_than_one(
        out,
        "BIMI005",
        owner,
        &recs,
        "BIMI",
        "receivers cannot tell which applies",
    );
    for t in recs {
        let tl = tag_list(t.joined());
        let Some(l) = tl.get("l").filter(|_| starts(t.joined(), b"v=BIMI1")) else {
            out.emit(
                "BIMI001",
                t.record.span,
                owner,
                "TXT",
                "the BIMI record must start with `v=BIMI1;` and contain `l=`",
            );
            continue;
        };
        for tag in ["l", "a"] {
            if let Some(v) = tl.get(tag)
                && !v.is_empty()
                && !v.to_ascii_lowercase().starts_with("https://")
            {
                let pos = tl.pos(tag).unwrap_or(0);
                let d = out.emit(
                    "BIMI002",
                    ix.term_span(&t, pos, 2 + v.len()),
                    owner,
                    "TXT",
                    format!("`{tag}={v}` must be an https URL"),
                );
                d.term(
                    &t.strings(),
                    pos,
                    &t.joined()[pos..(pos + 2 + v.len()).min(t.joined().len())],
                );
            }
        }
        if l.is_empty() {
            continue;
        }
        let enforced = policy_for(ix, &domain)
            .is_some_and(|p| p.enforces() && p.pct == 100 && p.sp.as_deref() != Some("none"));
        if !enforced {
            out.emit(
                "BIMI003",
                t.record.span,
                owner,
                "TXT",
                format!(
                    "DMARC for `{}` is not at enforcement, so the logo will not be shown",
                    fqdn(&domain)
                ),
            )
            .help("BIMI needs DMARC `p=quarantine` or `p=reject` at 100%");
        }
        if tl.get("a").is_none_or(str::is_empty) {
            out.emit(
                "BIMI004",
                t.record.span,
                owner,
                "TXT",
                "no `a=` (mark certificate): most large mailbox providers will not show the logo",
            );
        }
        out.emit(
            "BIMI006",
            t.record.span,
            owner,
            "TXT",
            "the SVG logo and certificate need an HTTPS fetch: not checked offline",
        );
    }
}
