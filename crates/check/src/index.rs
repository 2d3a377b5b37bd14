//! A lookup-ready view of a zone for the checks: records by owner (names
//! compare case-insensitively), zone cuts, empty non-terminals, wildcard
//! matching, and joined TXT texts. Built once per check run.

use foldhash::{HashMap, HashSet};
use hickory_proto::rr::{Name, RData, RecordType};
use mailzone_zone::{Span, Zone, ZoneRecord};

/// A name as lowercase wire bytes in a stack buffer: hashing and comparing it
/// is a memcmp, and its ancestors are suffixes at label boundaries, so walking
/// up the tree allocates nothing. (Comparing hickory `Name`s case-insensitively
/// label by label dominated the profile on large zones.)
pub struct Key {
    buf: [u8; 256],
    len: usize,
}

impl Key {
    pub fn of(n: &Name) -> Key {
        let mut k = Key {
            buf: [0; 256],
            len: 0,
        };
        for l in n.iter() {
            if k.len + l.len() + 2 > 256 {
                break;
            }
            k.buf[k.len] = l.len() as u8;
            for (i, b) in l.iter().enumerate() {
                k.buf[k.len + 1 + i] = b.to_ascii_lowercase();
            }
            k.len += 1 + l.len();
        }
        k.buf[k.len] = 0;
        k.len += 1;
        k
    }

    pub fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// Offsets of the name and each ancestor, nearest first.
    fn suffixes(&self) -> impl Iterator<Item = usize> + '_ {
        let mut off = Some(0);
        std::iter::from_fn(move || {
            let o = off?;
            let l = self.buf[o] as usize;
            off = (l > 0).then_some(o + 1 + l);
            Some(o)
        })
    }
}

type Bytes = Box<[u8]>;

pub struct Index<'z> {
    pub zone: &'z Zone,
    pub origin: Name,
    origin_len: usize,
    /// Owner key → position in `order`.
    by_owner: HashMap<Bytes, usize>,
    /// Owners in order of first appearance with their record indices: checks
    /// walk this, never sort it.
    order: Vec<(Name, Vec<usize>)>,
    /// Every name that exists: owners and their ancestors up to the origin.
    nodes: HashSet<Bytes>,
    /// Owners below the apex with NS records.
    cuts: HashSet<Bytes>,
    /// Every MX exchange named anywhere in the zone.
    mx_targets: HashSet<Bytes>,
    /// DKIM selector owners (`<sel>._domainkey.<domain>`) by domain.
    selectors: HashMap<Bytes, Vec<Name>>,
    has_tlsa: bool,
}

/// A TXT record's text: its strings and the strings joined with no separator.
pub struct Text<'z> {
    pub record: &'z ZoneRecord,
    pub strings: Vec<&'z [u8]>,
    pub joined: Vec<u8>,
}

impl<'z> Index<'z> {
    pub fn new(zone: &'z Zone) -> Self {
        let n = zone.records.len();
        let mut by_owner: HashMap<Bytes, usize> =
            HashMap::with_capacity_and_hasher(n, Default::default());
        let mut order: Vec<(Name, Vec<usize>)> = Vec::new();
        let mut nodes: HashSet<Bytes> = HashSet::with_capacity_and_hasher(n, Default::default());
        let mut cuts = HashSet::default();
        let mut mx_targets = HashSet::default();
        let mut selectors: HashMap<Bytes, Vec<Name>> = HashMap::default();
        let mut has_tlsa = false;
        let origin_key = Key::of(&zone.origin);
        let origin_len = origin_key.len;
        nodes.insert(origin_key.bytes().into());
        for (i, r) in zone.records.iter().enumerate() {
            let key = Key::of(&r.owner);
            match &r.rdata {
                RData::NS(_) if key.bytes() != origin_key.bytes() => {
                    cuts.insert(key.bytes().into());
                }
                RData::MX(mx) => {
                    mx_targets.insert(Key::of(&mx.exchange).bytes().into());
                }
                RData::TLSA(_) => has_tlsa = true,
                _ => {}
            }
            if let Some(&pos) = by_owner.get(key.bytes()) {
                order[pos].1.push(i);
                continue;
            }
            by_owner.insert(key.bytes().into(), order.len());
            order.push((r.owner.clone(), vec![i]));
            if let Some(p) = r
                .owner
                .iter()
                .position(|l| l.eq_ignore_ascii_case(b"_domainkey"))
                && p > 0
            {
                let domain = r.owner.trim_to(r.owner.num_labels() as usize - p - 1);
                selectors
                    .entry(Key::of(&domain).bytes().into())
                    .or_default()
                    .push(r.owner.clone());
            }
            for off in key.suffixes() {
                if key.len - off < origin_len || !nodes.insert(key.bytes()[off..].into()) {
                    break;
                }
            }
        }
        Index {
            zone,
            origin: zone.origin.clone(),
            origin_len,
            by_owner,
            order,
            nodes,
            cuts,
            mx_targets,
            selectors,
            has_tlsa,
        }
    }

