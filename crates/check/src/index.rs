//! A lookup-ready view of a zone for the checks: records by owner (names
//! compare case-insensitively), zone cuts, empty non-terminals, wildcard
//! matching, and joined TXT texts. Built once per check run; its name table
//! can be built record by record while the zone is read.

use hickory_proto::rr::{Name, RData, RecordType};
use mailzone_zone::{Span, Zone, ZoneRecord};
use smallvec::SmallVec;

/// The few records, texts or MX entries one owner has of a type: inline up
/// to four, so the lookups every family makes for every owner do not allocate.
pub type Few<T> = SmallVec<[T; 4]>;
/// Some texts picked from an owner's (its SPF records, its DKIM keys…):
/// nearly always one. (Four inline, as [`Few`] holds, were 168 bytes to
/// move for each owner that has one.)
pub type FewTexts<'a> = SmallVec<[Text<'a>; 1]>;

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
            // Copied and lower-cased in one pass: labels are a few bytes,
            // and a call to memcpy for each cost more than the bytes.
            for (d, &b) in k.buf[k.len + 1..k.len + 1 + l.len()].iter_mut().zip(l) {
                *d = b.to_ascii_lowercase();
            }
            k.len += 1 + l.len();
        }
        k.buf[k.len] = 0;
        k.len += 1;
        k
    }

    /// The key of `<labels>.<name>` (`labels` plain dotted text, e.g.
    /// `_smtp._tls`), or `None` when a label is empty or too long or the
    /// name would be longer than a name can be.
    fn child_of(n: &Name, labels: &str) -> Option<Key> {
        Key::child_of_key(Key::of(n).bytes(), labels)
    }

    /// [`Key::child_of`] a name given by its key.
    fn child_of_key(parent: &[u8], labels: &str) -> Option<Key> {
        let mut k = Key {
            buf: [0; 256],
            len: 0,
        };
        k.len = push_labels(labels, &mut k.buf[..255 - parent.len()])?;
        k.buf[k.len..k.len + parent.len()].copy_from_slice(parent);
        k.len += parent.len();
        Some(k)
    }

    /// The key of a name in uncompressed wire form (labels, then the root).
    pub fn of_wire(wire: &[u8]) -> Key {
        let mut k = Key {
            buf: [0; 256],
            len: 0,
        };
        k.set_wire(wire);
        k
    }

    /// Makes this the key of a name in uncompressed wire form, in place:
    /// for the names thread, which keys every record's owner, building a
    /// fresh key and handing it back copied its 256 bytes each time.
    fn set_wire(&mut self, wire: &[u8]) {
        let len = wire.len().min(256);
        self.len = len;
        // Lower-cased as it is copied, in one pass: copying first and then
        // reading the copy back stalled on every key (the reads waited for
        // the copy's stores to land). Label lengths are at most 63, below
        // `A`: only letters change.
        for (to, from) in self.buf[..len].iter_mut().zip(&wire[..len]) {
            *to = from.to_ascii_lowercase();
        }
    }

    pub fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// Whether this name is `ancestor` or below it (`ancestor` a key too).
    pub fn is_at_or_below(&self, ancestor: &[u8]) -> bool {
        key_at_or_below(self.bytes(), ancestor)
    }

    /// Offsets of the name and each ancestor, nearest first.
    fn suffixes(&self) -> impl Iterator<Item = usize> + '_ {
        suffixes(self.bytes())
    }
}

/// Whether the name of key `key` is that of key `ancestor` or below it.
pub(crate) fn key_at_or_below(key: &[u8], ancestor: &[u8]) -> bool {
    suffixes(key).any(|o| key[o..] == *ancestor)
}

/// [`key_at_or_below`] for a wire name in any case against a key.
fn key_at_or_below_ignoring_case(wire: &[u8], ancestor: &[u8]) -> bool {
    suffixes(wire).any(|o| wire[o..].eq_ignore_ascii_case(ancestor))
}

/// Offsets of a key's name and each ancestor, nearest first.
fn suffixes(key: &[u8]) -> impl Iterator<Item = usize> + '_ {
    let mut off = Some(0);
    std::iter::from_fn(move || {
        let o = off?;
        let l = *key.get(o)? as usize;
        off = (l > 0).then_some(o + 1 + l);
        Some(o)
    })
}

/// Whether two names are equal, ignoring case (and whether they are fully
/// qualified). Label by label from the front, after the lengths: hickory's
/// `eq_ignore_root` walks from the root and cost about 900 instructions for
/// each NS glue and MX target compared.
pub fn same_name(a: &Name, b: &Name) -> bool {
    let (x, y) = (a.iter(), b.iter());
    a.len() == b.len() && x.len() == y.len() && x.zip(y).all(|(p, q)| p.eq_ignore_ascii_case(q))
}

/// Whether `n` is the name `key` (a [`Key`]'s bytes) stands for, compared
/// label by label: making the name's key to compare cost about 700
/// instructions, and the DNS checks compare every glue record's owner with
/// its delegation's NS targets.
pub fn name_is_key(n: &Name, key: &[u8]) -> bool {
    let mut off = 0;
    for l in n.iter() {
        match key.get(off..off + 1 + l.len()) {
            Some([len, k @ ..]) if usize::from(*len) == l.len() && l.eq_ignore_ascii_case(k) => {
                off += 1 + l.len();
            }
            _ => return false,
        }
    }
    key.get(off..) == Some(&[0][..])
}

/// Writes plain dotted text (no escapes, no trailing dot) as lower-case wire
/// labels at the start of `out`, without the root; the length written, or
/// `None` when a label is empty or over 63 bytes or `out` is too short.
fn push_labels(text: &str, out: &mut [u8]) -> Option<usize> {
    let mut len = 0;
    for l in text.split('.') {
        if l.is_empty() || l.len() > 63 || len + 1 + l.len() > out.len() {
            return None;
        }
        out[len] = l.len() as u8;
        out[len + 1..len + 1 + l.len()].copy_from_slice(l.as_bytes());
        out[len + 1..len + 1 + l.len()].make_ascii_lowercase();
        len += 1 + l.len();
    }
    Some(len)
}

const NONE: u32 = u32::MAX;

/// Gives a table kept by record number room for the zone's records (as
/// guessed) when it is first written: grown by doubling instead, each
/// growth could copy the whole table.
fn sized<T>(v: &mut Vec<T>, records: usize) {
    if v.capacity() == 0 {
        v.reserve(records);
    }
}

/// One name of the zone: an owner, or an ancestor of one (an empty
/// non-terminal). Ids are assigned parents first, so a single forward pass
/// can inherit anything from the parent.
struct Node {
    key_off: u32,
    key_len: u8,
    labels: u8,
    parent: u32,
    /// This node's record indices: `recs[rec_start..rec_start + rec_len]`.
    rec_start: u32,
    rec_len: u32,
    /// One bit per type code below 63; bit 63 stands for every higher code.
    types: u64,
    /// The nearest zone cut at or above this node, below the apex.
    cut: u32,
    /// The `*` child, when there is one.
    wild: u32,
    mx_target: bool,
    /// At or below the origin.
    in_zone: bool,
    /// Some child's label starts with `_` (`_dmarc`, `_mta-sts`, `_tls`…).
    underscore_child: bool,
    /// What its first label is ([`First`] bits), noted when it is made:
    /// the families ask it of every owner, and on a large zone reading
    /// the key for it was a cache miss each time.
    first: u8,
    /// One of its TXT records is a DMARC record read ahead with a policy
    /// word (see [`Index::dmarc_word_read_ahead`]).
    dmarc_word: bool,
}

// The first label's kind and the DMARC flag fit in what was padding.
const _: () = assert!(std::mem::size_of::<Node>() == 40);

/// What a node's first label is (bits of [`Node::first`]).
pub struct First;

impl First {
    /// `*`.
    pub const STAR: u8 = 1;
    /// Starts with `_`.
    pub const UNDERSCORE: u8 = 2;
    /// `_dmarc`.
    pub const DMARC: u8 = 4;
    /// `_mta-sts`.
    pub const MTA_STS: u8 = 8;
    /// Not the first label: a later one is `_report` followed by `_dmarc`
    /// (`<domain>._report._dmarc.<reporter>`, RFC 7489 §7.1), worked out
    /// with the rest so that the DMARC checks need not read every TXT
    /// owner's labels for it.
    pub const REPORT: u8 = 16;
}

/// Whether a key names a DMARC report authorisation (see [`First::REPORT`]).
fn report_key(key: &[u8]) -> bool {
    let mut off = 1 + key.first().copied().unwrap_or(0) as usize;
    while let Some(&len) = key.get(off) {
        if len == 0 {
            break;
        }
        let next = off + 1 + len as usize;
        if key.get(off..next) == Some(b"\x07_report".as_slice())
            && key.get(next..next + 7) == Some(b"\x06_dmarc".as_slice())
        {
            return true;
        }
        off = next;
    }
    false
}

fn type_bit(t: RecordType) -> u64 {
    let c = u16::from(t);
    if c < 63 { 1 << c } else { 1 << 63 }
}

/// The zone's names in one hash table over an arena of their keys: one probe
/// answers "does it exist, what does it own, is it delegated". (Separate maps
/// of boxed keys cost two or three cache misses per lookup on large zones.)
/// Built one record at a time, so it can be built while the zone is read.
pub struct Names {
    origin_key: Box<[u8]>,
    origin_len: usize,
    hasher: foldhash::fast::FixedState,
    arena: Vec<u8>,
    table: crate::slots::Slots,
    nodes: Vec<Node>,
    /// Each record's type, read once (matching on `RData` is not free).
    rtypes: Vec<RecordType>,
    /// Each record's node.
    rec_node: Vec<u32>,
    /// Each record's number, in order: the index's records grouped by node
    /// while no owner's records are apart (see [`Names::apart`]), made as
    /// the records are added rather than by the index (4 ms on the 1M bench
    /// zone, with the other core idle).
    numbers: Vec<usize>,
    /// Each node's `_dmarc` child (see [`Index::dmarc_child`]), noted as
    /// nodes are made, with each node's cut, wildcard and first-label kind:
    /// worked out by the index after the read, they took most of its build
    /// on the 1M bench zone (6 ms, with the other core idle).
    dmarc_child: Vec<u32>,
    /// Some node became a zone cut (got NS) after later nodes were made,
    /// which may be below it and took their cut from its parent: the index
    /// works every node's cut out again.
    cuts_stale: bool,
    /// Some name outside the zone has a node (an owner out of zone).
    outside: bool,
    /// Nodes that own records, in order of their first record: checks walk
    /// this, never sort it.
    order: Vec<u32>,
    /// MX exchanges handed over while the zone was read (keys back to
    /// back), marked once every name is known.
    mx_targets: Vec<u8>,
    /// Those outside the zone, kept apart: they can be names of the index
    /// only when some owner is outside the zone (see `Names::outside`).
    mx_targets_outside: Vec<u8>,
    /// The MX targets are marked (else the index marks them from the records).
    mx_marked: bool,
    /// Some owner's records are not together in the file. While none's are,
    /// each node's records start where its first one is, and the records
    /// grouped by node are the records in file order: the index has nothing
    /// to sort.
    apart: bool,
    /// What the DKIM keys read so far are, by record number, in order.
    /// With, when the key's own checks found only info, the info counted
    /// (see `crate::checks::dkim::read_ahead`).
    dkim: Vec<(
        u32,
        crate::checks::dkim::Verdict,
        Option<crate::checks::spf::Counts>,
    )>,
    /// DMARC records read ahead while the zone was read, by record number,
    /// in order: the policy word's memo code (see [`Index::memo`]) and
    /// whether the record's own checks found nothing.
    dmarc: Vec<(u32, u8, bool)>,
    /// SPF records read ahead while the zone was read, by record number,
    /// in order, with the info findings their own checks count (see
    /// `crate::checks::spf::read_ahead`).
    spf: Vec<(u32, crate::checks::spf::Counts)>,
    /// The parent [`Names::intern`] last found by a probe.
    last_parent: u32,
    /// What each TXT record's text is (see [`Text::kind_of`]) and where it
    /// is in the [`ReadAhead::texts`] beside these names, by record number,
    /// when they were worked out while the zone was read.
    kinds: Vec<TextAt>,
    /// Each node's texts' kinds together, by node, with those: most asks
    /// are whether an owner has a text of some kind.
    node_kinds: Vec<u16>,
    /// Each record's TTL and [`rdata_print`], by record number, when they
    /// were taken while the zone was read (else empty).
    ttls: Vec<u32>,
    prints: Vec<u32>,
    /// The MX records, in file order, as worked out from their wire forms
    /// while the zone was read (see [`Mx`]); complete when there are
    /// `mx_count` of them, else the index reads the records.
    mx: Vec<Mx>,
    /// How many MX records were added.
    mx_count: usize,
    /// The key [`Names::add_wire`] fills for each owner.
    scratch: Option<Box<Key>>,
    /// For each record read ahead while the zone was read (a DKIM key, a
    /// DMARC, SPF, NS or MX record), where it is in its list (see
    /// [`Index::read_ahead_at`]); `NONE` for others, and past the end. A
    /// binary search of those lists for every key and DMARC record was a
    /// chain of cache misses each on large zones.
    ahead: Vec<u32>,
    /// Some record is TLSA.
    has_tlsa: bool,
    /// NS records' targets, by record number, in order: where each one's
    /// key is in `ns_keys` and how long it is (see [`Index::ns_target_key`]),
    /// and whether the target was found with an address (see
    /// [`Names::resolve_ns_targets`]).
    ns: Vec<(u32, u32, u8, bool)>,
    ns_keys: Vec<u8>,
    /// NS targets before this one have been looked for.
    ns_resolved: usize,
}

/// A text's strings, as [`Text::strings`] holds them.
type TextStrings<'a> = SmallVec<[&'a [u8]; 2]>;

/// Appends a text to `kept` as the index reads it back: how many strings
/// (two bytes), each one's length (a byte), then the strings joined, so
/// that the text's strings and its joined form are the same bytes and a
/// text of several strings needs no copy of its own. Where it is, when it
/// fits.
pub(crate) fn keep_text(
    kept: &mut Vec<u8>,
    strings: &[&[u8]],
    joined: &[u8],
) -> Option<(usize, usize)> {
    let n = u16::try_from(strings.len()).ok()?;
    let at = kept.len();
    kept.extend_from_slice(&n.to_le_bytes());
    kept.extend(strings.iter().map(|s| s.len() as u8));
    kept.extend_from_slice(joined);
    Some((at, kept.len() - at))
}

/// A text [`keep_text`] kept: its strings' lengths and the strings joined
/// (both empty when the bytes are too short to be one).
fn kept_parts(e: &[u8]) -> (&[u8], &[u8]) {
    let Some((n, rest)) = e.split_first_chunk::<2>() else {
        return (&[], &[]);
    };
    let n = u16::from_le_bytes(*n) as usize;
    rest.split_at_checked(n).unwrap_or_default()
}

