//! Zone transfers out, sans-IO: an AXFR (RFC 5936) or IXFR (RFC 1995) query
//! and the client's address in, the response messages out. AXFR streams the
//! zone over as many messages as it needs, SOA first and last. IXFR answers
//! from the journal each snapshot carries (the differences between the last
//! published versions), and falls back to the whole zone when the client's
//! serial is not in it. Who may transfer is the snapshot's policy, set by
//! whoever compiled it.

use crate::snapshot::*;
use std::net::IpAddr;
use std::sync::Arc;

/// One record in wire form: owner (case kept), type, TTL, RDATA.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Rec {
    pub owner: Box<[u8]>,
    pub rtype: u16,
    pub ttl: u32,
    pub rdata: Box<[u8]>,
}

/// What changed from one version of a zone to the next.
#[derive(Debug)]
pub struct Diff {
    pub from: u32,
    pub to: u32,
    pub soa_from: Rec,
    pub soa_to: Rec,
    pub deleted: Vec<Rec>,
    pub added: Vec<Rec>,
}

/// Who may transfer a zone: a predicate on the client's address.
#[derive(Clone, Default)]
pub struct TransferPolicy(pub Option<Arc<dyn Fn(IpAddr) -> bool + Send + Sync>>);

impl std::fmt::Debug for TransferPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "TransferPolicy(..)"
        } else {
            "TransferPolicy(none)"
        })
    }
}

impl TransferPolicy {
    pub fn allows(&self, ip: IpAddr) -> bool {
        self.0.as_ref().is_some_and(|f| f(ip))
    }
}

/// Journal bounds: versions kept, and records kept across them (past that,
/// a whole transfer is about as cheap).
pub const JOURNAL_VERSIONS: usize = 64;

/// The journal of a new snapshot: the previous one's, plus what changed.
pub fn extend_journal(prev: &Snapshot, next: &Snapshot) -> Vec<Arc<Diff>> {
    let Some(d) = diff(prev, next) else {
        return prev.journal.clone();
    };
    let mut j = prev.journal.clone();
    j.push(Arc::new(d));
    let limit = next.records.max(1_000);
    while j.len() > JOURNAL_VERSIONS
        || j.iter()
            .map(|d| d.added.len() + d.deleted.len())
            .sum::<usize>()
            > limit
    {
        j.remove(0);
    }
    j
}

fn records_of(node: &Node, set: &RRset) -> impl Iterator<Item = Rec> {
    set.rdata.iter().map(move |d| Rec {
        owner: node.name.clone(),
        rtype: set.rtype,
        ttl: if set.rtype == T_RRSIG { d.ttl } else { set.ttl },
        rdata: d.wire.clone(),
    })
}

fn soa_rec(z: &Snapshot) -> Option<Rec> {
    let node = z.node(&z.origin)?;
    let set = node.rrset(T_SOA)?;
    records_of(node, set).next()
}

/// The records that differ between two versions (the SOA apart); `None`
/// when either has no SOA.
pub fn diff(old: &Snapshot, new: &Snapshot) -> Option<Diff> {
    let (soa_from, soa_to) = (soa_rec(old)?, soa_rec(new)?);
    let mut deleted = Vec::new();
    let mut added = Vec::new();
    let same = |a: &RRset, b: &RRset| {
        a.ttl == b.ttl
            && a.rdata.len() == b.rdata.len()
            && a.rdata
                .iter()
                .all(|x| b.rdata.iter().any(|y| x.wire == y.wire && x.ttl == y.ttl))
    };
    let side = |from: &Snapshot, to: &Snapshot, out: &mut Vec<Rec>| {
        for (k, node) in &from.nodes {
            let other = to.nodes.get(k);
            for set in &node.rrsets {
                if set.rtype == T_SOA && **k == *from.origin {
                    continue;
                }
                match other.and_then(|o| o.rrset(set.rtype)) {
                    Some(o) if same(set, o) => {}
                    Some(o) => {
                        let theirs: Vec<Rec> =
                            records_of(to.nodes.get(k).unwrap_or(node), o).collect();
                        for r in records_of(node, set) {
                            if !theirs.iter().any(|t| t.ttl == r.ttl && t.rdata == r.rdata) {
                                out.push(r);
                            }
                        }
                    }
                    None => out.extend(records_of(node, set)),
                }
            }
        }
    };
    side(old, new, &mut deleted);
    side(new, old, &mut added);
    Some(Diff {
        from: old.serial,
        to: new.serial,
        soa_from,
        soa_to,
        deleted,
        added,
    })
}

/// What to do with a query.
pub enum Transfer {
    /// Not AXFR or IXFR: answer it the ordinary way.
    No,
    /// Refused (no such zone, or the client may not transfer it): one message.
    Refused(Vec<u8>),
    /// The response, in order.
    Messages(Vec<Vec<u8>>),
}

/// A message grows to about this size before the next one starts.
const MESSAGE_TARGET: usize = 16 * 1024;

struct Builder<'q> {
    id: u16,
    question: &'q [u8],
    msgs: Vec<Vec<u8>>,
    cur: Vec<u8>,
    count: u16,
}

