//! DMARC (RFC 7489; DMARCbis differences noted): where records live, the
//! tag-list and each tag's value, report URIs, and whether every mail domain
//! is covered by a policy of its own or its zone apex.

use super::dkim::{tag_list, tag_values, text_str};
use super::{Out, closest, fqdn, more_than_one};
use crate::index::{FewTexts, First, Index, MxPlace, Names, Text};
use hickory_proto::rr::{Name, RData, RecordType};
use mailzone_zone::Span;
use smallvec::SmallVec;

/// What a DMARC record's own checks read besides the record: the index
/// after the read, or the names thread's view while the zone is read.
trait Around {
    fn origin(&self) -> &Name;
    fn text_in_zone(&self, text: &str) -> Option<bool>;
    fn term_span(&self, t: &Text<'_>, off: usize, len: usize) -> Span;
}

impl Around for Index<'_> {
    fn origin(&self) -> &Name {
        &self.origin
    }
    fn text_in_zone(&self, text: &str) -> Option<bool> {
        Index::text_in_zone(self, text)
    }
    fn term_span(&self, t: &Text<'_>, off: usize, len: usize) -> Span {
        Index::term_span(self, t, off, len)
    }
}

/// During the read: where a finding is does not matter, only whether
/// there is one.
struct Reading<'a> {
    origin: &'a Name,
    names: &'a Names,
}

impl Around for Reading<'_> {
    fn origin(&self) -> &Name {
        self.origin
    }
    fn text_in_zone(&self, text: &str) -> Option<bool> {
        self.names.text_in_zone(text)
    }
    fn term_span(&self, t: &Text<'_>, _: usize, _: usize) -> Span {
        t.record.span
    }
}

/// A DMARC record read ahead on the names thread while the zone is read:
/// its policy word's memo code ([`word_of`]) and whether the checks of the
/// record on its own (not where it is, nor what else the zone holds) find
/// nothing, so that the family can skip it. The same code as the family's,
/// so the two cannot disagree. `None` for a record that is not DMARC.
pub(crate) fn read_ahead(origin: &Name, names: &Names, t: &Text<'_>) -> Option<(u8, bool)> {
    if !t.is(Text::DMARC) {
        return None;
    }
    let mut out = Out::default();
    check_record(&Reading { origin, names }, &mut out, &t.record.owner, t);
    Some((word_code(t.joined()), out.diags.is_empty()))
}

const TAGS: &[&str] = &[
    "v", "p", "sp", "np", "rua", "ruf", "adkim", "aspf", "pct", "fo", "ri", "rf", "psd", "t",
];

pub fn is_dmarc(t: &[u8]) -> bool {
    t.starts_with(b"v=DMARC1")
        && t[8..]
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .is_none_or(|&b| b == b';' || b == b',')
}

/// The policy a DMARC record states, for other checks: (p, sp, pct, has rua).
pub struct Policy {
    pub p: String,
    pub sp: Option<String>,
    pub pct: u32,
}

impl Policy {
    pub fn enforces(&self) -> bool {
        self.p == "quarantine" || self.p == "reject"
    }
}

pub fn policy_of(text: &[u8]) -> Option<Policy> {
    if !is_dmarc(text) {
        return None;
    }
    let text = text_str(text);
    let [p, sp, pct] = tag_values(&text, ["p", "sp", "pct"]);
    Some(Policy {
        p: p?.to_ascii_lowercase(),
        sp: sp.map(str::to_ascii_lowercase),
        pct: pct.and_then(|v| v.parse().ok()).unwrap_or(100),
    })
}

/// The `p=` of a DMARC record of the index, as far as other checks need it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Word {
    None,
    Quarantine,
    Reject,
    Other,
}

impl Word {
    pub fn enforces(self) -> bool {
        matches!(self, Word::Quarantine | Word::Reject)
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Word::None => "none",
            Word::Quarantine => "quarantine",
            Word::Reject => "reject",
            Word::Other => "other",
        }
    }
}

/// [`policy_of`]'s `p=` for a text of the index, parsed once for the
/// families that ask (DMARC coverage and the cross-record checks).
pub fn word_of(ix: &Index<'_>, t: &Text<'_>) -> Option<Word> {
    word_of_code(ix.memo(t, || word_code(t.joined())))
}

/// The word of a [`word_code`].
pub(crate) fn word_of_code(code: u8) -> Option<Word> {
    [Word::None, Word::Quarantine, Word::Reject, Word::Other]
        .get(usize::from(code).wrapping_sub(2))
        .copied()
}