/// The character strings of a TXT RDATA's wire form (each a length byte,
/// then the bytes; a length past the end is cut short).
pub(crate) fn wire_strings(mut w: &[u8]) -> impl Iterator<Item = &[u8]> {
    std::iter::from_fn(move || {
        let (&l, rest) = w.split_first()?;
        let l = (l as usize).min(rest.len());
        let (s, more) = rest.split_at(l);
        w = more;
        Some(s)
    })
}

/// A TXT record's text as worked out while the zone was read.
#[derive(Clone, Copy, Default)]
struct TextAt {
    /// Where it starts in the [`ReadAhead::texts`] ([`TextAt::NO_WIRE`]
    /// when it is not there), and its length there (see [`keep_text`]).
    off: u32,
    len: u16,
    /// Its [`Text::kind_of`], with [`TextAt::KIND_KNOWN`] set.
    kind: u16,
}

impl TextAt {
    const KIND_KNOWN: u16 = 0x8000;
    const NO_WIRE: u32 = u32::MAX;

    /// A text of kind `kind`, kept at `kept` (see [`keep_text`]) when it was.
    fn new(kind: u16, kept: Option<(usize, usize)>) -> TextAt {
        let (off, len) = kept
            .and_then(|(off, len)| Some((u32::try_from(off).ok()?, u16::try_from(len).ok()?)))
            .unwrap_or((TextAt::NO_WIRE, 0));
        TextAt {
            off,
            len,
            kind: kind | TextAt::KIND_KNOWN,
        }
    }

    /// Where the text is kept, when it is.
    fn range(&self) -> Option<std::ops::Range<usize>> {
        (self.off != TextAt::NO_WIRE)
            .then(|| self.off as usize..self.off as usize + self.len as usize)
    }
}

/// What was worked out while a zone was read (see
/// [`crate::checks::NameStream`]): its [`Names`], which the index takes
/// over, and every TXT record's text, back to back (see [`keep_text`]),
/// which the index's texts borrow. Texts made from here rather than from
/// the zone's records spare the checks a cache miss or two per TXT record
/// on large zones (the record, then each of its strings' boxes) and an
/// allocation per text of several strings.
#[derive(Default)]
pub struct ReadAhead {
    pub(crate) names: Option<Names>,
    pub(crate) texts: Vec<u8>,
}

impl ReadAhead {
    /// Whether its names are those of `zone`'s records (see
    /// [`Names::built_from`]).
    pub fn built_from(&self, zone: &Zone) -> bool {
        self.names.as_ref().is_some_and(|n| n.built_from(zone))
    }
}

/// A lookup-ready view of one zone: its [`Names`] with the records grouped
/// by name, and what needs the records themselves (MX targets, DKIM
/// selectors).
pub struct Index<'z> {
    pub zone: &'z Zone,
    pub origin: Name,
    n: Names,
    /// TXT records' texts (see [`ReadAhead`]); empty when none was kept.
    kept: &'z [u8],
    /// Record indices grouped by node (see [`Node::rec_start`]).
    recs: Vec<usize>,
    /// Each node's `_dmarc` child (`NONE` when it has none): every mail
    /// domain's policy is asked for by two families, and on large zones the
    /// hash probes for it were cache misses.
    dmarc_child: Vec<u32>,
    /// DKIM selector owners (`<sel>._domainkey.<domain>`) by the domain's
    /// node. (Keyed by the domain's key, with a vector each, they were two
    /// allocations per domain to make and to free: 72,000 on the 1M bench
    /// zone.)
    /// Found by the first family that asks (see [`Index::find_selectors`]).
    selectors: std::sync::OnceLock<foldhash::HashMap<u32, SmallVec<[&'z Name; 1]>>>,
    /// Every TXT record's text, when the names thread did not keep them.
    own_texts: std::sync::OnceLock<OwnTexts>,
    /// One byte per record, worked out once by whichever family asks first
    /// (see [`Index::memo`]); made by the first that asks.
    memo: std::sync::OnceLock<Vec<std::sync::atomic::AtomicU8>>,
    /// Every MX record, grouped by node (see [`MxTable`]).
    mx: std::sync::OnceLock<MxTable>,
}

/// Every TXT record's text as the names thread keeps them (see
/// [`ReadAhead`]), for a zone whose names were not read ahead: worked out
/// from the records by the first family that asks, so that families that
/// never read a TXT record run on the other core meanwhile.
struct OwnTexts {
    /// By record number (see [`Names::kinds`]).
    at: Vec<TextAt>,
    /// By node (see [`Names::node_kinds`]).
    node_kinds: Vec<u16>,
    /// The texts, back to back (see [`keep_text`]).
    kept: Vec<u8>,
}

/// Every MX record grouped by node (see [`Mx`]): four families ask for a
/// domain's MX. Built by the first family that asks, from what the names
/// thread worked out of each record's wire form; from the records when
/// the zone's names were not indexed while it was read.
struct MxTable {
    all: Vec<Mx>,
    /// Node `id`'s MX are `all[spans[id].0..spans[id].1]`.
    spans: Vec<(u32, u32)>,
}

/// Where an MX record points.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum MxPlace {
    /// Nowhere: a null MX (RFC 7505), its exchange the root.
    Null,
    /// At or below the zone's origin (delegated or not).
    InZone,
    /// Outside the zone.
    Outside,
}

/// One MX record as the checks see it, worked out from its exchange's wire
/// form: the families read the record itself (a cache miss each on a large
/// zone) only when they have something to say about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mx {
    /// The record's number in the zone.
    rec: u32,
    pub preference: u16,
    pub place: MxPlace,
    /// The exchange is a plain host name: letters, digits and inner
    /// hyphens only, a first label that is not all digits, and no more
    /// labels than twice the origin's. Such a name is not an address,
    /// not a name with the origin doubled, and not an invalid host name
    /// (see `crate::checks::mx`), so the MX checks need not read it.
    pub plain: bool,
    /// A hash of the exchange's key: two exchanges whose prints differ are
    /// different names.
    pub print: u64,
}

impl Mx {
    pub fn record<'z>(&self, ix: &Index<'z>) -> &'z ZoneRecord {
        &ix.zone.records[self.rec as usize]
    }

    pub fn exchange<'z>(&self, ix: &Index<'z>) -> &'z Name {
        match &self.record(ix).rdata {
            RData::MX(m) => &m.exchange,
            // Only MX records are in the table; the root stands in (as a
            // null MX) rather than a panic in a server's load.
            _ => &ROOT,
        }
    }
}

static ROOT: std::sync::LazyLock<Name> = std::sync::LazyLock::new(Name::root);

/// Whether a key (a lower-cased wire name) is a plain host name (see
/// [`Mx::plain`]) in the zone whose origin's key is `origin`.
fn plain_host(key: &[u8], origin: &[u8]) -> bool {
    let labels = |k: &[u8]| suffixes(k).count() - 1;
    let mut off = 0;
    let mut n = 0;
    while let Some(&len) = key.get(off) {
        if len == 0 {
            break;
        }
        let Some(l) = key.get(off + 1..off + 1 + len as usize) else {
            return false;
        };
        let ldh = l.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'-');
        if !ldh || l[0] == b'-' || l[len as usize - 1] == b'-' {
            return false;
        }
        if n == 0 && l.iter().all(u8::is_ascii_digit) {
            return false;
        }
        n += 1;
        off += 1 + len as usize;
    }
    n <= 2 * labels(origin)
}

/// A TXT record's text: its strings and the strings joined with no separator.
///
/// Made when a family reads it (see [`Texts`]), pointing at where its bytes
/// are. (Held one per TXT record, each with its strings and joined text as
/// slices, the 1M bench zone's 250,000 were 22 MB of fresh pages to build
/// after the read, mostly the kernel clearing them.)
pub struct Text<'z> {
    pub record: &'z ZoneRecord,
    src: TextSrc<'z>,
    /// What the text is ([`Text::SPF`] and the rest), worked out once: the
    /// families that ask of every text whether it is SPF or DMARC each read
    /// its bytes, and on a large zone each read was a cache miss.
    kind: u16,
}

const _: () = assert!(std::mem::size_of::<Text<'static>>() == 40);

/// Where a [`Text`]'s bytes are.
enum TextSrc<'z> {
    /// As [`keep_text`] kept them: the strings' count and lengths, then the
    /// strings joined.
    Kept(&'z [u8]),
    /// The record's only string, which is the joined text too.
    One(&'z [u8]),
    /// The record's strings joined (its strings are the record's own).
    Joined(Box<[u8]>),
}

/// The texts of some TXT records (an owner's, or a name's), each made when
/// it is read: see [`Index::texts_of`].
#[derive(Clone, Copy)]
pub struct Texts<'a> {
    /// The records, of any type (the TXT ones among them are the texts).
    recs: &'a [usize],
    records: &'a [ZoneRecord],
    rtypes: &'a [RecordType],
    at: &'a [TextAt],
    kept: &'a [u8],
}

impl<'a> Texts<'a> {
    const NONE: Texts<'static> = Texts {
        recs: &[],
        records: &[],
        rtypes: &[],
        at: &[],
        kept: &[],
    };

    pub fn iter(&self) -> TextIter<'a> {
        TextIter {
            texts: *self,
            next: 0,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }

    pub fn len(&self) -> usize {
        (self.recs.iter())
            .filter(|&&i| self.rtypes[i] == RecordType::TXT)
            .count()
    }

    /// Record `i`'s text.
    fn text(&self, i: usize) -> Option<Text<'a>> {
        let record = &self.records[i];
        let a = self.at.get(i).filter(|a| a.kind & TextAt::KIND_KNOWN != 0);
        let kind = a.map(|a| a.kind & !TextAt::KIND_KNOWN);
        match a.and_then(|a| self.kept.get(a.range()?)) {
            Some(k) => Some(Text {
                record,
                src: TextSrc::Kept(k),
                kind: kind.unwrap_or_default(),
            }),
            // (Not kept: a text too long for a `TextAt`.)
            None => text_with(record, kind),
        }
    }
}

/// The texts of [`Texts`], one by one.
pub struct TextIter<'a> {
    texts: Texts<'a>,
    next: usize,
}

impl<'a> Iterator for TextIter<'a> {
    type Item = Text<'a>;

    fn next(&mut self) -> Option<Text<'a>> {
        let t = &self.texts;
        while let Some(&i) = t.recs.get(self.next) {
            self.next += 1;
            if t.rtypes[i] == RecordType::TXT
                && let Some(text) = t.text(i)
            {
                return Some(text);
            }
        }
        None
    }
}

impl<'a> IntoIterator for Texts<'a> {
    type Item = Text<'a>;
    type IntoIter = TextIter<'a>;

    fn into_iter(self) -> TextIter<'a> {
        self.iter()
    }
}

impl<'a> IntoIterator for &Texts<'a> {
    type Item = Text<'a>;
    type IntoIter = TextIter<'a>;

    fn into_iter(self) -> TextIter<'a> {
        self.iter()
    }
}

impl<'z> Text<'z> {
    /// An SPF record (see `crate::checks::spf::is_spf`).
    pub const SPF: u16 = 1;
    /// A DMARC record (see `crate::checks::dmarc::is_dmarc`).
    pub const DMARC: u16 = 2;
    /// Starts with `v=STSv1`.
    pub const STS: u16 = 4;
    /// Starts with `v=TLSRPTv1`.
    pub const TLSRPT: u16 = 8;
    /// Starts with `v=BIMI1`.
    pub const BIMI: u16 = 16;
    /// Starts with a quote or white space.
    pub const PADDED: u16 = 32;
    /// Starts with a mail version tag (`v=spf1`, `v=DMARC1`…, in any case),
    /// after any quotes or white space.
    pub const VERSIONED: u16 = 64;
    /// Holds a byte that is not printable ASCII.
    pub const NON_ASCII: u16 = 128;
    /// Tries to start with `v=spf1` and fails (see
    /// `crate::checks::spf::version_of`).
    pub const SPF_MANGLED: u16 = 256;
    /// Starts with `spf2.0/` (Sender ID), in any case.
    pub const SENDER_ID: u16 = 512;
    /// A DKIM key record (see `crate::checks::dkim::is_dkim_text`).
    pub const DKIM: u16 = 1024;
    /// An SPF record that authorises some sender (see
    /// `crate::checks::spf::authorises`).
    pub const SENDS: u16 = 2048;

    /// What a joined text is: the `Text::SPF | …` bits that hold.
    pub(crate) fn kind_of(joined: &[u8]) -> u16 {
        let mut k = 0;
        if crate::checks::spf::is_spf(joined) {
            k |= Self::SPF;
            if crate::checks::spf::authorises(joined) {
                k |= Self::SENDS;
            }
        }
        if crate::checks::dmarc::is_dmarc(joined) {
            k |= Self::DMARC;
        }
        if crate::checks::spf::version_of(joined) == Some(false) {
            k |= Self::SPF_MANGLED;
        }
        if joined.len() >= 7 && joined[..7].eq_ignore_ascii_case(b"spf2.0/") {
            k |= Self::SENDER_ID;
        }
        if crate::checks::dkim::is_dkim_text(joined) {
            k |= Self::DKIM;
        }
        for (prefix, bit) in [
            (&b"v=STSv1"[..], Self::STS),
            (b"v=TLSRPTv1", Self::TLSRPT),
            (b"v=BIMI1", Self::BIMI),
        ] {
            if joined.starts_with(prefix) {
                k |= bit;
            }
        }
        let skip = joined
            .iter()
            .take_while(|&&b| b == b'"' || b.is_ascii_whitespace())
            .count();
        if skip > 0 {
            k |= Self::PADDED;
        }
        if crate::checks::gen_::version_at(&joined[skip..]) {
            k |= Self::VERSIONED;
        }
        // Over the whole text, without an early exit, so that it vectorises.
        if !joined
            .iter()
            .fold(true, |ok, &b| ok & (0x20..0x7f).contains(&b))
        {
            k |= Self::NON_ASCII;
        }
        k
    }

    /// A text read from a record's wire form rather than from a record of
    /// the zone (`record` stands in for it): its bytes as [`keep_text`]
    /// kept them, and its kind.
    pub(crate) fn detached<'a>(record: &'a ZoneRecord, kept: &'a [u8], kind: u16) -> Text<'a> {
        Text {
            record,
            src: TextSrc::Kept(kept),
            kind,
        }
    }

