//! Compiling a read (and checked) zone into an immutable snapshot built for
//! lookup: names keyed by their lowercase wire form, RRsets with their RDATA
//! already in wire form, empty non-terminals present, zone cuts and DNAMEs
//! marked, and the names whose addresses go in the additional section noted.

use foldhash::HashMap;
use hashbrown::hash_map::EntryRef;
use hickory_proto::rr::{RData, RecordType};
use mailzone_zone::Zone;
use mailzone_zone::record::name_to_wire_bytes;
use smallvec::SmallVec;
use std::sync::Arc;

pub type Key = Box<[u8]>;

/// Every name of a zone by its lowercase wire form. hashbrown's map (the
/// one inside std's) for `entry_ref`: compiling probes once per record
/// without allocating a key for a name already seen.
pub type Nodes = hashbrown::HashMap<Key, Node, foldhash::fast::RandomState>;

/// Lowercase wire form of a wire-form name.
pub fn lower(wire: &[u8]) -> Key {
    let mut v = wire.to_vec();
    let mut i = 0;
    while i < v.len() {
        let l = v[i] as usize;
        if l == 0 {
            break;
        }
        v[i + 1..i + 1 + l].make_ascii_lowercase();
        i += 1 + l;
    }
    v.into_boxed_slice()
}

/// Offsets of each suffix (the name, then its ancestors) of a wire-form name.
pub fn suffixes(wire: &[u8]) -> impl Iterator<Item = usize> + '_ {
    let mut off = Some(0usize);
    std::iter::from_fn(move || {
        let o = off?;
        let l = *wire.get(o)? as usize;
        off = (l > 0).then_some(o + 1 + l);
        Some(o)
    })
}

/// One RDATA: where its wire form is in the snapshot's [`Snapshot::data`],
/// and where in it the name whose addresses belong in the additional
/// section starts (MX, NS, SRV targets). Every RDATA of a zone is kept back
/// to back in one buffer rather than in an allocation of its own: compiling
/// the 1M-record bench zone made a million fewer allocations (each a lock
/// and a fresh heap chunk), and an RRset holding one RDATA is 8 bytes
/// smaller.
#[derive(Debug, Clone, Copy)]
pub struct Rdata {
    at: usize,
    len: u16,
    /// An offset rather than a lowercased copy: one allocation fewer per
    /// MX, NS and SRV record, and answers lowercase the name on the stack.
    pub target_at: Option<u8>,
    /// This record's own TTL. It matters for RRSIG only: the signatures at a
    /// name form one RRset here, but each keeps the TTL of the RRset it
    /// covers (RFC 4034 §3), which is what a transfer must send.
    pub ttl: u32,
}

#[derive(Debug, Clone)]
pub struct RRset {
    pub rtype: u16,
    pub ttl: u32,
    /// Inline when there is one, as in most RRsets: compiling then makes
    /// one allocation fewer per RRset (5% of the compile's instructions on
    /// the 100k bench zone, and 7 MiB less RSS on the 1M one).
    pub rdata: SmallVec<[Rdata; 1]>,
    /// The answer to a query for exactly this owner and type, encoded once
    /// on the first such query: section counts, then the answer, authority
    /// and additional records as they follow the question; in a signed zone
    /// also the answer with DO set (see `answer::encode_once`). Empty when
    /// the answer cannot be reused.
    pub encoded: std::sync::OnceLock<Box<[u8]>>,
}

#[derive(Debug, Clone, Default)]
pub struct Node {
    /// The owner as first written (case kept, wire form) when that is not
    /// the node's key, its lower-case form; `None` for nearly every name,
    /// which then costs no allocation of its own (see [`Node::owner`]).
    /// The answer path tells whether a query wrote the name the same way
    /// from the key it already holds, without reading this (a cache miss
    /// per query on a large zone).
    name: Option<Box<[u8]>>,
    /// This node's RRsets are `Snapshot::sets[sets_at..sets_at + sets_len]`
    /// (see [`Snapshot::sets`]): kept in one vector for the whole zone, a
    /// node's RRsets cost no allocation of their own. Compiling the 1M-record
    /// bench zone made 625,000 allocations and 250,000 reallocations fewer,
    /// and a node is 16 bytes smaller.
    sets_at: u32,
    sets_len: u32,
    /// A delegation point: NS below the apex.
    pub cut: bool,
    /// A cut or a DNAME sits between the apex and this name: a lookup must
    /// walk down from the apex. False for almost every name, which then
    /// takes one hash lookup.
    pub below_cut_or_dname: bool,
    /// A cut, or a DNAME below the apex: the names under it are
    /// `below_cut_or_dname`. (Compiling only; it fits in the padding.)
    diverts: bool,
    /// Some name under this one was added before it (compiling only).
    parent: bool,
}

