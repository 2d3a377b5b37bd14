//! SPF (RFC 7208): record discovery at every name, term syntax (ABNF of §12),
//! macros (§7), and evaluation limits followed recursively through in-zone
//! `include`/`redirect` targets (§4.6.4). Out-of-zone targets are counted as
//! one lookup each and reported as info: nothing is looked up at check time.

use super::{Out, closest, fqdn};
use crate::index::{FewTexts, First, Index, MxPlace, Text};
use hickory_proto::rr::{Name, RData, RecordType};
use mailzone_zone::Span;
use smallvec::SmallVec;
use std::cell::Cell;
use std::collections::HashSet;
use std::net::{Ipv4Addr, Ipv6Addr};

/// What an SPF record's own checks ask of the zone: the index after the
/// read, or, while the zone is read, [`Reading`], which knows only what is
/// outside it.
trait Around {
    fn term_span(&self, t: &Text<'_>, off: usize, len: usize) -> Span;
    fn authoritative_for(&self, name: &Name) -> bool;
    /// How many TXT records `name` has.
    fn text_count(&self, name: &Name) -> usize;
    fn mx_count(&self, name: &Name) -> usize;
    fn has_address(&self, name: &Name) -> bool;
    /// Whether a query for `name`'s A records gets any.
    fn has_a(&self, name: &Name) -> bool;
    /// How many SPF records `name` has (see [`spf_at`]).
    fn spf_count(&self, name: &Name) -> usize;
    /// [`evaluate`] of `domain`'s SPF record.
    fn evaluate_at(&self, domain: &Name, stack: &mut Vec<Name>, ev: &mut Eval, depth: usize);
}

impl Around for Index<'_> {
    fn term_span(&self, t: &Text<'_>, off: usize, len: usize) -> Span {
        Index::term_span(self, t, off, len)
    }
    fn authoritative_for(&self, name: &Name) -> bool {
        Index::authoritative_for(self, name)
    }
    fn text_count(&self, name: &Name) -> usize {
        self.texts(name).len()
    }
    fn mx_count(&self, name: &Name) -> usize {
        self.mx(name).len()
    }
    fn has_address(&self, name: &Name) -> bool {
        !self.addresses(name).is_empty()
    }
    fn has_a(&self, name: &Name) -> bool {
        !self.lookup(name, RecordType::A).is_empty()
    }
    fn spf_count(&self, name: &Name) -> usize {
        spf_at(self, name).len()
    }
    fn evaluate_at(&self, domain: &Name, stack: &mut Vec<Name>, ev: &mut Eval, depth: usize) {
        let records = spf_at(self, domain);
        let Some(text) = records.first() else { return };
        if records.len() > 1 || depth > 12 {
            return;
        }
        evaluate_terms(self, domain, &parse_record(text), stack, ev, depth);
    }
}

/// While the zone is read, on the names thread: a record's own checks run
/// as they will after the read as long as they ask only about names
/// outside the zone. Asked about one inside, it notes that the answers it
/// gives are not the zone's, and what the checks found is thrown away.
struct Reading<'a> {
    origin: &'a Name,
    asked_inside: Cell<bool>,
}

impl Reading<'_> {
    fn inside(&self) {
        self.asked_inside.set(true);
    }
}

impl Around for Reading<'_> {
    fn term_span(&self, t: &Text<'_>, _: usize, _: usize) -> Span {
        t.record.span
    }
    fn authoritative_for(&self, name: &Name) -> bool {
        if self.origin.zone_of(name) {
            self.inside();
        }
        false
    }
    fn text_count(&self, _: &Name) -> usize {
        self.inside();
        0
    }
    fn mx_count(&self, _: &Name) -> usize {
        self.inside();
        0
    }
    fn has_address(&self, _: &Name) -> bool {
        self.inside();
        false
    }
    fn has_a(&self, _: &Name) -> bool {
        self.inside();
        false
    }
    fn spf_count(&self, _: &Name) -> usize {
        self.inside();
        0
    }
    fn evaluate_at(&self, _: &Name, _: &mut Vec<Name>, _: &mut Eval, _: usize) {
        self.inside();
    }
}

/// An SPF record's own checks run on the names thread while the zone is
/// read: the info findings they count, by id, when they asked nothing about
/// the zone's own names and found nothing but info. The family then counts
/// these instead of checking the record again (when it is its owner's only
/// SPF record and a server counts those ids). The same code as the
/// family's, so the two cannot disagree. `None` for any other record.
pub(crate) fn read_ahead(origin: &Name, t: &Text<'_>) -> Option<Counts> {
    if !t.is(Text::SPF) {
        return None;
    }
    let reading = Reading {
        origin,
        asked_inside: Cell::new(false),
    };
    let mut out = Out::counting_every_info();
    // The origin stands in for the owner, which the names thread has only
    // as wire: the checks word findings with it, and use it for lookups
    // only of `a`, `mx` and `ptr` without a domain, which ask inside.
    check_record(&reading, &mut out, origin, t, true);
    if reading.asked_inside.get() || !out.diags.is_empty() {
        return None;
    }
    Some(
        out.take_counts()
            .into_iter()
            .map(|(id, n)| (id, n as u32))
            .collect(),
    )
}

/// Info findings counted by id.
pub(crate) type Counts = SmallVec<[(&'static str, u32); 2]>;

/// A record's parsed terms; most records have a handful.
pub type Terms<'a> = SmallVec<[Term<'a>; 8]>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mech {
    All,
    Include,
    A,
    Mx,
    Ptr,
    Ip4,
    Ip6,
    Exists,
}

const MECHS: &[(&str, Mech)] = &[
    ("all", Mech::All),
    ("include", Mech::Include),
    ("a", Mech::A),
    ("mx", Mech::Mx),
    ("ptr", Mech::Ptr),
    ("ip4", Mech::Ip4),
    ("ip6", Mech::Ip6),
    ("exists", Mech::Exists),
];

#[derive(Debug, Clone)]
pub enum Kind<'a> {
    Dir {
        qual: u8,
        mech: Mech,
        arg: Option<&'a [u8]>,
        net4: Option<(Ipv4Addr, u8)>,
        net6: Option<(Ipv6Addr, u8)>,
    },
    Mod {
        name: String,
        value: &'a [u8],
    },
    Bad {
        id: &'static str,
        msg: String,
        help: Option<String>,
    },
}

#[derive(Debug, Clone)]
pub struct Term<'a> {
    pub start: usize,
    /// Borrowed from the record's joined text, as are the arguments in
    /// `kind`: a record's terms are parsed for every SPF record of the zone.
    pub raw: &'a [u8],
    pub kind: Kind<'a>,
}

fn bad<'a>(id: &'static str, msg: String, help: Option<String>) -> Kind<'a> {
    Kind::Bad { id, msg, help }
}