    /// Owners with their record indices, in order of first appearance.
    pub fn owners(&self) -> impl Iterator<Item = (&Name, &Vec<usize>)> {
        self.order.iter().map(|(n, v)| (n, v))
    }

    pub fn is_mx_target(&self, n: &Name) -> bool {
        self.mx_targets.contains(Key::of(n).bytes())
    }

    /// DKIM selector owners under `_domainkey.<domain>`.
    pub fn selectors(&self, domain: &Name) -> &[Name] {
        self.selectors
            .get(Key::of(domain).bytes())
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    pub fn has_tlsa(&self) -> bool {
        self.has_tlsa
    }

    fn records_of(&self, key: &[u8]) -> &[usize] {
        self.by_owner
            .get(key)
            .map(|&p| self.order[p].1.as_slice())
            .unwrap_or(&[])
    }

    /// Records owned by exactly this name (no wildcard synthesis).
    pub fn at(&self, name: &Name) -> impl Iterator<Item = &'z ZoneRecord> + '_ {
        let zone = self.zone;
        self.records_of(Key::of(name).bytes())
            .iter()
            .map(move |&i| &zone.records[i])
    }

    /// The records of a type among an owner's record indices (from [`Index::owners`]).
    pub fn of_type(&self, idx: &[usize], t: RecordType) -> Vec<&'z ZoneRecord> {
        idx.iter()
            .map(|&i| &self.zone.records[i])
            .filter(|r| r.rtype() == t)
            .collect()
    }

    pub fn rrset(&self, name: &Name, t: RecordType) -> Vec<&'z ZoneRecord> {
        self.at(name).filter(|r| r.rtype() == t).collect()
    }

    pub fn in_zone(&self, name: &Name) -> bool {
        self.origin.zone_of(name)
    }

    /// The zone cut at or above `name` (below the apex), if any.
    pub fn cut_above(&self, name: &Name) -> Option<Name> {
        if self.cuts.is_empty() || !self.in_zone(name) {
            return None;
        }
        let key = Key::of(name);
        let labels = name.num_labels() as usize;
        for (depth, off) in key.suffixes().enumerate() {
            if key.len - off <= self.origin_len {
                break;
            }
            if self.cuts.contains(&key.bytes()[off..]) {
                return Some(name.trim_to(labels - depth));
            }
        }
        None
    }

    /// In the zone and answered by it (not delegated away).
    pub fn authoritative_for(&self, name: &Name) -> bool {
        self.in_zone(name) && self.cut_above(name).is_none()
    }

    pub fn is_cut(&self, name: &Name) -> bool {
        self.cuts.contains(Key::of(name).bytes())
    }

    /// Whether `<label>.<name>` exists (labels as written, e.g. `_smtp._tls`),
    /// without building a `Name`.
    pub fn child_exists(&self, name: &Name, label: &str) -> bool {
        let k = Key::of(name);
        let mut buf = [0u8; 512];
        let mut len = 0;
        for l in label.split('.') {
            buf[len] = l.len() as u8;
            for (i, b) in l.bytes().enumerate() {
                buf[len + 1 + i] = b.to_ascii_lowercase();
            }
            len += 1 + l.len();
        }
        buf[len..len + k.len].copy_from_slice(k.bytes());
        self.nodes.contains(&buf[..len + k.len])
    }

    /// The name exists: it owns records or has names below it.
    pub fn exists(&self, name: &Name) -> bool {
        self.nodes.contains(Key::of(name).bytes())
    }

    /// The key of the wildcard that covers a name that does not exist: `*.`
    /// plus its closest encloser (RFC 4592 §3.3.1).
    fn wildcard_key(&self, key: &Key) -> Option<Vec<u8>> {
        let enc = key.suffixes().skip(1).find(|&off| {
            key.len - off < self.origin_len || self.nodes.contains(&key.bytes()[off..])
        })?;
        if key.len - enc < self.origin_len {
            return None;
        }
        let mut w = vec![1, b'*'];
        w.extend_from_slice(&key.bytes()[enc..]);
        Some(w)
    }

    /// Records of a type that a query for `name` would get, with wildcard
    /// synthesis (RFC 4592) when the name does not exist.
    pub fn lookup(&self, name: &Name, t: RecordType) -> Vec<&'z ZoneRecord> {
        let key = Key::of(name);
        let idx = if self.nodes.contains(key.bytes()) {
            self.records_of(key.bytes())
        } else {
            match self.wildcard_key(&key) {
                Some(w) => self.records_of(&w),
                None => &[],
            }
        };
        idx.iter()
            .map(|&i| &self.zone.records[i])
            .filter(|r| r.rtype() == t)
            .collect()
    }

    /// Whether a lookup of `name` would find anything at all (name exists, or a wildcard covers it).
    pub fn resolves(&self, name: &Name) -> bool {
        let key = Key::of(name);
        self.nodes.contains(key.bytes())
            || self
                .wildcard_key(&key)
                .is_some_and(|w| self.by_owner.contains_key(w.as_slice()))
    }

    pub fn addresses(&self, name: &Name) -> Vec<&'z ZoneRecord> {
        let mut v = self.lookup(name, RecordType::A);
        v.extend(self.lookup(name, RecordType::AAAA));
        v
    }

    pub fn cname(&self, name: &Name) -> Option<&'z ZoneRecord> {
        self.lookup(name, RecordType::CNAME).into_iter().next()
    }

    /// The TXT records at a name (wildcards included), with their joined text.
    pub fn texts(&self, name: &Name) -> Vec<Text<'z>> {
        self.lookup(name, RecordType::TXT)
            .into_iter()
            .filter_map(text_of)
            .collect()
    }

    pub fn mx(&self, name: &Name) -> Vec<(&'z ZoneRecord, u16, &'z Name)> {
        self.lookup(name, RecordType::MX)
            .into_iter()
            .filter_map(|r| match &r.rdata {
                RData::MX(mx) => Some((r, mx.preference, &mx.exchange)),
                _ => None,
            })
            .collect()
    }

    /// Whether the zone has DNSKEY records at the apex (is signed).
    pub fn signed(&self) -> bool {
        !self.rrset(&self.origin, RecordType::DNSKEY).is_empty()
    }

    /// Where to point for a term of a TXT record: the byte range of
    /// `joined[off..off + len]` in the source when the record came from a
    /// master file, else the record's span.
    pub fn term_span(&self, text: &Text<'_>, off: usize, len: usize) -> Span {
        locate_in_source(self.zone, text, off, len).unwrap_or(text.record.span)
    }
}