impl Rdata {
    /// The wire form (uncompressed, case kept), from the snapshot's `data`.
    pub fn wire<'d>(&self, data: &'d [u8]) -> &'d [u8] {
        &data[self.at..self.at + usize::from(self.len)]
    }

    /// The additional-section name (MX, NS, SRV target) as the zone writes
    /// it, from the snapshot's `data`.
    pub fn target<'d>(&self, data: &'d [u8]) -> Option<&'d [u8]> {
        let wire = self.wire(data);
        self.target_at
            .map(|o| wire.get(usize::from(o)..).unwrap_or(&[]))
    }
}

impl Node {
    /// The owner as the zone wrote it; `key` is this node's key.
    pub fn owner<'a>(&'a self, key: &'a [u8]) -> &'a [u8] {
        self.name.as_deref().unwrap_or(key)
    }

    /// This node's RRsets, in the vector of them they are kept in.
    pub fn sets<'a>(&self, sets: &'a [RRset]) -> &'a [RRset] {
        &sets[self.sets_at as usize..(self.sets_at + self.sets_len) as usize]
    }

    /// [`Node::sets`] of type `t`.
    pub fn rrset<'a>(&self, sets: &'a [RRset], t: u16) -> Option<&'a RRset> {
        self.sets(sets).iter().find(|r| r.rtype == t)
    }
}

impl RRset {
    /// What a moved RRset leaves behind while compiling (see
    /// [`Compiler::add`]).
    fn hole() -> RRset {
        RRset {
            rtype: 0,
            ttl: 0,
            rdata: SmallVec::new(),
            encoded: std::sync::OnceLock::new(),
        }
    }
}

/// A compiled zone. Never changes after it is built.
#[derive(Debug)]
pub struct Snapshot {
    pub origin: Key,
    /// Every name in the zone, including empty non-terminals.
    pub nodes: Nodes,
    /// Every RDATA's wire form, back to back (see [`Rdata`]).
    pub data: Vec<u8>,
    /// Every RRset, each node's side by side (see [`Node::sets`]).
    pub sets: Vec<RRset>,
    pub serial: u32,
    pub records: usize,
    /// TTL for negative answers: min(SOA TTL, SOA MINIMUM) (RFC 2308 §5).
    pub neg_ttl: u32,
    /// The NSEC owners in canonical order, for denials.
    pub nsec: NsecChain,
    /// The NSEC3 chain, when the zone has one.
    pub nsec3: Option<Nsec3Chain>,
    /// Differences from the versions published before this one, oldest
    /// first, for IXFR; set by whoever publishes it.
    pub journal: Vec<Arc<crate::transfer::Diff>>,
    /// Who may transfer the zone; nobody by default.
    pub transfer: crate::transfer::TransferPolicy,
    /// When set, transfers must be signed with this TSIG key.
    pub transfer_key: Option<hickory_proto::rr::Name>,
}

/// RFC 1982 serial arithmetic: whether `a` comes before `b`.
pub fn serial_lt(a: u32, b: u32) -> bool {
    a != b && b.wrapping_sub(a) < 0x8000_0000
}

/// NSEC owners in canonical order (RFC 4034 §6.1). Every denial
/// binary-searches them, so each entry carries the first bytes of its
/// canonical key that tell owners apart (after the prefix they all share,
/// the origin's) inline: a probe reads the array, and only a tie on those
/// bytes reads the whole key from the heap.
#[derive(Debug, Default)]
pub struct NsecChain {
    /// The length of the canonical prefix every entry's key starts with.
    pub skip: usize,
    pub entries: Vec<NsecEntry>,
}

#[derive(Debug)]
pub struct NsecEntry {
    /// `canon[skip..]`, its first 16 bytes, zero-padded.
    pub head: [u8; 16],
    /// The canonical sort key ([`canonical_key`]).
    pub canon: Box<[u8]>,
    /// The owner's node key.
    pub key: Key,
}

impl NsecChain {
    fn new(mut entries: Vec<(Box<[u8]>, Key)>, origin: &[u8]) -> NsecChain {
        entries.sort_unstable();
        let prefix = canonical_key(origin);
        // Owners are at or below the origin, so all share its prefix; if
        // one did not, no prefix is skipped and the order stays exact.
        let skip = if entries.iter().all(|(c, _)| c.starts_with(&prefix)) {
            prefix.len()
        } else {
            0
        };
        let entries = entries
            .into_iter()
            .map(|(canon, key)| NsecEntry {
                head: Self::head(&canon, skip),
                canon,
                key,
            })
            .collect();
        NsecChain { skip, entries }
    }