    /// A TXT record's text from its strings, with what it is when that is
    /// known already.
    fn of_strings<'a>(
        record: &'a ZoneRecord,
        strings: &'a [Box<[u8]>],
        kind: Option<u16>,
    ) -> Text<'a> {
        let src = match strings {
            [one] => TextSrc::One(one),
            many => TextSrc::Joined(many.concat().into()),
        };
        let mut text = Text {
            record,
            src,
            kind: 0,
        };
        text.kind = kind.unwrap_or_else(|| Text::kind_of(text.joined()));
        text
    }

    /// The strings joined (RFC 7208 §3.3).
    pub fn joined(&self) -> &[u8] {
        match &self.src {
            TextSrc::Kept(k) => kept_parts(k).1,
            TextSrc::One(s) => s,
            TextSrc::Joined(j) => j,
        }
    }

    /// The record's character strings, in order.
    pub fn strings(&self) -> TextStrings<'z> {
        match self.src {
            TextSrc::Kept(k) => {
                let (lens, mut left) = kept_parts(k);
                lens.iter()
                    .map(|&l| {
                        let (one, more) = left.split_at(usize::from(l).min(left.len()));
                        left = more;
                        one
                    })
                    .collect()
            }
            TextSrc::One(s) => std::iter::once(s).collect(),
            TextSrc::Joined(_) => match &self.record.rdata {
                RData::TXT(t) => t.txt_data.iter().map(|s| &s[..]).collect(),
                _ => SmallVec::new(),
            },
        }
    }

    /// How many character strings the record has.
    pub fn string_count(&self) -> usize {
        match self.src {
            TextSrc::Kept(k) => kept_parts(k).0.len(),
            TextSrc::One(_) => 1,
            TextSrc::Joined(_) => match &self.record.rdata {
                RData::TXT(t) => t.txt_data.len(),
                _ => 0,
            },
        }
    }

    /// Whether the text is of any of the kinds in `kinds` (`Text::SPF | …`).
    pub fn is(&self, kinds: u16) -> bool {
        self.kind & kinds != 0
    }
}

impl Names {
    /// An empty table for a zone at `origin`; `records` sizes it.
    pub fn new(origin: &Name, records: usize) -> Names {
        let origin_key = Key::of(origin);
        let mut names = Names {
            origin_key: origin_key.bytes().into(),
            origin_len: origin_key.len,
            hasher: foldhash::fast::FixedState::with_seed(0x6d61_696c_7a6f_6e65),
            arena: Vec::with_capacity(records * 16),
            // Names are fewer than records (on the 1M bench zone 0.63 of
            // them): room for every record left the table at a load of 0.3,
            // 16 MB to fault in and spread over the TLB where 8 MB do; a
            // zone of one record per name grows it once.
            table: crate::slots::Slots::with_capacity(records / 3 * 2),
            nodes: Vec::with_capacity(records),
            rtypes: Vec::with_capacity(records),
            rec_node: Vec::with_capacity(records),
            numbers: Vec::with_capacity(records),
            dmarc_child: Vec::with_capacity(records),
            cuts_stale: false,
            outside: false,
            order: Vec::new(),
            mx_targets: Vec::new(),
            mx_targets_outside: Vec::new(),
            mx_marked: false,
            apart: false,
            dkim: Vec::new(),
            dmarc: Vec::new(),
            spf: Vec::new(),
            last_parent: NONE,
            kinds: Vec::new(),
            node_kinds: Vec::new(),
            ttls: Vec::new(),
            prints: Vec::new(),
            mx: Vec::new(),
            mx_count: 0,
            scratch: None,
            ahead: Vec::new(),
            has_tlsa: false,
            ns: Vec::new(),
            ns_keys: Vec::new(),
            ns_resolved: 0,
        };
        names.insert(origin_key.bytes(), NONE);
        names
    }

    /// The next record of the zone, in file order: its owner (and the
    /// owner's ancestors) get a node.
    pub fn add(&mut self, owner: &Name, t: RecordType) {
        self.add_key(Key::of(owner).bytes(), t);
    }

    /// [`Names::add`] with the owner in uncompressed wire form.
    pub fn add_wire(&mut self, owner: &[u8], t: RecordType) {
        let mut key = self
            .scratch
            .take()
            .unwrap_or_else(|| Box::new(Key::of_wire(&[])));
        key.set_wire(owner);
        self.add_key(key.bytes(), t);
        self.scratch = Some(key);
    }

    /// Adds records by their owners' keys (lower-cased uncompressed wire
    /// forms, back to back) and types, as [`Names::add_wire`] does each.
    /// The table slots of the owners a few records ahead are prefetched, so
    /// that those lookups' cache misses (the table has a slot per name of
    /// the zone) overlap with the work on the records before them instead
    /// of each waiting its turn.
    pub(crate) fn add_keys(&mut self, keys: &[u8], types: &[RecordType]) {
        const AHEAD: usize = 8;
        // Each owner's key and hash (left 0 for an owner's next record,
        // which finds its node without one).
        let mut at = Vec::with_capacity(types.len() + 1);
        let mut hashes = Vec::with_capacity(types.len());
        let mut off = 0;
        let mut last: &[u8] = &[];
        for _ in types {
            let key = &keys[off..off + wire_len(&keys[off..])];
            at.push(off);
            hashes.push(if key == last { 0 } else { self.hash(key) });
            off += key.len();
            last = key;
        }
        at.push(off);
        for (k, &t) in types.iter().enumerate() {
            if let Some(&h) = hashes.get(k + AHEAD)
                && h != 0
            {
                self.table.prefetch(h);
            }
            self.add_key_hashed(&keys[at[k]..at[k + 1]], hashes[k], t);
        }
    }

    /// The MX records numbered `seqs`, with their preferences and their
    /// exchanges in uncompressed wire form, back to back (as for
    /// [`Names::add_mx_targets`]).
    pub(crate) fn add_mx(&mut self, wires: &[u8], seqs: &[u32], preferences: &[u16]) {
        let mut rest = wires;
        let mut key = self
            .scratch
            .take()
            .unwrap_or_else(|| Box::new(Key::of_wire(&[])));
        if self.mx.is_empty() {
            sized(&mut self.mx, self.rtypes.capacity() / 4);
        }
        for (&seq, &preference) in seqs.iter().zip(preferences) {
            let len = wire_len(rest);
            key.set_wire(&rest[..len]);
            let mx = self.mx_of_key(seq, preference, &key);
            self.slot_ahead(seq, self.mx.len());
            self.mx.push(mx);
            rest = &rest[len..];
        }
        self.scratch = Some(key);
    }

    /// What the checks need to know of MX record `rec` from its exchange's key.
    fn mx_of_key(&self, rec: u32, preference: u16, key: &Key) -> Mx {
        let k = key.bytes();
        let place = if k.len() <= 1 {
            MxPlace::Null
        } else if key.is_at_or_below(&self.origin_key) {
            MxPlace::InZone
        } else {
            MxPlace::Outside
        };
        Mx {
            rec,
            preference,
            place,
            plain: plain_host(k, &self.origin_key),
            print: self.hash(k),
        }
    }

    /// MX exchanges in uncompressed wire form, back to back, from records
    /// already added.
    pub fn add_mx_targets(&mut self, wires: &[u8]) {
        let mut rest = wires;
        while !rest.is_empty() {
            let len = wire_len(rest);
            let to = match key_at_or_below_ignoring_case(&rest[..len], &self.origin_key) {
                true => &mut self.mx_targets,
                false => &mut self.mx_targets_outside,
            };
            let start = to.len();
            to.extend_from_slice(&rest[..len]);
            // Label lengths are at most 63, below `A`: only letters change.
            to[start..].make_ascii_lowercase();
            rest = &rest[len..];
        }
    }

    /// What the DKIM key of record number `seq` is (records numbered in
    /// the order added, keys added in that order).
    pub(crate) fn add_dkim_verdict(&mut self, seq: u32, v: crate::checks::dkim::Verdict) {
        self.add_dkim(seq, v, None);
    }

    /// [`Names::add_dkim_verdict`], with what the key's own checks counted
    /// when they found nothing else.
    pub(crate) fn add_dkim(
        &mut self,
        seq: u32,
        v: crate::checks::dkim::Verdict,
        counts: Option<crate::checks::spf::Counts>,
    ) {
        self.slot_ahead(seq, self.dkim.len());
        self.dkim.push((seq, v, counts));
    }

    /// The targets of the NS records numbered `seqs`, in uncompressed wire
    /// form, back to back: the DNS checks compare them with owners' keys,
    /// and reading each NS record for its target was a cache miss.
    pub(crate) fn add_ns_targets(&mut self, wires: &[u8], seqs: &[u32]) {
        let mut rest = wires;
        for &seq in seqs {
            let len = wire_len(rest);
            let (target, more) = rest.split_at(len);
            rest = more;
            let (Ok(off), Ok(n)) = (u32::try_from(self.ns_keys.len()), u8::try_from(len)) else {
                continue;
            };
            // Label lengths are at most 63, below `A`: only letters change.
            self.ns_keys
                .extend(target.iter().map(u8::to_ascii_lowercase));
            self.slot_ahead(seq, self.ns.len());
            self.ns.push((seq, off, n, false));
        }
    }

    /// How many NS targets have been added.
    pub(crate) fn ns_count(&self) -> usize {
        self.ns.len()
    }

    /// Looks for the NS targets added before the `upto`th among the names
    /// added so far, and notes those found with an address. Done a batch
    /// behind the NS records, when their glue (which follows them in a
    /// zone file) has been added and its slots and keys are still in the
    /// cache: the DNS checks' own lookups of each target were cache misses,
    /// two fifths of their time on the 1M bench zone. A target not found
    /// with an address yet is left for the checks to look up.
    pub(crate) fn resolve_ns_targets(&mut self, upto: usize) {
        let addresses = type_bit(RecordType::A) | type_bit(RecordType::AAAA);
        for k in self.ns_resolved..upto.min(self.ns.len()) {
            let (_, off, len, _) = self.ns[k];
            let key = &self.ns_keys[off as usize..off as usize + len as usize];
            if let Some(id) = self.find(key) {
                self.ns[k].3 = self.nodes[id as usize].types & addresses != 0;
            }
        }
        self.ns_resolved = self.ns_resolved.max(upto.min(self.ns.len()));
    }

    /// Notes that what was read ahead of record `seq` is at `k` in its list
    /// (see [`Index::read_ahead_at`]), as it is added: made after the read,
    /// the slots took the index's build 4 ms on the 1M bench zone, with the
    /// other core idle.
    fn slot_ahead(&mut self, seq: u32, k: usize) {
        let i = seq as usize;
        if self.ahead.len() <= i {
            sized(&mut self.ahead, self.rtypes.capacity());
            self.ahead.resize(self.rtypes.len().max(i + 1), NONE);
        }
        self.ahead[i] = k as u32;
    }

    /// Record number `seq` (numbered as for [`Names::add_dkim_verdict`]) is
    /// a DMARC record whose policy word has memo code `word`, and in which
    /// its own checks find nothing when `clean`.
    pub(crate) fn add_dmarc(&mut self, seq: u32, word: u8, clean: bool) {
        self.slot_ahead(seq, self.dmarc.len());
        self.dmarc.push((seq, word, clean));
        if crate::checks::dmarc::word_of_code(word).is_some()
            && let Some(&node) = self.rec_node.get(seq as usize)
        {
            self.nodes[node as usize].dmarc_word = true;
        }
    }

    /// Record number `seq` (numbered as for [`Names::add_dkim_verdict`]) is
    /// an SPF record whose own checks count `counts` and find nothing else.
    pub(crate) fn add_spf(&mut self, seq: u32, counts: crate::checks::spf::Counts) {
        self.slot_ahead(seq, self.spf.len());
        self.spf.push((seq, counts));
    }

    /// The TTLs and RDATA prints of the records added last (as many as
    /// were added, in order).
    pub(crate) fn add_ttls_and_prints(&mut self, ttls: &[u32], prints: &[u32]) {
        let records = self.rtypes.capacity();
        sized(&mut self.ttls, records);
        sized(&mut self.prints, records);
        self.ttls.extend_from_slice(ttls);
        self.prints.extend_from_slice(prints);
    }

    /// What the text of record number `seq` (numbered as for
    /// [`Names::add_dkim_verdict`]), a TXT record, is, and where the text
    /// is in the [`ReadAhead::texts`] (`None` when it is not there).
    pub(crate) fn add_text_kind(&mut self, seq: u32, kind: u16, kept: Option<(usize, usize)>) {
        let i = seq as usize;
        if self.kinds.len() <= i {
            sized(&mut self.kinds, self.rtypes.capacity());
            self.kinds
                .resize(self.rtypes.len().max(i + 1), TextAt::default());
        }
        self.kinds[i] = TextAt::new(kind, kept);
        // (Grown to every node so far: written before it is read.)
        let node = self.rec_node[i] as usize;
        if self.node_kinds.len() <= node {
            sized(&mut self.node_kinds, self.nodes.capacity());
            self.node_kinds.resize(self.nodes.len().max(node + 1), 0);
        }
        self.node_kinds[node] |= kind;
    }

    /// The kind of record `i`'s text, when it was worked out while the zone
    /// was read.
    #[cfg(test)]
    fn text_kind(&self, i: usize) -> Option<u16> {
        self.kinds
            .get(i)
            .filter(|k| k.kind & TextAt::KIND_KNOWN != 0)
            .map(|k| k.kind & !TextAt::KIND_KNOWN)
    }

    /// [`Index::text_in_zone`], for the zone these names are of.
    pub(crate) fn text_in_zone(&self, text: &str) -> Option<bool> {
        text_in_zone(&self.origin_key, text)
    }

    /// Marks the nodes the MX exchanges added name, once the zone is read.
    pub fn mark_mx_targets(&mut self) {
        // Exchanges outside the zone are names of the index only when some
        // owner is outside it: most of a hoster's zone's are elsewhere,
        // and looking each up here (a cache miss) was nearly all of the
        // wait for the names thread after the read (4-5 ms on the 1M
        // bench zone).
        let mut targets = std::mem::take(&mut self.mx_targets);
        if self.outside {
            targets.append(&mut self.mx_targets_outside);
        }
        self.mx_targets_outside = Vec::new();
        let mut rest = targets.as_slice();
        while !rest.is_empty() {
            let len = wire_len(rest);
            if let Some(id) = self.find(&rest[..len]) {
                self.nodes[id as usize].mx_target = true;
            }
            rest = &rest[len..];
        }
        self.mx_marked = true;
    }

    fn add_key(&mut self, key: &[u8], t: RecordType) {
        self.add_key_hashed(key, self.hash(key), t);
    }