fn show(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Macro-string check (RFC 7208 §7.1). `exp` allows the `c`, `r`, `t` letters.
fn check_macros(v: &[u8], exp: bool) -> Result<bool, String> {
    let mut i = 0;
    let mut has_macro = false;
    while i < v.len() {
        if v[i] != b'%' {
            i += 1;
            continue;
        }
        match v.get(i + 1) {
            Some(b'%') | Some(b'_') | Some(b'-') => i += 2,
            Some(b'{') => {
                let close = v[i..].iter().position(|&b| b == b'}').ok_or_else(|| {
                    format!(
                        "`{}` opens a macro with `%{{` but never closes it",
                        show(&v[i..])
                    )
                })?;
                let body = &v[i + 2..i + close];
                let Some((&letter, rest)) = body.split_first() else {
                    return Err("`%{}` names no macro letter".into());
                };
                let l = letter.to_ascii_lowercase();
                if !b"slodiphcrtv".contains(&l) {
                    return Err(format!(
                        "`%{{{}}}` is not an SPF macro letter (s l o d i p h v, and c r t in exp=)",
                        show(body)
                    ));
                }
                if !exp && b"crt".contains(&l) {
                    return Err(format!(
                        "`%{{{}}}`: the macro letters c, r and t are allowed only in exp= text",
                        show(body)
                    ));
                }
                let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
                let mut tail = &rest[digits..];
                if tail.first().is_some_and(|b| b.eq_ignore_ascii_case(&b'r')) {
                    tail = &tail[1..];
                }
                if !tail.iter().all(|b| b".-+,/_=".contains(b)) {
                    return Err(format!(
                        "`%{{{}}}` has a bad transformer or delimiter",
                        show(body)
                    ));
                }
                has_macro = true;
                i += close + 1;
            }
            _ => {
                return Err(format!(
                    "`%` must be followed by `{{`, `%`, `_` or `-`, found `{}`",
                    show(&v[i..(i + 2).min(v.len())])
                ));
            }
        }
    }
    Ok(has_macro)
}

/// Validates a domain-spec; returns the SPF016/SPF038 problem if any.
fn check_domain_spec(v: &[u8], what: &str) -> Option<(&'static str, String, Option<String>)> {
    match check_macros(v, false) {
        Err(m) => return Some(("SPF016", format!("{m}: verifiers return permerror"), None)),
        Ok(true) => return None,
        Ok(false) => {}
    }
    // Every include and redirect target is asked: the text is borrowed and
    // its labels counted in place, and words are made only for a problem.
    let owned;
    let s = match std::str::from_utf8(v) {
        Ok(s) => s,
        Err(_) => {
            owned = show(v);
            &owned
        }
    };
    let trimmed = s.strip_suffix('.').unwrap_or(s);
    let (mut labels, mut empty, mut long, mut top) = (0, false, None, "");
    for l in trimmed.split('.') {
        labels += 1;
        empty |= l.is_empty();
        if long.is_none() && l.len() > 63 {
            long = Some(l.len());
        }
        top = l;
    }
    let problem = if labels < 2 {
        Some(format!("`{what}:{s}` is not a fully qualified domain"))
    } else if empty {
        Some(format!("`{s}` has an empty label"))
    } else if let Some(len) = long {
        Some(format!("`{s}` has a label of {len} bytes (at most 63)"))
    } else {
        let ok_top = top.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && top.bytes().any(|b| b.is_ascii_alphabetic())
            && !top.starts_with('-')
            && !top.ends_with('-');
        (!ok_top).then(|| format!("`{s}` does not end in a valid top-level label"))
    };
    problem.map(|p| {
        let help = if labels < 2 {
            format!("write a fully qualified name, e.g. `{what}:{s}.example.net`")
        } else {
            "fix the domain name".to_string()
        };
        (
            "SPF038",
            format!("{p}: verifiers return permerror"),
            Some(help),
        )
    })
}

fn parse_cidr(v: &[u8], max: u8) -> Option<u8> {
    if v.is_empty()
        || v.len() > 3
        || !v.iter().all(u8::is_ascii_digit)
        || (v.len() > 1 && v[0] == b'0')
    {
        return None;
    }
    let n: u32 = show(v).parse().ok()?;
    (n <= max as u32).then_some(n as u8)
}

fn parse_ip4(v: &[u8]) -> Option<Ipv4Addr> {
    // Dotted quad only: four decimal octets of one to three digits, no
    // leading zero, at most 255. One pass over the bytes; every ip4 term of
    // the zone comes here, some twice.
    let mut octets = [0u8; 4];
    let mut parts = v.split(|&b| b == b'.');
    for o in &mut octets {
        let p = parts.next()?;
        if p.is_empty() || p.len() > 3 || (p.len() > 1 && p[0] == b'0') {
            return None;
        }
        let mut n = 0u16;
        for &d in p {
            if !d.is_ascii_digit() {
                return None;
            }
            n = n * 10 + u16::from(d - b'0');
        }
        *o = u8::try_from(n).ok()?;
    }
    if parts.next().is_some() {
        return None;
    }
    Some(Ipv4Addr::from(octets))
}

/// A mechanism's `:domain` and `/cidr` parts, borrowed from `rest`.
fn split_arg<'r>(rest: &'r [u8], raw: &[u8]) -> Result<(Option<&'r [u8]>, &'r [u8]), String> {
    match rest.first() {
        Some(b':') => {
            let v = &rest[1..];
            let cut = v.iter().position(|&b| b == b'/').unwrap_or(v.len());
            if cut == 0 {
                return Err(format!(
                    "`{}` has an empty value after `:`: verifiers return permerror",
                    show(raw)
                ));
            }
            Ok((Some(&v[..cut]), &v[cut..]))
        }
        _ => Ok((None, rest)),
    }
}