    /// A canonical key's 16 bytes after `skip`, zero-padded. Comparing
    /// heads orders keys as comparing them whole does, except that equal
    /// heads need the whole keys: a 0x00 byte only ends a label, and no
    /// label is empty, so padding never ties with a real byte.
    pub fn head(canon: &[u8], skip: usize) -> [u8; 16] {
        let mut h = [0u8; 16];
        let rest = canon.get(skip..).unwrap_or_default();
        let n = rest.len().min(16);
        h[..n].copy_from_slice(&rest[..n]);
        h
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The owner whose NSEC proves something about `key` (a lowercase wire
    /// name): the name itself when it has one, else the one before it in
    /// canonical order, whose NSEC covers it (the last covers what sorts
    /// before the first).
    pub fn find(&self, key: &[u8]) -> Option<&[u8]> {
        let first = self.entries.first()?;
        let c = canonical_key(key);
        // A name outside the shared prefix cannot be told apart by heads.
        let by_head = c.starts_with(&first.canon[..self.skip]);
        let head = Self::head(&c, self.skip);
        let i = match self.entries.binary_search_by(|e| {
            if by_head {
                e.head.cmp(&head).then_with(|| (*e.canon).cmp(&*c))
            } else {
                (*e.canon).cmp(&*c)
            }
        }) {
            Ok(i) => i,
            Err(0) => self.entries.len() - 1,
            Err(i) => i - 1,
        };
        Some(&self.entries[i].key)
    }
}

/// NSEC3 owners by their hash, sorted, with the parameters to hash query names.
#[derive(Debug)]
pub struct Nsec3Chain {
    pub iterations: u16,
    pub salt: Vec<u8>,
    /// The owners' raw SHA-1 hashes, sorted, back to back: every denial
    /// binary-searches them, and one array keeps each probe to one memory
    /// read (a `Vec` per hash made each probe two cache misses, most of an
    /// NSEC3 NXDOMAIN's time on a large zone).
    pub hashes: Vec<[u8; 20]>,
    /// The node key of each hash's NSEC3 owner, in the same order.
    pub owners: Vec<Key>,
}

/// A sort key whose byte order is the canonical DNS name order (RFC 4034
/// §6.1) of a lowercase wire name: labels from the root down, each ended by
/// 0x00, with bytes 0x00 and 0x01 escaped so the end of a label sorts first.
pub fn canonical_key(wire: &[u8]) -> Box<[u8]> {
    let offs: Vec<usize> = suffixes(wire).filter(|&o| wire[o] != 0).collect();
    let mut v = Vec::with_capacity(wire.len() + 4);
    for &o in offs.iter().rev() {
        let l = wire[o] as usize;
        for &b in &wire[o + 1..o + 1 + l] {
            match b {
                0 => v.extend_from_slice(&[1, 1]),
                1 => v.extend_from_slice(&[1, 2]),
                b => v.push(b),
            }
        }
        v.push(0);
    }
    v.into_boxed_slice()
}

pub const T_A: u16 = 1;
pub const T_NS: u16 = 2;
pub const T_CNAME: u16 = 5;
pub const T_SOA: u16 = 6;
pub const T_PTR: u16 = 12;
pub const T_HINFO: u16 = 13;
pub const T_MX: u16 = 15;
pub const T_AAAA: u16 = 28;
pub const T_SRV: u16 = 33;
pub const T_DNAME: u16 = 39;
pub const T_OPT: u16 = 41;
pub const T_DS: u16 = 43;
pub const T_RRSIG: u16 = 46;
pub const T_NSEC: u16 = 47;
pub const T_DNSKEY: u16 = 48;
pub const T_NSEC3: u16 = 50;
pub const T_NSEC3PARAM: u16 = 51;
pub const T_IXFR: u16 = 251;
pub const T_AXFR: u16 = 252;
pub const T_ANY: u16 = 255;

/// What compiling needs to know of a record's RDATA besides its wire form:
/// whose addresses go in the additional section, and the SOA's numbers.
/// Taken from hickory's variant, so RDATA of an unknown type that happens
/// to carry an MX's type code is not read as one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Other,
    Mx,
    Ns,
    Srv,
    Soa,
}

impl Shape {
    pub fn of(rdata: &RData) -> Shape {
        match rdata {
            RData::MX(_) => Shape::Mx,
            RData::NS(_) => Shape::Ns,
            RData::SRV(_) => Shape::Srv,
            RData::SOA(_) => Shape::Soa,
            _ => Shape::Other,
        }
    }

    pub(crate) fn code(self) -> u8 {
        self as u8
    }