    /// [`Names::add_key`] with the key's hash made (any value will do when
    /// the record before was the same owner's).
    fn add_key_hashed(&mut self, key: &[u8], h: u64, t: RecordType) {
        self.rtypes.push(t);
        self.has_tlsa |= t == RecordType::TLSA;
        self.mx_count += usize::from(t == RecordType::MX);
        // Records of one owner are usually adjacent in the file.
        let prev = self.rec_node.last().copied().unwrap_or(NONE);
        let id = if prev != NONE && self.key(prev) == key {
            prev
        } else {
            self.intern(key, h)
        };
        let node = &mut self.nodes[id as usize];
        if node.rec_len == 0 {
            self.order.push(id);
            // Where its records start if every owner's records are
            // together in the file (see `Names::apart`).
            node.rec_start = self.rec_node.len() as u32;
        } else if id != prev {
            self.apart = true;
        }
        node.rec_len += 1;
        let ns = type_bit(RecordType::NS);
        if t == RecordType::NS && id != 0 && node.types & ns == 0 {
            node.cut = id;
            self.cuts_stale |= id as usize + 1 < self.nodes.len();
        }
        let node = &mut self.nodes[id as usize];
        node.types |= type_bit(t);
        self.numbers.push(self.rec_node.len());
        self.rec_node.push(id);
    }

    /// Whether this table was built from exactly these records.
    pub fn built_from(&self, zone: &Zone) -> bool {
        self.rec_node.len() == zone.records.len()
            && *self.origin_key == *Key::of(&zone.origin).bytes()
    }

    fn key(&self, id: u32) -> &[u8] {
        let nd = &self.nodes[id as usize];
        &self.arena[nd.key_off as usize..nd.key_off as usize + nd.key_len as usize]
    }

    fn hash(&self, key: &[u8]) -> u64 {
        use std::hash::BuildHasher;
        self.hasher.hash_one(key)
    }

    fn find(&self, key: &[u8]) -> Option<u32> {
        let h = self.hash(key);
        self.table.find(h, |id| self.key(id) == key)
    }

    /// Adds a node known to be absent; `parent` must already exist.
    fn insert(&mut self, key: &[u8], parent: u32) -> u32 {
        let h = self.hash(key);
        self.insert_hashed(key, parent, h)
    }

    /// [`Names::insert`] with the key's hash already made.
    fn insert_hashed(&mut self, key: &[u8], parent: u32, h: u64) -> u32 {
        let id = self.nodes.len() as u32;
        let labels = if parent == NONE {
            let mut k = 0;
            let mut off = 0;
            while key[off] != 0 {
                k += 1;
                off += 1 + key[off] as usize;
            }
            k
        } else {
            self.nodes[parent as usize].labels + 1
        };
        let wild = key.starts_with(b"\x01*");
        let underscore = key.get(1) == Some(&b'_');
        let dmarc = underscore && key.starts_with(b"\x06_dmarc");
        let first = [
            (wild, First::STAR),
            (underscore, First::UNDERSCORE),
            (dmarc, First::DMARC),
            (
                underscore && key.starts_with(b"\x08_mta-sts"),
                First::MTA_STS,
            ),
            (report_key(key), First::REPORT),
        ]
        .iter()
        .fold(0, |f, &(holds, bit)| if holds { f | bit } else { f });
        // What a node takes from its parent, which exists (see `intern`);
        // its own cut is noted when it gets NS (see `add_key_hashed`).
        let (cut, in_zone) = if parent == NONE {
            self.outside |= id != 0;
            (NONE, id == 0)
        } else {
            let p = &mut self.nodes[parent as usize];
            if wild {
                p.wild = id;
            }
            p.underscore_child |= underscore;
            if dmarc {
                self.dmarc_child[parent as usize] = id;
            }
            (p.cut, p.in_zone)
        };
        self.dmarc_child.push(NONE);
        self.nodes.push(Node {
            key_off: self.arena.len() as u32,
            key_len: key.len() as u8,
            labels,
            parent,
            rec_start: 0,
            rec_len: 0,
            types: 0,
            cut,
            wild: NONE,
            mx_target: false,
            in_zone,
            underscore_child: false,
            first,
            dmarc_word: false,
        });
        self.arena.extend_from_slice(key);
        let Names {
            table,
            arena,
            nodes,
            hasher,
            ..
        } = self;
        table.insert(h, id, |i| {
            use std::hash::BuildHasher;
            let nd = &nodes[i as usize];
            hasher.hash_one(&arena[nd.key_off as usize..nd.key_off as usize + nd.key_len as usize])
        });
        id
    }

    /// The node of an owner, made (with its missing ancestors down from the
    /// origin's length) when new.
    fn intern(&mut self, bytes: &[u8], h: u64) -> u32 {
        if let Some(id) = self.table.find(h, |id| self.key(id) == bytes) {
            return id;
        }
        // Missing suffixes (with their hashes), nearest first, up to an
        // existing one.
        let mut missing: SmallVec<[(usize, u64); 8]> = SmallVec::new();
        missing.push((0, h));
        let mut parent = NONE;
        for off in suffixes(bytes).skip(1) {
            let suffix = &bytes[off..];
            // The origin and the parent found last, compared before a
            // probe: most new names are children of one or the other, and
            // a probe of a table of every name is a cache miss.
            if *suffix == *self.origin_key {
                parent = 0;
                break;
            }
            if self.last_parent != NONE && self.key(self.last_parent) == suffix {
                parent = self.last_parent;
                break;
            }
            let hs = self.hash(suffix);
            if let Some(id) = self.table.find(hs, |id| self.key(id) == suffix) {
                parent = id;
                self.last_parent = id;
                break;
            }
            if suffix.len() < self.origin_len {
                break;
            }
            missing.push((off, hs));
        }
        for &(off, hs) in missing.iter().rev() {
            parent = self.insert_hashed(&bytes[off..], parent, hs);
        }
        parent
    }

    /// The node of a name, or of its closest existing ancestor at or below
    /// the origin's length, with how many labels were stripped to reach it.
    fn closest(&self, key: &[u8]) -> Option<(u32, usize)> {
        for (depth, off) in suffixes(key).enumerate() {
            let suffix = &key[off..];
            if depth > 0 && suffix.len() < self.origin_len {
                return None;
            }
            if let Some(id) = self.find(suffix) {
                return Some((id, depth));
            }
        }
        None
    }
}

/// A large index's own tables are freed on a thread of their own: on the
/// 1M bench zone freeing them took 11–15 ms, with the findings ready and
/// the other core idle. (What borrows from the zone is freed here.)
impl Drop for Index<'_> {
    fn drop(&mut self) {
        if self.recs.len() < mailzone_zone::handoff::MIN_RECORDS {
            return;
        }
        let names = std::mem::replace(&mut self.n, Names::new(&Name::root(), 0));
        let tables = (
            names,
            std::mem::take(&mut self.recs),
            std::mem::take(&mut self.dmarc_child),
        );
        // (When no thread starts, the tables are freed here after all.)
        let _ = std::thread::Builder::new()
            .name("free".into())
            .spawn(move || drop(tables));
    }
}

impl<'z> Index<'z> {
    pub fn new(zone: &'z Zone) -> Self {
        Index::build(zone, None, &[])
    }

    /// The index of a zone whose [`Names`] were built as it was read (see
    /// [`crate::checks::NameStream`]), which it takes over; names built from
    /// other records are rebuilt.
    pub fn with_names(zone: &'z Zone, ahead: &'z mut ReadAhead) -> Self {
        Index::build(zone, ahead.names.take(), &ahead.texts)
    }

    fn build(zone: &'z Zone, names: Option<Names>, kept: &'z [u8]) -> Self {
        let (names, kept) = match names.filter(|n| n.built_from(zone)) {
            Some(names) => (names, kept),
            None => {
                let mut fresh = Names::new(&zone.origin, zone.records.len());
                for r in &zone.records {
                    fresh.add(&r.owner, r.rtype());
                }
                (fresh, &[][..])
            }
        };
        let n = zone.records.len();
        let mut ix = Index {
            zone,
            origin: zone.origin.clone(),
            n: names,
            kept,
            recs: Vec::new(),
            dmarc_child: Vec::new(),
            selectors: std::sync::OnceLock::new(),
            own_texts: std::sync::OnceLock::new(),
            memo: std::sync::OnceLock::new(),
            mx: std::sync::OnceLock::new(),
        };
        // Pass 2: records grouped by node, in file order within a node;
        // already so when each owner's records are together (on the 1M
        // bench zone the grouping took 10 ms, with the other core idle).
        if ix.n.apart {
            let mut next = 0u32;
            for node in &mut ix.n.nodes {
                node.rec_start = next;
                next += node.rec_len;
            }
            // (Every place is written below: the numbers' room will do.)
            ix.recs = std::mem::take(&mut ix.n.numbers);
            ix.recs.resize(n, 0);
            let mut fill: Vec<u32> = ix.n.nodes.iter().map(|nd| nd.rec_start).collect();
            for (i, &id) in ix.n.rec_node.iter().enumerate() {
                ix.recs[fill[id as usize] as usize] = i;
                fill[id as usize] += 1;
            }
        } else {
            ix.recs = std::mem::take(&mut ix.n.numbers);
        }
        // Pass 3, only when some node became a cut after nodes that may be
        // below it were made: cuts inherited again, parent first.
        if ix.n.cuts_stale {
            let ns = type_bit(RecordType::NS);
            for id in 1..ix.n.nodes.len() {
                let node = &ix.n.nodes[id];
                let cut = if node.types & ns != 0 {
                    id as u32
                } else if node.parent == NONE {
                    NONE
                } else {
                    ix.n.nodes[node.parent as usize].cut
                };
                ix.n.nodes[id].cut = cut;
            }
        }
        ix.dmarc_child = std::mem::take(&mut ix.n.dmarc_child);
        // MX targets, when the names were not streamed.
        if !ix.n.mx_marked {
            let hosts: Vec<&Name> = ix.mx_table().all.iter().map(|m| m.exchange(&ix)).collect();
            for host in hosts {
                if let Some(id) = ix.n.find(Key::of(host).bytes()) {
                    ix.n.nodes[id as usize].mx_target = true;
                }
            }
        }
        ix
    }

    fn records_in(&self, id: u32) -> &[usize] {
        let nd = &self.n.nodes[id as usize];
        &self.recs[nd.rec_start as usize..(nd.rec_start + nd.rec_len) as usize]
    }

    /// Owners with their record indices, in order of first appearance.
    pub fn owners(&self) -> impl Iterator<Item = (&'z Name, &[usize])> + '_ {
        let zone = self.zone;
        self.n.order.iter().map(move |&id| {
            let idx = self.records_in(id);
            (&zone.records[idx[0]].owner, idx)
        })
    }

    /// An owner's node: a dense id below [`Index::node_count`], for sets
    /// and maps over owners that need no hashing.
    pub fn owner_id(&self, idx: &[usize]) -> u32 {
        self.n.rec_node[idx[0]]
    }

    /// How many names the index holds (owners and empty non-terminals).
    pub fn node_count(&self) -> usize {
        self.n.nodes.len()
    }

    /// The type of record `i` of the zone.
    pub fn rtype(&self, i: usize) -> RecordType {
        self.n.rtypes[i]
    }

    /// The TTL of record `i` of the zone.
    pub fn ttl(&self, i: usize) -> u32 {
        match self.n.ttls.get(i) {
            Some(&t) if self.n.ttls.len() == self.n.rtypes.len() => t,
            _ => self.zone.records[i].ttl,
        }
    }

    /// How many records have a print taken while the zone was read.
    #[cfg(test)]
    pub(crate) fn prints_taken(&self) -> usize {
        self.n.prints.len()
    }

    /// Whether records `i` and `j` of the zone may have equal RDATA:
    /// `false` only when their [`rdata_print`]s, taken while the zone was
    /// read, differ.
    pub fn may_share_rdata(&self, i: usize, j: usize) -> bool {
        let p = &self.n.prints;
        p.len() != self.n.rtypes.len() || p[i] == p[j]
    }

    fn owner_node(&self, idx: &[usize]) -> &Node {
        &self.n.nodes[self.n.rec_node[idx[0]] as usize]
    }

    /// [`Index::in_zone`] for an owner, by its record indices.
    pub fn owner_in_zone(&self, idx: &[usize]) -> bool {
        self.owner_node(idx).in_zone
    }

    /// The zone cut strictly above an owner (the delegation it sits below),
    /// by its record indices: the cut's node, for [`Index::node_records`],
    /// and how many labels its name has, for [`Name::trim_to`]. Asked of
    /// every owner, so it is read from the index rather than built as a name.
    pub fn owner_cut_above(&self, idx: &[usize]) -> Option<(u32, usize)> {
        let own = self.n.rec_node[idx[0]];
        let nd = &self.n.nodes[own as usize];
        if !nd.in_zone || nd.cut == NONE || nd.cut == own {
            return None;
        }
        Some((nd.cut, self.n.nodes[nd.cut as usize].labels as usize))
    }

    /// The records of a type at a node of the index.
    pub fn node_records(&self, id: u32, t: RecordType) -> Few<&'z ZoneRecord> {
        self.of_type_in(id, t)
    }

    /// Whether an owner has a child whose label starts with `_`: without one,
    /// none of `_dmarc`, `_mta-sts`, `_smtp._tls` can exist below it.
    pub fn owner_has_underscore_child(&self, idx: &[usize]) -> bool {
        self.owner_node(idx).underscore_child
    }

    /// How many types an owner's records are of, when all are of codes
    /// below 63 (read from the index's type bits).
    pub fn owner_type_count(&self, idx: &[usize]) -> Option<usize> {
        let types = self.owner_node(idx).types;
        (types & 1 << 63 == 0).then(|| types.count_ones() as usize)
    }

    /// Whether an owner may hold records of a type (exact for codes below 63;
    /// for higher codes it may say yes when there are none). Read from the
    /// index, so skipping owners does not touch their records: on large zones
    /// those touches are cache misses.
    pub fn owner_may_have(&self, idx: &[usize], t: RecordType) -> bool {
        self.owner_node(idx).types & type_bit(t) != 0
    }

    pub fn owner_is_apex(&self, idx: &[usize]) -> bool {
        self.n.rec_node[idx[0]] == 0
    }

    /// The owner's first label, lower-cased, from the index.
    pub fn owner_first_label(&self, idx: &[usize]) -> &[u8] {
        let key = self.n.key(self.n.rec_node[idx[0]]);
        &key[1..1 + key[0] as usize]
    }

    /// Whether the owner's first label is of any of the kinds in `kinds`
    /// (`First::STAR | …`), from the index alone.
    pub fn owner_first_is(&self, idx: &[usize], kinds: u8) -> bool {
        self.owner_node(idx).first & kinds != 0
    }

    /// An owner's key: its name as lower-case wire bytes.
    pub fn owner_key(&self, idx: &[usize]) -> &[u8] {
        self.n.key(self.n.rec_node[idx[0]])
    }

    /// Whether one of an owner's labels is `label` (given in lower case),
    /// read from its key in the index.
    pub fn owner_has_label(&self, idx: &[usize], label: &[u8]) -> bool {
        self.owner_label_position(idx, label).is_some()
    }

    /// Which of an owner's labels (0 for the first) is `label` (given in
    /// lower case), read from its key in the index.
    pub fn owner_label_position(&self, idx: &[usize], label: &[u8]) -> Option<usize> {
        self.owner_labels(idx).position(|l| l == label)
    }