pub fn text_of(r: &ZoneRecord) -> Option<Text<'_>> {
    match &r.rdata {
        RData::TXT(t) => {
            let strings: Vec<&[u8]> = t.txt_data.iter().map(|s| &s[..]).collect();
            let joined = strings.concat();
            Some(Text {
                record: r,
                strings,
                joined,
            })
        }
        _ => None,
    }
}

/// Which string (0-based) holds byte `off` of the joined text, and where in it.
pub fn string_at(strings: &[&[u8]], mut off: usize) -> (usize, usize) {
    for (i, s) in strings.iter().enumerate() {
        if off < s.len() {
            return (i, off);
        }
        off -= s.len();
    }
    (
        strings.len().saturating_sub(1),
        strings.last().map_or(0, |s| s.len()),
    )
}

fn locate_in_source(zone: &Zone, text: &Text<'_>, off: usize, len: usize) -> Option<Span> {
    use mailzone_zone::scan::Scanner;
    let rs = text.record.span;
    let file = zone.sources.get(rs.file)?;
    let src = file.text.as_bytes();
    let entry = src.get(rs.start as usize..rs.end as usize)?;
    let mut toks = Vec::new();
    Scanner::new(entry).next_entry(&mut toks).ok()??;
    let n = text.strings.len();
    if toks.len() < n {
        return None;
    }
    let strings = &toks[toks.len() - n..];
    // The tokens must be the strings themselves (not `\#` hex or a TOML value).
    for (t, s) in strings.iter().zip(&text.strings) {
        let mut un = Vec::new();
        if mailzone_zone::text::unescape(t.text(entry), &mut un).is_err() || un != *s {
            return None;
        }
    }
    let (si, mut inner) = string_at(&text.strings, off);
    let tok = strings[si];
    let raw = tok.text(entry);
    // Walk the raw token, skipping escapes, to the raw offset of `inner`.
    let mut i = 0;
    while inner > 0 && i < raw.len() {
        i += if raw[i] == b'\\' {
            if raw.get(i + 1).is_some_and(u8::is_ascii_digit) {
                4
            } else {
                2
            }
        } else {
            1
        };
        inner -= 1;
    }
    let abs = rs.start as usize + tok.start as usize + i;
    let before = &src[rs.start as usize..abs];
    let newlines = before.iter().filter(|&&b| b == b'\n').count() as u32;
    let col = match before.iter().rposition(|&b| b == b'\n') {
        Some(p) => (before.len() - p) as u32,
        None => rs.col + before.len() as u32,
    };
    let end = (abs + len.max(1))
        .min(rs.start as usize + tok.end as usize)
        .max(abs + 1);
    Some(Span {
        file: rs.file,
        line: rs.line + newlines,
        col,
        start: abs as u32,
        end: end as u32,
    })
}