    pub(crate) fn from_code(c: u8) -> Shape {
        [Shape::Other, Shape::Mx, Shape::Ns, Shape::Srv, Shape::Soa]
            .get(usize::from(c))
            .copied()
            .unwrap_or(Shape::Other)
    }
}

/// Offset of the serial in an SOA's wire RDATA (uncompressed): after its
/// two names. The refresh, retry, expire and minimum follow, four bytes each.
pub fn soa_serial_at(rd: &[u8]) -> Option<usize> {
    let name_end = |mut p: usize| -> Option<usize> {
        loop {
            let l = *rd.get(p)? as usize;
            if l == 0 {
                return Some(p + 1);
            }
            p += 1 + l;
        }
    };
    let p = name_end(name_end(0)?)?;
    (rd.len() >= p + 20).then_some(p)
}

/// Builds a [`Snapshot`] one record at a time, in the zone's order: from a
/// read zone ([`Snapshot::compile`]) or while the zone is being read
/// ([`CompileStream`]); both feed the same [`Compiler::add`].
pub struct Compiler {
    origin: Key,
    nodes: Nodes,
    serial: u32,
    soa_ttl_min: u32,
    records: usize,
    key: Vec<u8>,
    data: Vec<u8>,
    sets: Vec<RRset>,
    /// RRsets moved to the end of `sets` (a name's records were not all
    /// together in the file), whose old places `finish` drops.
    holes: usize,
    /// A cut or DNAME came after names below it, which were then not
    /// marked as they were added: `finish` marks the whole zone again.
    late_divert: bool,
    /// Whether any NSEC or NSEC3 record was added: unsigned zones skip the
    /// chains' passes over every node.
    nsec: bool,
    nsec3: bool,
}

impl Compiler {
    /// `records` is the zone's size, or a guess at it.
    pub fn new(origin: &hickory_proto::rr::Name, records: usize) -> Compiler {
        let origin = lower(&name_to_wire_bytes(origin));
        // Sized up front for a name per two records (mail zones run 1.5 to 2
        // records a name): growing a table of hundreds of thousands of nodes
        // rehashes every key several times. A table sized for one name per
        // record doubled the buckets of the 1M-record bench zone (and its
        // RSS by about 90 MiB).
        let mut nodes = Nodes::with_capacity_and_hasher(records / 2, Default::default());
        // The apex, before any name below it (see `add`).
        nodes.insert(origin.clone(), Node::default());
        Compiler {
            origin,
            nodes,
            serial: 0,
            soa_ttl_min: u32::MAX,
            records: 0,
            key: Vec::new(),
            data: Vec::new(),
            sets: Vec::new(),
            holes: 0,
            late_divert: false,
            nsec: false,
            nsec3: false,
        }
    }

    /// One record: its owner's and its RDATA's uncompressed wire forms (case
    /// kept). Records outside the origin are not served (the checks report
    /// them).
    pub fn add(&mut self, owner: &[u8], rtype: u16, ttl: u32, shape: Shape, rd: &[u8]) {
        let key = &mut self.key;
        key.clear();
        key.extend_from_slice(owner);
        // Label lengths are at most 63, below `A`: only letters change.
        key.make_ascii_lowercase();
        let origin = &self.origin;
        // (RDATA is at most 65,535 bytes on the wire; the reader refuses more.)
        let Ok(len) = u16::try_from(rd.len()) else {
            return;
        };
        if !key.ends_with(origin) {
            return;
        }
        self.records += 1;
        let t = rtype;
        // The target's name is in the RDATA (uncompressed), after MX's
        // preference and SRV's priority, weight and port.
        let target_at = match shape {
            Shape::Mx => Some(2),
            Shape::Ns => Some(0),
            Shape::Srv => Some(6),
            Shape::Soa | Shape::Other => None,
        };
        if shape == Shape::Soa
            && let Some(p) = soa_serial_at(rd)
        {
            let u = |o: usize| u32::from_be_bytes([rd[o], rd[o + 1], rd[o + 2], rd[o + 3]]);
            self.serial = u(p);
            self.soa_ttl_min = ttl.min(u(p + 16));
        }
        let nodes = &mut self.nodes;
        // One probe for a name already seen; a new one is inserted where
        // the probe ended, and its ancestors after it.
        let (node, new) = match nodes.entry_ref(key.as_slice()) {
            EntryRef::Occupied(o) => (o.into_mut(), false),
            EntryRef::Vacant(v) => {
                let k: Key = key.as_slice().into();
                (v.insert_with_key(k, Node::default()), true)
            }
        };
        if node.sets_len == 0 {
            // The first record names the node as the zone writes it (an
            // empty non-terminal made earlier is named by its key).
            node.name = (*owner != **key).then(|| owner.into());
        }
        let sets = &mut self.sets;
        let (at, n) = (node.sets_at as usize, node.sets_len as usize);
        match sets[at..at + n].iter_mut().find(|s| s.rtype == t) {
            Some(set) => {
                // RFC 2181 §5.2: one TTL per RRset; the checks report differences.
                set.ttl = set.ttl.min(ttl);
                if !set.rdata.iter().any(|d| d.wire(&self.data) == rd) {
                    // One at a time: most RRsets hold one or two records, and
                    // room grown by doubling would mostly stay empty.
                    set.rdata.reserve_exact(1);
                    set.rdata.push(Rdata {
                        at: self.data.len(),
                        len,
                        target_at,
                        ttl,
                    });
                    self.data.extend_from_slice(rd);
                }
            }
            None => {
                // A node's RRsets stay side by side: a name's records are
                // nearly always together in a file, so its RRsets are at the
                // end already; when not, they move there.
                if n == 0 {
                    node.sets_at = sets.len() as u32;
                } else if at + n != sets.len() {
                    node.sets_at = sets.len() as u32;
                    for i in at..at + n {
                        let moved = std::mem::replace(&mut sets[i], RRset::hole());
                        sets.push(moved);
                    }
                    self.holes += n;
                }
                node.sets_len += 1;
                sets.push(RRset {
                    rtype: t,
                    ttl,
                    rdata: smallvec::smallvec![Rdata {
                        at: self.data.len(),
                        len,
                        target_at,
                        ttl,
                    }],
                    encoded: std::sync::OnceLock::new(),
                });
                self.data.extend_from_slice(rd);
            }
        }
        let below_apex = key.len() > origin.len();
        if t == T_NS && below_apex {
            node.cut = true;
        }
        self.nsec |= t == T_NSEC;
        self.nsec3 |= t == T_NSEC3;
        if below_apex && (t == T_NS || t == T_DNAME) && !node.diverts {
            node.diverts = true;
            // Names under it that are already here were not marked.
            self.late_divert |= node.parent;
        }
        if new {
            // Empty non-terminals: every ancestor up to the origin exists.
            // The nearest one that was already here says whether the new
            // names are below a cut or DNAME: marking them as they come
            // saves `finish` a pass over every node and its ancestors (a
            // tenth of the time to load the 1M-record bench zone).
            let mut below = false;
            let mut made = 0;
            for off in suffixes(key).skip(1) {
                let anc = &key[off..];
                // The origin's node exists from the start and diverts
                // nothing: most names are its children, and this saves
                // their probe (a cache miss on a large zone).
                if anc.len() <= origin.len() {
                    break;
                }
                match nodes.entry_ref(anc) {
                    EntryRef::Occupied(o) => {
                        let a = o.into_mut();
                        a.parent = true;
                        below = a.diverts || a.below_cut_or_dname;
                        break;
                    }
                    EntryRef::Vacant(v) => {
                        let ent = Node {
                            parent: true,
                            ..Node::default()
                        };
                        v.insert_with_key(anc.into(), ent);
                        made += 1;
                    }
                }
            }
            if below {
                // Rare (glue, names under a DNAME): found again by key.
                for off in suffixes(key).take(made + 1) {
                    if let Some(n) = nodes.get_mut(&key[off..]) {
                        n.below_cut_or_dname = true;
                    }
                }
            }
        }
    }

