//! The checks: DNS sanity and the mail catalogue, run over a whole zone in one
//! pass. Each family lives in its own module and reports through [`Out`],
//! which takes severities from the catalogue.

pub(crate) mod dkim;
pub(crate) mod dmarc;
mod dns;
pub(crate) mod gen_;
mod mx;
mod policy;
pub(crate) mod spf;
mod tlsa;
mod xr;

use crate::catalogue::entry;
use crate::index::{Index, Names, ReadAhead};
use crate::{Diagnostic, Term};
use hickory_proto::rr::{Name, RecordType};
use mailzone_zone::handoff::{Batches, Handoff, Reuse};
use mailzone_zone::{Span, Zone, ZoneRecord};

/// Runs every check over a zone; the diagnostics come back sorted by location.
/// The families are independent readers of one immutable index, so two
/// threads (the machines this runs on have two cores) take them one at a time
/// from a list ordered by cost, which keeps the threads evenly loaded whatever
/// the zone's mix of records.
pub fn check_zone(zone: &Zone) -> Vec<Diagnostic> {
    check_zone_with(zone, None)
}

/// [`check_zone`] with the zone's names already indexed while it was read
/// (a [`NameStream`]).
pub fn check_zone_with(zone: &Zone, names: Option<&mut ReadAhead>) -> Vec<Diagnostic> {
    run_both(Checking::new(zone, names)).0
}

/// [`check_zone_with`] for a server, which logs its info findings as counts:
/// those are counted by id instead of built, except for the ids in `keep`
/// (ones its config raises to errors). Returns the findings built and the
/// counts.
pub fn check_zone_counting<'z>(
    zone: &'z Zone,
    names: Option<&'z mut ReadAhead>,
    keep: Vec<String>,
) -> (Vec<Diagnostic>, Vec<(&'static str, usize)>) {
    run_both(Checking::new(zone, names).counting_info(keep))
}

fn run_both(c: Checking<'_>) -> (Vec<Diagnostic>, Vec<(&'static str, usize)>) {
    let done = c.run();
    (done.diagnostics, done.counted)
}

/// What [`Checking::run`] found, with how long its parts took.
pub struct Checked {
    pub diagnostics: Vec<Diagnostic>,
    /// Info findings counted instead of built (see [`Checking::counting_info`]).
    pub counted: Vec<(&'static str, usize)>,
    pub timings: Timings,
}

/// Where a check's time went, for `mailzone check --timings` and the
/// benchmarks: the index, each family (with the thread that ran it, in
/// the order they finished), and sorting the findings.
#[derive(Clone, Debug, Default)]
pub struct Timings {
    pub index: std::time::Duration,
    pub families: Vec<(&'static str, usize, std::time::Duration)>,
    pub sort: std::time::Duration,
}

/// A family of checks, by the name `--timings` gives it.
type Family = (&'static str, fn(&Index<'_>, &mut Out));

/// The checks of one zone, run by whichever threads call [`Checking::work`]:
/// the families are independent readers of one immutable index, and each
/// thread takes the next family left (they are listed by cost) until none
/// is. A thread busy elsewhere at first (a server's compile) can join late.
pub struct Checking<'z> {
    ix: Index<'z>,
    next: std::sync::atomic::AtomicUsize,
    found: std::sync::Mutex<Vec<Diagnostic>>,
    /// Set when info findings are only counted: the ids still built in full.
    keep: Option<Vec<String>>,
    counted: std::sync::Mutex<Vec<(&'static str, usize)>>,
    timings: std::sync::Mutex<Timings>,
    /// Threads that have called [`Checking::work`], to tell them apart in
    /// the timings.
    workers: std::sync::atomic::AtomicUsize,
}

impl<'z> Checking<'z> {
    /// By cost on the 1M bench zone, dearest first, so that the last
    /// family either thread takes is a cheap one; but the DNS checks,
    /// which read no TXT record, second, and the MX checks third, so that
    /// the other thread runs them and builds the MX table (which the SPF
    /// checks ask for later) while the first builds the texts for SPF:
    /// with DMARC third, it waited for the texts instead.
    const FAMILIES: &'static [Family] = &[
        ("spf", spf::run),
        ("dns", dns::run),
        ("mx", mx::run),
        ("dmarc", dmarc::run),
        ("dkim", dkim::run),
        ("xr", xr::run),
        ("gen", gen_::run),
        ("policy", policy::run),
        ("tlsa", tlsa::run),
    ];