/// Parses one term (no spaces inside).
pub fn parse_term(raw: &[u8]) -> Kind<'_> {
    let eq = raw.iter().position(|&b| b == b'=');
    let delim = raw.iter().position(|&b| b == b':' || b == b'/');
    if let Some(e) = eq
        && delim.is_none_or(|d| e < d)
    {
        let (name, value) = (&raw[..e], &raw[e + 1..]);
        let (qual, name) = match name.first() {
            Some(b'+' | b'-' | b'~' | b'?') => (true, &name[1..]),
            _ => (false, name),
        };
        let name_ok = name.first().is_some_and(u8::is_ascii_alphabetic)
            && name
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(b));
        if name_ok {
            if qual {
                return bad(
                    "SPF002",
                    format!(
                        "`{}` is a modifier and cannot take a qualifier: verifiers return permerror",
                        show(raw)
                    ),
                    Some(format!("write `{}`", show(&raw[1..]))),
                );
            }
            return Kind::Mod {
                name: show(name).to_ascii_lowercase(),
                value,
            };
        }
    }
    let (qual, body) = match raw.first() {
        Some(&q @ (b'+' | b'-' | b'~' | b'?')) => (q, &raw[1..]),
        _ => (b'+', raw),
    };
    let name_end = body
        .iter()
        .position(|&b| b == b':' || b == b'/')
        .unwrap_or(body.len());
    let rest = &body[name_end..];
    // Compared in place: a lower-cased copy per term showed in the profile.
    let Some(&(name, mech)) = MECHS
        .iter()
        .find(|m| m.0.as_bytes().eq_ignore_ascii_case(&body[..name_end]))
    else {
        let name = show(&body[..name_end]).to_ascii_lowercase();
        let names: Vec<&str> = MECHS
            .iter()
            .map(|m| m.0)
            .chain(["redirect", "exp"])
            .collect();
        let hint = closest(&name, &names).map(|c| format!("did you mean `{c}`?"));
        return bad(
            "SPF002",
            format!(
                "unknown mechanism `{}`: verifiers return permerror",
                show(&body[..name_end])
            ),
            hint,
        );
    };
    match mech {
        Mech::All => {
            if !rest.is_empty() {
                return bad(
                    "SPF002",
                    format!(
                        "`{}`: `all` takes no value: verifiers return permerror",
                        show(raw)
                    ),
                    Some("write `-all` or `~all`".into()),
                );
            }
            Kind::Dir {
                qual,
                mech,
                arg: None,
                net4: None,
                net6: None,
            }
        }
        Mech::Include | Mech::Exists | Mech::Ptr | Mech::A | Mech::Mx => {
            let (arg, cidr) = match split_arg(rest, raw) {
                Ok(x) => x,
                Err(m) => return bad("SPF002", m, None),
            };
            if matches!(mech, Mech::Include | Mech::Exists) && arg.is_none() {
                return bad(
                    "SPF002",
                    format!(
                        "`{}` needs a domain (`{name}:<domain>`): verifiers return permerror",
                        show(raw)
                    ),
                    None,
                );
            }
            if !cidr.is_empty() {
                let ok = matches!(mech, Mech::A | Mech::Mx) && {
                    let c = show(cidr);
                    let (v4, v6) = match c.split_once("//") {
                        Some((a, b)) => (
                            a.strip_prefix('/').unwrap_or(a).to_string(),
                            Some(b.to_string()),
                        ),
                        None => (c.strip_prefix('/').unwrap_or(&c).to_string(), None),
                    };
                    (v4.is_empty() && v6.is_some() || parse_cidr(v4.as_bytes(), 32).is_some())
                        && v6.is_none_or(|b| parse_cidr(b.as_bytes(), 128).is_some())
                };
                if !ok {
                    return bad(
                        "SPF002",
                        format!(
                            "`{}` has a malformed prefix length: verifiers return permerror",
                            show(raw)
                        ),
                        None,
                    );
                }
            }
            if let Some(a) = &arg
                && let Some((id, msg, help)) = check_domain_spec(a, name)
            {
                return bad(id, msg, help);
            }
            Kind::Dir {
                qual,
                mech,
                arg,
                net4: None,
                net6: None,
            }
        }
        Mech::Ip4 | Mech::Ip6 => {
            let v = match rest.first() {
                Some(b':') if rest.len() > 1 => &rest[1..],
                _ => {
                    return bad(
                        "SPF002",
                        format!(
                            "`{}` needs an address (`{name}:<address>`): verifiers return permerror",
                            show(raw)
                        ),
                        None,
                    );
                }
            };
            let (addr, pfx) = match v.iter().position(|&b| b == b'/') {
                Some(p) => (&v[..p], Some(&v[p + 1..])),
                None => (v, None),
            };
            if mech == Mech::Ip4 {
                let id = "SPF003";
                let Some(a) = parse_ip4(addr) else {
                    let why = if show(addr).contains(':') {
                        " (an IPv6 value in ip4:; use ip6:)"
                    } else {
                        ""
                    };
                    return bad(
                        id,
                        format!(
                            "`{}` is not an IPv4 address{why}: verifiers return permerror",
                            show(addr)
                        ),
                        None,
                    );
                };
                let len = match pfx {
                    None => 32,
                    Some(p) => match parse_cidr(p, 32) {
                        Some(l) => l,
                        None => {
                            return bad(
                                id,
                                format!(
                                    "`/{}` is not an IPv4 prefix length (0–32, no leading zero): verifiers return permerror",
                                    show(p)
                                ),
                                None,
                            );
                        }
                    },
                };
                Kind::Dir {
                    qual,
                    mech,
                    arg: None,
                    net4: Some((a, len)),
                    net6: None,
                }
            } else {
                let id = "SPF004";
                let a: Ipv6Addr = match std::str::from_utf8(addr).ok().and_then(|s| s.parse().ok())
                {
                    Some(a) => a,
                    None => {
                        let why = if parse_ip4(addr).is_some() {
                            " (an IPv4 value in ip6:; use ip4:)"
                        } else {
                            ""
                        };
                        return bad(
                            id,
                            format!(
                                "`{}` is not an IPv6 address{why}: verifiers return permerror",
                                show(addr)
                            ),
                            None,
                        );
                    }
                };
                let len = match pfx {
                    None => 128,
                    Some(p) => match parse_cidr(p, 128) {
                        Some(l) => l,
                        None => {
                            return bad(
                                id,
                                format!(
                                    "IPv6 prefix `/{}` is out of range (0–128): verifiers return permerror",
                                    show(p)
                                ),
                                None,
                            );
                        }
                    },
                };
                Kind::Dir {
                    qual,
                    mech,
                    arg: None,
                    net4: None,
                    net6: Some((a, len)),
                }
            }
        }
    }
}

/// Version section of a text: `Some(true)` for a valid `v=spf1`, `Some(false)`
/// for something that tries to be one and fails (SPF027), `None` for other text.
pub(crate) fn version_of(t: &[u8]) -> Option<bool> {
    if t.len() >= 6 && t[..6].eq_ignore_ascii_case(b"v=spf1") {
        return Some(t.len() == 6 || t[6] == b' ');
    }
    // Most TXT records are not SPF at all: answer from the ASCII bytes when
    // they decide it, and take the character view below only when a
    // non-ASCII character comes before the answer.
    let mut seen = 0;
    for &b in t {
        if !b.is_ascii() {
            seen = usize::MAX;
            break;
        }
        // `char::is_whitespace` on ASCII, vertical tab included.
        if matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
            continue;
        }
        if b.to_ascii_lowercase() != b"v=spf"[seen] {
            return None;
        }
        seen += 1;
        if seen == 5 {
            return Some(false);
        }
    }
    if seen != usize::MAX {
        return None;
    }
    version_by_chars(t)
}

/// The character view of a text that is not `v=spf1`: `Some(false)` when
/// it still tries to be SPF (`v=spf` after whitespace is taken out).
fn version_by_chars(t: &[u8]) -> Option<bool> {
    let s: String = show(t)
        .to_ascii_lowercase()
        .chars()
        .filter(|c| !c.is_whitespace())
        .take(6)
        .collect();
    (s.starts_with("v=spf")).then_some(false)
}

/// A TXT is SPF when it starts `v=spf1` then a space or its end (RFC 7208 §4.5).
pub fn is_spf(t: &[u8]) -> bool {
    t.len() >= 6 && t[..6].eq_ignore_ascii_case(b"v=spf1") && (t.len() == 6 || t[6] == b' ')
}

/// Whether an SPF record's text authorises anyone: any term other than
/// `-all`/`~all`. Term by term, stopping at the first that authorises: a
/// term that does not parse stays invalid however the record's strings
/// join, so the whole-record parse would say nothing more.
pub(crate) fn authorises(joined: &[u8]) -> bool {
    terms(joined)
        .into_iter()
        .any(|(_, raw)| match &parse_term(raw) {
            Kind::Dir {
                mech: Mech::All,
                qual,
                ..
            } => *qual == b'+' || *qual == b'?',
            Kind::Dir { .. } => true,
            Kind::Mod { name, .. } => name == "redirect",
            Kind::Bad { .. } => false,
        })
}