    /// The snapshot of every record added.
    pub fn finish(self) -> Snapshot {
        let Compiler {
            origin,
            mut nodes,
            serial,
            soa_ttl_min,
            records,
            late_divert,
            nsec,
            nsec3,
            mut data,
            mut sets,
            holes,
            ..
        } = self;
        data.shrink_to_fit();
        if holes > 0 {
            // Leave out the places moved RRsets left.
            let mut packed = Vec::with_capacity(sets.len() - holes);
            for n in nodes.values_mut() {
                let at = n.sets_at as usize;
                n.sets_at = packed.len() as u32;
                for set in &mut sets[at..at + n.sets_len as usize] {
                    packed.push(std::mem::replace(set, RRset::hole()));
                }
            }
            sets = packed;
        }
        sets.shrink_to_fit();
        if late_divert {
            mark_below_diverts(&mut nodes, &origin);
        }
        let nsec_owners = if nsec {
            nodes
                .iter()
                .filter(|(_, n)| n.rrset(&sets, T_NSEC).is_some())
                .map(|(k, _)| (canonical_key(k), k.clone()))
                .collect()
        } else {
            Vec::new()
        };
        let nsec = NsecChain::new(nsec_owners, &origin);
        let nsec3 = if nsec3 {
            nsec3_chain(&nodes, &sets, &data, &origin)
        } else {
            None
        };
        Snapshot {
            origin,
            nodes,
            data,
            sets,
            serial,
            records,
            nsec,
            nsec3,
            journal: Vec::new(),
            transfer: Default::default(),
            transfer_key: None,
            neg_ttl: if soa_ttl_min == u32::MAX {
                0
            } else {
                soa_ttl_min
            },
        }
    }
}

/// Marks every name below a cut or a DNAME under the apex, looking at
/// each name's ancestors: for zones where one came after names below it.
fn mark_below_diverts(nodes: &mut Nodes, origin: &[u8]) {
    let diverted: Vec<Key> = nodes
        .keys()
        .filter(|k| {
            suffixes(k)
                .skip(1)
                .take_while(|&o| k.len() - o > origin.len())
                .any(|o| nodes.get(&k[o..]).is_some_and(|n| n.diverts))
        })
        .cloned()
        .collect();
    for k in diverted {
        if let Some(n) = nodes.get_mut(&k) {
            n.below_cut_or_dname = true;
        }
    }
}

impl Snapshot {
    /// Compiles a zone that read without errors. Records outside the origin are
    /// not served (the checks report them).
    pub fn compile(zone: &Zone) -> Snapshot {
        let mut c = Compiler::new(&zone.origin, zone.records.len());
        // Buffers reused for every record.
        let mut wire = Vec::new();
        let mut rd = Vec::new();
        for r in &zone.records {
            mailzone_zone::record::name_to_wire_into(&r.owner, &mut wire);
            mailzone_zone::record::rdata_to_wire_into(&r.rdata, &mut rd);
            let t = u16::from(r.rtype());
            c.add(&wire, t, r.ttl, Shape::of(&r.rdata), &rd);
        }
        c.finish()
    }

