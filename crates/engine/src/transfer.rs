//! Zone transfers out, sans-IO: an AXFR (RFC 5936) or IXFR (RFC 1995) query
//! and the client's address in, the response messages out. AXFR streams the
//! zone over as many messages as it needs, SOA first and last. IXFR answers
//! from the journal each snapshot carries (the differences between the last
//! published versions), and falls back to the whole zone when the client's
//! serial is not in it. Who may transfer is the snapshot's policy, set by
//! whoever compiled it.

use crate::snapshot::*;
use hickory_proto::rr::Name;
use hickory_proto::rr::rdata::tsig::{TSIG, TsigAlgorithm, TsigError, signed_bitmessage_to_buf};
use hickory_proto::serialize::binary::{BinEncodable, BinEncoder};
use std::net::IpAddr;
use std::sync::Arc;

/// A TSIG key (RFC 8945) the server shares with a peer.
#[derive(Debug, Clone)]
pub struct TsigKey {
    pub name: Name,
    pub algorithm: TsigAlgorithm,
    pub secret: Vec<u8>,
}

/// Seconds of clock difference a signed message may have (RFC 8945 §10).
pub const FUDGE: u16 = 300;
const NOTAUTH: u16 = 9;

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

/// `key` is the node's key, `data` its snapshot's.
fn records_of<'a>(
    key: &'a [u8],
    node: &'a Node,
    set: &'a RRset,
    data: &'a [u8],
) -> impl Iterator<Item = Rec> + 'a {
    set.rdata.iter().map(move |d| Rec {
        owner: node.owner(key).into(),
        rtype: set.rtype,
        ttl: if set.rtype == T_RRSIG { d.ttl } else { set.ttl },
        rdata: d.wire(data).into(),
    })
}

fn soa_rec(z: &Snapshot) -> Option<Rec> {
    let node = z.node(&z.origin)?;
    let set = node.rrset(&z.sets, T_SOA)?;
    records_of(&z.origin, node, set, &z.data).next()
}