/// Splits the terms after the version on single spaces, with their offsets.
pub fn terms(joined: &[u8]) -> SmallVec<[(usize, &[u8]); 8]> {
    let mut v = SmallVec::new();
    let mut i = 6;
    while i < joined.len() {
        if joined[i] == b' ' {
            i += 1;
            continue;
        }
        let end = joined[i..]
            .iter()
            .position(|&b| b == b' ')
            .map_or(joined.len(), |p| i + p);
        v.push((i, &joined[i..end]));
        i = end;
    }
    v
}

fn is_valid(k: &Kind<'_>) -> bool {
    !matches!(k, Kind::Bad { .. })
}

/// Parses a whole record into terms, recognising glued string boundaries
/// (SPF019) and non-space separators (SPF029).
pub fn parse_record<'t>(text: &'t Text<'_>) -> Terms<'t> {
    let strings = text.strings();
    let mut boundaries = Vec::new();
    let mut acc = 0;
    for s in &strings[..strings.len().saturating_sub(1)] {
        acc += s.len();
        boundaries.push(acc);
    }
    terms(text.joined())
        .into_iter()
        .map(|(start, raw)| {
            let mut kind = parse_term(raw);
            if !is_valid(&kind)
                && let Some(&b) = boundaries.iter().find(|&&b| b > start && b < start + raw.len())
            {
                let (l, r) = raw.split_at(b - start);
                if is_valid(&parse_term(l)) && is_valid(&parse_term(r)) {
                    let (si, _) = crate::index::string_at(&strings, b - 1);
                    kind = bad(
                        "SPF019",
                        format!("strings {} and {} join as `{}`: the space between two terms is missing", si + 1, si + 2, show(raw)),
                        Some(format!("add a space at the end of string {}", si + 1)),
                    );
                }
            }
            if !is_valid(&kind) && raw.iter().any(|b| b"\t,;".contains(b)) {
                let parts: Vec<&[u8]> = raw.split(|b| b"\t,;".contains(b)).filter(|p| !p.is_empty()).collect();
                if parts.iter().all(|p| is_valid(&parse_term(p))) {
                    kind = bad("SPF029", format!("terms must be separated by spaces: `{}` is not a term", show(raw)), Some("put one space between terms".into()));
                }
            }
            Term { start, raw, kind }
        })
        .collect()
}

/// What evaluating one record (recursively) costs.
#[derive(Default)]
struct Eval {
    lookups: usize,
    voids: usize,
    /// Out-of-zone include and redirect targets, worded only when a
    /// finding names them (most records have one, and SPF006 is info).
    outside: Vec<Name>,
    loop_chain: Option<Vec<String>>,
}

fn target_name(arg: Option<&[u8]>, domain: &Name) -> Option<Name> {
    // A zone's SPF records include the same few providers over and over,
    // and parsing a name costs thousands of instructions: parsed names are
    // kept per thread (the answer depends on the text alone).
    thread_local! {
        // (foldhash: SipHash over the key was most of a lookup.)
        static PARSED: std::cell::RefCell<foldhash::HashMap<Vec<u8>, Option<Name>>> = std::cell::RefCell::new(foldhash::HashMap::default());
    }
    match arg {
        None => Some(domain.clone()),
        Some(a) if a.contains(&b'%') => None,
        Some(a) => PARSED.with_borrow_mut(|parsed| {
            if let Some(n) = parsed.get(a) {
                return n.clone();
            }
            let s = show(a);
            let s = if s.ends_with('.') { s } else { format!("{s}.") };
            let n = Name::from_ascii(&s).ok();
            if parsed.len() >= 4096 {
                parsed.clear();
            }
            parsed.insert(a.to_vec(), n.clone());
            n
        }),
    }
}

/// The SPF record text at a name, following an in-zone CNAME once or twice.
fn spf_at<'a>(ix: &'a Index<'_>, name: &Name) -> FewTexts<'a> {
    let mut n = name.clone();
    for _ in 0..8 {
        let t: FewTexts<'a> = ix
            .texts(&n)
            .into_iter()
            .filter(|t| t.is(Text::SPF))
            .collect();
        if !t.is_empty() {
            return t;
        }
        match ix.cname(&n).map(|r| &r.rdata) {
            Some(RData::CNAME(c)) if ix.authoritative_for(&c.0) => n = c.0.clone(),
            _ => break,
        }
    }
    FewTexts::new()
}

fn evaluate(ix: &impl Around, domain: &Name, stack: &mut Vec<Name>, ev: &mut Eval, depth: usize) {
    ix.evaluate_at(domain, stack, ev, depth);
}