/// [`word_of`]'s memo code for a text: 1 not DMARC, 2 to 5 the words.
fn word_code(joined: &[u8]) -> u8 {
    match policy_of(joined).as_ref().map(|p| p.p.as_str()) {
        None => 1,
        Some("none") => 2,
        Some("quarantine") => 3,
        Some("reject") => 4,
        Some(_) => 5,
    }
}

/// The DMARC policy that applies to `domain`: its own `_dmarc`, else the zone apex's.
pub fn policy_for(ix: &Index<'_>, domain: &Name) -> Option<Policy> {
    [domain, &ix.origin].into_iter().find_map(|d| {
        ix.texts_under(d, "_dmarc")
            .iter()
            .find_map(|t| policy_of(t.joined()))
    })
}

/// The domain of a `mailto:` report address, as written (callers compare
/// it without regard to case).
fn uri_domain(uri: &str) -> Option<&str> {
    let rest = uri
        .strip_prefix("mailto:")
        .or_else(|| uri.strip_prefix("MAILTO:"))?;
    let addr = rest.split('!').next()?;
    Some(addr.rsplit_once('@')?.1.trim_end_matches('.'))
}

/// `s` starts with `prefix` (given in lower case), in any case.
fn starts_ci(s: &str, prefix: &str) -> bool {
    s.len() >= prefix.len() && s.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

pub fn run(ix: &Index<'_>, out: &mut Out) {
    for (owner, idx) in ix.owners() {
        let at_dmarc = ix.owner_first_is(idx, First::DMARC);
        if !at_dmarc && !ix.owner_may_have(idx, RecordType::TXT) {
            continue;
        }
        let is_report = ix.owner_first_is(idx, First::REPORT);
        // Elsewhere, only DMARC records are findings.
        if !at_dmarc && !is_report && ix.owner_text_kinds(idx) & Text::DMARC == 0 {
            continue;
        }
        let texts = ix.texts_of(idx);
        if is_report {
            for t in texts {
                if !t.is(Text::DMARC) {
                    out.emit("DMARC011", t.record.span, owner, "TXT", format!("the report-authorisation record at `{}` is not a valid `v=DMARC1` record", fqdn(owner)))
                        .help("publish `TXT \"v=DMARC1\"` there");
                }
            }
            continue;
        }
        if !at_dmarc {
            for t in texts.iter().filter(|t| t.is(Text::DMARC)) {
                let domain = owner;
                out.emit("DMARC001", t.record.span, owner, "TXT", format!("DMARC records are looked up at `_dmarc.{}`; this one at `{}` is never read", fqdn(domain), fqdn(owner)))
                    .help(format!("move it to `_dmarc.{}`", fqdn(domain)));
            }
            continue;
        }
        if let Some(c) = ix.of_type(idx, RecordType::CNAME).first()
            && let RData::CNAME(target) = &c.rdata
            && !ix.authoritative_for(&target.0)
        {
            out.emit(
                "DMARC024",
                c.span,
                owner,
                "CNAME",
                format!(
                    "the DMARC record is hosted outside the zone at `{}`: not verified",
                    fqdn(&target.0)
                ),
            );
        }
        let records: FewTexts<'_> = texts.iter().filter(|t| t.is(Text::DMARC)).collect();
        for t in &texts {
            if t.is(Text::DMARC) || t.is(Text::SPF) {
                continue;
            }
            let tl = tag_list(t.joined());
            let looks = tl.get("p").is_some()
                || tl
                    .get("v")
                    .is_some_and(|v| v.eq_ignore_ascii_case("dmarc1"))
                || t.joined().to_ascii_lowercase().starts_with(b"v=dmarc");
            if looks {
                out.emit("DMARC003", t.record.span, owner, "TXT", "the record has DMARC tags but does not start with `v=DMARC1` (exact case): receivers ignore it")
                    .help("start the record with `v=DMARC1;`");
            }
        }
        more_than_one(
            out,
            "DMARC002",
            owner,
            &records,
            "DMARC",
            "receivers then apply no DMARC",
        );
        for t in &records {
            if !ix.dmarc_clean(t.record) {
                check_record(ix, out, owner, t);
            }
        }
    }
    // Every mail domain needs a policy, its own or the apex's.
    // (With one at the apex, every domain inherits it: nothing to find.)
    if policy_for(ix, &ix.origin).is_some() {
        return;
    }
    for (n, idx) in ix.owners() {
        let apex = ix.owner_is_apex(idx);
        if !ix.owner_may_have(idx, RecordType::MX) && !apex {
            continue;
        }
        if ix.owner_first_is(idx, First::STAR | First::UNDERSCORE) {
            continue;
        }
        let mx = ix.mx_of(idx);
        let non_null = mx.iter().any(|m| m.place != MxPlace::Null);
        let has_spf = ix.owner_text_kinds(idx) & Text::SPF != 0;
        if (non_null || (apex && (!mx.is_empty() || has_spf)))
            && !ix.dmarc_word_read_ahead(idx)
            && !ix
                .owner_dmarc_texts(idx)
                .iter()
                .any(|t| word_of(ix, &t).is_some())
            && !has_dmarc_cname(ix, n)
        {
            let span = mx
                .first()
                .map(|m| m.record(ix).span)
                .or_else(|| ix.at(n).next().map(|r| r.span))
                .unwrap_or_default();
            out.emit(
                "DMARC025",
                span,
                n,
                "MX",
                format!(
                    "`{}` publishes no DMARC record and has none at the zone apex to inherit",
                    fqdn(n)
                ),
            )
            .help(format!(
                "add `_dmarc.{} TXT \"v=DMARC1; p=none; rua=mailto:…\"`",
                fqdn(n)
            ));
        }
    }
}

fn has_dmarc_cname(ix: &Index<'_>, n: &Name) -> bool {
    super::child("_dmarc", n).is_some_and(|d| ix.cname(&d).is_some())
}

fn check_record(ix: &impl Around, out: &mut Out, owner: &Name, t: &Text<'_>) {
    // The domain the record is for, made only when a finding names it.
    let domain = || owner.base_name();
    let joined = &t.joined();
    let at = |out: &mut Out, id: &'static str, pos: usize, len: usize, msg: String| {
        let span = ix.term_span(t, pos, len);
        let end = (pos + len).min(joined.len());
        let d = out.emit(id, span, owner, "TXT", msg);
        d.term(&t.strings(), pos, &joined[pos..end]);
    };
    // Commas where semicolons belong, or junk without `=`.
    let tl = tag_list(joined);
    if let Some((msg, pos)) = &tl.error {
        let comma = String::from_utf8_lossy(joined).contains(',')
            && tl
                .tags
                .iter()
                .any(|t| t.1.contains('=') && !t.0.starts_with("ru"));
        let m = if comma {
            "tags must be separated by `;`, not `,`".to_string()
        } else {
            msg.clone()
        };
        at(
            out,
            "DMARC026",
            *pos,
            1,
            format!("tag-list syntax error: {m}; the record is not parseable"),
        );
        return;
    }
    if tl.tags.iter().any(|(k, v, _)| k == "v" && v.contains(','))
        || tl.tags.iter().any(|(k, v, _)| k == "p" && v.contains(','))
    {
        at(
            out,
            "DMARC026",
            0,
            joined.len(),
            "tags must be separated by `;`, not `,`: the record is not parseable".into(),
        );
        return;
    }
    let mut seen: SmallVec<[&str; 8]> = SmallVec::new();
    for (k, _, pos) in &tl.tags {
        if seen.contains(&&**k) {
            at(
                out,
                "DMARC020",
                *pos,
                k.len(),
                format!("tag `{k}` appears twice: the record is invalid"),
            );
        }
        seen.push(k);
        if !TAGS.contains(&&**k) {
            let hint = closest(k, TAGS)
                .map(|c| format!("; did you mean `{c}`?"))
                .unwrap_or_default();
            at(
                out,
                "DMARC021",
                *pos,
                k.len(),
                format!("unknown tag `{k}` is ignored{hint}"),
            );
        }
    }
    let Some(p) = tl.get("p") else {
        out.emit(
            "DMARC004",
            t.record.span,
            owner,
            "TXT",
            "no `p=` tag (required by RFC 7489)",
        )
        .help("add `p=none`, `p=quarantine` or `p=reject` right after `v=DMARC1`");
        return;
    };
    if tl.tags.get(1).is_none_or(|t| t.0 != "p") {
        let pos = tl.pos("p").unwrap_or(0);
        at(
            out,
            "DMARC006",
            pos,
            1 + 1 + p.len(),
            "`p=` is not the second tag (RFC 7489 order; some receivers require it)".into(),
        );
        out.last().help("put `p=` immediately after `v=DMARC1`");
    }
    for tag in ["p", "sp", "np"] {
        if let Some(v) = tl.get(tag)
            && !["none", "quarantine", "reject"]
                .iter()
                .any(|p| v.eq_ignore_ascii_case(p))
        {
            at(
                out,
                "DMARC005",
                tl.pos(tag).unwrap(),
                tag.len() + 1 + v.len(),
                format!("`{tag}={v}` is not a DMARC policy"),
            );
            out.last().help("use none, quarantine or reject");
        }
    }
    let p = p.to_ascii_lowercase();
    let enforcing = p == "quarantine" || p == "reject";
    if let Some(v) = tl.get("pct") {
        let pos = tl.pos("pct").unwrap();
        match v.parse::<u32>() {
            Ok(n) if n <= 100 => {
                if n < 100 {
                    at(
                        out,
                        "DMARC008",
                        pos,
                        4 + v.len(),
                        format!("only {n}% of failing mail gets the policy"),
                    );
                }
            }
            _ => at(
                out,
                "DMARC007",
                pos,
                4 + v.len(),
                format!("`pct={v}` must be an integer from 0 to 100"),
            ),
        }
    }
    for tag in ["pct", "ri", "rf"] {
        if let Some(v) = tl.get(tag) {
            at(
                out,
                "DMARC016",
                tl.pos(tag).unwrap(),
                tag.len() + 1 + v.len(),
                format!(
                    "`{tag}` is removed in DMARCbis and will be ignored by receivers that implement it"
                ),
            );
        }
    }
    let mut rua_count = 0;
    for tag in ["rua", "ruf"] {
        let Some(v) = tl.get(tag) else { continue };
        let pos = tl.pos(tag).unwrap();
        for uri in v.split(',').map(str::trim) {
            if tag == "rua" {
                rua_count += 1;
            }
            let mailto = starts_ci(uri, "mailto:");
            let scheme_ok = mailto || starts_ci(uri, "https:") || starts_ci(uri, "http:");
            let (addr, size) = match uri.split_once('!') {
                Some((a, s)) => (a, Some(s)),
                None => (uri, None),
            };
            let size_ok = size.is_none_or(|s| {
                let digits = s.trim_end_matches(|c: char| "kmgtKMGT".contains(c));
                !digits.is_empty()
                    && digits.bytes().all(|b| b.is_ascii_digit())
                    && s.len() - digits.len() <= 1
            });
            let mailbox_ok = !mailto
                || addr[7..]
                    .rsplit_once('@')
                    .is_some_and(|(l, d)| !l.is_empty() && d.contains('.'));
            if !scheme_ok || !size_ok || !mailbox_ok {
                let why = if !scheme_ok && uri.contains('@') {
                    format!("`{uri}` is not a URI")
                } else {
                    format!("`{uri}` is not a valid report URI")
                };
                at(out, "DMARC009", pos, tag.len() + 1 + v.len(), why);
                if !scheme_ok && uri.contains('@') {
                    out.last().help(format!("write `{tag}=mailto:{uri}`"));
                }
                continue;
            }
            if !mailto {
                at(
                    out,
                    "DMARC010",
                    pos,
                    tag.len() + 1 + v.len(),
                    format!("`{uri}`: most receivers only send reports to mailto: URIs"),
                );
            } else if let Some(d) = uri_domain(addr) {
                // Most reports go to a domain of the zone itself: known
                // without parsing the name, and then there is nothing to say.
                let dest = match ix.text_in_zone(d) {
                    Some(true) => None,
                    _ => Name::from_ascii(format!("{d}.")).ok(),
                };
                if dest.as_ref().is_some_and(|dn| !ix.origin().zone_of(dn)) {
                    let d = d.to_ascii_lowercase();
                    at(
                        out,
                        "DMARC012",
                        pos,
                        tag.len() + 1 + v.len(),
                        format!(
                            "reports go to `{d}`, which must publish `{}._report._dmarc.{d} TXT \"v=DMARC1\"`; not verified offline",
                            fqdn(&domain()).trim_end_matches('.')
                        ),
                    );
                }
            }
        }
    }
    if rua_count > 2 {
        at(
            out,
            "DMARC028",
            tl.pos("rua").unwrap(),
            3,
            format!("{rua_count} rua destinations; some receivers send to only the first two"),
        );
    }
    if tl.get("ruf").is_some() {
        at(
            out,
            "DMARC027",
            tl.pos("ruf").unwrap(),
            3,
            "failure reports (`ruf`) are rarely sent and may contain personal data".into(),
        );
    }
    for tag in ["adkim", "aspf"] {
        if let Some(v) = tl.get(tag)
            && v != "r"
            && v != "s"
        {
            at(
                out,
                "DMARC013",
                tl.pos(tag).unwrap(),
                tag.len() + 1 + v.len(),
                format!("`{tag}={v}` is invalid and ignored (relaxed is used)"),
            );
            out.last().help("use `r` (relaxed) or `s` (strict)");
        }
    }
    if let Some(v) = tl.get("fo")
        && (v.is_empty()
            || !v
                .split(':')
                .all(|x| ["0", "1", "d", "s"].contains(&x.trim())))
    {
        at(
            out,
            "DMARC014",
            tl.pos("fo").unwrap(),
            3 + v.len(),
            format!("`fo={v}` is invalid"),
        );
        out.last().help("use a colon list of 0, 1, d, s");
    }
    if let Some(v) = tl.get("ri")
        && v.parse::<u32>().is_err()
    {
        at(
            out,
            "DMARC015",
            tl.pos("ri").unwrap(),
            3 + v.len(),
            format!("`ri={v}` must be a number of seconds"),
        );
    }
    if let Some(v) = tl.get("rf")
        && !v.split(':').all(|x| x.trim().eq_ignore_ascii_case("afrf"))
    {
        at(
            out,
            "DMARC015",
            tl.pos("rf").unwrap(),
            3 + v.len(),
            format!("`rf={v}` must be `afrf`"),
        );
    }
    if p == "none" {
        at(
            out,
            "DMARC017",
            tl.pos("p").unwrap(),
            6,
            "the policy is monitoring only (`p=none`)".into(),
        );
        out.last()
            .help("move to quarantine or reject after reviewing reports");
        if tl.get("rua").is_none() {
            out.emit(
                "DMARC018",
                t.record.span,
                owner,
                "TXT",
                "`p=none` without `rua` achieves nothing: no enforcement and no reports",
            )
            .help("add `rua=mailto:…`");
        }
    } else if enforcing && tl.get("rua").is_none() {
        out.emit(
            "DMARC019",
            t.record.span,
            owner,
            "TXT",
            "no aggregate-report address (`rua`)",
        );
    }
    if let Some(v) = tl.get("sp")
        && !domain().eq_ignore_root(ix.origin())
    {
        at(
            out,
            "DMARC022",
            tl.pos("sp").unwrap(),
            3 + v.len(),
            format!(
                "`sp` here is ignored: subdomain policy comes from the organisational domain, not `{}`",
                fqdn(&domain())
            ),
        );
    }
    if enforcing {
        for tag in ["sp", "np"] {
            if let Some(v) = tl.get(tag)
                && v.eq_ignore_ascii_case("none")
            {
                at(
                    out,
                    "DMARC023",
                    tl.pos(tag).unwrap(),
                    tag.len() + 1 + v.len(),
                    format!("subdomains are not protected (`{tag}=none`) while `p={p}`"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::NameStream;

    /// What the names thread notes of each `_dmarc` node (a DMARC record
    /// with a policy word) says what asking the texts says, for every
    /// owner; only a wildcard's records, never read ahead for a name, are
    /// left to the texts.
    #[test]
    fn dmarc_words_read_ahead_are_the_texts_own() {
        let zone = "$TTL 300\n@ SOA ns h 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n\
            a MX 10 ns\n_dmarc.a TXT \"v=DMARC1; p=reject\"\n\
            b MX 10 ns\n_dmarc.b TXT \"v=DMARC1; rua=mailto:d@example.test\"\n\
            c MX 10 ns\n_dmarc.c TXT \"unrelated\"\n_dmarc.c TXT \"v=DMARC1; p=none\"\n\
            d MX 10 ns\n_dmarc.d TXT \"v=DMARC1x; p=reject\"\n\
            e MX 10 ns\n*.e TXT \"v=DMARC1; p=quarantine\"\n\
            f MX 10 ns\n_dmarc.f TXT \"v=DMARC1; p=whatever\"\n\
            g MX 10 ns\n_dmarc.g TXT \"v=DMARC1\" \"; p=reject\"\n\
            h MX 10 ns\n_dmarc.h CNAME elsewhere.example.\n";
        let origin = Name::from_ascii("example.test.").unwrap();
        let r = crate::checks::read_test_zone(&origin, zone);
        let ix = crate::checks::index_streamed(&r.zone, NameStream::on_thread(&origin, 0));
        let plain = crate::checks::index_streamed(
            &r.zone,
            NameStream::on_thread(&origin, 0).without_read_ahead(),
        );
        let mut noted = Vec::new();
        for (owner, idx) in ix.owners() {
            let asked = |ix: &Index<'_>| {
                ix.owner_dmarc_texts(idx)
                    .iter()
                    .any(|t| word_of(ix, &t).is_some())
            };
            let (read, full) = (ix.dmarc_word_read_ahead(idx), asked(&ix));
            assert!(!read || full, "{owner}");
            let wild = owner.to_ascii() == "e.example.test.";
            assert_eq!(read, full && !wild, "{owner}");
            let (_, pidx) = plain.owners().find(|(o, _)| o == &owner).unwrap();
            assert!(!plain.dmarc_word_read_ahead(pidx), "{owner}");
            if read {
                noted.push(owner.to_ascii());
            }
        }
        assert_eq!(
            noted,
            [
                "a.example.test.",
                "c.example.test.",
                "f.example.test.",
                "g.example.test."
            ]
        );
    }

    /// DMARC records read while the zone is read (on the names thread) are
    /// marked clean exactly when the family's own record checks find
    /// nothing in them, and their policy words are the family's.
    #[test]
    fn read_ahead_marks_what_the_record_checks_find_nothing_in() {
        let zone = "$TTL 300\n@ SOA ns h 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n\
            _dmarc TXT \"v=DMARC1; p=reject; rua=mailto:d@example.test\"\n\
            _dmarc.a TXT \"v=DMARC1; p=quarantine; pct=50; rua=mailto:d@example.test\"\n\
            _dmarc.b TXT \"v=DMARC1; p=reject; rua=mailto:d@elsewhere.example\"\n\
            _dmarc.c TXT \"v=DMARC1; p=none; rua=mailto:d@example.test\"\n\
            _dmarc.d TXT \"v=DMARC1; p=reject; sp=none; rua=mailto:r@d.example.test\"\n\
            _dmarc.e TXT \"v=DMARC1;p=REJECT;rua=mailto:d@example.test\"\n\
            _dmarc.f TXT \"v=DMARC1\" \"; p=reject; rua=mailto:d@example.test\"\n\
            _dmarc.g TXT \"v=DMARC1; p=reject\"\n\
            _dmarc.h TXT \"v=DMARC1x; p=reject\"\n";
        let origin = Name::from_ascii("example.test.").unwrap();
        let r = crate::checks::read_test_zone(&origin, zone);
        let streamed = |s| crate::checks::index_streamed(&r.zone, s);
        let ix = streamed(NameStream::on_thread(&origin, 0).without_read_ahead());
        assert!(r.zone.records.iter().all(|r| ix.dmarc_read(r).is_none()));
        let ix = streamed(NameStream::on_thread(&origin, 0));
        let (mut clean, mut read) = (Vec::new(), 0);
        for rec in &r.zone.records {
            let Some(t) = crate::index::text_of(rec) else {
                continue;
            };
            let owner = rec.owner.to_ascii();
            let mut out = Out::default();
            check_record(&ix, &mut out, &rec.owner, &t);
            match ix.dmarc_read(rec) {
                Some((word, is_clean)) => {
                    read += 1;
                    assert_eq!(word, word_code(t.joined()), "{owner}");
                    assert_eq!(is_clean, out.diags.is_empty(), "{owner}: {:?}", out.diags);
                    if is_clean {
                        clean.push(owner);
                    }
                }
                // Only DMARC records whose first string opens with the
                // version tag are read ahead.
                None => assert!(
                    !is_dmarc(t.joined()) || !t.strings()[0].starts_with(b"v=DMARC1"),
                    "{owner}"
                ),
            }
        }
        // pct=50, an outside report address, p=none, sp=none and no rua
        // are findings; h's record is not DMARC.
        assert_eq!(read, 8);
        assert_eq!(
            clean,
            [
                "_dmarc.example.test.",
                "_dmarc.e.example.test.",
                "_dmarc.f.example.test."
            ]
        );
    }
}