/// The records that differ between two versions (the SOA apart); `None`
/// when either has no SOA.
pub fn diff(old: &Snapshot, new: &Snapshot) -> Option<Diff> {
    let (soa_from, soa_to) = (soa_rec(old)?, soa_rec(new)?);
    let mut deleted = Vec::new();
    let mut added = Vec::new();
    // `a` of the snapshot whose data is `ad`, `b` of the one whose is `bd`.
    let same = |a: &RRset, ad: &[u8], b: &RRset, bd: &[u8]| {
        a.ttl == b.ttl
            && a.rdata.len() == b.rdata.len()
            && a.rdata.iter().all(|x| {
                b.rdata
                    .iter()
                    .any(|y| x.wire(ad) == y.wire(bd) && x.ttl == y.ttl)
            })
    };
    let side = |from: &Snapshot, to: &Snapshot, out: &mut Vec<Rec>| {
        for (k, node) in &from.nodes {
            let other = to.nodes.get(k);
            for set in node.sets(&from.sets) {
                if set.rtype == T_SOA && **k == *from.origin {
                    continue;
                }
                match other.and_then(|o| o.rrset(&to.sets, set.rtype)) {
                    Some(o) if same(set, &from.data, o, &to.data) => {}
                    Some(o) => {
                        let theirs: Vec<Rec> =
                            records_of(k, to.nodes.get(k).unwrap_or(node), o, &to.data).collect();
                        for r in records_of(k, node, set, &from.data) {
                            if !theirs.iter().any(|t| t.ttl == r.ttl && t.rdata == r.rdata) {
                                out.push(r);
                            }
                        }
                    }
                    None => out.extend(records_of(k, node, set, &from.data)),
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

/// A refusal (or NOTAUTH): the header and question echoed.
fn refusal(q: &[u8], question: &[u8], rcode: u16) -> Vec<u8> {
    let mut out = Vec::with_capacity(12 + question.len());
    out.extend_from_slice(&q[..2]);
    let flags = 0x8000 | (u16::from_be_bytes([q[2], q[3]]) & 0x7900) | rcode;
    out.extend_from_slice(&flags.to_be_bytes());
    out.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]);
    out.extend_from_slice(question);
    out
}

/// Appends a TSIG record to a message and counts it.
fn append_tsig(msg: &mut Vec<u8>, key: &Name, rdata: &TSIG) {
    let mut rd = Vec::new();
    if rdata.emit(&mut BinEncoder::new(&mut rd)).is_err() {
        return;
    }
    msg.extend_from_slice(&crate::snapshot::lower(
        &mailzone_zone::record::name_to_wire_bytes(key),
    ));
    msg.extend_from_slice(&250u16.to_be_bytes());
    msg.extend_from_slice(&255u16.to_be_bytes());
    msg.extend_from_slice(&0u32.to_be_bytes());
    msg.extend_from_slice(&(rd.len() as u16).to_be_bytes());
    msg.extend_from_slice(&rd);
    let ar = u16::from_be_bytes([msg[10], msg[11]]) + 1;
    msg[10..12].copy_from_slice(&ar.to_be_bytes());
}

/// Signs response messages in order, each MAC chained to the one before
/// (the first to the request's), RFC 8945 §5.3.
fn sign_all(msgs: &mut [Vec<u8>], key: &TsigKey, request_mac: &[u8], now: u64) {
    let mut prev = request_mac.to_vec();
    for (i, m) in msgs.iter_mut().enumerate() {
        let id = u16::from_be_bytes([m[0], m[1]]);
        let stub = TSIG::new(
            key.algorithm.clone(),
            now,
            FUDGE,
            Vec::new(),
            id,
            None,
            Vec::new(),
        );
        let mut tbs = Vec::with_capacity(m.len() + 128);
        tbs.extend_from_slice(&(prev.len() as u16).to_be_bytes());
        tbs.extend_from_slice(&prev);
        tbs.extend_from_slice(m);
        if i == 0 {
            // A fresh buffer: hickory's encoder writes from the start of
            // the one it is given.
            let mut vars = Vec::new();
            if stub
                .emit_tsig_for_mac(&mut BinEncoder::new(&mut vars), &key.name)
                .is_err()
            {
                return;
            }
            tbs.extend_from_slice(&vars);
        } else {
            tbs.extend_from_slice(&((now >> 32) as u16).to_be_bytes());
            tbs.extend_from_slice(&(now as u32).to_be_bytes());
            tbs.extend_from_slice(&FUDGE.to_be_bytes());
        }
        let Ok(mac) = key.algorithm.mac_data(&key.secret, &tbs) else {
            return;
        };
        append_tsig(m, &key.name, &stub.clone().set_mac(mac.clone()));
        prev = mac;
    }
}

/// What the request's TSIG says: none, a verified key, or an error to
/// answer with NOTAUTH (RFC 8945 §5.2).
enum Signed<'c> {
    No,
    By(&'c TsigKey, Vec<u8>),
    Bad(Name, TsigAlgorithm, TsigError),
}

fn check_tsig<'c>(cat: &'c Catalog, q: &[u8], now: u64) -> Signed<'c> {
    if u16::from_be_bytes([q[10], q[11]]) == 0 {
        return Signed::No;
    }
    let Ok((tbs, rr)) = signed_bitmessage_to_buf(q, None, true) else {
        return Signed::No;
    };
    let t = &rr.data;
    let Some(key) = cat
        .tsig_keys
        .iter()
        .find(|k| k.name == rr.name && k.algorithm == t.algorithm)
    else {
        return Signed::Bad(rr.name.clone(), t.algorithm.clone(), TsigError::BadKey);
    };
    if key.algorithm.verify_mac(&key.secret, &tbs, &t.mac).is_err() {
        return Signed::Bad(rr.name.clone(), t.algorithm.clone(), TsigError::BadSig);
    }
    if now.abs_diff(t.time) > u64::from(t.fudge) {
        return Signed::Bad(rr.name.clone(), t.algorithm.clone(), TsigError::BadTime);
    }
    Signed::By(key, t.mac.clone())
}

/// Whether a query asks for a zone transfer (cheap: looks at the question).
pub fn is_transfer(q: &[u8]) -> bool {
    q.len() >= 12
        && q[2] & 0x80 == 0
        && name_end(q, 12)
            .and_then(|e| u16_at(q, e))
            .is_some_and(|t| t == T_AXFR || t == T_IXFR)
}

/// Handles a query that may be a zone transfer (TCP only; over UDP the
/// ordinary answer path refuses them). `now` is seconds since 1970, for
/// TSIG.
pub fn transfer(cat: &Catalog, q: &[u8], client: IpAddr, now: u64) -> Transfer {
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
    let signer = match check_tsig(cat, q, now) {
        Signed::Bad(name, algorithm, error) => {
            // Unsigned, with the error (RFC 8945 §5.2.1-5.2.3).
            let mut m = refusal(q, question, NOTAUTH);
            let id = u16::from_be_bytes([q[0], q[1]]);
            append_tsig(
                &mut m,
                &name,
                &TSIG::new(
                    algorithm,
                    now,
                    FUDGE,
                    Vec::new(),
                    id,
                    Some(error),
                    Vec::new(),
                ),
            );
            return Transfer::Refused(m);
        }
        Signed::By(k, mac) => Some((k, mac)),
        Signed::No => None,
    };
    let refuse = || {
        let mut m = vec![refusal(q, question, 5)];
        if let Some((k, mac)) = &signer {
            sign_all(&mut m, k, mac, now);
        }
        Transfer::Refused(m.pop().unwrap_or_default())
    };
    let key = lower(&q[12..qend]);
    let Some(z) = cat.find(&key).filter(|z| *z.origin == *key) else {
        return refuse();
    };
    let key_ok = match &z.transfer_key {
        None => true,
        Some(want) => signer.as_ref().is_some_and(|(k, _)| k.name == *want),
    };
    if !z.transfer.allows(client) || !key_ok {
        return refuse();
    }
    let Some(soa) = soa_rec(z) else {
        return refuse();
    };
    let done = |msgs: Vec<Vec<u8>>| {
        let mut msgs = msgs;
        if let Some((k, mac)) = &signer {
            sign_all(&mut msgs, k, mac, now);
        }
        Transfer::Messages(msgs)
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
            return done(b.finish());
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
            return done(b.finish());
        }
        // Not in the journal: the whole zone (RFC 1995 §4).
    }
    b.push(&soa);
    for (k, node) in &z.nodes {
        for set in node.sets(&z.sets) {
            if set.rtype == T_SOA && **k == *z.origin {
                continue;
            }
            for r in records_of(k, node, set, &z.data) {
                b.push(&r);
            }
        }
    }
    b.push(&soa);
    done(b.finish())
}