    /// Indexes the zone (with its names, when they were indexed while it
    /// was read).
    pub fn new(zone: &'z Zone, names: Option<&'z mut ReadAhead>) -> Checking<'z> {
        let started = std::time::Instant::now();
        let ix = match names {
            Some(names) => Index::with_names(zone, names),
            None => Index::new(zone),
        };
        Checking {
            ix,
            next: std::sync::atomic::AtomicUsize::new(0),
            found: std::sync::Mutex::new(Vec::new()),
            keep: None,
            counted: std::sync::Mutex::new(Vec::new()),
            timings: std::sync::Mutex::new(Timings {
                index: started.elapsed(),
                ..Timings::default()
            }),
            workers: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// Runs every family on this thread and one more, then sorts the findings.
    pub fn run(self) -> Checked {
        std::thread::scope(|s| {
            let other = s.spawn(|| self.work());
            self.work();
            // A panic in a check is our bug; let it surface as one.
            other.join().expect("a check family panicked");
        });
        let started = std::time::Instant::now();
        let diagnostics = self.finish();
        let counted = self.counted();
        let mut timings = self.timings();
        timings.sort = started.elapsed();
        Checked {
            diagnostics,
            counted,
            timings,
        }
    }

    /// How long the index and each family that has run took.
    pub fn timings(&self) -> Timings {
        self.timings
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Counts info findings by id instead of building them, except for the
    /// ids in `keep`. A server only logs how many of each it found, and on a
    /// large mail zone building them (owner, message, location, the sort)
    /// was a tenth of the checks' work.
    pub fn counting_info(mut self, keep: Vec<String>) -> Self {
        self.keep = Some(keep);
        self
    }

    /// The info findings counted instead of built, per id, by id (empty
    /// unless [`Checking::counting_info`]). Sorted: which thread ran which
    /// family first must not change the output.
    pub fn counted(&self) -> Vec<(&'static str, usize)> {
        let mut c = self
            .counted
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        c.sort_unstable();
        c
    }

    /// Runs families until none is left.
    pub fn work(&self) {
        let mut out = Out {
            tally: self.keep.clone().map(|keep| Tally {
                keep,
                counts: Vec::new(),
                known: Vec::new(),
            }),
            ..Out::default()
        };
        let worker = self
            .workers
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        while let Some((name, f)) =
            Self::FAMILIES.get(self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
        {
            let started = std::time::Instant::now();
            f(&self.ix, &mut out);
            let took = started.elapsed();
            self.timings
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .families
                .push((name, worker, took));
        }
        if let Some(mut t) = out.tally.take() {
            let mut all = self.counted.lock().unwrap_or_else(|e| e.into_inner());
            for (id, n) in t.take() {
                match all.iter_mut().find(|(i, _)| *i == id) {
                    Some(c) => c.1 += n,
                    None => all.push((id, n)),
                }
            }
        }
        let mut found = self.found.lock().unwrap_or_else(|e| e.into_inner());
        if found.is_empty() {
            *found = out.diags;
        } else {
            found.extend(out.diags);
        }
    }

    /// Every finding, sorted by location, once every family has run (the
    /// threads that called [`Checking::work`] have returned).
    pub fn finish(&self) -> Vec<Diagnostic> {
        let mut d = std::mem::take(&mut *self.found.lock().unwrap_or_else(|e| e.into_inner()));
        // Keys first, then one permutation: moving the large diagnostics
        // through every merge pass of a sort cost more than the comparisons.
        // Findings with equal keys share an id, so one family made them, in
        // one order: which thread ran it does not change the result.
        d.sort_by_cached_key(|a| (a.span.file, a.span.start, a.id));
        d
    }
}

/// Indexes a zone's names while the zone is read: the reader hands over
/// each record (see `mailzone_zone::read_zone_file_observed`) with its
/// owner's and RDATA's wire forms. On two cores a thread of its own does the
/// hashing the checks would otherwise do after the read; on one the reader
/// adds each name itself, which still costs a fraction of keying the read
/// zone's hickory names afterwards.
pub struct NameStream {
    way: Way,
    /// Records observed so far.
    seen: u32,
    /// A key's text being joined.
    joined: Vec<u8>,
    /// DKIM keys and DMARC records are worked out on the names thread (see
    /// [`NameStream::without_read_ahead`]).
    read_ahead: bool,
}

enum Way {
    Thread(Box<Handoff<Batch, ReadAhead>>),
    Inline(Box<Names>),
}

/// Records handed over together: each owner's wire form, back to back, with
/// the record's type. (Cloning hickory `Name`s here cost the reader more
/// than the builder saved.)
#[derive(Default)]
struct Batch {
    wire: Vec<u8>,
    /// Type codes, turned into types on the names thread.
    types: Vec<u16>,
    /// MX exchanges' wire forms, back to back: the index marks the names
    /// MX records point at, and keying them from hickory names after the
    /// read was half of building the index.
    mx: Vec<u8>,
    /// The record numbers of those MX records, in order, and their
    /// preferences: what the checks need of each (see [`crate::index::Mx`])
    /// is worked out from the wire here.
    mx_seq: Vec<u32>,
    mx_preference: Vec<u16>,
    /// TXT RDATA in wire form, back to back, with each one's record number
    /// and length: what each text is (SPF, DMARC…), what its DKIM key is
    /// and what a DMARC record's own checks find are worked out here,
    /// beside the reader, instead of by the index and the families after
    /// it.
    txt: Vec<u8>,
    txt_at: Vec<(u32, u32)>,
    /// Each record's TTL and a hash of its RDATA's wire form, taken while
    /// the reader has the record at hand: the DNS checks compare records
    /// within an RRset by them, and reading the records again was a cache
    /// miss per record of every RRset of two or more.
    ttls: Vec<u32>,
    prints: Vec<u32>,
    /// NS targets' wire forms, back to back, with the records' numbers:
    /// keyed on the names thread for the DNS checks.
    ns: Vec<u8>,
    ns_seq: Vec<u32>,
}

impl Reuse for Batch {
    fn clear(&mut self) {
        self.wire.clear();
        self.types.clear();
        self.mx.clear();
        self.mx_seq.clear();
        self.mx_preference.clear();
        self.txt.clear();
        self.txt_at.clear();
        self.ttls.clear();
        self.prints.clear();
        self.ns.clear();
        self.ns_seq.clear();
    }
}

impl Batch {
    /// Room for a whole batch of a typical zone at once: growing each
    /// vector of every batch from nothing was a tenth of what observing
    /// cost the reader.
    fn reserve(&mut self) {
        const N: usize = NameStream::BATCH;
        self.wire.reserve(N * 24);
        self.types.reserve(N);
        self.ttls.reserve(N);
        self.prints.reserve(N);
        self.txt.reserve(N * 32);
        self.txt_at.reserve(N / 2);
    }
}

impl NameStream {
    /// Records per hand-over: large enough that the channel costs nothing
    /// per record, small enough that the builder keeps up with the reader.
    const BATCH: usize = 4096;

    /// Whether a thread of its own pays for a zone of about `records` records.
    pub fn pays(records: usize) -> bool {
        mailzone_zone::handoff::pays(records)
    }

    /// A thread when it pays, else the reader's own. `records` is a guess
    /// at the zone's size, for the first allocations.
    pub fn start(origin: &Name, records: usize) -> NameStream {
        if Self::pays(records) {
            Self::on_thread(origin, records)
        } else {
            Self::inline(origin, records)
        }
    }

    /// Names built on a thread of their own.
    pub fn on_thread(origin: &Name, records: usize) -> NameStream {
        let o = origin.clone();
        let handoff = Handoff::start("check-names", move |mut batches: Batches<Batch>| {
            let mut names = Names::new(&o, records);
            // Room for the texts of a zone whose records are a quarter TXT
            // of a typical length (the 1M bench zone's take 25 MB): grown
            // by doubling, each growth could copy them all.
            let mut kept = Vec::with_capacity(records.saturating_mul(32));
            let mut types = Vec::with_capacity(Self::BATCH);
            // What the read-ahead DMARC and SPF texts stand in: their checks
            // only say what they find, not where, so no record of the zone's.
            let detached = ZoneRecord {
                owner: o.clone(),
                class: hickory_proto::rr::DNSClass::IN,
                ttl: 0,
                rdata: hickory_proto::rr::RData::TXT(
                    hickory_proto::rr::rdata::TXT::new(Vec::new()),
                ),
                span: Span::default(),
            };
            while let Some(batch) = batches.next_batch() {
                // Keys are the owners' wire forms lower-cased (label
                // lengths are at most 63, below `A`: only letters change).
                batch.wire.make_ascii_lowercase();
                types.clear();
                types.extend(batch.types.iter().map(|&c| RecordType::from(c)));
                names.add_keys(&batch.wire, &types);
                names.add_ttls_and_prints(&batch.ttls, &batch.prints);
                // (Every MX's number is there when any is: see `observe`.)
                if !batch.mx_seq.is_empty() {
                    names.add_mx(&batch.mx, &batch.mx_seq, &batch.mx_preference);
                }
                names.add_mx_targets(&batch.mx);
                // The previous batch's NS targets, their glue added by now.
                let ns_before = names.ns_count();
                names.resolve_ns_targets(ns_before);
                names.add_ns_targets(&batch.ns, &batch.ns_seq);
                let mut txt = batch.txt.as_slice();
                let mut strings: Vec<&[u8]> = Vec::new();
                for &(seq, len) in &batch.txt_at {
                    let (wire, rest) = txt.split_at(len as usize);
                    txt = rest;
                    strings.clear();
                    strings.extend(crate::index::wire_strings(wire));
                    let joined: std::borrow::Cow<'_, [u8]> = match strings[..] {
                        [one] => one.into(),
                        _ => strings.concat().into(),
                    };
                    let kind = crate::index::Text::kind_of(&joined);
                    let at = crate::index::keep_text(&mut kept, &strings, &joined);
                    names.add_text_kind(seq, kind, at);
                    let Some((at, len)) = at else { continue };
                    let t = crate::index::Text::detached(&detached, &kept[at..at + len], kind);
                    // DKIM keys and DMARC records as nearly all are
                    // written: the first string opens with the version
                    // tag. (Any other their families read themselves.)
                    let first = strings.first().copied().unwrap_or_default();
                    if first.starts_with(b"v=DKIM1") {
                        let (v, counts) = dkim::read_ahead(&o, &t);
                        names.add_dkim(seq, v, counts);
                    } else if first.starts_with(b"v=DMARC1") {
                        if let Some((word, clean)) = dmarc::read_ahead(&o, &names, &t) {
                            names.add_dmarc(seq, word, clean);
                        }
                    } else if kind & crate::index::Text::SPF != 0
                        && let Some(counts) = spf::read_ahead(&o, &t)
                    {
                        names.add_spf(seq, counts);
                    }
                }
            }
            names.resolve_ns_targets(usize::MAX);
            names.mark_mx_targets();
            ReadAhead {
                names: Some(names),
                texts: kept,
            }
        });
        let mut handoff = Box::new(handoff);
        if let Some(first) = handoff.batch() {
            first.reserve();
        }
        NameStream {
            way: Way::Thread(handoff),
            seen: 0,
            joined: Vec::new(),
            read_ahead: true,
        }
    }

    /// Names built by the reader as it goes.
    pub fn inline(origin: &Name, records: usize) -> NameStream {
        NameStream {
            way: Way::Inline(Box::new(Names::new(origin, records))),
            seen: 0,
            joined: Vec::new(),
            read_ahead: true,
        }
    }

    /// Leaves DKIM keys, DMARC records, text kinds and RRset prints to the
    /// checks after the read. A server compiling the zone on a thread of
    /// its own while it is read has no core to spare for them: on two
    /// cores the names and compile threads already share one, and the
    /// reader waited for them (a refusing load of the 1M bench zone, both
    /// cores: 1.89 s to the first answer with the keys and DMARC records,
    /// 1.81 s without, alternating runs).
    pub fn without_read_ahead(mut self) -> Self {
        self.read_ahead = false;
        self
    }

    /// The next record read, with its type code and its owner's and its
    /// RDATA's uncompressed wire forms.
    pub fn observe(&mut self, r: &ZoneRecord, code: u16, owner_wire: &[u8], rdata_wire: &[u8]) {
        const MX: u16 = 15;
        const NS: u16 = 2;
        const TXT: u16 = 16;
        let seq = self.seen;
        self.seen = self.seen.saturating_add(1);
        let mx = (code == MX && rdata_wire.len() > 2).then(|| &rdata_wire[2..]);
        match &mut self.way {
            Way::Inline(names) => {
                names.add_wire(owner_wire, RecordType::from(code));
                if let Some(mx) = mx {
                    names.add_mx_targets(mx);
                }
                // DKIM keys as nearly all are written: the first string
                // opens with the version tag. (Any other the DKIM checks
                // read themselves.)
                if self.read_ahead
                    && code == TXT
                    && rdata_wire.get(1..8) == Some(b"v=DKIM1".as_slice())
                {
                    self.joined.clear();
                    for s in crate::index::wire_strings(rdata_wire) {
                        self.joined.extend_from_slice(s);
                    }
                    names.add_dkim_verdict(seq, dkim::verdict(&dkim::tag_list(&self.joined)));
                }
            }
            Way::Thread(handoff) => {
                let Some(batch) = handoff.batch() else {
                    return;
                };
                batch.wire.extend_from_slice(owner_wire);
                batch.types.push(code);
                // (Not for a server compiling beside the read: see
                // [`NameStream::without_read_ahead`].)
                if self.read_ahead {
                    batch.ttls.push(r.ttl);
                    batch.prints.push(crate::index::rdata_print(rdata_wire));
                }
                if let Some(mx) = mx {
                    batch.mx.extend_from_slice(mx);
                    if self.read_ahead {
                        batch.mx_seq.push(seq);
                        batch
                            .mx_preference
                            .push(u16::from_be_bytes([rdata_wire[0], rdata_wire[1]]));
                    }
                }
                if self.read_ahead && code == NS {
                    batch.ns.extend_from_slice(rdata_wire);
                    batch.ns_seq.push(seq);
                }
                if self.read_ahead && code == TXT {
                    batch.txt.extend_from_slice(rdata_wire);
                    batch.txt_at.push((seq, rdata_wire.len() as u32));
                }
                if batch.types.len() == Self::BATCH {
                    handoff.send();
                    if let Some(next) = handoff.batch() {
                        next.reserve();
                    }
                }
            }
        }
    }

    /// The names of every record observed, with what was read ahead. A
    /// builder that is gone (it panicked) leaves none; the index builds them.
    pub fn finish(self) -> ReadAhead {
        match self.way {
            Way::Inline(mut names) => {
                names.mark_mx_targets();
                ReadAhead {
                    names: Some(*names),
                    texts: Vec::new(),
                }
            }
            Way::Thread(handoff) => handoff.finish().unwrap_or_default(),
        }
    }
}

/// Collects findings. Severity comes from the catalogue entry of the id.
pub struct Out {
    pub diags: Vec<Diagnostic>,
    tally: Option<Tally>,
    /// What [`Out::emit`] hands back for a finding it only counted, so the
    /// sites can go on adding help and terms to it.
    spare: Diagnostic,
    spare_last: bool,
}

impl Default for Out {
    fn default() -> Self {
        Out {
            diags: Vec::new(),
            tally: None,
            spare_last: false,
            spare: Diagnostic {
                id: "",
                severity: crate::Severity::Info,
                owner: None,
                rtype: None,
                span: Span::default(),
                message: String::new(),
                help: None,
                term: None,
                related: Vec::new(),
                policy: None,
            },
        }
    }
}

/// Info findings counted by id, but for the ids kept in full.
struct Tally {
    keep: Vec<String>,
    counts: Vec<(&'static str, usize)>,
    /// Ids asked before, by their text's address: where they are counted,
    /// or `None` for ids built in full.
    known: Vec<(&'static str, Option<usize>)>,
}

impl Tally {
    /// Where findings of `id` are counted; `None` when they are built in
    /// full (not info, or kept).
    fn slot(&mut self, id: &'static str) -> Option<usize> {
        // The same few ids are asked hundreds of thousands of times: known
        // ones are found by the address of their text, without hashing.
        if let Some(k) = self.known.iter().find(|k| std::ptr::eq(k.0, id)) {
            return k.1;
        }
        let e = entry(id);
        let slot = (e.severity == crate::Severity::Info && !self.keep.iter().any(|k| k == e.id))
            .then(|| match self.counts.iter().position(|(i, _)| *i == e.id) {
                Some(p) => p,
                None => {
                    self.counts.push((e.id, 0));
                    self.counts.len() - 1
                }
            });
        self.known.push((id, slot));
        slot
    }

    /// The counts so far, by id, leaving none (and no remembered place for
    /// any id, so counting can start afresh). Without ids whose slot was
    /// made but never counted in (see [`Out::add_counts`]).
    fn take(&mut self) -> Vec<(&'static str, usize)> {
        self.known.clear();
        let mut c = std::mem::take(&mut self.counts);
        c.retain(|&(_, n)| n > 0);
        c
    }
}

/// Absolute presentation of a name, with the trailing dot.
pub fn fqdn(n: &Name) -> String {
    // Host-name labels print as they are, in one pass; anything else takes
    // hickory's escaping. (Formatting every owner through `Display` showed
    // up in the profile of zones with hundreds of thousands of findings.)
    if !n.is_root() {
        let mut s = Vec::with_capacity(n.len() + 1);
        let plain = n.iter().all(|l| {
            s.extend_from_slice(l);
            s.push(b'.');
            l == b"*"
                || l.iter()
                    .all(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
        if plain {
            // Only ASCII was admitted.
            return String::from_utf8(s).unwrap_or_default();
        }
    }
    let s = n.to_string();
    if s.ends_with('.') { s } else { format!("{s}.") }
}

impl Out {
    /// Counting every info finding, with none kept in full.
    pub(crate) fn counting_every_info() -> Out {
        Out {
            tally: Some(Tally {
                keep: Vec::new(),
                counts: Vec::new(),
                known: Vec::new(),
            }),
            ..Out::default()
        }
    }

    /// The info findings counted so far, by id, leaving none (and no
    /// remembered place for any id, so counting can start afresh).
    pub(crate) fn take_counts(&mut self) -> Vec<(&'static str, usize)> {
        self.tally.as_mut().map(Tally::take).unwrap_or_default()
    }

    /// Counts findings found already (read ahead), when every id among
    /// them is one this collector counts; else counts nothing and says so,
    /// and the findings must be made again.
    pub(crate) fn add_counts(&mut self, counts: &[(&'static str, u32)]) -> bool {
        let Some(t) = &mut self.tally else {
            return false;
        };
        // (Asked of every SPF record and DKIM key read ahead: each id's
        // slot is found once, not once per finding.)
        let mut slots = [0; 8];
        if counts.len() > slots.len() {
            return false;
        }
        for (&(id, _), slot) in counts.iter().zip(&mut slots) {
            match t.slot(id) {
                Some(p) => *slot = p,
                None => return false,
            }
        }
        for (&(_, n), &p) in counts.iter().zip(&slots) {
            t.counts[p].1 += n as usize;
        }
        true
    }

    /// Whether a finding of `id` is only counted, counting it if so. Sites
    /// whose info findings cost much to word ask before building them.
    pub fn counted(&mut self, id: &'static str) -> bool {
        let Some(t) = &mut self.tally else {
            return false;
        };
        match t.slot(id) {
            Some(p) => {
                t.counts[p].1 += 1;
                true
            }
            None => false,
        }
    }

    /// The finding emitted last, for sites that add to it afterwards (the
    /// spare when it was only counted).
    pub fn last(&mut self) -> &mut Diagnostic {
        if self.spare_last {
            return &mut self.spare;
        }
        self.diags.last_mut().expect("a finding was emitted")
    }

    pub fn emit(
        &mut self,
        id: &'static str,
        span: Span,
        owner: &Name,
        rtype: &str,
        message: impl Into<String>,
    ) -> &mut Diagnostic {
        self.spare_last = self.counted(id);
        if self.spare_last {
            self.spare.help = None;
            self.spare.term = None;
            self.spare.related.clear();
            return &mut self.spare;
        }
        let e = entry(id);
        self.diags.push(Diagnostic {
            id: e.id,
            severity: e.severity,
            owner: Some(fqdn(owner)),
            rtype: Some(rtype.to_string()),
            span,
            message: message.into(),
            help: None,
            term: None,
            related: Vec::new(),
            policy: None,
        });
        self.diags.last_mut().unwrap()
    }
}

impl Diagnostic {
    pub fn help(&mut self, h: impl Into<String>) -> &mut Self {
        self.help = Some(h.into());
        self
    }
    pub fn term(&mut self, strings: &[&[u8]], byte: usize, text: &[u8]) -> &mut Self {
        let (si, _) = crate::index::string_at(strings, byte);
        self.term = Some(Term {
            string: si + 1,
            byte,
            text: String::from_utf8_lossy(text).into_owned(),
        });
        self
    }
    pub fn related(&mut self, spans: impl IntoIterator<Item = Span>) -> &mut Self {
        self.related.extend(spans);
        self
    }
}

/// Reports a name that holds more than one record of a kind that must be
/// unique there (DMARC002, STS003, TLSRPT003, BIMI005): `what` names the kind,
/// `consequence` says what receivers then do.
pub fn more_than_one(
    out: &mut Out,
    id: &'static str,
    owner: &Name,
    recs: &[crate::index::Text<'_>],
    what: &str,
    consequence: &str,
) {
    if recs.len() > 1 {
        out.emit(
            id,
            recs[1].record.span,
            owner,
            "TXT",
            format!(
                "{} {what} records at `{}`: {consequence}",
                recs.len(),
                fqdn(owner)
            ),
        )
        .help("keep exactly one")
        .related(recs.iter().map(|t| t.record.span));
    }
}

/// The closest word by edit distance, for "did you mean" hints.
pub fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let w = word.to_ascii_lowercase();
    candidates
        .iter()
        .map(|c| (levenshtein(&w, c), *c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3) && *d > 0)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            cur.push(
                (prev[j] + (ca != *cb) as usize)
                    .min(prev[j + 1] + 1)
                    .min(cur[j] + 1),
            );
        }
        prev = cur;
    }
    prev[b.len()]
}

/// A name's first label, lower-cased, on the stack (it is asked of every
/// owner by several families).
pub struct FirstLabel {
    buf: [u8; 63],
    len: usize,
}

impl std::ops::Deref for FirstLabel {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl<const N: usize> PartialEq<&[u8; N]> for FirstLabel {
    fn eq(&self, other: &&[u8; N]) -> bool {
        **self == other[..]
    }
}

pub fn first_label(n: &Name) -> FirstLabel {
    let mut fl = FirstLabel {
        buf: [0; 63],
        len: 0,
    };
    if let Some(l) = n.iter().next() {
        fl.len = l.len().min(63);
        fl.buf[..fl.len].copy_from_slice(&l[..fl.len]);
        fl.buf[..fl.len].make_ascii_lowercase();
    }
    fl
}

/// `name` with `label` prepended (e.g. `_dmarc`).
pub fn child(label: &str, n: &Name) -> Option<Name> {
    Name::from_ascii(label).ok()?.append_domain(n).ok()
}

/// A zone file's text read under `origin`, which must read without error.
#[cfg(test)]
pub(crate) fn read_test_zone(origin: &Name, text: &str) -> mailzone_zone::ReadResult {
    let r = mailzone_zone::master::read_master_str(
        "t.zone",
        text,
        &mailzone_zone::MasterOptions {
            origin: Some(origin.clone()),
            ..Default::default()
        },
    );
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    r
}

/// The index of a zone whose names `stream` was handed, record by record,
/// as the reader hands them over: for the unit tests of what is read ahead.
#[cfg(test)]
pub(crate) fn index_streamed(zone: &Zone, stream: NameStream) -> Index<'_> {
    // (Left for the test's process to take back: the index borrows it.)
    Index::with_names(zone, Box::leak(Box::new(read_ahead_of(zone, stream))))
}

/// What `stream` works out of a zone's records handed to it in order, as
/// the reader hands them over.
#[cfg(test)]
pub(crate) fn read_ahead_of(zone: &Zone, mut stream: NameStream) -> ReadAhead {
    use mailzone_zone::record::{name_to_wire_bytes, rdata_to_wire};
    for rec in &zone.records {
        stream.observe(
            rec,
            u16::from(rec.rtype()),
            &name_to_wire_bytes(&rec.owner),
            &rdata_to_wire(&rec.rdata),
        );
    }
    stream.finish()
}

/// Calls `f` with every text of up to `len` pieces drawn from `alphabet`
/// (as the digits of a counter, so each text is built once): the unit tests
/// hold quick byte scans to the slow paths they stand in for with it.
#[cfg(test)]
pub(crate) fn for_each_text(alphabet: &[&[u8]], len: u32, mut f: impl FnMut(&[u8])) {
    let mut t = Vec::new();
    for n in 0..alphabet.len().pow(len) {
        t.clear();
        let mut k = n;
        while k > 0 {
            t.extend_from_slice(alphabet[k % alphabet.len()]);
            k /= alphabet.len();
        }
        f(&t);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts read ahead are added whole or not at all: with one id among
    /// them built in full, none is counted, and no id is left with a
    /// count of nothing; with all counted, each adds its number.
    #[test]
    fn read_ahead_counts_are_added_whole_or_not_at_all() {
        let mut out = Out::counting_every_info();
        out.tally.as_mut().unwrap().keep = vec!["SPF006".into()];
        assert!(!out.add_counts(&[("MX004", 2), ("SPF006", 1)]));
        assert!(!out.add_counts(&[("MX004", 2), ("GEN001", 1)]));
        assert_eq!(out.take_counts(), []);
        assert!(out.add_counts(&[("MX004", 2), ("DKIM016", 3)]));
        assert!(out.add_counts(&[("MX004", 1)]));
        assert!(out.counted("DKIM016"));
        let mut c = out.take_counts();
        c.sort_unstable();
        assert_eq!(c, [("DKIM016", 4), ("MX004", 3)]);
    }
}