/// [`evaluate`] of a record already parsed.
fn evaluate_terms(
    ix: &impl Around,
    domain: &Name,
    terms: &[Term<'_>],
    stack: &mut Vec<Name>,
    ev: &mut Eval,
    depth: usize,
) {
    for t in terms {
        match &t.kind {
            Kind::Dir { mech, arg, .. } => {
                let lookup = matches!(
                    mech,
                    Mech::Include | Mech::A | Mech::Mx | Mech::Ptr | Mech::Exists
                );
                if !lookup {
                    continue;
                }
                ev.lookups += 1;
                let Some(target) = target_name(*arg, domain) else {
                    continue;
                };
                if !ix.authoritative_for(&target) {
                    if matches!(mech, Mech::Include) {
                        ev.outside.push(target);
                    }
                    continue;
                }
                match mech {
                    Mech::Include => {
                        if stack.is_empty() {
                            stack.push(domain.clone());
                        }
                        recurse(ix, &target, stack, ev, depth)
                    }
                    Mech::A => ev.voids += !ix.has_address(&target) as usize,
                    Mech::Mx => {
                        ev.voids += (ix.mx_count(&target) == 0) as usize;
                        ev.lookups += 0;
                    }
                    Mech::Exists => ev.voids += !ix.has_a(&target) as usize,
                    _ => {}
                }
            }
            Kind::Mod { name, value } if name == "redirect" => {
                ev.lookups += 1;
                if let Some(target) = target_name(Some(value), domain) {
                    if ix.authoritative_for(&target) {
                        if stack.is_empty() {
                            stack.push(domain.clone());
                        }
                        recurse(ix, &target, stack, ev, depth);
                    } else {
                        ev.outside.push(target);
                    }
                }
            }
            _ => {}
        }
    }
}

fn recurse(ix: &impl Around, target: &Name, stack: &mut Vec<Name>, ev: &mut Eval, depth: usize) {
    if stack.contains(target) {
        if ev.loop_chain.is_none() {
            let mut chain: Vec<String> = stack.iter().map(fqdn).collect();
            chain.push(fqdn(target));
            ev.loop_chain = Some(chain);
        }
        return;
    }
    stack.push(target.clone());
    evaluate(ix, target, stack, ev, depth + 1);
    stack.pop();
}

const POLICY_LABELS: &[&[u8]] = &[b"_dmarc", b"_domainkey", b"_mta-sts", b"_bimi", b"_report"];

pub fn run(ix: &Index<'_>, out: &mut Out) {
    // Owners with SPF, by the index's node id (hashing hickory names cost
    // more than the rest of this loop).
    let mut has_spf = vec![false; ix.node_count()];
    for (owner, idx) in ix.owners() {
        // Everything below is about TXT records or the obsolete type 99.
        // (Of the texts, only SPF, mangled SPF and Sender ID records.)
        let kinds = ix.owner_text_kinds(idx);
        if kinds & (Text::SPF | Text::SPF_MANGLED | Text::SENDER_ID) == 0
            && !ix.owner_may_have(idx, RecordType::from(99u16))
        {
            continue;
        }
        let texts = ix.texts_of(idx);
        let type99 = ix.of_type(idx, RecordType::from(99u16));
        let spf: FewTexts<'_> = texts.iter().filter(|t| t.is(Text::SPF)).collect();
        if !spf.is_empty() {
            has_spf[ix.owner_id(idx) as usize] = true;
        }
        if kinds & (Text::SPF_MANGLED | Text::SENDER_ID) != 0 {
            for t in &texts {
                if t.is(Text::SPF_MANGLED) {
                    let shown = show(&t.joined()[..t.joined().len().min(12)]);
                    out.emit("SPF027", ix.term_span(&t, 0, 7), owner, "TXT", format!("the record starts with `{shown}…` so verifiers treat it as not SPF"))
                        .help("the text must start with exactly `v=spf1` followed by a space, e.g. `v=spf1 mx -all`");
                }
                if t.is(Text::SENDER_ID) {
                    out.emit("SPF031", ix.term_span(&t, 0, 7), owner, "TXT", "Sender ID (`spf2.0/…`) is obsolete (RFC 4406, Historic) and ignored by receivers")
                        .help("remove the `spf2.0/…` record; the `v=spf1` record is what receivers use");
                }
            }
        }
        if spf.len() > 1 {
            let lines: Vec<String> = spf.iter().map(|t| t.record.span.line.to_string()).collect();
            out.emit(
                "SPF001",
                spf[1].record.span,
                owner,
                "TXT",
                format!(
                    "`{}` has {} SPF records (lines {}): verifiers return permerror",
                    fqdn(owner),
                    spf.len(),
                    lines.join(", ")
                ),
            )
            .help("merge them into one `v=spf1 … -all` record")
            .related(spf.iter().map(|t| t.record.span));
        }
        if !type99.is_empty() {
            if spf.is_empty() {
                out.emit("SPF021", type99[0].span, owner, "SPF", "RR type SPF (99) is obsolete and never queried; there is no TXT SPF record here")
                    .help("publish the policy as a TXT record");
            } else {
                out.emit("SPF022", type99[0].span, owner, "SPF", "the obsolete SPF-type (99) record sits beside the TXT SPF record; only the TXT one is used")
                    .help("remove the SPF-type record so the two cannot drift apart");
            }
        }
        if let Some(first) = spf.first() {
            let others: FewTexts<'_> = texts
                .iter()
                .filter(|t| {
                    !t.is(Text::SPF)
                        && version_of(t.joined()).is_none()
                        && looks_like_spf_continuation(t.joined())
                })
                .collect();
            for o in others {
                out.emit("SPF020", o.record.span, owner, "TXT", format!("this TXT record looks like the rest of the SPF record on line {}, but verifiers never join records, so it is ignored", first.record.span.line))
                    .help("put both parts in one TXT record as two quoted strings")
                    .related([first.record.span]);
            }
            // From the index's key (lower case), not the owner's name: on
            // a large zone reading every SPF owner's name was a cache miss.
            let fl = ix.owner_first_label(idx);
            let in_policy = ix.owner_labels(idx).any(|l| POLICY_LABELS.contains(&l))
                || (fl == b"_smtp" && ix.owner_labels(idx).nth(1) == Some(b"_tls".as_slice()));
            if in_policy {
                let parent = if fl == b"_smtp" {
                    owner.base_name().base_name()
                } else {
                    owner.base_name()
                };
                out.emit(
                    "SPF035",
                    first.record.span,
                    owner,
                    "TXT",
                    format!("SPF at `{}` is never evaluated", fqdn(owner)),
                )
                .help(format!(
                    "SPF belongs at the mail domain, e.g. `{}`",
                    fqdn(&parent)
                ));
            }
        }
        for t in &spf {
            // Checked beside the reader already, when that found only info
            // this collector counts. (The read-ahead took the record to be
            // its owner's only SPF record, as it is here.)
            if spf.len() == 1
                && let Some(counts) = ix.spf_read(t.record)
                && out.add_counts(counts)
            {
                continue;
            }
            check_record(ix, out, owner, t, spf.len() == 1);
        }
    }
    // Domains that receive mail should say who sends for them.
    let mut mx_hosts: Vec<Name> = Vec::new();
    let mut seen_hosts: HashSet<Name> = HashSet::new();
    for (owner, idx) in ix.owners() {
        if !ix.owner_may_have(idx, RecordType::MX) {
            continue;
        }
        let mx = ix.mx_of(idx);
        if mx.is_empty() {
            continue;
        }
        let null = mx.iter().all(|m| m.place == MxPlace::Null);
        if !null && !has_spf[ix.owner_id(idx) as usize] && !ix.owner_first_is(idx, First::STAR) {
            out.emit("SPF026", mx[0].record(ix).span, owner, "MX", format!("`{}` receives mail but publishes no SPF record", fqdn(owner)))
                .help("add `TXT \"v=spf1 … -all\"` listing its senders, or `v=spf1 -all` if it sends none");
        }
        for m in mx.iter().filter(|m| m.place == MxPlace::InZone) {
            let host = m.exchange(ix);
            if ix.authoritative_for(host) && seen_hosts.insert((*host).clone()) {
                mx_hosts.push((*host).clone());
            }
        }
    }
    for host in mx_hosts {
        let addrs = ix.addresses(&host);
        if !addrs.is_empty() && spf_at(ix, &host).is_empty() {
            out.emit(
                "SPF039",
                addrs[0].span,
                &host,
                "A",
                format!(
                    "MX host `{}` has no SPF record for the HELO identity",
                    fqdn(&host)
                ),
            )
            .help(format!(
                "publish `{} TXT \"v=spf1 a -all\"` so HELO checks pass",
                fqdn(&host)
            ));
        }
    }
}

fn looks_like_spf_continuation(t: &[u8]) -> bool {
    let first = t.split(|&b| b == b' ').next().unwrap_or_default();
    if first.is_empty() {
        return false;
    }
    match parse_term(first) {
        Kind::Dir { mech, .. } => {
            // A bare `mx` or `a` followed by more terms; longer terms speak for themselves.
            first.len() > 2 || matches!(mech, Mech::Mx | Mech::A) && t.contains(&b' ')
        }
        Kind::Mod { name, .. } => name == "redirect",
        _ => false,
    }
}

fn check_record(ix: &impl Around, out: &mut Out, owner: &Name, t: &Text<'_>, single: bool) {
    let terms = parse_record(t);
    let rtype = "TXT";
    if &t.joined()[..6] != b"v=spf1" {
        out.emit(
            "SPF028",
            ix.term_span(t, 0, 6),
            owner,
            rtype,
            format!(
                "the version tag is written `{}`; some verifiers compare it exactly",
                show(&t.joined()[..6])
            ),
        )
        .help("write the version tag in lower case: `v=spf1`");
    }
    if t.joined().len() > 450 {
        out.emit("SPF017", t.record.span, owner, rtype, format!("the SPF record is {} bytes; answers over 512 bytes need TCP and some verifiers fail", t.joined().len()))
            .help("keep it under 450 bytes by moving ranges into an include");
    }
    if t.string_count() > 1 {
        let full = show(t.joined());
        let preview: String = if full.chars().count() > 80 {
            full.chars().take(79).chain(['…']).collect()
        } else {
            full
        };
        out.emit("SPF018", t.record.span, owner, rtype, format!("the SPF text is in {} strings of one record (valid: they are joined with no separator): `{preview}`", t.string_count()));
    }
    let mut all_seen: Option<&Term> = None;
    let mut redirects = Vec::new();
    let mut exps = Vec::new();
    let mut seen_terms: Vec<&[u8]> = Vec::new();
    for term in &terms {
        // Located only when a finding needs it: most terms are fine.
        let span = || ix.term_span(t, term.start, term.raw.len());
        match &term.kind {
            Kind::Bad { id, msg, help } => {
                let d = out.emit(id, span(), owner, rtype, msg.clone());
                d.term(&t.strings(), term.start, term.raw);
                if let Some(h) = help {
                    d.help(h.clone());
                }
            }
            Kind::Mod { name, value } => match name.as_str() {
                "redirect" => redirects.push(term),
                "exp" => {
                    exps.push(term);
                    if let Some((id, msg, help)) = check_domain_spec(value, "exp") {
                        let d = out.emit(id, span(), owner, rtype, msg);
                        d.term(&t.strings(), term.start, term.raw);
                        if let Some(h) = help {
                            d.help(h);
                        }
                    } else if let Some(target) = target_name(Some(value), owner)
                        && ix.authoritative_for(&target)
                        && ix.text_count(&target) != 1
                    {
                        out.emit(
                            "SPF015",
                            span(),
                            owner,
                            rtype,
                            format!(
                                "`exp={}` has {} TXT records; an explanation needs exactly one",
                                show(value),
                                ix.text_count(&target)
                            ),
                        )
                        .help("publish one explanation string there or drop `exp=`")
                        .term(&t.strings(), term.start, term.raw);
                    }
                }
                other => {
                    let hint = closest(other, &["redirect", "exp"])
                        .map(|c| format!("did you mean `{c}=`?"))
                        .unwrap_or_else(|| {
                            "remove it if it is not meant for a specific verifier".into()
                        });
                    out.emit(
                        "SPF037",
                        span(),
                        owner,
                        rtype,
                        format!("modifier `{other}=` is unknown and ignored"),
                    )
                    .help(hint)
                    .term(&t.strings(), term.start, term.raw);
                }
            },
            Kind::Dir {
                qual,
                mech,
                arg,
                net4,
                net6,
            } => {
                if let Some(a) = all_seen {
                    let what = if *mech == Mech::All {
                        "a second `all`".to_string()
                    } else {
                        format!("`{}`", show(term.raw))
                    };
                    out.emit(
                        "SPF030",
                        span(),
                        owner,
                        rtype,
                        format!(
                            "{what} comes after `{}` and is never evaluated",
                            show(a.raw)
                        ),
                    )
                    .help("move it before `all`, or remove it")
                    .term(&t.strings(), term.start, term.raw);
                }
                if seen_terms.contains(&term.raw) {
                    let extra = if matches!(
                        mech,
                        Mech::Include | Mech::A | Mech::Mx | Mech::Exists | Mech::Ptr
                    ) {
                        " and costs an extra lookup"
                    } else {
                        ""
                    };
                    out.emit(
                        "SPF036",
                        span(),
                        owner,
                        rtype,
                        format!("`{}` appears twice{extra}", show(term.raw)),
                    )
                    .help("remove the repeated term")
                    .term(&t.strings(), term.start, term.raw);
                }
                seen_terms.push(term.raw);
                let pass = *qual == b'+';
                match mech {
                    Mech::All => {
                        all_seen.get_or_insert(term);
                        match qual {
                            b'+' => {
                                out.emit("SPF010", span(), owner, rtype, format!("`{}` authorises every host on the Internet to send as `{}`", show(term.raw), fqdn(owner)))
                                    .help("use `-all` (or `~all` while testing)")
                                    .term(&t.strings(), term.start, term.raw);
                            }
                            b'?' => {
                                out.emit(
                                    "SPF011",
                                    span(),
                                    owner,
                                    rtype,
                                    "`?all` (neutral) gives no protection",
                                )
                                .help("use `~all` or `-all` once all senders are listed")
                                .term(
                                    &t.strings(),
                                    term.start,
                                    term.raw,
                                );
                            }
                            _ => {}
                        }
                    }
                    Mech::Ptr => {
                        out.emit(
                            "SPF009",
                            span(),
                            owner,
                            rtype,
                            "`ptr` is slow, unreliable and deprecated (RFC 7208 §5.5)",
                        )
                        .help("replace it with `ip4:`/`ip6:` or `a`")
                        .term(&t.strings(), term.start, term.raw);
                    }
                    Mech::Ip4 => {
                        if let Some((a, len)) = net4 {
                            net_checks(
                                ix,
                                out,
                                owner,
                                t,
                                term,
                                pass,
                                u32::from(*a) as u128,
                                *len,
                                32,
                                a,
                            );
                        }
                    }
                    Mech::Ip6 => {
                        if let Some((a, len)) = net6 {
                            net_checks(ix, out, owner, t, term, pass, u128::from(*a), *len, 128, a);
                        }
                    }
                    Mech::A | Mech::Mx | Mech::Exists | Mech::Include => {
                        let Some(target) = target_name(*arg, owner) else {
                            continue;
                        };
                        if !ix.authoritative_for(&target) {
                            if out.counted("SPF025") {
                                continue;
                            }
                            out.emit(
                                "SPF025",
                                span(),
                                owner,
                                rtype,
                                format!(
                                    "`{}` names `{}`, outside this zone: not followed offline",
                                    show(term.raw),
                                    fqdn(&target)
                                ),
                            )
                            .term(&t.strings(), term.start, term.raw);
                            continue;
                        }
                        let void = match mech {
                            Mech::A => {
                                (!ix.has_address(&target)).then_some("has no address records")
                            }
                            Mech::Mx => (ix.mx_count(&target) == 0).then_some("has no MX records"),
                            Mech::Exists => (!ix.has_a(&target)).then_some("has no A record"),
                            _ => None,
                        };
                        if let Some(why) = void {
                            out.emit(
                                "SPF007",
                                span(),
                                owner,
                                rtype,
                                format!(
                                    "`{}` matches nothing: `{}` {why} (a void lookup)",
                                    show(term.raw),
                                    fqdn(&target)
                                ),
                            )
                            .help("remove the stale term")
                            .term(&t.strings(), term.start, term.raw);
                        }
                        if *mech == Mech::Mx && ix.mx_count(&target) > 10 {
                            out.emit(
                                "SPF034",
                                span(),
                                owner,
                                rtype,
                                format!(
                                    "`{}` would need {} address lookups (limit 10): permerror",
                                    show(term.raw),
                                    ix.mx_count(&target)
                                ),
                            )
                            .help("list the senders with `ip4:`/`ip6:` instead")
                            .term(&t.strings(), term.start, term.raw);
                        }
                        if *mech == Mech::Include && ix.spf_count(&target) == 0 {
                            out.emit(
                                "SPF023",
                                span(),
                                owner,
                                rtype,
                                format!(
                                    "`{}` names a name with no SPF record: permerror",
                                    show(term.raw)
                                ),
                            )
                            .help("publish an SPF record there or remove the include")
                            .term(&t.strings(), term.start, term.raw);
                        }
                    }
                }
            }
        }
    }
    for (name, list) in [("redirect", &redirects), ("exp", &exps)] {
        if list.len() > 1 {
            let term = list[1];
            out.emit(
                "SPF014",
                ix.term_span(t, term.start, term.raw.len()),
                owner,
                rtype,
                format!("modifier `{name}` appears {} times: permerror", list.len()),
            )
            .help(format!("keep one `{name}=`"))
            .term(&t.strings(), term.start, term.raw);
        }
    }
    if let Some(r) = redirects.first() {
        let span = ix.term_span(t, r.start, r.raw.len());
        if let Kind::Mod { value, .. } = &r.kind {
            if let Some((id, msg, help)) = check_domain_spec(value, "redirect") {
                let d = out.emit(id, span, owner, rtype, msg);
                d.term(&t.strings(), r.start, r.raw);
                if let Some(h) = help {
                    d.help(h);
                }
            } else if let Some(target) = target_name(Some(value), owner) {
                if !ix.authoritative_for(&target) {
                    out.emit(
                        "SPF025",
                        span,
                        owner,
                        rtype,
                        format!(
                            "`redirect={}` is outside this zone: not followed offline",
                            show(value)
                        ),
                    )
                    .term(&t.strings(), r.start, r.raw);
                } else if ix.spf_count(&target) == 0 {
                    out.emit(
                        "SPF023",
                        span,
                        owner,
                        rtype,
                        format!(
                            "`redirect={}` names a name with no SPF record: permerror",
                            show(value)
                        ),
                    )
                    .help("publish an SPF record there or remove the redirect")
                    .term(&t.strings(), r.start, r.raw);
                }
            }
        }
        if let Some(a) = all_seen {
            out.emit(
                "SPF013",
                span,
                owner,
                rtype,
                format!(
                    "`redirect=` is ignored because the record has `{}`",
                    show(a.raw)
                ),
            )
            .help("remove one of them")
            .term(&t.strings(), r.start, r.raw);
        }
    } else if all_seen.is_none() && terms.iter().all(|t| !matches!(t.kind, Kind::Bad { .. })) {
        out.emit(
            "SPF012",
            t.record.span,
            owner,
            rtype,
            "the record has no `all` term, so unlisted senders get neutral",
        )
        .help("append `-all` (or `~all`)");
    }
    // Limits, evaluated through in-zone includes and redirects.
    if single {
        let mut ev = Eval::default();
        // The owner joins the stack only when an in-zone include or
        // redirect is followed (see `evaluate_terms`): cloning its name for
        // every SPF record was a cache miss each on large zones.
        let mut stack = Vec::new();
        // `single`: this is the one SPF record at the owner, which is what
        // evaluating the owner would look up and parse again.
        evaluate_terms(ix, owner, &terms, &mut stack, &mut ev, 0);
        if let Some(chain) = &ev.loop_chain {
            out.emit(
                "SPF024",
                t.record.span,
                owner,
                rtype,
                format!("include loop `{}`: permerror", chain.join(" → ")),
            )
            .help("remove the include that points back");
        }
        let lower_bound = if ev.outside.is_empty() {
            ""
        } else {
            "at least "
        };
        if ev.lookups > 10 {
            out.emit("SPF005", t.record.span, owner, rtype, format!("evaluating SPF for `{}` needs {lower_bound}{} DNS lookups (limit 10): permerror", fqdn(owner), ev.lookups))
                .help("flatten includes or drop unused ones");
        } else if !ev.outside.is_empty() && !out.counted("SPF006") {
            out.emit(
                "SPF006",
                t.record.span,
                owner,
                rtype,
                format!(
                    "at least {} lookup{}; out-of-zone includes were not expanded ({})",
                    ev.lookups,
                    if ev.lookups == 1 { "" } else { "s" },
                    ev.outside.iter().map(fqdn).collect::<Vec<_>>().join(", ")
                ),
            );
        }
        if ev.voids > 2 {
            out.emit(
                "SPF008",
                t.record.span,
                owner,
                rtype,
                format!(
                    "{} lookup terms return nothing (limit 2); many verifiers return permerror",
                    ev.voids
                ),
            )
            .help("remove the stale terms");
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn net_checks(
    ix: &impl Around,
    out: &mut Out,
    owner: &Name,
    t: &Text<'_>,
    term: &Term,
    pass: bool,
    addr: u128,
    len: u8,
    bits: u8,
    shown: &dyn std::fmt::Display,
) {
    // Located and printed only for a finding: most networks are fine.
    let span = || ix.term_span(t, term.start, term.raw.len());
    let host_mask: u128 = if len >= bits {
        0
    } else {
        (1u128 << (bits - len)) - 1
    };
    if pass && len == 0 {
        out.emit(
            "SPF010",
            span(),
            owner,
            "TXT",
            format!(
                "`{}` authorises every address on the Internet",
                show(term.raw)
            ),
        )
        .help("list the real sending networks")
        .term(&t.strings(), term.start, term.raw);
        return;
    }
    if addr & host_mask != 0 {
        out.emit(
            "SPF032",
            span(),
            owner,
            "TXT",
            format!("`{shown}/{len}` has host bits set; it covers the whole /{len} network"),
        )
        .help(format!("did you mean `/{bits}`?"))
        .term(&t.strings(), term.start, term.raw);
    }
    let broad = if bits == 32 {
        (1..=15).contains(&len)
    } else {
        (1..=31).contains(&len)
    };
    if pass && broad {
        let count = if bits == 32 {
            format!("{} addresses", 1u64 << (32 - len))
        } else {
            format!("a /{len} network")
        };
        out.emit(
            "SPF033",
            span(),
            owner,
            "TXT",
            format!("`{}` authorises {count}", show(term.raw)),
        )
        .help("list the sending hosts or a narrow network")
        .term(&t.strings(), term.start, term.raw);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SPF records read ahead beside the reader count what the family's
    /// own check of them counts: over a zone of SPF shapes, the family
    /// finds and counts the same with the read-ahead as without, whether
    /// every info id is counted or one is kept in full. Records whose
    /// checks ask about the zone's own names, or find more than info, are
    /// left to the family.
    #[test]
    fn read_ahead_counts_what_the_record_checks_count() {
        let zone = "$TTL 300\n@ SOA ns h 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n\
            a TXT \"v=spf1 ip4:192.0.2.1 include:_spf.example.net ~all\"\n\
            b TXT \"v=spf1 include:_spf.example.test -all\"\n\
            _spf TXT \"v=spf1 ip4:192.0.2.9 -all\"\n\
            c TXT \"v=spf1 a mx -all\"\nc A 192.0.2.3\n\
            d TXT \"v=spf1 ip4:192.0.2.1\"\n\
            e TXT \"v=spf1 \" \"ip4:192.0.2.1 include:x.example.net -all\"\n\
            f TXT \"v=spf1 redirect=_spf.example.net\"\n\
            g TXT \"v=spf1 include:a.example.net include:b.example.net include:c.example.net include:d.example.net include:e.example.net include:f.example.net include:g.example.net include:h.example.net include:i.example.net include:j.example.net include:k.example.net -all\"\n\
            h TXT \"v=spf1 ip4:192.0.2.1 -all\"\nh TXT \"v=spf1 include:y.example.net -all\"\n\
            i TXT \"v=spf1 exists:%{i}.example.net -all\"\n\
            j TXT \"V=SPF1 include:z.example.net -all\"\n\
            k TXT \"v=spf1 ip4:192.0.2.300 -all\"\n\
            l TXT \"v=spf1 include:other.example.net exp=explain.example.net -all\"\n\
            m MX 10 mx.example.net.\nm TXT \"v=spf1 mx:example.test ip6:2001:db8::/32 -all\"\n";
        let origin = Name::from_ascii("example.test.").unwrap();
        let r = crate::checks::read_test_zone(&origin, zone);
        let run_with = |ix: &Index<'_>, keep: &[&str]| {
            let mut out = Out::counting_every_info();
            if let Some(t) = &mut out.tally {
                t.keep = keep.iter().map(|k| k.to_string()).collect();
            }
            run(ix, &mut out);
            let mut diags: Vec<(&str, u32)> =
                out.diags.iter().map(|d| (d.id, d.span.line)).collect();
            diags.sort();
            let mut counts = out.take_counts();
            counts.sort();
            (diags, counts)
        };
        let plain = Index::new(&r.zone);
        let streamed = crate::checks::index_streamed(
            &r.zone,
            crate::checks::NameStream::on_thread(&origin, 0),
        );
        let decided: Vec<String> = r
            .zone
            .records
            .iter()
            .filter(|rec| streamed.spf_read(rec).is_some())
            .map(|rec| rec.owner.to_ascii())
            .collect();
        assert_eq!(
            decided,
            [
                "a.example.test.",
                "_spf.example.test.",
                "e.example.test.",
                "f.example.test.",
                "h.example.test.",
                "h.example.test.",
                "i.example.test.",
                "l.example.test.",
            ],
            "{decided:?}"
        );
        for keep in [&[][..], &["SPF025"][..]] {
            let want = run_with(&plain, keep);
            assert_eq!(run_with(&streamed, keep), want, "keeping {keep:?}");
            assert!(!want.1.is_empty() && !want.0.is_empty(), "{want:?}");
        }
    }

    /// The one-pass `parse_ip4` against the rule it implements, written the
    /// slow way (split, check each part, then the standard parser), over
    /// every text of up to seven characters from the bytes that matter, and
    /// over addresses at the edges.
    #[test]
    fn ip4_parser_agrees_with_the_rule() {
        fn by_rule(v: &[u8]) -> Option<Ipv4Addr> {
            let s = std::str::from_utf8(v).ok()?;
            let parts: Vec<&str> = s.split('.').collect();
            if parts.len() != 4
                || parts.iter().any(|p| {
                    p.is_empty()
                        || p.len() > 3
                        || (p.len() > 1 && p.starts_with('0'))
                        || !p.bytes().all(|b| b.is_ascii_digit())
                })
            {
                return None;
            }
            s.parse().ok()
        }
        let alphabet = b"0129.a/";
        let mut checked = 0;
        let mut text = Vec::new();
        for len in 0..=7u32 {
            for mut k in 0..alphabet.len().pow(len) {
                text.clear();
                for _ in 0..len {
                    text.push(alphabet[k % alphabet.len()]);
                    k /= alphabet.len();
                }
                assert_eq!(parse_ip4(&text), by_rule(&text), "{}", show(&text));
                checked += 1;
            }
        }
        for t in [
            "255.255.255.255",
            "256.1.1.1",
            "1.1.1.256",
            "0.0.0.0",
            "00.0.0.0",
            "1.2.3.04",
            "1.2.3.4.",
            ".1.2.3.4",
            "1.2.3",
            "1.2.3.4.5",
            "999.1.1.1",
            "1.2.3.4 ",
            "١.2.3.4",
            "198.51.100.17",
            "1.2.3.1000",
            "01.2.3.4",
            "1.2.3.00",
            "1.2.3.09",
            "10.0.0.1",
        ] {
            assert_eq!(parse_ip4(t.as_bytes()), by_rule(t.as_bytes()), "{t}");
        }
        assert!(checked > 900_000, "{checked}");
    }

    fn ok(t: &str) -> bool {
        is_valid(&parse_term(t.as_bytes()))
    }

    #[test]
    fn terms_that_verifiers_accept() {
        for t in [
            "mx",
            "-all",
            "~all",
            "?all",
            "+all",
            "a",
            "a/24",
            "a:mail.example.com/24//64",
            "mx//64",
            "ip4:192.0.2.0/24",
            "ip6:2001:db8::/32",
            "include:_spf.example.net",
            "exists:%{i}._spf.%{d}",
            "ptr",
            "ptr:example.com",
            "redirect=_spf.example.com",
            "exp=explain.%{d}",
            "MX",
            "IP4:192.0.2.1",
            "-ALL",
            "foo=bar",
        ] {
            assert!(ok(t), "{t}");
        }
    }

    /// `version_of` answers from bytes where it can; it must agree with the
    /// plain character view on every text, non-ASCII whitespace included.
    #[test]
    fn version_of_agrees_with_the_character_view() {
        fn reference(t: &[u8]) -> Option<bool> {
            if t.len() >= 6 && t[..6].eq_ignore_ascii_case(b"v=spf1") {
                return Some(t.len() == 6 || t[6] == b' ');
            }
            version_by_chars(t)
        }
        let alphabet: [&[u8]; 12] = [
            b"v",
            b"V",
            b"=",
            b"s",
            b"P",
            b"f",
            b"1",
            b" ",
            b"\x0b",
            b"\t",
            "\u{a0}".as_bytes(),
            b"\xff",
        ];
        crate::checks::for_each_text(&alphabet, 6, |t| {
            assert_eq!(version_of(t), reference(t), "{:?}", show(t));
            assert_eq!(is_spf(t), reference(t) == Some(true), "{:?}", show(t));
        });
    }

    #[test]
    fn terms_that_fail() {
        for (t, id) in [
            ("inlcude:x.example", "SPF002"),
            ("ip:1.2.3.4", "SPF002"),
            ("all:x", "SPF002"),
            ("include:", "SPF002"),
            ("-redirect=x.example", "SPF002"),
            ("ip4:192.0.2.300", "SPF003"),
            ("ip4:192.0.2.0/33", "SPF003"),
            ("ip4:192.0.2.0/024", "SPF003"),
            ("ip4:2001:db8::1", "SPF003"),
            ("ip6:2001:db8::/129", "SPF004"),
            ("ip6:192.0.2.1", "SPF004"),
            ("exists:%{x}.example.com", "SPF016"),
            ("include:spf", "SPF038"),
            ("a:%{c}.example.com", "SPF016"),
        ] {
            match parse_term(t.as_bytes()) {
                Kind::Bad { id: got, .. } => assert_eq!(got, id, "{t}"),
                other => panic!("{t} parsed as {other:?}"),
            }
        }
    }
}
