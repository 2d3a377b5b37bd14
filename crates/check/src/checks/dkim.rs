//! DKIM key records (RFC 6376 §3.6, RFC 8301, RFC 8463): where they live, the
//! tag-list, and the key itself — its encoding, type and size — decoded with
//! the RustCrypto `rsa` crate's DER readers.

use super::spf::Counts;
use super::{Out, closest, fqdn};
use crate::index::{FewTexts, Index, Text};
use data_encoding::BASE64;
use hickory_proto::rr::{Name, RData, RecordType};
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::DecodePrivateKey;
use smallvec::SmallVec;
use std::borrow::Cow;

/// A parsed tag=value list (RFC 6376 §3.2), with byte offsets of each tag.
/// Names and values borrow the record's text when it is UTF-8 (nearly
/// always); every DKIM, DMARC and policy record is parsed this way, and a
/// String per tag showed in the profile of large zones.
pub struct Tags<'a> {
    /// Inline up to eight: DKIM and DMARC records rarely have more tags.
    pub tags: SmallVec<[Tag<'a>; 8]>,
    pub error: Option<(String, usize)>,
}

/// A tag's name, value and byte offset.
pub type Tag<'a> = (Cow<'a, str>, Cow<'a, str>, usize);

impl Tags<'_> {
    pub fn get(&self, k: &str) -> Option<&str> {
        self.tags.iter().find(|t| t.0 == k).map(|t| &*t.1)
    }
    pub fn pos(&self, k: &str) -> Option<usize> {
        self.tags.iter().find(|t| t.0 == k).map(|t| t.2)
    }
}

/// Parses `tag=value; tag=value`, case-sensitive tag names, folding whitespace.
pub fn tag_list(text: &[u8]) -> Tags<'_> {
    match text_str(text) {
        Cow::Borrowed(s) => split_tags(s, Cow::Borrowed),
        Cow::Owned(s) => split_tags(&s, |x| Cow::Owned(x.to_string())),
    }
}

/// The first value of each tag in `keys`, as [`Tags::get`] finds them, in
/// one pass and without building the list (asked of every DMARC record
/// and of every TXT record that might be a DKIM key).
pub fn tag_values<'a, const N: usize>(text: &'a str, keys: [&str; N]) -> [Option<&'a str>; N] {
    let mut found = [None; N];
    for (_, part) in parts(text) {
        let Some((name, v)) = split_eq(part) else {
            continue;
        };
        let name = name.trim();
        if let Some(i) = keys.iter().position(|&k| k == name)
            && found[i].is_none()
        {
            found[i] = Some(v.trim());
        }
    }
    found
}

/// The `;`-separated parts of a tag list, each with its byte offset. A byte
/// scan: `str::split`'s pattern machinery cost more than the rest of the
/// parse, and every DMARC record is read this way several times.
fn parts(s: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut from = Some(0);
    std::iter::from_fn(move || {
        let here = from?;
        let rest = &s[here..];
        Some(match memchr::memchr(b';', rest.as_bytes()) {
            Some(i) => {
                from = Some(here + i + 1);
                (here, &rest[..i])
            }
            None => {
                from = None;
                (here, rest)
            }
        })
    })
}

/// `part.split_once('=')`, by byte.
fn split_eq(part: &str) -> Option<(&str, &str)> {
    let i = memchr::memchr(b'=', part.as_bytes())?;
    Some((&part[..i], &part[i + 1..]))
}

/// A record's text as `str`: borrowed when it is UTF-8, as tag lists read it.
pub fn text_str(text: &[u8]) -> Cow<'_, str> {
    // `from_utf8` first: the lossy decoder's own validation is slower.
    match std::str::from_utf8(text) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(text),
    }
}