    /// An owner's labels in lower case, first to last, read from its key in
    /// the index (walking a hickory name's labels costs several times more).
    pub fn owner_labels(&self, idx: &[usize]) -> impl Iterator<Item = &[u8]> + '_ {
        let key = self.n.key(self.n.rec_node[idx[0]]);
        let mut off = 0;
        std::iter::from_fn(move || {
            let len = *key.get(off)? as usize;
            if len == 0 {
                return None;
            }
            let label = key.get(off + 1..off + 1 + len)?;
            off += 1 + len;
            Some(label)
        })
    }

    /// Whether a lookup of `_<something>.<owner>` can find anything: a child
    /// label starts with `_`, or a wildcard child would synthesise one.
    pub fn owner_may_answer_underscore(&self, idx: &[usize]) -> bool {
        let nd = self.owner_node(idx);
        nd.underscore_child || nd.wild != NONE
    }

    /// The TXT records of an owner with their text, by its record indices.
    /// The kinds of an owner's texts together (`Text::SPF | …`, see
    /// [`Text::is`]): whether it has a text of some kind, without reading
    /// its texts.
    pub fn owner_text_kinds(&self, idx: &[usize]) -> u16 {
        if !self.owner_may_have(idx, RecordType::TXT) {
            return 0;
        }
        let node_kinds = match self.n.kinds.is_empty() {
            false => &self.n.node_kinds,
            true => &self.own_texts().node_kinds,
        };
        let id = self.n.rec_node[idx[0]] as usize;
        node_kinds.get(id).copied().unwrap_or(0)
    }

    /// The TXT records of an owner with their text, by its record indices.
    pub fn texts_of<'a>(&'a self, idx: &'a [usize]) -> Texts<'a> {
        if !self.owner_may_have(idx, RecordType::TXT) {
            return Texts::NONE;
        }
        self.texts_in(idx)
    }

    /// The texts of the TXT records among `recs`, in their order: made as
    /// they are read, from where each was kept (see [`TextAt`]), so that
    /// nothing is built for them after the read. (Built after the read,
    /// 250,000 texts on the 1M bench zone were 10-22 MB of fresh pages, the
    /// longest task after it.)
    fn texts_in<'a>(&'a self, recs: &'a [usize]) -> Texts<'a> {
        let (at, kept) = self.text_table();
        Texts {
            recs,
            records: &self.zone.records,
            rtypes: &self.n.rtypes,
            at,
            kept,
        }
    }

    /// Where each TXT record's text is, by record number, and the bytes it
    /// is in: the names thread's, or the index's own (made on first use).
    fn text_table(&self) -> (&[TextAt], &[u8]) {
        if !self.n.kinds.is_empty() {
            return (&self.n.kinds, self.kept);
        }
        let own = self.own_texts();
        (&own.at, &own.kept)
    }

    /// The index's own texts, made on first use (waiting when another
    /// thread is making them).
    fn own_texts(&self) -> &OwnTexts {
        self.own_texts.get_or_init(|| self.read_texts())
    }

    /// Every TXT record's text kept as the names thread keeps them, from
    /// the records (read in a loop of their own, so that the reads, each a
    /// cache miss on a large zone, overlap).
    fn read_texts(&self) -> OwnTexts {
        let zone = self.zone;
        let data: Vec<(usize, &'z [Box<[u8]>])> = (self.n.rtypes.iter().enumerate())
            .filter(|&(_, &t)| t == RecordType::TXT)
            .filter_map(|(i, _)| match &zone.records[i].rdata {
                RData::TXT(t) => Some((i, &t.txt_data[..])),
                _ => None,
            })
            .collect();
        let mut at = vec![TextAt::default(); data.last().map_or(0, |d| d.0 + 1)];
        let mut node_kinds = vec![0u16; self.n.nodes.len()];
        let mut kept = Vec::new();
        let mut strings: Vec<&[u8]> = Vec::new();
        for (i, d) in data {
            strings.clear();
            strings.extend(d.iter().map(|s| &s[..]));
            let joined: std::borrow::Cow<'_, [u8]> = match strings[..] {
                [one] => one.into(),
                _ => strings.concat().into(),
            };
            let kind = Text::kind_of(&joined);
            at[i] = TextAt::new(kind, keep_text(&mut kept, &strings, &joined));
            node_kinds[self.n.rec_node[i] as usize] |= kind;
        }
        OwnTexts {
            at,
            node_kinds,
            kept,
        }
    }

    /// The MX records of an owner, by its record indices (all of them, as
    /// [`Index::owners`] gives them).
    pub fn mx_of(&self, idx: &[usize]) -> &[Mx] {
        // A slice of the names thread's list, or of the table: asked of
        // every owner by the MX checks.
        if self.mx_in_order() {
            if !self.owner_may_have(idx, RecordType::MX) {
                return &[];
            }
            let mut mx = idx.iter().filter(|&&i| self.n.rtypes[i] == RecordType::MX);
            let first = mx.next().and_then(|&i| self.read_ahead_at(i));
            let n = 1 + mx.count();
            if let Some(all) = first.and_then(|k| self.n.mx.get(k..k + n)) {
                return all;
            }
        }
        let id = self.n.rec_node[idx[0]] as usize;
        let m = self.mx_table();
        let (a, b) = m.spans[id];
        let (a, b) = (a as usize, b as usize);
        &m.all[a..b]
    }

    /// Whether each owner's MX are together in the names thread's list
    /// (see [`Names::mx`]), where each MX record's place is read ahead:
    /// worked out while the zone was read, in file order, with no owner's
    /// records apart. The MX table (9 MB on the 1M bench zone, written
    /// after the read) is then not needed.
    fn mx_in_order(&self) -> bool {
        !self.n.apart && self.n.mx_count > 0 && self.n.mx.len() == self.n.mx_count
    }

    /// The MX table, built on first use (waiting when another thread is
    /// building it).
    fn mx_table(&self) -> &MxTable {
        self.mx.get_or_init(|| self.read_mx())
    }

    /// Every MX record grouped by node: from what was worked out while the
    /// zone was read when that is complete, else from the records.
    fn read_mx(&self) -> MxTable {
        let streamed = self.n.mx.len() == self.n.mx_count;
        let mut all: Vec<Mx> = if streamed {
            self.n.mx.clone()
        } else {
            let mut key = Key::of_wire(&[]);
            let mut wire = Vec::new();
            // (Only the MX records are read: each read is a cache miss on
            // a large zone.)
            (self.n.rtypes.iter().enumerate())
                .filter(|&(_, &t)| t == RecordType::MX)
                .filter_map(|(i, _)| match &self.zone.records[i].rdata {
                    RData::MX(m) => {
                        mailzone_zone::record::name_to_wire_into(&m.exchange, &mut wire);
                        key.set_wire(&wire);
                        Some(self.n.mx_of_key(i as u32, m.preference, &key))
                    }
                    _ => None,
                })
                .collect()
        };
        // Each node's together, in file order within it: so already while
        // no owner's records are apart (the sort is stable).
        if self.n.apart {
            all.sort_by_key(|m| self.n.rec_node[m.rec as usize]);
        }
        // Written, never read first (see `Index::read_texts`).
        let mut spans = vec![(0u32, 0u32); self.n.nodes.len()];
        let mut last = usize::MAX;
        for (k, m) in all.iter().enumerate() {
            let node = self.n.rec_node[m.rec as usize] as usize;
            if node != last {
                last = node;
                spans[node].0 = k as u32;
            }
            spans[node].1 = k as u32 + 1;
        }
        MxTable { all, spans }
    }

    pub fn is_mx_target(&self, n: &Name) -> bool {
        self.n
            .find(Key::of(n).bytes())
            .is_some_and(|id| self.n.nodes[id as usize].mx_target)
    }

    /// DKIM selector owners under `_domainkey.<domain>`.
    /// [`Index::selectors`] of an owner, by its record indices (from its
    /// key in the index: no name is walked).
    pub fn owner_selectors(&self, idx: &[usize]) -> &[&'z Name] {
        self.all_selectors()
            .get(&self.n.rec_node[idx[0]])
            .map_or(&[], |s| s.as_slice())
    }

    pub fn selectors(&self, domain: &Name) -> &[&'z Name] {
        self.n
            .find(Key::of(domain).bytes())
            .and_then(|id| self.all_selectors().get(&id))
            .map_or(&[], |s| s.as_slice())
    }

    fn all_selectors(&self) -> &foldhash::HashMap<u32, SmallVec<[&'z Name; 1]>> {
        self.selectors.get_or_init(|| self.find_selectors())
    }

    /// Every DKIM selector owner, by its domain's node: worked out by the
    /// first family that asks, on its thread, rather than with the index
    /// (5 ms of its build on the 1M bench zone, with the other core idle).
    fn find_selectors(&self) -> foldhash::HashMap<u32, SmallVec<[&'z Name; 1]>> {
        let mut selectors: foldhash::HashMap<u32, SmallVec<[&'z Name; 1]>> = Default::default();
        // Selectors, found in the owners' keys (lower-case already): the
        // domain's key is the suffix after the `_domainkey` label.
        for k in 0..self.n.order.len() {
            let id = self.n.order[k];
            let key = self.n.key(id);
            let mut off = 0;
            let mut domain = None;
            while key[off] != 0 {
                let next = off + 1 + key[off] as usize;
                if off > 0 && &key[off..next] == b"\x0a_domainkey" {
                    domain = Some(next);
                    break;
                }
                off = next;
            }
            // (The domain, an ancestor of an owner, is a node, unless the
            // owner is outside the zone.)
            if let Some(d) = domain.and_then(|d| self.n.find(&key[d..])) {
                let owner = &self.zone.records
                    [self.recs[self.n.nodes[id as usize].rec_start as usize]]
                    .owner;
                selectors.entry(d).or_default().push(owner);
            }
        }
        selectors
    }

    pub fn has_tlsa(&self) -> bool {
        self.n.has_tlsa
    }

    /// Records owned by exactly this name (no wildcard synthesis).
    pub fn at(&self, name: &Name) -> impl Iterator<Item = &'z ZoneRecord> + '_ {
        let zone = self.zone;
        let idx = match self.n.find(Key::of(name).bytes()) {
            Some(id) => self.records_in(id),
            None => &[],
        };
        idx.iter().map(move |&i| &zone.records[i])
    }

    /// The records of a type among an owner's record indices (from [`Index::owners`]).
    pub fn of_type(&self, idx: &[usize], t: RecordType) -> Few<&'z ZoneRecord> {
        // The node's types first: asked of most owners for a type they lack.
        if idx.is_empty() || !self.owner_may_have(idx, t) {
            return Few::new();
        }
        idx.iter()
            .filter(|&&i| self.n.rtypes[i] == t)
            .map(|&i| &self.zone.records[i])
            .collect()
    }

    fn of_type_in(&self, id: u32, t: RecordType) -> Few<&'z ZoneRecord> {
        if self.n.nodes[id as usize].types & type_bit(t) == 0 {
            return Few::new();
        }
        self.of_type(self.records_in(id), t)
    }

    pub fn rrset(&self, name: &Name, t: RecordType) -> Few<&'z ZoneRecord> {
        match self.n.find(Key::of(name).bytes()) {
            Some(id) => self.of_type_in(id, t),
            None => Few::new(),
        }
    }

    /// Whether a host name written as plain dotted text (no trailing dot) is
    /// at or below the origin, without parsing it into a [`Name`]; `None`
    /// when the text has escapes or empty or over-long labels (parse it then).
    pub fn text_in_zone(&self, text: &str) -> Option<bool> {
        text_in_zone(&self.n.origin_key, text)
    }

    pub fn in_zone(&self, name: &Name) -> bool {
        self.origin.zone_of(name)
    }

    /// The zone cut at or above `name` (below the apex), if any.
    pub fn cut_above(&self, name: &Name) -> Option<Name> {
        if !self.in_zone(name) {
            return None;
        }
        let (id, _) = self.n.closest(Key::of(name).bytes())?;
        let cut = self.n.nodes[id as usize].cut;
        if cut == NONE {
            return None;
        }
        let keep = self.n.nodes[cut as usize].labels as usize;
        Some(name.trim_to(keep))
    }

    /// In the zone and answered by it (not delegated away).
    pub fn authoritative_for(&self, name: &Name) -> bool {
        self.in_zone(name) && self.cut_above(name).is_none()
    }

    pub fn is_cut(&self, name: &Name) -> bool {
        self.n
            .find(Key::of(name).bytes())
            .is_some_and(|id| id != 0 && self.n.nodes[id as usize].cut == id)
    }

    /// Whether `<label>.<name>` exists (labels as written, e.g. `_smtp._tls`),
    /// without building a `Name`.
    pub fn child_exists(&self, name: &Name, label: &str) -> bool {
        Key::child_of(name, label).is_some_and(|k| self.n.find(k.bytes()).is_some())
    }

    /// The name exists: it owns records or has names below it.
    pub fn exists(&self, name: &Name) -> bool {
        self.n.find(Key::of(name).bytes()).is_some()
    }

    /// The node a query for `name` is answered from: the name itself, or the
    /// wildcard that covers it when it does not exist (RFC 4592 §3.3.1); the
    /// flag says which.
    fn answering(&self, name: &Name) -> Option<(u32, bool)> {
        self.answering_key(&Key::of(name))
    }

    fn answering_key(&self, key: &Key) -> Option<(u32, bool)> {
        self.answering_bytes(key.bytes())
    }

    fn answering_bytes(&self, key: &[u8]) -> Option<(u32, bool)> {
        let (id, depth) = self.n.closest(key)?;
        if depth == 0 {
            return Some((id, true));
        }
        let wild = self.n.nodes[id as usize].wild;
        (wild != NONE).then_some((wild, false))
    }

    /// The TXT records a query for `<label>.<name>` would get (wildcards
    /// included), without building that name: asked for `_dmarc` of every
    /// mail domain.
    pub fn texts_under(&self, name: &Name, label: &str) -> Texts<'_> {
        let Some(k) = Key::child_of(name, label) else {
            return Texts::NONE;
        };
        match self.answering_key(&k) {
            Some((id, _)) => self.texts_at_node(id),
            None => Texts::NONE,
        }
    }

    /// The TXT records a query for `_dmarc.<owner>` would get (wildcards
    /// included), by the owner's record indices: [`Index::texts_under`] with
    /// `_dmarc`, read from the index without a hash probe.
    pub fn owner_dmarc_texts(&self, idx: &[usize]) -> Texts<'_> {
        let id = self.n.rec_node[idx[0]];
        let child = self.dmarc_child[id as usize];
        if child != NONE {
            return self.texts_at_node(child);
        }
        // As a lookup would go on: the wildcard below the owner, when the
        // owner is at or below the origin's length and `_dmarc` below it
        // would still be a name.
        let (key, nd) = (self.n.key(id), &self.n.nodes[id as usize]);
        if nd.wild == NONE || key.len() < self.n.origin_len || key.len() > 255 - 7 {
            return Texts::NONE;
        }
        self.texts_at_node(nd.wild)
    }

    /// Whether a query for `_dmarc.<owner>` finds a DMARC record with a
    /// policy word, as far as the DMARC records read ahead say: `true` is
    /// sure, `false` means ask the texts (see
    /// `crate::checks::dmarc::word_of`). Every mail domain is asked, and on
    /// a large zone reading the texts and words was several cache misses
    /// each.
    pub fn dmarc_word_read_ahead(&self, idx: &[usize]) -> bool {
        let child = self.dmarc_child[self.n.rec_node[idx[0]] as usize];
        child != NONE && self.n.nodes[child as usize].dmarc_word
    }

    /// What the DKIM key in a TXT record is, when it was worked out while
    /// the zone was read.
    pub(crate) fn dkim_verdict(&self, r: &ZoneRecord) -> Option<crate::checks::dkim::Verdict> {
        let at = index_in(&self.zone.records, r)?;
        let d = self.n.dkim.get(self.read_ahead_at(at)?)?;
        (d.0 as usize == at).then_some(d.1)
    }

    /// What the DKIM key `r`'s own checks counted while the zone was read,
    /// when they found nothing else.
    pub(crate) fn dkim_read(&self, r: &ZoneRecord) -> Option<&[(&'static str, u32)]> {
        let at = index_in(&self.zone.records, r)?;
        let d = self.n.dkim.get(self.read_ahead_at(at)?)?;
        (d.0 as usize == at).then_some(d.2.as_deref()?)
    }

    /// Where what was read ahead of record `at` is in [`Names::dkim`] or
    /// [`Names::dmarc`] (whichever holds it).
    fn read_ahead_at(&self, at: usize) -> Option<usize> {
        self.n
            .ahead
            .get(at)
            .filter(|&&k| k != NONE)
            .map(|&k| k as usize)
    }

    /// Whether the DMARC record `r`'s own checks were run while the zone
    /// was read and found nothing.
    pub(crate) fn dmarc_clean(&self, r: &ZoneRecord) -> bool {
        self.dmarc_read(r).is_some_and(|(_, clean)| clean)
    }

    /// The key of NS record `i`'s target, when the names thread kept it
    /// (see [`Names::add_ns_targets`]).
    pub(crate) fn ns_target_key(&self, i: usize) -> Option<&[u8]> {
        let &(seq, off, len, _) = self.n.ns.get(self.read_ahead_at(i)?)?;
        (seq as usize == i).then(|| &self.n.ns_keys[off as usize..off as usize + len as usize])
    }

    /// Whether NS record `i`'s target was found with an address while the
    /// zone was read (see [`Names::resolve_ns_targets`]); when not, ask
    /// [`Index::has_address_key`].
    pub(crate) fn ns_target_addressed(&self, i: usize) -> bool {
        self.read_ahead_at(i)
            .and_then(|k| self.n.ns.get(k))
            .is_some_and(|&(seq, _, _, addressed)| seq as usize == i && addressed)
    }

    /// Whether a query for the name of `key` would get an A or AAAA record
    /// ([`Index::addresses_key`] is not empty), from the index alone.
    pub(crate) fn has_address_key(&self, key: &[u8]) -> bool {
        let addresses = type_bit(RecordType::A) | type_bit(RecordType::AAAA);
        self.answering_bytes(key)
            .is_some_and(|(id, _)| self.n.nodes[id as usize].types & addresses != 0)
    }

    /// Whether one of node `id`'s NS records names the name of `key`: from
    /// the targets' keys where the names thread kept them, else from the
    /// records.
    pub(crate) fn ns_names(&self, id: u32, key: &[u8]) -> bool {
        self.records_in(id)
            .iter()
            .filter(|&&i| self.n.rtypes[i] == RecordType::NS)
            .any(|&i| match self.ns_target_key(i) {
                Some(k) => k == key,
                None => {
                    matches!(&self.zone.records[i].rdata, RData::NS(n) if name_is_key(&n.0, key))
                }
            })
    }

    /// What the SPF record `r`'s own checks counted while the zone was read,
    /// when they found nothing else (see [`Names::add_spf`]).
    pub(crate) fn spf_read(&self, r: &ZoneRecord) -> Option<&[(&'static str, u32)]> {
        let at = index_in(&self.zone.records, r)?;
        let d = self.n.spf.get(self.read_ahead_at(at)?)?;
        (d.0 as usize == at).then_some(&d.1[..])
    }

    /// What was read ahead of the DMARC record `r` (see [`Names::add_dmarc`]).
    pub(crate) fn dmarc_read(&self, r: &ZoneRecord) -> Option<(u8, bool)> {
        let at = index_in(&self.zone.records, r)?;
        let d = self.n.dmarc.get(self.read_ahead_at(at)?)?;
        (d.0 as usize == at).then_some((d.1, d.2))
    }

    /// A fact about one of the index's texts that more than one family
    /// needs (a DMARC record's policy), worked out by `f` (a value from 1 to
    /// 255) the first time it is asked and read back after that; the
    /// families run on two threads, and at worst both work it out.
    pub fn memo(&self, t: &Text<'_>, f: impl FnOnce() -> u8) -> u8 {
        use std::sync::atomic::Ordering::Relaxed;
        // Which record it is, from its address (a text of a record outside
        // the zone is worked out each time).
        let Some(i) = index_in(&self.zone.records, t.record) else {
            return f();
        };
        // A DMARC record's policy word, when it was read ahead: nearly
        // every one's, when the zone's names were.
        if let Some(d) = (self.read_ahead_at(i))
            .and_then(|k| self.n.dmarc.get(k))
            .filter(|d| d.0 as usize == i && d.1 != 0)
        {
            return d.1;
        }
        let memo = self.memo.get_or_init(|| {
            // (Zeroed: pages of it never asked about are never written.)
            (0..self.zone.records.len())
                .map(|_| std::sync::atomic::AtomicU8::new(0))
                .collect()
        });
        let Some(slot) = memo.get(i) else {
            return f();
        };
        match slot.load(Relaxed) {
            0 => {
                let v = f();
                slot.store(v, Relaxed);
                v
            }
            v => v,
        }
    }

    fn texts_at_node(&self, id: u32) -> Texts<'_> {
        if self.n.nodes[id as usize].types & type_bit(RecordType::TXT) == 0 {
            return Texts::NONE;
        }
        self.texts_in(self.records_in(id))
    }

    /// Records of a type that a query for `name` would get, with wildcard
    /// synthesis (RFC 4592) when the name does not exist.
    pub fn lookup(&self, name: &Name, t: RecordType) -> Few<&'z ZoneRecord> {
        match self.answering(name) {
            Some((id, _)) => self.of_type_in(id, t),
            None => Few::new(),
        }
    }

    /// Whether a lookup of `name` would find anything at all (name exists, or a wildcard covers it).
    pub fn resolves(&self, name: &Name) -> bool {
        self.answering(name)
            .is_some_and(|(id, exact)| exact || self.n.nodes[id as usize].rec_len > 0)
    }

    pub fn addresses(&self, name: &Name) -> Few<&'z ZoneRecord> {
        self.addresses_key(&Key::of(name))
    }

    /// [`Index::addresses`] of a name given by its key.
    pub fn addresses_key(&self, key: &Key) -> Few<&'z ZoneRecord> {
        let Some((id, _)) = self.answering_key(key) else {
            return Few::new();
        };
        let mut v = self.of_type_in(id, RecordType::A);
        v.extend(self.of_type_in(id, RecordType::AAAA));
        v
    }

    pub fn cname(&self, name: &Name) -> Option<&'z ZoneRecord> {
        self.lookup(name, RecordType::CNAME).into_iter().next()
    }

    /// The TXT records at a name (wildcards included), with their joined text.
    pub fn texts(&self, name: &Name) -> Texts<'_> {
        match self.answering(name) {
            Some((id, _)) => self.texts_at_node(id),
            None => Texts::NONE,
        }
    }

    pub fn mx(&self, name: &Name) -> Few<(&'z ZoneRecord, u16, &'z Name)> {
        mx_entries(self.lookup(name, RecordType::MX))
    }

    /// Whether the zone has DNSKEY records at the apex (is signed).
    pub fn signed(&self) -> bool {
        self.n.nodes[0].types & type_bit(RecordType::DNSKEY) != 0
    }

    /// Where to point for a term of a TXT record: the byte range of
    /// `joined[off..off + len]` in the source when the record came from a
    /// master file, else the record's span.
    pub fn term_span(&self, text: &Text<'_>, off: usize, len: usize) -> Span {
        locate_in_source(self.zone, text, off, len).unwrap_or(text.record.span)
    }
}

