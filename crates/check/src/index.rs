//! A lookup-ready view of a zone for the checks: records by owner (names
//! compare case-insensitively), zone cuts, empty non-terminals, wildcard
//! matching, and joined TXT texts. Built once per check run.

use hickory_proto::rr::{Name, RData, RecordType};
use mailzone_zone::{Span, Zone, ZoneRecord};
use std::collections::{HashMap, HashSet};

pub struct Index<'z> {
    pub zone: &'z Zone,
    pub origin: Name,
    by_owner: HashMap<Name, Vec<usize>>,
    /// Every name that exists: owners and their ancestors up to the origin.
    nodes: HashSet<Name>,
    /// Owners below the apex with NS records.
    cuts: HashSet<Name>,
}

/// A TXT record's text: its strings and the strings joined with no separator.
pub struct Text<'z> {
    pub record: &'z ZoneRecord,
    pub strings: Vec<&'z [u8]>,
    pub joined: Vec<u8>,
}

impl<'z> Index<'z> {
    pub fn new(zone: &'z Zone) -> Self {
        let mut by_owner: HashMap<Name, Vec<usize>> = HashMap::with_capacity(zone.records.len());
        let mut cuts = HashSet::new();
        let mut nodes = HashSet::with_capacity(zone.records.len());
        for (i, r) in zone.records.iter().enumerate() {
            if r.rtype() == RecordType::NS && !r.owner.eq_ignore_root(&zone.origin) {
                cuts.insert(r.owner.clone());
            }
            if !by_owner.contains_key(&r.owner) {
                let mut n = r.owner.clone();
                while n.num_labels() > zone.origin.num_labels() && nodes.insert(n.clone()) {
                    n = n.base_name();
                }
                nodes.insert(zone.origin.clone());
            }
            by_owner.entry(r.owner.clone()).or_default().push(i);
        }
        Index {
            zone,
            origin: zone.origin.clone(),
            by_owner,
            nodes,
            cuts,
        }
    }

    pub fn owners(&self) -> impl Iterator<Item = (&Name, &Vec<usize>)> {
        self.by_owner.iter()
    }

    /// Records owned by exactly this name (no wildcard synthesis).
    pub fn at(&self, name: &Name) -> impl Iterator<Item = &'z ZoneRecord> + '_ {
        let zone = self.zone;
        self.by_owner
            .get(name)
            .into_iter()
            .flatten()
            .map(move |&i| &zone.records[i])
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
        let mut n = name.clone();
        while n.num_labels() > self.origin.num_labels() {
            if self.cuts.contains(&n) {
                return Some(n);
            }
            n = n.base_name();
        }
        None
    }

    /// In the zone and answered by it (not delegated away).
    pub fn authoritative_for(&self, name: &Name) -> bool {
        self.in_zone(name) && self.cut_above(name).is_none()
    }

    pub fn is_cut(&self, name: &Name) -> bool {
        self.cuts.contains(name)
    }

    /// The name exists: it owns records or has names below it.
    pub fn exists(&self, name: &Name) -> bool {
        self.nodes.contains(name)
    }

    /// Records of a type that a query for `name` would get, with wildcard
    /// synthesis (RFC 4592) when the name does not exist.
    pub fn lookup(&self, name: &Name, t: RecordType) -> Vec<&'z ZoneRecord> {
        if self.exists(name) {
            return self.rrset(name, t);
        }
        let mut enc = name.base_name();
        while enc.num_labels() >= self.origin.num_labels() && !self.exists(&enc) {
            if enc.num_labels() == 0 {
                break;
            }
            enc = enc.base_name();
        }
        match Name::from_ascii("*")
            .ok()
            .and_then(|w| w.append_domain(&enc).ok())
        {
            Some(wild) => self.rrset(&wild, t),
            None => Vec::new(),
        }
    }

    /// Whether a lookup of `name` would find anything at all (name exists, or a wildcard covers it).
    pub fn resolves(&self, name: &Name) -> bool {
        self.exists(name) || {
            let mut enc = name.base_name();
            while enc.num_labels() > self.origin.num_labels() && !self.exists(&enc) {
                enc = enc.base_name();
            }
            Name::from_ascii("*")
                .ok()
                .and_then(|w| w.append_domain(&enc).ok())
                .is_some_and(|w| self.by_owner.contains_key(&w))
        }
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