/// The tags of `s`, their names and values made by `conv` (borrowed, or
/// copied out of a text that had to be repaired first).
fn split_tags<'s, 'a>(s: &'s str, conv: impl Fn(&'s str) -> Cow<'a, str>) -> Tags<'a> {
    let mut tags = SmallVec::new();
    let mut error = None;
    for (here, part) in parts(s) {
        if part.trim().is_empty() {
            continue;
        }
        let lead = part.len() - part.trim_start().len();
        match split_eq(part) {
            Some((k, v)) => {
                let k = k.trim();
                if k.is_empty()
                    || !k.bytes().next().unwrap().is_ascii_alphabetic()
                    || !k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                {
                    error.get_or_insert((format!("`{}` is not a valid tag name", k), here + lead));
                }
                tags.push((conv(k), conv(v.trim()), here + lead));
            }
            None => {
                error.get_or_insert((format!("`{}` is not `tag=value`", part.trim()), here + lead));
            }
        }
    }
    Tags { tags, error }
}

/// Whether a tag named by the letter `k` can be in the list: some `k` followed
/// by `=`, with only whitespace (ASCII, or any non-ASCII byte, to be safe)
/// between. A `false` is certain and skips parsing the many TXT records
/// (SPF, DMARC, free text) that are asked whether they are DKIM keys.
fn may_have_tag(t: &[u8], k: u8) -> bool {
    // memchr: every TXT record of a zone is asked, most have no such tag,
    // and a byte-at-a-time scan was a twentieth of the DKIM checks' time.
    memchr::memchr_iter(k, t).any(|i| {
        t[i + 1..]
            .iter()
            .find(|&&c| !(c.is_ascii_whitespace() || c == 0x0b || c >= 0x80))
            == Some(&b'=')
    })
}