/// MX records with their preference and exchange.
fn mx_entries(recs: Few<&ZoneRecord>) -> Few<(&ZoneRecord, u16, &Name)> {
    recs.into_iter()
        .filter_map(|r| match &r.rdata {
            RData::MX(mx) => Some((r, mx.preference, &mx.exchange)),
            _ => None,
        })
        .collect()
}

/// Where `x` is in `all`, when it is one of its elements (found by address:
/// the index hands out references into its own vectors).
fn index_in<T>(all: &[T], x: &T) -> Option<usize> {
    let at = (x as *const T as usize).wrapping_sub(all.as_ptr() as usize)
        / std::mem::size_of::<T>().max(1);
    all.get(at).filter(|e| std::ptr::eq(*e, x)).map(|_| at)
}

/// Whether dotted text is at or below the origin whose key is `origin`
/// (see [`Index::text_in_zone`]).
fn text_in_zone(origin: &[u8], text: &str) -> Option<bool> {
    if text.contains('\\') {
        return None;
    }
    let mut k = Key {
        buf: [0; 256],
        len: 0,
    };
    k.len = push_labels(text, &mut k.buf[..255])? + 1;
    Some(k.suffixes().any(|o| k.bytes()[o..] == *origin))
}

/// A hash of a record's RDATA in wire form: records whose prints differ
/// differ. (Four bytes: equal prints are only a reason to compare the
/// records, and on a large zone each byte per record is a megabyte to
/// fault in.)
pub fn rdata_print(wire: &[u8]) -> u32 {
    use std::hash::BuildHasher;
    let h = foldhash::fast::FixedState::with_seed(0x7264_6174_6121).hash_one(wire);
    (h >> 32) as u32 ^ h as u32
}

/// The length of the uncompressed wire name at the start of `wire`.
pub fn wire_len(wire: &[u8]) -> usize {
    let mut off = 0;
    while let Some(&l) = wire.get(off) {
        off += 1 + l as usize;
        if l == 0 {
            break;
        }
    }
    off.min(wire.len())
}

pub fn text_of(r: &ZoneRecord) -> Option<Text<'_>> {
    text_with(r, None)
}