    /// Gives every SOA record the serial the server settled on, as compiling
    /// the zone with that serial would have: two SOA records that differed
    /// only in their serial become one.
    pub fn set_serial(&mut self, serial: u32) {
        self.serial = serial;
        let Snapshot {
            nodes, data, sets, ..
        } = self;
        for node in nodes.values_mut() {
            let (at, n) = (node.sets_at as usize, node.sets_len as usize);
            let Some(set) = sets[at..at + n].iter_mut().find(|s| s.rtype == T_SOA) else {
                continue;
            };
            for d in &mut set.rdata {
                if let Some(p) = soa_serial_at(d.wire(data)) {
                    data[d.at + p..d.at + p + 4].copy_from_slice(&serial.to_be_bytes());
                }
            }
            let mut i = 1;
            while i < set.rdata.len() {
                let data = &*data;
                if set.rdata[..i]
                    .iter()
                    .any(|d| d.wire(data) == set.rdata[i].wire(data))
                {
                    set.rdata.remove(i);
                } else {
                    i += 1;
                }
            }
        }
    }

    /// Whether answers to DO queries carry signatures and proofs.
    pub fn signed(&self) -> bool {
        self.nodes.get(&self.origin).is_some_and(|n| {
            n.rrset(&self.sets, T_DNSKEY).is_some() && n.rrset(&self.sets, T_RRSIG).is_some()
        })
    }

    pub fn node(&self, key: &[u8]) -> Option<&Node> {
        self.nodes.get(key)
    }

    /// The node of a lower-case key with the snapshot's own copy of the
    /// key, which lives as long as the snapshot (for [`Node::owner`]).
    pub fn node_entry(&self, key: &[u8]) -> Option<(&[u8], &Node)> {
        self.nodes.get_key_value(key).map(|(k, n)| (&**k, n))
    }

    pub fn soa(&self) -> Option<&RRset> {
        self.nodes
            .get(&self.origin)
            .and_then(|n| n.rrset(&self.sets, T_SOA))
    }
}

/// The zones served, routed by longest matching origin. Snapshots are shared
/// (`Arc`) so a reload that changes one zone rebuilds the catalog without
/// copying or recompiling the others.
#[derive(Debug, Default, Clone)]
pub struct Catalog {
    zones: HashMap<Key, Arc<Snapshot>>,
    /// Answers to CHAOS TXT `id.server.`/`hostname.bind.` and
    /// `version.server.`/`version.bind.`; REFUSED when not configured.
    pub identity: Option<String>,
    pub version: Option<String>,
    /// TSIG keys for transfers (RFC 8945).
    pub tsig_keys: Vec<crate::transfer::TsigKey>,
    /// Secondary zones (lowercase wire origin) and the addresses of their
    /// primaries, whose NOTIFY messages are accepted.
    pub secondaries: HashMap<Key, Vec<std::net::IpAddr>>,
}

impl Catalog {
    pub fn new<S: Into<Arc<Snapshot>>>(snapshots: impl IntoIterator<Item = S>) -> Catalog {
        Catalog {
            zones: snapshots
                .into_iter()
                .map(|s| {
                    let s = s.into();
                    (s.origin.clone(), s)
                })
                .collect(),
            identity: None,
            version: None,
            tsig_keys: Vec::new(),
            secondaries: HashMap::default(),
        }
    }

    /// Adds a zone, or replaces the one with the same origin.
    pub fn insert(&mut self, s: Arc<Snapshot>) {
        self.zones.insert(s.origin.clone(), s);
    }

    pub fn zones(&self) -> impl Iterator<Item = &Snapshot> {
        self.zones.values().map(|s| &**s)
    }