pub(crate) fn is_dkim_text(t: &[u8]) -> bool {
    if t.starts_with(b"v=DKIM1") {
        return true;
    }
    if !may_have_tag(t, b'p') {
        return false;
    }
    // A record that opens with another version (every DMARC record) is a
    // key only with `k=`; most have none, and then need no parsing.
    if let Some(rest) = t.strip_prefix(b"v=")
        && !may_have_tag(t, b'k')
        && let Ok(v) = std::str::from_utf8(rest.split(|&b| b == b';').next().unwrap_or(rest))
        && !v.trim().eq_ignore_ascii_case("DKIM1")
    {
        return false;
    }
    let text = text_str(t);
    let [p, k, v] = tag_values(&text, ["p", "k", "v"]);
    p.is_some() && (k.is_some() || v.is_some_and(|v| v.eq_ignore_ascii_case("DKIM1")))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KeyKind {
    Rsa(usize),
    Ed25519,
    Private,
    NotA(&'static str, usize),
}

fn classify_key(der: &[u8], k: &str) -> KeyKind {
    // An RSA public key never also reads as a private key (a
    // SubjectPublicKeyInfo opens with a SEQUENCE where PKCS#8 has its
    // version INTEGER; PKCS#1 public keys have two INTEGERs, private ones
    // nine), so the usual case skips the private probes.
    if k != "ed25519"
        && let Some(bits) = rsa_bits(der)
    {
        return KeyKind::Rsa(bits);
    }
    if rsa::RsaPrivateKey::from_pkcs8_der(der).is_ok()
        || rsa::RsaPrivateKey::from_pkcs1_der(der).is_ok()
        || is_pkcs8_private(der)
    {
        return KeyKind::Private;
    }
    match k {
        "ed25519" => {
            if der.len() == 32 {
                KeyKind::Ed25519
            } else {
                KeyKind::NotA("ed25519", der.len())
            }
        }
        _ => KeyKind::NotA("RSA", der.len()),
    }
}

/// Modulus size of an RSA public key, DER SubjectPublicKeyInfo or PKCS#1.
/// Read from the DER structures directly: the `rsa` crate's key type refuses
/// moduli over 4096 bits, which are exactly the ones DKIM009 must measure.
fn rsa_bits(der: &[u8]) -> Option<usize> {
    const RSA_ENCRYPTION: rsa::pkcs8::ObjectIdentifier =
        rsa::pkcs8::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
    let inner = match rsa::pkcs8::SubjectPublicKeyInfoRef::try_from(der) {
        Ok(spki) if spki.algorithm.oid == RSA_ENCRYPTION => spki.subject_public_key.raw_bytes(),
        Ok(_) => return None,
        Err(_) => der,
    };
    let key = <rsa::pkcs1::RsaPublicKey<'_> as rsa::pkcs1::der::Decode>::from_der(inner).ok()?;
    let n = key.modulus.as_bytes();
    let n = &n[n.iter().position(|&b| b != 0)?..];
    Some(n.len() * 8 - n[0].leading_zeros() as usize)
}

/// A PKCS#8 private key of any algorithm (an ed25519 one is not an RSA key).
fn is_pkcs8_private(der: &[u8]) -> bool {
    rsa::pkcs8::PrivateKeyInfo::try_from(der).is_ok()
}

pub fn run(ix: &Index<'_>, out: &mut Out) {
    for (owner, idx) in ix.owners() {
        // Every check below is about a TXT key or a selector CNAME.
        if !ix.owner_may_have(idx, RecordType::TXT) && !ix.owner_may_have(idx, RecordType::CNAME) {
            continue;
        }
        let dk = ix.owner_label_position(idx, b"_domainkey");
        // Away from `_domainkey`, only keys are findings.
        if dk.is_none() && ix.owner_text_kinds(idx) & Text::DKIM == 0 {
            continue;
        }
        let texts = ix.texts_of(idx);
        // DomainKeys policy at _domainkey.<domain>.
        if dk == Some(0) {
            for t in &texts {
                let tl = tag_list(t.joined());
                if tl.get("o").is_some() && tl.get("p").is_none() {
                    out.emit(
                        "DKIM019",
                        t.record.span,
                        owner,
                        "TXT",
                        "DomainKeys (RFC 4870, Historic) policy records are obsolete",
                    )
                    .help("remove it; DMARC replaces it");
                }
            }
        }
        let keys: FewTexts<'_> = texts.iter().filter(|t| t.is(Text::DKIM)).collect();
        if dk.is_none_or(|p| p == 0) {
            for t in &keys {
                let domain = if dk == Some(0) {
                    owner.base_name()
                } else {
                    owner.clone()
                };
                out.emit("DKIM001", t.record.span, owner, "TXT", format!("a DKIM key record at `{}` is never looked up: keys live at `<selector>._domainkey.{}`", fqdn(owner), fqdn(&domain)))
                    .help(format!("move it to e.g. `{}`", fqdn(&super::child("sel._domainkey", &domain).unwrap_or(domain.clone()))));
            }
            continue;
        }
        if let Some(c) = ix.of_type(idx, RecordType::CNAME).first()
            && let RData::CNAME(target) = &c.rdata
            && !ix.authoritative_for(&target.0)
        {
            out.emit(
                "DKIM020",
                c.span,
                owner,
                "CNAME",
                format!(
                    "the key for selector `{}` is hosted outside the zone at `{}`: not verified",
                    fqdn(owner),
                    fqdn(&target.0)
                ),
            );
        }
        if let Some(second) = texts.iter().nth(1)
            && !keys.is_empty()
        {
            out.emit(
                "DKIM015",
                second.record.span,
                owner,
                "TXT",
                format!(
                    "selector `{}` has {} TXT records; verifiers get an undefined result",
                    fqdn(owner),
                    texts.len()
                ),
            )
            .help("put the key in ONE record made of several quoted strings")
            .related(texts.iter().map(|t| t.record.span));
        }
        for t in keys {
            // Counted instead of checked again when the key's own checks,
            // run while the zone was read, found only info this collector
            // counts.
            if let Some(counts) = ix.dkim_read(t.record)
                && out.add_counts(counts)
            {
                continue;
            }
            check_key(ix, out, owner, &t);
        }
    }
}

/// What a key's own checks ask of the zone: where a term of its text is,
/// and what its `p=` holds (when that was worked out already).
pub(crate) trait KeyContext {
    fn term_span(&self, t: &Text<'_>, off: usize, len: usize) -> mailzone_zone::Span;
    fn verdict_of(&self, t: &Text<'_>) -> Option<Verdict>;
}

impl KeyContext for Index<'_> {
    fn term_span(&self, t: &Text<'_>, off: usize, len: usize) -> mailzone_zone::Span {
        Index::term_span(self, t, off, len)
    }
    fn verdict_of(&self, t: &Text<'_>) -> Option<Verdict> {
        self.dkim_verdict(t.record)
    }
}

/// A key read on the names thread, its verdict known: its findings are
/// only counted, so where they are does not matter.
struct Reading(Verdict);

impl KeyContext for Reading {
    fn term_span(&self, _: &Text<'_>, _: usize, _: usize) -> mailzone_zone::Span {
        mailzone_zone::Span::default()
    }
    fn verdict_of(&self, _: &Text<'_>) -> Option<Verdict> {
        Some(self.0)
    }
}

/// What a key record's `p=` holds and, when its own checks (the family's
/// code, run here on the names thread) find only info, the info counted
/// by id: the family counts those instead of checking the key again.
pub(crate) fn read_ahead(origin: &Name, t: &Text<'_>) -> (Verdict, Option<Counts>) {
    let v = verdict(&tag_list(t.joined()));
    let mut out = Out::counting_every_info();
    // The origin stands in for the owner: only the findings' words use it.
    check_key(&Reading(v), &mut out, origin, t);
    let counts = out.diags.is_empty().then(|| {
        out.take_counts()
            .into_iter()
            .map(|(id, n)| (id, n as u32))
            .collect()
    });
    (v, counts)
}

/// What a key record's `p=` holds: the part of its checks that costs
/// (base64 and DER), worked out from the tag list alone so that it can be
/// done while the zone is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    NoKey,
    /// `p=` empty: revoked.
    Empty,
    /// Not base64: where, and the character there.
    BadBase64(usize, char),
    Key(KeyKind),
}

pub(crate) fn verdict(tl: &Tags<'_>) -> Verdict {
    let Some(p) = tl.get("p") else {
        return Verdict::NoKey;
    };
    let k = tl.get("k").unwrap_or("rsa");
    // A key written in one string has nothing to strip; copy only when there is.
    // (A fold, which vectorises, over a key of hundreds of bytes.)
    let clean: Cow<'_, str> = if p.bytes().fold(true, |ok, b| ok & b.is_ascii_graphic()) {
        Cow::Borrowed(p)
    } else {
        Cow::Owned(p.chars().filter(|c| !c.is_whitespace()).collect())
    };
    if clean.is_empty() {
        return Verdict::Empty;
    }
    match BASE64.decode(clean.as_bytes()) {
        Ok(der) => Verdict::Key(classify_key(&der, k)),
        Err(e) => Verdict::BadBase64(e.position, clean.chars().nth(e.position).unwrap_or('?')),
    }
}

fn check_key(ix: &impl KeyContext, out: &mut Out, owner: &Name, t: &Text<'_>) {
    let tl = tag_list(t.joined());
    let at = |out: &mut Out, id: &'static str, pos: usize, len: usize, msg: String| {
        let span = ix.term_span(t, pos, len);
        let end = (pos + len).min(t.joined().len());
        let d = out.emit(id, span, owner, "TXT", msg);
        d.term(&t.strings(), pos, &t.joined()[pos..end]);
    };
    if t.string_count() > 1 && !out.counted("DKIM016") {
        out.emit(
            "DKIM016",
            t.record.span,
            owner,
            "TXT",
            format!(
                "the key text is in {} strings of one record (valid: joined with no separator)",
                t.string_count()
            ),
        );
    }
    if let Some((msg, pos)) = &tl.error {
        at(
            out,
            "DKIM017",
            *pos,
            1,
            format!("tag-list syntax error: {msg}; the whole record is invalid"),
        );
        return;
    }
    let mut seen = Vec::new();
    for (k, _, pos) in &tl.tags {
        if seen.contains(&&**k) {
            at(
                out,
                "DKIM017",
                *pos,
                k.len(),
                format!("tag `{k}` appears twice, which makes the whole record invalid"),
            );
            return;
        }
        seen.push(k);
    }
    if let Some(v) = tl.get("v")
        && (tl.tags[0].0 != "v" || v != "DKIM1")
    {
        let pos = tl.pos("v").unwrap_or(0);
        at(
            out,
            "DKIM002",
            pos,
            2 + v.len(),
            "`v=DKIM1` must be the first tag (exactly `DKIM1`): verifiers discard this key".into(),
        );
    }
    for (k, _, pos) in &tl.tags {
        if !["v", "h", "k", "n", "p", "s", "t"].contains(&&**k) {
            let hint = if k == "g" {
                " (`g=` was removed in RFC 6376)".to_string()
            } else {
                closest(k, &["v", "h", "k", "n", "p", "s", "t"])
                    .map(|c| format!("; did you mean `{c}`?"))
                    .unwrap_or_default()
            };
            at(
                out,
                "DKIM018",
                *pos,
                k.len(),
                format!("unknown tag `{k}=` is ignored{hint}"),
            );
        }
    }
    let k = tl.get("k").unwrap_or("rsa");
    if k != "rsa" && k != "ed25519" {
        let pos = tl.pos("k").unwrap_or(0);
        at(
            out,
            "DKIM010",
            pos,
            2 + k.len(),
            format!("key type `{k}` is not defined for DKIM: verifiers ignore this key"),
        );
        out.last().help("use `k=rsa` or `k=ed25519`");
    }
    if let Some(h) = tl.get("h") {
        let algs: Vec<&str> = h.split(':').map(str::trim).collect();
        let pos = tl.pos("h").unwrap_or(0);
        if !algs.contains(&"sha256") {
            at(
                out,
                "DKIM011",
                pos,
                2 + h.len(),
                format!(
                    "`h={h}` lists no hash modern verifiers accept (rsa-sha1 MUST NOT be used, RFC 8301)"
                ),
            );
            out.last().help("use `h=sha256` or drop `h=`");
        } else if algs.contains(&"sha1") {
            at(
                out,
                "DKIM012",
                pos,
                2 + h.len(),
                format!("`h={h}` still lists sha1"),
            );
            out.last().help("remove `sha1` from `h=`");
        }
    }
    if let Some(s) = tl.get("s")
        && !s
            .split(':')
            .map(str::trim)
            .any(|x| x == "*" || x == "email")
    {
        let pos = tl.pos("s").unwrap_or(0);
        at(
            out,
            "DKIM014",
            pos,
            2 + s.len(),
            format!("`s={s}` excludes email, so the key is unusable for mail signatures"),
        );
    }
    if let Some(tf) = tl.get("t") {
        let flags: Vec<&str> = tf.split(':').map(str::trim).collect();
        let pos = tl.pos("t").unwrap_or(0);
        if flags.contains(&"y") {
            at(
                out,
                "DKIM013",
                pos,
                2 + tf.len(),
                "the selector is in test mode (`t=y`)".into(),
            );
            out.last().help("remove `t=y` when testing is done");
        }
        if flags.contains(&"s") {
            at(
                out,
                "DKIM022",
                pos,
                2 + tf.len(),
                "strict mode (`t=s`): signatures whose i= is a subdomain of d= fail".into(),
            );
        }
    }
    if tl.get("p").is_none() {
        out.emit(
            "DKIM003",
            t.record.span,
            owner,
            "TXT",
            "the key record has no `p=` tag",
        )
        .help("add the public key as `p=<base64>`");
        return;
    }
    let ppos = tl.pos("p").unwrap_or(0);
    let kind = match ix.verdict_of(t).unwrap_or_else(|| verdict(&tl)) {
        Verdict::Key(kind) => kind,
        // Not reached: `p=` is there.
        Verdict::NoKey => return,
        Verdict::Empty => {
            at(
                out,
                "DKIM004",
                ppos,
                2,
                format!(
                    "selector `{}` is revoked (`p=` is empty): mail signed with it fails DKIM",
                    fqdn(owner)
                ),
            );
            return;
        }
        Verdict::BadBase64(position, bad) => {
            at(
                out,
                "DKIM005",
                ppos,
                2,
                format!("`p=` is not valid base64: `{bad}` at offset {position} of the key"),
            );
            return;
        }
    };
    match kind {
        KeyKind::Private => {
            at(out, "DKIM021", ppos, 2, "`p=` holds a PRIVATE key".into());
            out.last()
                .help("remove it now, rotate the key, and publish only the public part");
        }
        KeyKind::NotA(what, len) => {
            at(
                out,
                "DKIM006",
                ppos,
                2,
                format!(
                    "`p=` is not a valid {what} public key (decodes to {len} bytes{})",
                    if what == "ed25519" {
                        ", expected 32"
                    } else {
                        ""
                    }
                ),
            );
            if what == "ed25519" && len == 44 {
                out.last().help(
                    "publish the bare 32-byte key (RFC 8463), not the SubjectPublicKeyInfo wrapper",
                );
            }
        }
        KeyKind::Ed25519 => {}
        KeyKind::Rsa(bits) => {
            if bits < 1024 {
                at(
                    out,
                    "DKIM007",
                    ppos,
                    2,
                    format!(
                        "this RSA key is {bits} bits; verifiers reject keys under 1024 bits (RFC 8301)"
                    ),
                );
                out.last().help("publish a 2048-bit key");
            } else if bits < 2048 {
                at(
                    out,
                    "DKIM008",
                    ppos,
                    2,
                    format!("{bits}-bit RSA key; signers SHOULD use at least 2048 bits (RFC 8301)"),
                );
                out.last().help("rotate to a 2048-bit key");
            } else if bits > 4096 {
                at(
                    out,
                    "DKIM009",
                    ppos,
                    2,
                    format!("{bits}-bit RSA key; verifiers need only handle up to 4096 bits"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The quick test may let through lists without the tag, never drop one
    /// with it; a single tag's value is the one the list gives.
    #[test]
    fn quick_tag_tests_agree_with_the_tag_list() {
        let alphabet: [&[u8]; 10] = [
            b"p",
            b"=",
            b";",
            b" ",
            b"\t",
            b"k",
            "\u{a0}".as_bytes(),
            b"\xff",
            b"v",
            b"\x0b",
        ];
        let (mut with, mut skipped) = (0, 0);
        crate::checks::for_each_text(&alphabet, 6, |t| {
            let tl = tag_list(t);
            let has = tl.get("p").is_some();
            let keys = ["p", "k", "v"];
            let text = text_str(t);
            let quick = tag_values(&text, keys);
            for (k, q) in keys.iter().zip(quick) {
                assert_eq!(q, tl.get(k), "{:?}", String::from_utf8_lossy(t));
            }
            let may = may_have_tag(t, b'p');
            assert!(may || !has, "{:?}", String::from_utf8_lossy(t));
            with += has as usize;
            skipped += !may as usize;
        });
        // Both sides were exercised.
        assert!(with > 1000 && skipped > 1000, "{with} {skipped}");
    }

    /// Keys read while the zone is read (both ways) come out as the DKIM
    /// checks would work them out, for every kind of verdict; other texts
    /// are left to the checks.
    #[test]
    fn verdicts_read_beside_the_reader_are_the_checks_own() {
        use crate::checks::NameStream;
        let fixtures = [
            include_str!("../../../../tests/checks/DKIM004.pos.zone"),
            include_str!("../../../../tests/checks/DKIM005.pos.zone"),
            include_str!("../../../../tests/checks/DKIM006.pos.zone"),
            include_str!("../../../../tests/checks/DKIM007.pos.zone"),
            include_str!("../../../../tests/checks/DKIM016.pos.zone"),
            include_str!("../../../../tests/checks/DKIM021.pos.zone"),
            include_str!("../../../../tests/checks/DKIM001.pos.zone"),
        ];
        let mut kinds = std::collections::HashSet::new();
        for text in fixtures {
            let origin = Name::from_ascii("example.test.").unwrap();
            let r = crate::checks::read_test_zone(&origin, text);
            for stream in [
                NameStream::inline(&origin, 0),
                NameStream::on_thread(&origin, 0),
            ] {
                let ix = crate::checks::index_streamed(&r.zone, stream);
                for rec in &r.zone.records {
                    let Some(t) = crate::index::text_of(rec) else {
                        continue;
                    };
                    let want = t.strings()[0]
                        .starts_with(b"v=DKIM1")
                        .then(|| verdict(&tag_list(t.joined())));
                    assert_eq!(
                        ix.dkim_verdict(rec),
                        want,
                        "{:?}",
                        String::from_utf8_lossy(t.joined())
                    );
                    if let Some(v) = want {
                        kinds.insert(std::mem::discriminant(&v));
                    }
                }
            }
        }
        // Empty, bad base64 and keys were all among them.
        assert_eq!(kinds.len(), 3, "{kinds:?}");
    }

    /// The byte splitters cut where `str::split(';')` and `split_once('=')` do.
    #[test]
    fn byte_splitters_agree_with_str_split() {
        let alphabet: [&[u8]; 6] = [b"a", b";", b"=", b" ", "é".as_bytes(), b";;"];
        crate::checks::for_each_text(&alphabet, 7, |t| {
            let s = std::str::from_utf8(t).unwrap();
            let mut off = 0;
            let want: Vec<(usize, &str)> = s
                .split(';')
                .map(|p| {
                    let here = off;
                    off += p.len() + 1;
                    (here, p)
                })
                .collect();
            assert_eq!(parts(s).collect::<Vec<_>>(), want, "{s:?}");
            for (_, p) in want {
                assert_eq!(split_eq(p), p.split_once('='), "{p:?}");
            }
        });
    }

    /// The shortcut for records opening with another version gives the
    /// answer the tag list gives.
    #[test]
    fn dkim_text_shortcut_agrees_with_the_tag_list() {
        let alphabet: [&[u8]; 11] = [
            b"v=",
            b"DKIM1",
            b"dkim1",
            b"DMARC1",
            b";",
            b" ",
            b"p=x",
            b"k=",
            b"\xff",
            "\u{a0}".as_bytes(),
            b"k",
        ];
        let mut keys = 0;
        crate::checks::for_each_text(&alphabet, 6, |t| {
            let tl = tag_list(t);
            let slow = tl.get("p").is_some()
                && (tl.get("k").is_some()
                    || tl.get("v").is_some_and(|v| v.eq_ignore_ascii_case("DKIM1")));
            let slow = slow || t.starts_with(b"v=DKIM1");
            assert_eq!(is_dkim_text(t), slow, "{:?}", String::from_utf8_lossy(t));
            keys += slow as usize;
        });
        assert!(keys > 1000, "{keys}");
    }

    /// Public keys are classified before the private probes run; a private
    /// key must still be found as one.
    #[test]
    fn private_keys_are_not_taken_for_public_ones() {
        use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey};
        // The DKIM021 fixture's key: PKCS#1, 2048 bits.
        let fixture = include_str!("../../../../tests/checks/DKIM021.pos.zone");
        let b64: String = fixture
            .split('"')
            .skip(1)
            .step_by(2)
            .collect::<String>()
            .split("p=")
            .nth(1)
            .unwrap()
            .to_string();
        let pkcs1 = BASE64.decode(b64.as_bytes()).unwrap();
        let key = rsa::RsaPrivateKey::from_pkcs1_der(&pkcs1).unwrap();
        let pkcs8 = key.to_pkcs8_der().unwrap();
        let public = key.to_public_key().to_public_key_der().unwrap();
        assert!(matches!(classify_key(&pkcs1, "rsa"), KeyKind::Private));
        assert!(matches!(
            classify_key(pkcs8.as_bytes(), "rsa"),
            KeyKind::Private
        ));
        assert!(matches!(
            classify_key(public.as_bytes(), "rsa"),
            KeyKind::Rsa(2048)
        ));
    }
}
