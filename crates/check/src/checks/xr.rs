//! Cross-record checks: whether SPF, MX, DKIM, DMARC, MTA-STS, TLS-RPT and
//! TLSA of one domain make sense together.

use super::dkim::tag_list;
use super::dmarc::word_of;
use super::{Out, child, fqdn};
use crate::index::{First, Index, MxPlace, Text};
use hickory_proto::rr::{Name, RecordType};

/// Whether an SPF record authorises anyone (worked out with the text's kind:
/// see `crate::checks::spf::authorises`).
fn authorises(t: &Text<'_>) -> bool {
    t.is(Text::SENDS)
}

/// Whether one of a domain's selectors holds a key or is a CNAME.
fn has_dkim(ix: &Index<'_>, selectors: &[&Name]) -> bool {
    selectors.iter().any(|n| {
        ix.texts(n)
            .iter()
            .any(|t| tag_list(t.joined()).get("p").is_some())
            || !ix.rrset(n, RecordType::CNAME).is_empty()
    })
}

pub fn run(ix: &Index<'_>, out: &mut Out) {
    for (d, idx) in ix.owners() {
        // Only domains with mail records of their own or below them matter here.
        let own = ix.owner_may_have(idx, RecordType::MX) || ix.owner_may_have(idx, RecordType::TXT);
        if !own
            && (!ix.owner_has_underscore_child(idx)
                || !ix.child_exists(d, "_dmarc")
                    && !ix.child_exists(d, "_mta-sts")
                    && !ix.child_exists(d, "_smtp._tls"))
        {
            continue;
        }
        if ix.owner_first_is(idx, First::STAR | First::UNDERSCORE) {
            continue;
        }
        let mx = ix.mx_of(idx);
        let non_null = mx.iter().any(|m| m.place != MxPlace::Null);
        let null = !mx.is_empty() && !non_null;
        // (The texts are read only when some is SPF.)
        let spf = match ix.owner_text_kinds(idx) & Text::SPF {
            0 => None,
            _ => ix.texts_of(idx).into_iter().find(|t| t.is(Text::SPF)),
        };
        let dmarc = ix
            .owner_may_answer_underscore(idx)
            .then(|| {
                ix.owner_dmarc_texts(idx)
                    .into_iter()
                    .find(|t| t.is(Text::DMARC))
            })
            .flatten();
        let policy = dmarc.as_ref().and_then(|t| word_of(ix, t));
        if let Some(s) = &spf {
            let sends = authorises(s);
            if sends && mx.is_empty() && ix.addresses(d).is_empty() {
                out.emit("XR001", s.record.span, d, "TXT", format!("`{}` sends mail (SPF authorises senders) but cannot receive any: no MX and no address", fqdn(d)))
                    .help("add an MX so bounces and replies arrive");
            }
            if sends && null {
                out.emit("XR005", s.record.span, d, "TXT", "the null MX says no mail is received, but SPF authorises senders: bounces will be lost")
                    .related(mx.iter().map(|m| m.record(ix).span));
            }
        }
        if let (Some(p), Some(t)) = (&policy, &dmarc) {
            if p.enforces() && !has_dkim(ix, ix.owner_selectors(idx)) && !out.counted("XR002") {
                out.emit("XR002", t.record.span, d, "TXT", format!("no DKIM selector for `{}` in this zone; with `p={}`, its mail relies on SPF alignment alone", fqdn(d), p.as_str()));
            }
            if non_null && spf.is_none() && !has_dkim(ix, ix.owner_selectors(idx)) {
                out.emit(
                    "XR003",
                    t.record.span,
                    d,
                    "TXT",
                    format!(
                        "no SPF and no DKIM for `{}`: every message from it fails DMARC",
                        fqdn(d)
                    ),
                )
                .related(mx.iter().map(|m| m.record(ix).span));
            }
            if p.enforces() {
                for n in ix.owner_selectors(idx) {
                    for k in ix.texts(n) {
                        let tl = tag_list(k.joined());
                        if tl.get("p").is_some()
                            && tl
                                .get("t")
                                .is_some_and(|v| v.split(':').any(|f| f.trim() == "y"))
                        {
                            out.emit("XR007", k.record.span, n, "TXT", format!("selector `{}` is in test mode (`t=y`) while DMARC enforces; some receivers treat its signatures as unsigned", fqdn(n)))
                                .related([t.record.span]);
                        }
                    }
                }
            }
        }
        if null {
            let spf_fail = spf.as_ref().is_some_and(|t| !authorises(t));
            let reject = policy == Some(crate::checks::dmarc::Word::Reject);
            if !spf_fail || !reject {
                out.emit(
                    "XR004",
                    mx[0].record(ix).span,
                    d,
                    "MX",
                    format!(
                        "`{}` takes no mail (null MX) but does not say it sends none",
                        fqdn(d)
                    ),
                )
                .help("add `TXT \"v=spf1 -all\"` and `_dmarc TXT \"v=DMARC1; p=reject\"`");
            }
        }
        if (null || mx.is_empty()) && ix.owner_may_answer_underscore(idx) {
            let sts = child("_mta-sts", d).and_then(|n| {
                ix.texts(&n)
                    .into_iter()
                    .find(|t| t.is(Text::STS))
                    .map(|t| t.record.span)
            });
            let rpt = child("_smtp._tls", d).and_then(|n| {
                ix.texts(&n)
                    .into_iter()
                    .find(|t| t.is(Text::TLSRPT))
                    .map(|t| t.record.span)
            });
            for (what, span) in [("MTA-STS", sts), ("TLS-RPT", rpt)] {
                if let Some(span) = span {
                    out.emit(
                        "XR006",
                        span,
                        d,
                        "TXT",
                        format!(
                            "`{}` accepts no mail ({}), so its {what} record serves no purpose",
                            fqdn(d),
                            if null { "null MX" } else { "no MX" }
                        ),
                    );
                }
            }
            if null
                && let Some(t) = child("_25._tcp", d)
                    .map(|n| ix.rrset(&n, RecordType::TLSA))
                    .and_then(|v| v.first().copied())
            {
                out.emit(
                    "XR006",
                    t.span,
                    d,
                    "TLSA",
                    format!(
                        "`{}` accepts no mail (null MX), so its TLSA records serve no purpose",
                        fqdn(d)
                    ),
                );
            }
        }
    }
}