    /// The zone with the longest origin that contains `key` (lowercase wire).
    pub fn find(&self, key: &[u8]) -> Option<&Snapshot> {
        suffixes(key).find_map(|off| self.zones.get(&key[off..]).map(|s| &**s))
    }
}

/// Record types whose RDATA names may be compressed (RFC 3597 §4: the RFC 1035 ones).
pub fn compressible(t: u16) -> bool {
    matches!(t, T_NS | T_CNAME | T_SOA | T_PTR | T_MX) || t == u16::from(RecordType::MX)
}

/// The NSEC3 chain of a zone: parameters from the apex NSEC3PARAM (or the
/// first NSEC3 record), owners decoded from base32hex.
fn nsec3_chain(nodes: &Nodes, sets: &[RRset], data: &[u8], origin: &[u8]) -> Option<Nsec3Chain> {
    let mut hashes: Vec<([u8; 20], Key)> = Vec::new();
    let mut params: Option<(u16, Vec<u8>)> = None;
    let from_rdata = |rd: &[u8]| -> Option<(u16, Vec<u8>)> {
        let it = u16::from_be_bytes([*rd.get(2)?, *rd.get(3)?]);
        let sl = *rd.get(4)? as usize;
        Some((it, rd.get(5..5 + sl)?.to_vec()))
    };
    if let Some(p) = nodes
        .get(origin)
        .and_then(|n| n.rrset(sets, T_NSEC3PARAM))
        .and_then(|s| s.rdata.first())
    {
        params = from_rdata(p.wire(data));
    }
    for (k, n) in nodes {
        let Some(set) = n.rrset(sets, T_NSEC3) else {
            continue;
        };
        if params.is_none() {
            params = set.rdata.first().and_then(|d| from_rdata(d.wire(data)));
        }
        let l = k[0] as usize;
        let label = k[1..1 + l].to_ascii_uppercase();
        // SHA-1 (20 bytes) is the only NSEC3 hash defined; an owner label
        // that decodes to anything else can match no query's hash.
        if let Ok(h) = data_encoding::BASE32HEX_NOPAD.decode(&label)
            && let Ok(h) = <[u8; 20]>::try_from(h)
        {
            hashes.push((h, k.clone()));
        }
    }
    if hashes.is_empty() {
        return None;
    }
    hashes.sort_unstable();
    let (iterations, salt) = params.unwrap_or_default();
    let (hashes, owners) = hashes.into_iter().unzip();
    Some(Nsec3Chain {
        iterations,
        salt,
        hashes,
        owners,
    })
}

#[cfg(test)]
mod tests {
    use super::{Compiler, Key, NsecChain, Shape, T_DNAME, T_NS, canonical_key};

    /// Twenty orders of `0..len`, shuffled deterministically from `seed`.
    fn shuffles(len: usize, mut seed: u32) -> Vec<Vec<usize>> {
        (0..20)
            .map(|_| {
                let mut o: Vec<usize> = (0..len).collect();
                for i in (1..len).rev() {
                    seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                    o.swap(i, (seed >> 16) as usize % (i + 1));
                }
                o
            })
            .collect()
    }

    fn wire(labels: &[&[u8]]) -> Box<[u8]> {
        let mut w = Vec::new();
        for l in labels {
            w.push(l.len() as u8);
            w.extend_from_slice(l);
        }
        w.push(0);
        w.into()
    }

    /// The chain's search finds what a linear scan by whole canonical keys
    /// finds, for names that differ only past the inline bytes, names one
    /// label longer than others, labels holding 0x00 and 0x01, and names
    /// outside the zone.
    #[test]
    fn nsec_search_agrees_with_a_linear_scan() {
        let origin = wire(&[b"example", b"test"]);
        let labels: [&[u8]; 9] = [
            b"a",
            b"b",
            b"\x00",
            b"\x01x",
            b"0123456789abcdefgh",
            b"0123456789abcdefgi",
            b"z",
            b"*",
            b"mx",
        ];
        let mut names = vec![origin.clone()];
        for x in labels {
            names.push(wire(&[x, b"example", b"test"]));
            for y in labels {
                names.push(wire(&[y, x, b"example", b"test"]));
            }
        }
        // Every other name owns an NSEC; all are asked.
        let owned: Vec<(Key, Key)> = names
            .iter()
            .step_by(2)
            .map(|n| (canonical_key(n), n.clone()))
            .collect();
        let chain = NsecChain::new(owned.clone(), &origin);
        assert!(chain.skip > 0);
        let mut sorted = owned;
        sorted.sort();
        let outside = wire(&[b"a", b"other", b"test"]);
        for q in names.iter().chain([&outside]) {
            let c = canonical_key(q);
            let want = sorted
                .iter()
                .rev()
                .find(|(k, _)| **k <= *c)
                .or(sorted.last())
                .map(|(_, n)| &**n);
            assert_eq!(chain.find(q), want, "{q:?}");
        }
    }