/// What to do with a NOTIFY (RFC 1996).
pub enum NotifyIn {
    /// Not a NOTIFY: answer it the ordinary way.
    No,
    /// Send this reply; when `refresh` is set, the zone (lowercase wire
    /// origin) should be refreshed from its primaries now.
    Reply {
        reply: Vec<u8>,
        refresh: Option<Key>,
    },
}

/// Handles a NOTIFY: accepted (NOERROR, AA) for a secondary zone from one
/// of its primaries, REFUSED from anyone else (RFC 1996 §3.10).
pub fn notify_in(cat: &Catalog, q: &[u8], client: IpAddr) -> NotifyIn {
    if q.len() < 12 || q[2] & 0x80 != 0 || (q[2] >> 3) & 0xF != 4 || u16_at(q, 4) != Some(1) {
        return NotifyIn::No;
    }
    let Some(qend) = name_end(q, 12).filter(|&e| e + 4 <= q.len()) else {
        return NotifyIn::No;
    };
    let question = &q[12..qend + 4];
    let key = lower(&q[12..qend]);
    let client = match client {
        IpAddr::V6(v) => v.to_ipv4_mapped().map_or(client, IpAddr::V4),
        v4 => v4,
    };
    let accepted = cat
        .secondaries
        .get(&key)
        .is_some_and(|primaries| primaries.contains(&client));
    let mut reply = Vec::with_capacity(12 + question.len());
    reply.extend_from_slice(&q[..2]);
    let rcode: u16 = if accepted { 0x0400 } else { 5 };
    reply.extend_from_slice(&(0x8000 | (4 << 11) | rcode).to_be_bytes());
    reply.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]);
    reply.extend_from_slice(question);
    NotifyIn::Reply {
        reply,
        refresh: accepted.then_some(key),
    }
}