impl Builder<'_> {
    fn start(&mut self) {
        self.cur.clear();
        self.cur.extend_from_slice(&self.id.to_be_bytes());
        self.cur.extend_from_slice(&0x8400u16.to_be_bytes()); // QR, AA
        // RFC 5936 §2.2: the question is in the first message only.
        let q = u16::from(self.msgs.is_empty());
        self.cur.extend_from_slice(&q.to_be_bytes());
        self.cur.extend_from_slice(&[0; 6]);
        if self.msgs.is_empty() {
            self.cur.extend_from_slice(self.question);
        }
        self.count = 0;
    }

    fn push(&mut self, r: &Rec) {
        if self.count > 0 && self.cur.len() + r.owner.len() + r.rdata.len() + 10 > MESSAGE_TARGET {
            self.flush();
            self.start();
        }
        self.cur.extend_from_slice(&r.owner);
        self.cur.extend_from_slice(&r.rtype.to_be_bytes());
        self.cur.extend_from_slice(&1u16.to_be_bytes());
        self.cur.extend_from_slice(&r.ttl.to_be_bytes());
        self.cur
            .extend_from_slice(&(r.rdata.len() as u16).to_be_bytes());
        self.cur.extend_from_slice(&r.rdata);
        self.count += 1;
    }

    fn flush(&mut self) {
        self.cur[6..8].copy_from_slice(&self.count.to_be_bytes());
        self.msgs.push(std::mem::take(&mut self.cur));
    }

    fn finish(mut self) -> Vec<Vec<u8>> {
        self.flush();
        self.msgs
    }
}

/// Where a name in a message ends (a compression pointer ends it too).
fn name_end(b: &[u8], mut p: usize) -> Option<usize> {
    loop {
        let l = *b.get(p)? as usize;
        match l {
            0 => return Some(p + 1),
            0xC0..=0xFF => return (p + 2 <= b.len()).then_some(p + 2),
            64..=0xBF => return None,
            _ => p += 1 + l,
        }
    }
}

fn u16_at(b: &[u8], p: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(p)?, *b.get(p + 1)?]))
}

/// The serial in an IXFR query's authority SOA (RFC 1995 §3).
fn ixfr_serial(q: &[u8], after_question: usize) -> Option<u32> {
    let p = name_end(q, after_question)?;
    if u16_at(q, p)? != T_SOA {
        return None;
    }
    let rd = p + 10;
    let m = name_end(q, rd)?;
    let r = name_end(q, m)?;
    Some(u32::from_be_bytes(q.get(r..r + 4)?.try_into().ok()?))
}

/// A refusal: the header and question echoed, rcode REFUSED.
fn refused(q: &[u8], question: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(12 + question.len());
    out.extend_from_slice(&q[..2]);
    let flags = 0x8000 | (u16::from_be_bytes([q[2], q[3]]) & 0x7900) | 5;
    out.extend_from_slice(&flags.to_be_bytes());
    out.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]);
    out.extend_from_slice(question);
    out
}

/// Handles a query that may be a zone transfer (TCP only; over UDP the
/// ordinary answer path refuses them).
pub fn transfer(cat: &Catalog, q: &[u8], client: IpAddr) -> Transfer {
    if q.len() < 12 || q[2] & 0x80 != 0 || (q[2] >> 3) & 0xF != 0 || u16_at(q, 4) != Some(1) {
        return Transfer::No;
    }
    let Some(qend) = name_end(q, 12) else {
        return Transfer::No;
    };
    let Some(qtype) = u16_at(q, qend) else {
        return Transfer::No;
    };
    if qtype != T_AXFR && qtype != T_IXFR {
        return Transfer::No;
    }
    let question = &q[12..(qend + 4).min(q.len())];
    let key = lower(&q[12..qend]);
    let Some(z) = cat.find(&key).filter(|z| *z.origin == *key) else {
        return Transfer::Refused(refused(q, question));
    };
    if !z.transfer.allows(client) {
        return Transfer::Refused(refused(q, question));
    }
    let Some(soa) = soa_rec(z) else {
        return Transfer::Refused(refused(q, question));
    };
    let mut b = Builder {
        id: u16::from_be_bytes([q[0], q[1]]),
        question,
        msgs: Vec::new(),
        cur: Vec::new(),
        count: 0,
    };
    b.start();
    if qtype == T_IXFR
        && let Some(theirs) = ixfr_serial(q, qend + 4)
    {
        // Up to date (or ahead): the SOA alone says so.
        if theirs == z.serial || crate::snapshot::serial_lt(z.serial, theirs) {
            b.push(&soa);
            return Transfer::Messages(b.finish());
        }
        if let Some(start) = z.journal.iter().position(|d| d.from == theirs) {
            b.push(&soa);
            for d in &z.journal[start..] {
                b.push(&d.soa_from);
                for r in &d.deleted {
                    b.push(r);
                }
                b.push(&d.soa_to);
                for r in &d.added {
                    b.push(r);
                }
            }
            b.push(&soa);
            return Transfer::Messages(b.finish());
        }
        // Not in the journal: the whole zone (RFC 1995 §4).
    }
    b.push(&soa);
    for (k, node) in &z.nodes {
        for set in &node.rrsets {
            if set.rtype == T_SOA && **k == *z.origin {
                continue;
            }
            for r in records_of(node, set) {
                b.push(&r);
            }
        }
    }
    b.push(&soa);
    Transfer::Messages(b.finish())
}