    /// Every name below a cut or a DNAME under the apex is marked, and no
    /// other, whatever order the records come in: parents first (marked as
    /// added), children first (marked again by `finish`), and mixed.
    #[test]
    fn names_below_cuts_and_dnames_are_marked_in_any_order() {
        let n = |s: &str| -> Key {
            let labels: Vec<&[u8]> = s.split('.').map(str::as_bytes).collect();
            wire(&labels)
        };
        let origin = n("example.test");
        let t_a = 1u16;
        let records: Vec<(Key, u16)> = [
            ("example.test", T_NS),
            ("example.test", T_DNAME),
            ("www.example.test", t_a),
            ("child.example.test", T_NS),
            ("ns1.child.example.test", t_a),
            ("deep.er.child.example.test", t_a),
            ("a.b.sub.example.test", t_a),
            ("sub.example.test", T_DNAME),
            ("x.sub.example.test", t_a),
            ("mail.example.test", t_a),
            ("c.mail.example.test", t_a),
            ("d.c.mail.example.test", T_NS),
            ("e.d.c.mail.example.test", t_a),
            ("f.e.d.c.mail.example.test", t_a),
        ]
        .iter()
        .map(|(o, t)| (n(o), *t))
        .collect();
        let diverting = |k: &[u8]| {
            records
                .iter()
                .any(|(o, t)| **o == *k && k.len() > origin.len() && (*t == T_NS || *t == T_DNAME))
        };
        let below = |k: &[u8]| {
            super::suffixes(k)
                .skip(1)
                .any(|o| k.len() - o > origin.len() && diverting(&k[o..]))
        };
        // Parents first, as in a zone in canonical order: nothing is late.
        let labels = |i: &usize| super::suffixes(&records[*i].0).count();
        let mut parents_first: Vec<usize> = (0..records.len()).collect();
        parents_first.sort_by_key(labels);
        let mut orders = vec![parents_first, (0..records.len()).collect()];
        orders.push((0..records.len()).rev().collect());
        orders.extend(shuffles(records.len(), 7));
        let name = hickory_proto::rr::Name::from_ascii("example.test.").unwrap();
        let mut marked = 0;
        for (nth, order) in orders.into_iter().enumerate() {
            let mut c = Compiler::new(&name, records.len());
            for &i in &order {
                let (owner, t) = &records[i];
                let shape = if *t == T_NS { Shape::Ns } else { Shape::Other };
                let rd: &[u8] = if *t == T_NS { &origin } else { &[192, 0, 2, 1] };
                c.add(owner, *t, 300, shape, rd);
            }
            // The first order must not need `finish`'s second look, and
            // the reversed one (glue before its NS) must.
            match nth {
                0 => assert!(!c.late_divert),
                2 => assert!(c.late_divert),
                _ => {}
            }
            let s = c.finish();
            for (k, node) in &s.nodes {
                assert_eq!(
                    node.below_cut_or_dname,
                    below(k),
                    "{k:?} in order {order:?}"
                );
                marked += usize::from(node.below_cut_or_dname);
            }
        }
        assert!(marked > 0);
    }

    /// Each name's RRsets hold exactly its records, whatever order they
    /// come in: a name's records together (nothing moves) or interleaved
    /// with other names' (its RRsets move to the end of the vector, and
    /// `finish` leaves out the places they left).
    #[test]
    fn every_rrset_holds_its_records_in_any_order() {
        let n = |s: &str| -> Key {
            let labels: Vec<&[u8]> = s.split('.').map(str::as_bytes).collect();
            wire(&labels)
        };
        let mut records: Vec<(Key, u16, Vec<u8>)> = Vec::new();
        for (i, owner) in [
            "example.test",
            "a.example.test",
            "b.example.test",
            "c.a.example.test",
        ]
        .iter()
        .enumerate()
        {
            for t in [1u16, 16, 28, 99] {
                for j in 0..=(i as u8 % 3) {
                    records.push((n(owner), t, vec![i as u8, t as u8, j]));
                }
            }
        }
        let mut orders: Vec<Vec<usize>> = vec![(0..records.len()).collect()];
        orders.extend(shuffles(records.len(), 3));
        let name = hickory_proto::rr::Name::from_ascii("example.test.").unwrap();
        let mut moved = 0;
        for (nth, order) in orders.into_iter().enumerate() {
            let mut c = Compiler::new(&name, records.len());
            for &i in &order {
                let (owner, t, rd) = &records[i];
                c.add(owner, *t, 300, Shape::Other, rd);
            }
            if nth == 0 {
                assert_eq!(c.holes, 0, "a name's records together move nothing");
            }
            moved += c.holes;
            let s = c.finish();
            let mut sets = 0;
            for (k, node) in &s.nodes {
                let mut got: Vec<(u16, Vec<u8>)> = node
                    .sets(&s.sets)
                    .iter()
                    .flat_map(|set| {
                        set.rdata
                            .iter()
                            .map(|d| (set.rtype, d.wire(&s.data).to_vec()))
                    })
                    .collect();
                got.sort();
                let mut want: Vec<(u16, Vec<u8>)> = records
                    .iter()
                    .filter(|(o, _, _)| o == k)
                    .map(|(_, t, rd)| (*t, rd.clone()))
                    .collect();
                want.sort();
                assert_eq!(got, want, "{k:?} in order {order:?}");
                sets += node.sets(&s.sets).len();
            }
            assert_eq!(s.sets.len(), sets, "no place left over in order {order:?}");
        }
        assert!(moved > 0, "some order moved RRsets");
    }
}