/// [`text_of`], with what the text is when that is known already.
fn text_with(r: &ZoneRecord, kind: Option<u16>) -> Option<Text<'_>> {
    match &r.rdata {
        RData::TXT(t) => Some(Text::of_strings(r, &t.txt_data, kind)),
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
    // A record with several findings on its terms (an SPF record usually has
    // two) is scanned once: the last entry's tokens are kept per thread,
    // keyed by the entry's own text so another zone can never match.
    thread_local! {
        static LAST: std::cell::RefCell<(Vec<u8>, Vec<mailzone_zone::scan::Tok>)> =
            const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
    }
    let toks = LAST.with_borrow_mut(|(text, toks)| {
        if text.as_slice() != entry || toks.is_empty() {
            text.clear();
            text.extend_from_slice(entry);
            toks.clear();
            if !matches!(Scanner::new(entry).next_entry(toks), Ok(Some(_))) {
                toks.clear();
            }
        }
        toks.clone()
    });
    if toks.is_empty() {
        return None;
    }
    let n = text.string_count();
    if toks.len() < n {
        return None;
    }
    let strings = &toks[toks.len() - n..];
    // The tokens must be the strings themselves (not `\#` hex or a TOML value).
    let mut un = Vec::new();
    for (t, s) in strings.iter().zip(&text.strings()) {
        let raw = t.text(entry);
        // Without a backslash the token is its own text.
        if !raw.contains(&b'\\') {
            if raw != *s {
                return None;
            }
            continue;
        }
        un.clear();
        if mailzone_zone::text::unescape(raw, &mut un).is_err() || un != *s {
            return None;
        }
    }
    let (si, mut inner) = string_at(&text.strings(), off);
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every name's node has its parent's key as its key minus the first
    /// label, and its label count, whatever order the names come in: the
    /// shortcuts `intern` takes for the origin and the last parent found
    /// must give the node a probe would. Names outside the origin stop at
    /// the origin's length, as before.
    #[test]
    fn every_node_has_its_parent_in_any_order() {
        let origin = Name::from_ascii("example.test.").unwrap();
        let names = [
            "a.example.test.",
            "b.a.example.test.",
            "c.b.a.example.test.",
            "_dmarc.a.example.test.",
            "d.example.test.",
            "_dmarc.d.example.test.",
            "sel._domainkey.d.example.test.",
            "x.y.z.example.test.",
            "z.example.test.",
            "example.test.",
            "mail.other.test.",
            "a.mail.other.test.",
            // Its parent is as long as the origin, and not the origin.
            "www.samples.test.",
            "Q.EXAMPLE.TEST.",
        ];
        for order in orders(names.len(), 30, 11) {
            let mut n = Names::new(&origin, names.len());
            for &i in &order {
                n.add(&Name::from_ascii(names[i]).unwrap(), RecordType::A);
            }
            assert_eq!(n.key(0), Key::of(&origin).bytes());
            for id in 0..n.nodes.len() as u32 {
                let key = n.key(id).to_vec();
                let node = &n.nodes[id as usize];
                assert_eq!(
                    usize::from(node.labels),
                    Key::of_wire(&key).suffixes().count() - 1
                );
                let found = n.find(&key);
                assert_eq!(found, Some(id), "{key:?} is found as itself");
                if id == 0 {
                    continue;
                }
                let up = &key[1 + key[0] as usize..];
                if up.len() < n.origin_len {
                    assert_eq!(node.parent, NONE, "{key:?} in order {order:?}");
                } else {
                    assert_eq!(n.key(node.parent), up, "{key:?} in order {order:?}");
                }
            }
        }
    }

    /// What each node inherits and tells its parent (its cut, whether it is
    /// in the zone, its first label's kind, the parent's wildcard and
    /// `_dmarc` children) is what its name says, whatever order the
    /// records come in: a delegation's NS before the names below it, after
    /// them (its cut noted late), nested delegations.
    #[test]
    fn node_facts_hold_in_any_order() {
        let lines = [
            "child 300 IN NS ns.child",
            "ns.child 300 IN A 192.0.2.1",
            "deep.ns.child 300 IN A 192.0.2.2",
            "sub.child 300 IN NS ns.sub.child",
            "ns.sub.child 300 IN A 192.0.2.3",
            "* 300 IN A 192.0.2.4",
            "_dmarc 300 IN TXT \"v=DMARC1; p=none\"",
            "_mta-sts.a 300 IN TXT \"v=STSv1; id=1\"",
            "_dmarc.a 300 IN TXT \"v=DMARC1; p=none\"",
            "*.a 300 IN MX 0 .",
            "a 300 IN A 192.0.2.5",
            "x.y.a 300 IN A 192.0.2.6",
            "other.test. 300 IN A 192.0.2.7",
        ];
        let mut stale = 0;
        for order in orders(lines.len(), 20, 5) {
            let mut zone =
                String::from("$ORIGIN example.com.\n@ 300 IN SOA ns h 1 2 3 4 5\n@ 300 IN NS ns\n");
            for &i in &order {
                zone += lines[i];
                zone.push('\n');
            }
            let r = read_ok(&zone);
            for ix in [Index::new(&r.zone), streamed(&r.zone)] {
                stale += usize::from(ix.n.cuts_stale);
                let n = &ix.n;
                let origin = Key::of(&ix.origin);
                let ns = type_bit(RecordType::NS);
                for id in 0..n.nodes.len() {
                    let node = &n.nodes[id];
                    let key = n.key(id as u32);
                    let in_zone = key_at_or_below(key, origin.bytes());
                    assert_eq!(node.in_zone, in_zone, "{key:?} {order:?}");
                    // The nearest at or above it with NS, below the apex.
                    let cut = suffixes(key)
                        .filter_map(|o| n.find(&key[o..]))
                        .find(|&a| a != 0 && n.nodes[a as usize].types & ns != 0)
                        .unwrap_or(NONE);
                    assert_eq!(node.cut, cut, "{key:?} {order:?}");
                    let child = |label: &[u8]| {
                        let mut k = vec![label.len() as u8];
                        k.extend_from_slice(label);
                        k.extend_from_slice(key);
                        n.find(&k).unwrap_or(NONE)
                    };
                    assert_eq!(node.wild, child(b"*"), "{key:?}");
                    assert_eq!(ix.dmarc_child[id], child(b"_dmarc"), "{key:?}");
                    let underscore = (0..n.nodes.len())
                        .any(|c| n.nodes[c].parent == id as u32 && n.key(c as u32)[1] == b'_');
                    assert_eq!(node.underscore_child, underscore, "{key:?}");
                }
            }
        }
        // Some orders had a delegation's NS after names below it.
        assert!(stale > 0);
    }

    /// A selector belongs to the domain after its `_domainkey` label,
    /// wildcard selectors included (they were once given to the parent).
    #[test]
    fn selectors_belong_to_the_domain_after_domainkey() {
        let r = mailzone_zone::master::read_master_str(
            "t.zone",
            "$ORIGIN example.com.\n@ 3600 IN SOA ns h 1 2 3 4 5\n@ 3600 IN NS ns\n\
             *._domainkey.parked 3600 IN TXT \"v=DKIM1; p=\"\n\
             s1._DomainKey.Shop 3600 IN TXT \"v=DKIM1; p=\"\n\
             _domainkey 3600 IN TXT \"o=~\"\n",
            &mailzone_zone::MasterOptions::default(),
        );
        assert!(r.errors.is_empty(), "{:?}", r.errors);
        let ix = Index::new(&r.zone);
        let n = |s: &str| Name::from_ascii(s).unwrap();
        assert_eq!(ix.selectors(&n("parked.example.com.")).len(), 1);
        assert_eq!(ix.selectors(&n("SHOP.example.com.")).len(), 1);
        assert_eq!(ix.selectors(&n("example.com.")).len(), 0);
        assert_eq!(ix.selectors(&n("com.")).len(), 0);
        for (o, idx) in ix.owners() {
            let want: Vec<Vec<u8>> = o.iter().map(|l| l.to_ascii_lowercase()).collect();
            let got: Vec<Vec<u8>> = ix.owner_labels(idx).map(<[u8]>::to_vec).collect();
            assert_eq!(got, want, "{o}");
        }
        let pos: Vec<(String, Option<usize>)> = ix
            .owners()
            .map(|(o, idx)| (o.to_string(), ix.owner_label_position(idx, b"_domainkey")))
            .collect();
        for (o, p) in &pos {
            let want = Name::from_ascii(o)
                .unwrap()
                .iter()
                .position(|l| l.eq_ignore_ascii_case(b"_domainkey"));
            assert_eq!(*p, want, "{o}");
        }
        assert!(
            pos.iter().filter(|(_, p)| p.is_some()).count() == 3,
            "{pos:?}"
        );
    }

    /// A memo is worked out once per record of the index; a text from
    /// elsewhere is worked out each time, never mistaken for one of them.
    #[test]
    fn memo_is_per_text_of_the_index() {
        let r = mailzone_zone::master::read_master_str(
            "t.zone",
            "$ORIGIN example.com.\n@ 3600 IN SOA ns h 1 2 3 4 5\n@ 3600 IN NS ns\n\
             a 3600 IN TXT \"one\"\nb 3600 IN TXT \"two\"\n",
            &mailzone_zone::MasterOptions::default(),
        );
        let ix = Index::new(&r.zone);
        let calls = std::cell::Cell::new(0);
        let texts: Vec<Text<'_>> = ix.owners().flat_map(|(_, idx)| ix.texts_of(idx)).collect();
        assert_eq!(texts.len(), 2);
        for round in 0..3 {
            for (i, t) in texts.iter().enumerate() {
                let v = ix.memo(t, || {
                    calls.set(calls.get() + 1);
                    10 + i as u8
                });
                assert_eq!(v, 10 + i as u8, "round {round}");
            }
        }
        assert_eq!(calls.get(), 2);
        // A text of the same record, made apart from the index, is the
        // same fact; a record of another zone (here the same text, even)
        // is not.
        let again = text_of(texts[0].record).unwrap();
        assert_eq!(ix.memo(&again, || 99), 10);
        let other = read_ok(
            "$ORIGIN example.com.\n@ 3600 IN SOA ns h 1 2 3 4 5\n@ 3600 IN NS ns\n\
             a 3600 IN TXT \"one\"\n",
        );
        let outside = text_of(&other.zone.records[2]).unwrap();
        for _ in 0..2 {
            assert_eq!(
                ix.memo(&outside, || {
                    calls.set(calls.get() + 1);
                    99
                }),
                99
            );
        }
        assert_eq!(calls.get(), 4);
    }

    /// Texts of many kinds, some split over strings, as records of a zone.
    const KINDS_ZONE: &str = "$ORIGIN example.com.\n@ 3600 IN SOA ns h 1 2 3 4 5\n@ 3600 IN NS ns\n\
        @ 3600 IN TXT \"v=spf1 mx -all\"\n\
        a 3600 IN TXT \"v=spf1 \" \"ip4:192.0.2.1 -all\"\n\
        b 3600 IN TXT \"V=SPF1 -all\"\n\
        c 3600 IN TXT \"v = spf1 -all\"\n\
        d 3600 IN TXT \"spf2.0/pra -all\"\n\
        _dmarc 3600 IN TXT \"v=DMARC1; p=reject\"\n\
        _dmarc.a 3600 IN TXT \"v=DMARC1\" \"; p=none\"\n\
        _mta-sts 3600 IN TXT \"v=STSv1; id=1\"\n\
        _smtp._tls 3600 IN TXT \"v=TLSRPTv1; rua=mailto:r@example.com\"\n\
        default._bimi 3600 IN TXT \"v=BIMI1; l=https://example.com/l.svg\"\n\
        e 3600 IN TXT \"\\\"v=spf1 -all\"\n\
        f 3600 IN TXT \" v=DKIM1; p=\"\n\
        g 3600 IN TXT \"v=spf1 a:caf\\195\\169.example.com -all\"\n\
        h 3600 IN TXT \"free text\" \"and more\"\n\
        h 3600 IN TXT \"\"\n\
        i 3600 IN TXT \"a\" \"\" \"b\"\n";

    /// What the index says of each owner's first label is what its key
    /// says.
    #[test]
    fn owner_first_kinds_are_the_first_labels() {
        let r = read_ok(
            "$ORIGIN example.com.\n@ 3600 IN SOA ns h 1 2 3 4 5\n@ 3600 IN NS ns\n\
             * 3600 IN A 192.0.2.1\n_DMARC 3600 IN TXT \"v=DMARC1; p=none\"\n\
             _mta-sts 3600 IN TXT \"v=STSv1; id=1\"\n_mta-stsx 3600 IN TXT \"x\"\n\
             _dmarcx 3600 IN TXT \"x\"\n_x._dmarc 3600 IN TXT \"x\"\nx_ 3600 IN A 192.0.2.1\n\
             *.a 3600 IN A 192.0.2.1\na.* 3600 IN TXT \"x\"\n\
             _mta-stx 3600 IN TXT \"x\"\n_dmarx 3600 IN TXT \"x\"\n\
             a.b._report._dmarc 3600 IN TXT \"v=DMARC1\"\n_report._dmarc 3600 IN TXT \"x\"\n\
             c._report._dmarcx 3600 IN TXT \"x\"\nd._reportx._dmarc 3600 IN TXT \"x\"\n\
             e._dmarc._report 3600 IN TXT \"x\"\n",
        );
        for ix in [Index::new(&r.zone), streamed(&r.zone)] {
            let mut owners = 0;
            for (_, idx) in ix.owners() {
                owners += 1;
                let fl = ix.owner_first_label(idx);
                let labels: Vec<&[u8]> = ix.owner_labels(idx).collect();
                let report = labels
                    .windows(2)
                    .skip(1)
                    .any(|w| w[0] == b"_report" && w[1] == b"_dmarc");
                for (bit, holds) in [
                    (First::STAR, fl == b"*"),
                    (First::UNDERSCORE, fl.starts_with(b"_")),
                    (First::DMARC, fl == b"_dmarc"),
                    (First::MTA_STS, fl == b"_mta-sts"),
                    (First::REPORT, report),
                ] {
                    assert_eq!(
                        ix.owner_first_is(idx, bit),
                        holds,
                        "{bit} of {:?}",
                        show(fl)
                    );
                }
            }
            assert_eq!(owners, 17);
        }
    }

    /// A kept text reads back as the strings it was kept from, and bytes
    /// that are not a whole kept text read back without a panic.
    #[test]
    fn kept_texts_read_back_as_their_strings() {
        let cases: &[&[&[u8]]] = &[
            &[],
            &[b""],
            &[b"v=spf1 -all"],
            &[b"a", b"", b"bc"],
            &[&[b'x'; 255], b"y"],
        ];
        let rec = ZoneRecord {
            owner: Name::root(),
            class: hickory_proto::rr::DNSClass::IN,
            ttl: 0,
            rdata: RData::TXT(hickory_proto::rr::rdata::TXT::new(Vec::new())),
            span: mailzone_zone::Span::default(),
        };
        let mut kept = Vec::new();
        let mut at = Vec::new();
        for strings in cases {
            at.push(keep_text(&mut kept, strings, &strings.concat()).unwrap());
        }
        for (strings, &(off, len)) in cases.iter().zip(&at) {
            let t = Text::detached(&rec, &kept[off..off + len], 0);
            assert_eq!(&t.strings()[..], *strings);
            assert_eq!(t.string_count(), strings.len());
            assert_eq!(t.joined(), strings.concat());
        }
        // Lengths that run past the end, or a count past the lengths.
        for bad in [&[1, 0, 3, b'a', b'b'][..], &[2, 0, 1], &[1]] {
            let t = Text::detached(&rec, bad, 0);
            let strings = t.strings();
            assert!(strings.concat().len() <= t.joined().len(), "{bad:?}");
        }
    }

    /// What each text is comes out the same whether the names thread
    /// worked it out from the wire while the zone was read or the index
    /// works it out from the record, and each kind is what its test says.
    #[test]
    fn text_kinds_worked_out_beside_the_reader_are_the_index_own() {
        let r = read_ok(KINDS_ZONE);
        let plain = Index::new(&r.zone);
        let streamed = streamed(&r.zone);
        let mut seen = 0u16;
        let mut txt = 0;
        for (i, rec) in r.zone.records.iter().enumerate() {
            let Some(t) = text_of(rec) else { continue };
            txt += 1;
            let j = t.joined();
            let want = Text::kind_of(j);
            assert_eq!(streamed.n.text_kind(i), Some(want), "{:?}", show(j));
            assert_eq!(plain.n.text_kind(i), None);
            for (bit, holds) in [
                (Text::SPF, crate::checks::spf::is_spf(j)),
                (Text::DMARC, crate::checks::dmarc::is_dmarc(j)),
                (Text::STS, j.starts_with(b"v=STSv1")),
                (Text::TLSRPT, j.starts_with(b"v=TLSRPTv1")),
                (Text::BIMI, j.starts_with(b"v=BIMI1")),
                (
                    Text::PADDED,
                    j.first().is_some_and(|&b| b == b'"' || b == b' '),
                ),
                (Text::NON_ASCII, !j.is_ascii()),
                (
                    Text::SPF_MANGLED,
                    crate::checks::spf::version_of(j) == Some(false),
                ),
                (Text::SENDER_ID, j.starts_with(b"spf2.0/")),
                (Text::DKIM, crate::checks::dkim::is_dkim_text(j)),
                (
                    Text::SENDS,
                    crate::checks::spf::is_spf(j) && crate::checks::spf::authorises(j),
                ),
            ] {
                assert_eq!(want & bit != 0, holds, "bit {bit} of {:?}", show(j));
            }
            seen |= want;
            // Both indexes hand out the text with its kind and strings; the
            // streamed one read them from the wire kept beside it.
            for ix in [&plain, &streamed] {
                let idx = ix.owners().find(|(o, _)| *o == &rec.owner).unwrap().1;
                let x = ix
                    .texts_of(idx)
                    .into_iter()
                    .find(|x| std::ptr::eq(x.record, rec));
                let x = x.expect("the record's text");
                assert_eq!(
                    (x.kind, &x.strings(), x.joined()),
                    (want, &t.strings(), t.joined())
                );
                let kept = ix.kept.as_ptr_range();
                let from_wire = x.strings().iter().all(|s| kept.contains(&s.as_ptr()))
                    && kept.contains(&x.joined().as_ptr());
                assert_eq!(from_wire, std::ptr::eq(ix, &streamed), "{:?}", show(j));
            }
        }
        assert_eq!(txt, 16);
        // Every kind was among them.
        assert_eq!(seen, 0xfff, "{seen:#x}");
    }

    /// What the checks know of each MX comes out the same from the
    /// exchange's wire form (worked out while the zone is read) as from the
    /// record, in file order within each owner.
    #[test]
    fn mx_from_the_wire_is_the_records_own() {
        let head = "$ORIGIN example.com.\n@ 300 IN SOA ns h 1 2 3 4 5\n@ 300 IN NS ns\n\
            @ 300 IN MX 10 @\n@ 300 IN MX 20 MAIL.Example.COM.\n\
            a 300 IN MX 0 .\nb 300 IN MX 10 mx.other.example.\n\
            b 300 IN MX 20 example.com.other.\n";
        let tail = "c 300 IN MX 5 deep.child.example.com.\n\
            child 300 IN NS ns.child\nd 300 IN MX 1 xexample.com.\n\
            e 300 IN A 192.0.2.1\n";
        let b3 = "b 300 IN MX 30 MX.other.EXAMPLE.\n";
        // b's records apart (a table of the MX by node), and together (the
        // names thread's own list, sliced).
        for (zone, apart) in [
            (format!("{head}{tail}{b3}"), true),
            (format!("{head}{b3}{tail}"), false),
        ] {
            mx_from_the_wire_in(&zone, apart);
        }
    }

    fn mx_from_the_wire_in(zone: &str, apart: bool) {
        let r = read_ok(zone);
        let plain = Index::new(&r.zone);
        let streamed = streamed(&r.zone);
        assert_eq!(streamed.n.mx.len(), 8);
        assert_eq!(streamed.mx_in_order(), !apart);
        assert!(!plain.mx_in_order());
        let mut places = Vec::new();
        for (owner, idx) in plain.owners() {
            let mx = plain.mx_of(idx).to_vec();
            let (_, sidx) = streamed.owners().find(|(o, _)| *o == owner).unwrap();
            assert_eq!(streamed.mx_of(sidx), mx, "{owner}");
            for m in &mx {
                let rec = m.record(&plain);
                assert_eq!(rec.owner, *owner);
                let RData::MX(x) = &rec.rdata else {
                    panic!("{rec:?}")
                };
                assert_eq!(
                    (m.exchange(&plain), m.preference),
                    (&x.exchange, x.preference)
                );
            }
            places.extend(mx.iter().map(|m| m.place));
        }
        use MxPlace::*;
        assert_eq!(
            places,
            [
                InZone, InZone, Null, Outside, Outside, Outside, InZone, Outside
            ]
        );
        // Exchanges that differ only in case print alike; others do not.
        let b: Vec<Mx> = plain
            .owners()
            .find(|(o, _)| o.to_string() == "b.example.com.")
            .map(|(_, idx)| plain.mx_of(idx).to_vec())
            .unwrap();
        assert_eq!(b[0].print, b[2].print);
        assert_ne!(b[0].print, b[1].print);
    }

    /// Names that MX records point at are marked alike whether the names
    /// thread kept the exchanges (those outside the zone apart) or the
    /// index read them from the records: in the zone, in other case, and
    /// outside it, where one is an owner of the file (out of zone).
    #[test]
    fn mx_targets_are_marked_in_and_outside_the_zone() {
        let base = "$ORIGIN example.com.\n@ 300 IN SOA ns h 1 2 3 4 5\n@ 300 IN NS ns\n\
            a 300 IN MX 10 mail\nb 300 IN MX 10 MAIL.example.COM.\n\
            c 300 IN MX 10 mx.other.example.\nmail 300 IN A 192.0.2.1\n";
        for (extra, outside_marked) in [
            ("", false),
            ("mx.other.example. 300 IN A 192.0.2.2\n", true),
        ] {
            let r = mailzone_zone::master::read_master_str(
                "t.zone",
                &format!("{base}{extra}"),
                &mailzone_zone::MasterOptions::default(),
            );
            for ix in [Index::new(&r.zone), streamed(&r.zone)] {
                let n = |s: &str| Name::from_ascii(s).unwrap();
                assert!(ix.is_mx_target(&n("mail.example.com.")));
                assert!(!ix.is_mx_target(&n("a.example.com.")));
                assert_eq!(
                    ix.is_mx_target(&n("mx.other.example.")),
                    outside_marked,
                    "{extra}"
                );
            }
        }
    }

    /// Plain host names, as the MX checks may skip them (see [`Mx::plain`]).
    #[test]
    fn plain_hosts_are_ldh_names_of_few_labels() {
        let origin = Key::of(&Name::from_ascii("example.com.").unwrap());
        for (name, want) in [
            ("mx.other.example", true),
            ("MX-1.Other.Example", true),
            ("123abc.example.net", true),
            ("a.b.c.d", true),
            ("a.b.c.d.e", false),
            ("192.0.2.1", false),
            ("1.mail.example", false),
            ("mx_1.example.net", false),
            ("-mx.example.net", false),
            ("mx-.example.net", false),
            ("*.example.net", false),
            ("mx.example.com.example.com", false),
            ("m x.example.net", false),
            ("2001:db8::1", false),
        ] {
            // From raw labels: hickory's parser refuses some of these.
            let n = Name::from_labels(name.split('.').map(str::as_bytes)).unwrap();
            assert_eq!(
                plain_host(Key::of(&n).bytes(), origin.bytes()),
                want,
                "{name}"
            );
        }
    }

    /// `rounds` orders of `n` items: as given, reversed, then shuffled
    /// from `seed` (the same orders on every run).
    fn orders(n: usize, rounds: usize, mut seed: u32) -> impl Iterator<Item = Vec<usize>> {
        (0..rounds).map(move |round| {
            let mut order: Vec<usize> = (0..n).collect();
            if round == 1 {
                order.reverse();
            }
            for i in (1..n).rev().filter(|_| round > 1) {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                order.swap(i, (seed >> 16) as usize % (i + 1));
            }
            order
        })
    }

    /// A zone file's text, read without error.
    fn read_ok(text: &str) -> mailzone_zone::ReadResult {
        let r = mailzone_zone::master::read_master_str(
            "t.zone",
            text,
            &mailzone_zone::MasterOptions::default(),
        );
        assert!(r.is_ok(), "{:?}", r.errors);
        r
    }

    /// The index of a zone whose names were built on a names thread of
    /// their own, reading ahead, as `mailzone check` builds them.
    fn streamed(zone: &Zone) -> Index<'_> {
        crate::checks::index_streamed(zone, crate::checks::NameStream::on_thread(&zone.origin, 0))
    }

    fn show(b: &[u8]) -> String {
        String::from_utf8_lossy(b).into_owned()
    }

    /// An owner's texts are its TXT records in file order, whatever order
    /// the zone's records come in, and a DMARC record read ahead gives its
    /// policy word to its own text.
    #[test]
    fn every_owner_has_its_texts_in_any_order() {
        let lines = [
            "a 300 IN TXT \"one\"",
            "a 300 IN A 192.0.2.1",
            "a 300 IN TXT \"two\" \"parts\"",
            "_dmarc.a 300 IN TXT \"v=DMARC1; p=reject\"",
            "_dmarc.a 300 IN TXT \"unrelated\"",
            "b 300 IN MX 10 a",
            "_dmarc.b 300 IN TXT \"v=DMARC1; p=quarantine\"",
            "b 300 IN TXT \"three\"",
            "c.b 300 IN TXT \"four\"",
            "_dmarc 300 IN TXT \"v=DMARC1; p=none\"",
        ];
        for order in orders(lines.len(), 20, 7) {
            let mut text =
                String::from("$ORIGIN example.com.\n@ 300 IN SOA ns h 1 2 3 4 5\n@ 300 IN NS ns\n");
            for &i in &order {
                text.push_str(lines[i]);
                text.push('\n');
            }
            let r = read_ok(&text);
            let (plain, ix) = (Index::new(&r.zone), streamed(&r.zone));
            // The index's own texts (no names read ahead) alike.
            for (owner, idx) in plain.owners() {
                let kinds = plain.texts_of(idx).iter().fold(0, |k, t| k | t.kind);
                assert_eq!(plain.owner_text_kinds(idx), kinds, "{owner} in {order:?}");
                let (_, sidx) = ix.owners().find(|(o, _)| o == &owner).unwrap();
                let spans = |ix: &Index<'_>, idx| {
                    ix.texts_of(idx)
                        .iter()
                        .map(|t| t.record.span)
                        .collect::<Vec<_>>()
                };
                assert_eq!(spans(&plain, idx), spans(&ix, sidx), "{owner} in {order:?}");
            }
            let mut texts = 0;
            for (owner, idx) in ix.owners() {
                let got: Vec<*const ZoneRecord> = ix
                    .texts_of(idx)
                    .iter()
                    .map(|t| t.record as *const _)
                    .collect();
                let want: Vec<*const ZoneRecord> = r
                    .zone
                    .records
                    .iter()
                    .filter(|x| x.owner == *owner && x.rtype() == RecordType::TXT)
                    .map(|x| x as *const _)
                    .collect();
                assert_eq!(got, want, "{owner} in order {order:?}");
                texts += got.len();
                // The owner's kinds together are its texts' kinds.
                let kinds = ix.texts_of(idx).iter().fold(0, |k, t| k | t.kind);
                assert_eq!(ix.owner_text_kinds(idx), kinds, "{owner} in {order:?}");
                for t in ix.texts_of(idx) {
                    let word = ix.memo(&t, || 0);
                    let read = ix.dmarc_read(t.record).map_or(0, |(w, _)| w);
                    assert_eq!(word, read, "{owner} in order {order:?}");
                    assert_eq!(word != 0, t.is(Text::DMARC), "{owner}");
                }
            }
            assert_eq!(texts, 8);
        }
    }

    /// `name_is_key` answers as comparing with the name's own key does.
    #[test]
    fn name_is_key_agrees_with_the_key() {
        let names = [
            "example.com.",
            "EXAMPLE.com.",
            "ns1.child.example.com.",
            "ns2.child.example.com.",
            "child.example.com.",
            "example.com.child.",
            ".",
            "a.",
            "ab.",
            "Ns1.Child.Example.Com.",
            "x\\.y.example.com.",
            "example.co.",
        ];
        for a in names {
            let a = Name::from_ascii(a).unwrap();
            for b in names {
                let b = Name::from_ascii(b).unwrap();
                let key = Key::of(&b);
                assert_eq!(
                    name_is_key(&a, key.bytes()),
                    Key::of(&a).bytes() == key.bytes(),
                    "{a} {b}"
                );
            }
        }
    }

    /// `same_name` answers as hickory's case-insensitive equality does.
    #[test]
    fn same_name_agrees_with_hickory() {
        let names = [
            "a.example.",
            "A.Example.",
            "a.example",
            "b.example.",
            "ab.example.",
            "a.b.example.",
            "ab.xample.",
            ".",
            "*.example.",
            "_x.example.",
            "a\\.b.example.",
            "a.b.example",
        ];
        for a in names {
            for b in names {
                let (a, b) = (Name::from_ascii(a).unwrap(), Name::from_ascii(b).unwrap());
                assert_eq!(same_name(&a, &b), a.eq_ignore_root(&b), "{a} {b}");
                assert_eq!(
                    Key::of(&b).is_at_or_below(Key::of(&a).bytes()),
                    a.zone_of(&b),
                    "{a} {b}"
                );
            }
        }
    }

    /// Looking up `<label>.<name>` by key finds what building the name and
    /// looking it up finds, wildcards and case included.
    #[test]
    fn texts_under_agrees_with_building_the_name() {
        // 250 bytes on the wire: `_dmarc` below it would be too long.
        let long = format!(
            "{}.{}.example.com.",
            vec!["x".repeat(60); 3].join("."),
            "y".repeat(53)
        );
        let r = mailzone_zone::master::read_master_str(
            "t.zone",
            &format!(
                "$ORIGIN example.com.\n@ 3600 IN SOA ns h 1 2 3 4 5\n@ 3600 IN NS ns\n\
                 _dmarc 3600 IN TXT \"v=DMARC1; p=none\"\n\
                 _DMARC.Shop 3600 IN TXT \"v=DMARC1; p=reject\"\n\
                 Shop 3600 IN MX 0 .\n\
                 *.wild 3600 IN TXT \"covered\"\n\
                 wild 3600 IN A 192.0.2.2\n\
                 a.b.c 3600 IN A 192.0.2.1\n\
                 net. 3600 IN TXT \"out of zone\"\n\
                 *.net. 3600 IN TXT \"out of zone, wild\"\n\
                 {long} 3600 IN A 192.0.2.3\n\
                 *.{long} 3600 IN TXT \"long wild\"\n"
            ),
            &mailzone_zone::MasterOptions::default(),
        );
        assert!(r.errors.is_empty(), "{:?}", r.errors);
        let ix = Index::new(&r.zone);
        for d in [
            "example.com.",
            "shop.example.com.",
            "SHOP.example.com.",
            "wild.example.com.",
            "b.c.example.com.",
            "other.example.com.",
            "example.net.",
            long.as_str(),
        ] {
            let d = Name::from_ascii(d).unwrap();
            let spans = |v: Texts<'_>| v.iter().map(|t| t.record.span).collect::<Vec<_>>();
            let built = crate::checks::child("_dmarc", &d)
                .map(|n| spans(ix.texts(&n)))
                .unwrap_or_default();
            assert_eq!(spans(ix.texts_under(&d, "_dmarc")), built, "{d}");
        }
        // By owner, from the index, the same as by name.
        for (owner, idx) in ix.owners() {
            let spans = |v: Texts<'_>| v.iter().map(|t| t.record.span).collect::<Vec<_>>();
            assert_eq!(
                spans(ix.owner_dmarc_texts(idx)),
                spans(ix.texts_under(owner, "_dmarc")),
                "{owner}"
            );
            assert_eq!(ix.owner_selectors(idx), ix.selectors(owner), "{owner}");
        }
    }

    /// The text test agrees with parsing the name and asking the origin.
    #[test]
    fn text_in_zone_agrees_with_parsed_names() {
        let r = mailzone_zone::master::read_master_str(
            "t.zone",
            "$ORIGIN Example.COM.\n@ 3600 IN SOA ns h 1 2 3 4 5\n@ 3600 IN NS ns\n",
            &mailzone_zone::MasterOptions::default(),
        );
        let ix = Index::new(&r.zone);
        for text in [
            "example.com",
            "EXAMPLE.com",
            "mail.example.com",
            "a.b.Example.Com",
            "example.org",
            "xexample.com",
            "com",
            "example.com.evil.net",
            "a..example.com",
            "a\\.example.com",
            "",
        ] {
            let parsed = Name::from_ascii(format!("{text}."))
                .ok()
                .map(|n| ix.in_zone(&n));
            match ix.text_in_zone(text) {
                Some(inside) => assert_eq!(Some(inside), parsed, "{text}"),
                None => assert!(
                    text.contains('\\') || text.split('.').any(str::is_empty),
                    "{text}"
                ),
            }
        }
    }
}
