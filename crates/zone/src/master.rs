//! The RFC 1035 master-file reader: directives (`$ORIGIN`, `$TTL`, `$INCLUDE`,
//! `$GENERATE`), owner/TTL/class/type resolution and RDATA, producing located
//! records. It never stops at the first problem and never drops a line silently:
//! an entry it cannot read becomes an error with its location.

use crate::error::{ErrorKind, ReadError, shown};
use crate::rdata::{FieldError, is_meta_type, parse_rdata, type_code, type_name};
use crate::record::{
    ReadResult, Zone, ZoneRecord, name_from_wire, name_to_wire_bytes, rdata_from_wire,
};
use crate::scan::{Entry, Scanner, Tok};
use crate::span::{FileId, SourceMap, Span};
use crate::text::{name_to_wire, parse_ttl, parse_uint, unescape};
use hickory_proto::rr::{DNSClass, Name, RecordType};
use std::path::{Path, PathBuf};

/// How to read a master file.
#[derive(Debug, Clone)]
pub struct MasterOptions {
    /// The zone's origin. Without it, `$ORIGIN` or absolute names must set it,
    /// and the SOA owner becomes the zone's origin.
    pub origin: Option<Name>,
    /// `$INCLUDE` nesting limit.
    pub max_include_depth: usize,
    /// Most records one `$GENERATE` may produce.
    pub max_generate: u64,
}

impl Default for MasterOptions {
    fn default() -> Self {
        MasterOptions {
            origin: None,
            max_include_depth: 10,
            max_generate: 65_536,
        }
    }
}

/// Reads a master file and everything it includes. Includes are confined to the
/// directory of `path`.
pub fn read_master_file(path: &Path, opts: &MasterOptions) -> ReadResult {
    read_master_file_observed(path, opts, &mut |_, _, _, _| {})
}

/// [`read_master_file`], handing each record to `observe` as it is read (in
/// the order of the zone's records), with its owner's uncompressed wire form
/// (case kept), so later stages can start early.
pub fn read_master_file_observed(
    path: &Path,
    opts: &MasterOptions,
    observe: &mut Observer<'_>,
) -> ReadResult {
    let mut r = Reader::new(opts);
    r.observe = Some(observe);
    match std::fs::read(path) {
        Ok(bytes) => {
            let dir = path.parent().map(|p| {
                if p.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    p
                }
            });
            let canon = std::fs::canonicalize(path).ok();
            r.root_dir = dir.and_then(|d| std::fs::canonicalize(d).ok());
            if let Some(c) = canon.clone() {
                r.include_stack.push(c);
            }
            let (text, raw) = source_text(bytes);
            let file = r.sources.add_shared(path, text.clone());
            let root = r.root_dir.clone();
            r.read_bytes(file, raw.as_deref().unwrap_or(text.as_bytes()), root);
        }
        Err(e) => {
            let file = r.sources.add(path, "");
            r.errors.push(ReadError::unreadable(file, path, &e));
        }
    }
    r.finish()
}

/// The text the source map keeps of a file, and, when the file is not
/// UTF-8, the raw bytes to read beside that lossy text. A UTF-8 file (the
/// usual case) is read from the kept text itself: one validation pass and
/// no copy, where a lossy conversion made a slower pass and two copies of
/// a 60 MB zone.
fn source_text(bytes: Vec<u8>) -> (std::sync::Arc<String>, Option<Vec<u8>>) {
    match String::from_utf8(bytes) {
        Ok(s) => (std::sync::Arc::new(s), None),
        Err(e) => {
            let bytes = e.into_bytes();
            let text = String::from_utf8_lossy(&bytes).into_owned();
            (std::sync::Arc::new(text), Some(bytes))
        }
    }
}

/// Reads master-file text held in memory. `$INCLUDE` is refused: there is no
/// directory to confine it to.
pub fn read_master_str(name: &str, text: &str, opts: &MasterOptions) -> ReadResult {
    let mut r = Reader::new(opts);
    let file = r.sources.add(name, text.to_string());
    r.read_bytes(file, text.as_bytes(), None);
    r.finish()
}

/// Reads master-file bytes held in memory (they need not be UTF-8).
pub fn read_master_bytes(name: &str, bytes: &[u8], opts: &MasterOptions) -> ReadResult {
    let mut r = Reader::new(opts);
    let file = r
        .sources
        .add(name, String::from_utf8_lossy(bytes).into_owned());
    r.read_bytes(file, bytes, None);
    r.finish()
}

/// What [`read_master_file_observed`] calls for each record, with its type
/// code, the owner's wire form and the RDATA's (uncompressed, as read).
/// (The code is the reader's own: asking the record for its type is a match
/// over every RDATA variant, a mispredicted branch per record of a mixed
/// zone, on the reader's path.)
pub type Observer<'a> = dyn FnMut(&ZoneRecord, u16, &[u8], &[u8]) + 'a;

/// How to locate a token: in a file, or (for generated text) at a fixed span.
#[derive(Clone, Copy)]
enum Loc {
    File(FileId),
    Fixed(Span),
}

impl Loc {
    fn tok(self, t: &Tok) -> Span {
        match self {
            Loc::File(file) => Span {
                file,
                line: t.line,
                col: t.col,
                start: t.start - t.quoted as u32,
                end: t.end + t.quoted as u32,
            },
            Loc::Fixed(s) => s,
        }
    }
    fn entry(self, e: &Entry) -> Span {
        match self {
            Loc::File(file) => Span {
                file,
                line: e.line,
                col: e.col,
                start: e.start,
                end: e.end,
            },
            Loc::Fixed(s) => s,
        }
    }
    /// The position just after the last token, for "found the end of the record".
    fn after(self, toks: &[Tok], e: &Entry) -> Span {
        match (self, toks.last()) {
            (Loc::File(file), Some(t)) => {
                let end = t.end + t.quoted as u32;
                Span {
                    file,
                    line: t.line,
                    col: t.col + (end - (t.start - t.quoted as u32)),
                    start: end,
                    end,
                }
            }
            _ => self.entry(e),
        }
    }
}

struct Reader<'o> {
    opts: &'o MasterOptions,
    observe: Option<&'o mut Observer<'o>>,
    sources: SourceMap,
    errors: Vec<ReadError>,
    records: Vec<ZoneRecord>,
    origin: Option<Vec<u8>>,
    default_ttl: Option<u32>,
    last_ttl: Option<u32>,
    last_owner: Option<(Vec<u8>, Name)>,
    class: Option<(DNSClass, Span)>,
    root_dir: Option<PathBuf>,
    include_stack: Vec<PathBuf>,
    wire: Vec<u8>,
    toks: Vec<Tok>,
    /// An SOA entry was seen, even a malformed one (so "no SOA" is not piled on).
    soa_seen: bool,
}

fn class_of(raw: &[u8]) -> Option<DNSClass> {
    // Compared in place: this runs for the class or type token of every record.
    let is = |w: &[u8]| raw.eq_ignore_ascii_case(w);
    let c = if is(b"IN") {
        DNSClass::IN
    } else if is(b"CH") || is(b"CHAOS") {
        DNSClass::CH
    } else if is(b"HS") || is(b"HESIOD") {
        DNSClass::HS
    } else if is(b"CS") {
        DNSClass::Unknown(2)
    } else if raw.len() > 5 && raw[..5].eq_ignore_ascii_case(b"CLASS") {
        DNSClass::from(parse_uint(&raw[5..], 65535, "class").ok()? as u16)
    } else {
        return None;
    };
    Some(c)
}

impl<'o> Reader<'o> {
    fn new(opts: &'o MasterOptions) -> Self {
        let origin = opts.origin.as_ref().map(name_to_wire_bytes);
        Reader {
            opts,
            observe: None,
            sources: SourceMap::new(),
            errors: Vec::new(),
            records: Vec::new(),
            origin,
            default_ttl: None,
            last_ttl: None,
            last_owner: None,
            class: None,
            root_dir: None,
            include_stack: Vec::new(),
            wire: Vec::with_capacity(512),
            toks: Vec::with_capacity(64),
            soa_seen: false,
        }
    }

    fn read_bytes(&mut self, file: FileId, src: &[u8], dir: Option<PathBuf>) {
        let mut sc = Scanner::new(src);
        let mut toks = std::mem::take(&mut self.toks);
        loop {
            match sc.next_entry(&mut toks) {
                Ok(None) => break,
                Ok(Some(entry)) => self.entry(Loc::File(file), src, &toks, &entry, dir.as_deref()),
                Err(e) => {
                    let span = Span {
                        file,
                        line: e.line,
                        col: e.col,
                        start: e.offset,
                        end: e.offset + 1,
                    };
                    let mut err = ReadError::new(ErrorKind::Syntax, span, e.message);
                    err.help = e.help;
                    self.errors.push(err);
                }
            }
        }
        self.toks = toks;
    }

    fn err(&mut self, kind: ErrorKind, span: Span, msg: impl Into<String>) -> &mut ReadError {
        self.errors.push(ReadError::new(kind, span, msg));
        self.errors.last_mut().unwrap()
    }

    fn entry(&mut self, loc: Loc, src: &[u8], toks: &[Tok], e: &Entry, dir: Option<&Path>) {
        let first = toks[0];
        let text = first.text(src);
        if !e.leading_blank && !first.quoted && text.first() == Some(&b'$') {
            self.directive(loc, src, toks, e, dir);
            return;
        }
        let (owner, rest) = if e.leading_blank {
            match &self.last_owner {
                Some((w, _)) => (w.clone(), 0),
                None => {
                    self.err(ErrorKind::Name, loc.entry(e), "expected an owner name, found a line that starts with blank space and no earlier owner to repeat")
                        .help = Some("write the owner name at the start of the line (use `@` for the origin)".into());
                    return;
                }
            }
        } else {
            // Room for the origin a relative name is completed with.
            let origin_len = self.origin.as_deref().map_or(0, <[u8]>::len);
            let mut w = Vec::with_capacity(text.len() + 2 + origin_len);
            if first.quoted {
                self.err(
                    ErrorKind::Name,
                    loc.tok(&first),
                    format!(
                        "expected an owner name, found the quoted string {}",
                        shown(text)
                    ),
                );
                return;
            }
            if let Err(m) = name_to_wire(text, self.origin.as_deref(), &mut w) {
                let help = self.origin.is_none().then(|| "set the origin with `$ORIGIN example.com.` or pass it on the command line (--origin)".to_string());
                let er = self.err(
                    ErrorKind::Name,
                    loc.tok(&first),
                    format!("invalid owner name: {m}"),
                );
                er.help = help;
                return;
            }
            (w, 1)
        };
        self.record(loc, src, toks, rest, owner, e);
    }

    fn owner_name(&mut self, wire: Vec<u8>) -> Result<Name, String> {
        if let Some((w, n)) = &self.last_owner
            && *w == wire
        {
            return Ok(n.clone());
        }
        let n = name_from_wire(&wire)?;
        self.last_owner = Some((wire, n.clone()));
        Ok(n)
    }

    fn record(
        &mut self,
        loc: Loc,
        src: &[u8],
        toks: &[Tok],
        mut i: usize,
        owner: Vec<u8>,
        e: &Entry,
    ) {
        let owner = match self.owner_name(owner) {
            Ok(n) => n,
            Err(m) => {
                self.err(
                    ErrorKind::Name,
                    loc.entry(e),
                    format!("invalid owner name: {m}"),
                );
                return;
            }
        };
        let mut ttl = None;
        let mut class = None;
        while i < toks.len() && (ttl.is_none() || class.is_none()) {
            let t = toks[i];
            let raw = t.text(src);
            if ttl.is_none() && !t.quoted && raw.first().is_some_and(u8::is_ascii_digit) {
                match parse_ttl(raw) {
                    Ok(v) => ttl = Some(v),
                    Err(m) => {
                        self.err(ErrorKind::Ttl, loc.tok(&t), m).help = Some(
                            "a TTL is a number of seconds or units such as `1h30m`, `2d`, `1w`"
                                .into(),
                        );
                        return;
                    }
                }
            } else if class.is_none()
                && !t.quoted
                && let Some(c) = class_of(raw)
            {
                class = Some((c, loc.tok(&t)));
            } else {
                break;
            }
            i += 1;
        }
        let Some(tt) = toks.get(i).copied() else {
            self.err(
                ErrorKind::Type,
                loc.after(toks, e),
                "expected a record type, found the end of the record",
            );
            return;
        };
        let traw = tt.text(src);
        let Some(code) = type_code(traw).filter(|_| !tt.quoted) else {
            let msg = if is_meta_type(traw) {
                format!(
                    "expected a record type, found {} which is a query type and cannot appear in a zone file",
                    shown(traw)
                )
            } else if class_of(traw).is_some() {
                format!(
                    "expected a record type, found the class {} a second time",
                    shown(traw)
                )
            } else if traw.first().is_some_and(u8::is_ascii_digit) {
                format!(
                    "expected a record type, found {} (a TTL given twice?)",
                    shown(traw)
                )
            } else {
                format!("expected a record type, found {}", shown(traw))
            };
            self.err(ErrorKind::Type, loc.tok(&tt), msg).help =
                Some("types are mnemonics such as A, AAAA, MX, TXT, or TYPEnnn for others".into());
            return;
        };
        let rd_toks = &toks[i + 1..];
        self.soa_seen |= code == u16::from(RecordType::SOA);
        self.wire.clear();
        let mut wire = std::mem::take(&mut self.wire);
        let res = parse_rdata(code, src, rd_toks, self.origin.as_deref(), &mut wire);
        if let Err(fe) = res {
            self.wire = wire;
            self.field_error(loc, rd_toks, toks, e, fe, code);
            return;
        }
        let rdata = match rdata_from_wire(code, &wire) {
            Ok(r) => r,
            Err(m) => {
                self.wire = wire;
                let span = rd_toks.first().map(|t| loc.tok(t)).unwrap_or(loc.entry(e));
                self.err(
                    ErrorKind::Rdata,
                    span,
                    format!("the {} RDATA is not valid: {m}", type_name(code)),
                );
                return;
            }
        };
        let class = match (class, self.class) {
            (Some((c, sp)), Some((zc, _))) if c != zc => {
                self.wire = wire;
                self.err(
                    ErrorKind::Class,
                    sp,
                    format!("expected class {zc} like the rest of the zone, found {c}"),
                );
                return;
            }
            (Some((c, sp)), None) => {
                self.class = Some((c, sp));
                c
            }
            (_, Some((zc, _))) => zc,
            (None, None) => {
                self.class = Some((DNSClass::IN, loc.entry(e)));
                DNSClass::IN
            }
        };
        let ttl = match ttl {
            Some(t) => {
                self.last_ttl = Some(t);
                t
            }
            None => match self.default_ttl.or(self.last_ttl) {
                Some(t) => t,
                None if code == u16::from(RecordType::SOA) && wire.len() >= 4 => {
                    // As BIND does: with no $TTL, an SOA without a TTL makes its
                    // MINIMUM the default for the records after it.
                    let m = &wire[wire.len() - 4..];
                    let t = u32::from_be_bytes([m[0], m[1], m[2], m[3]]);
                    self.default_ttl = Some(t);
                    t
                }
                None => {
                    self.wire = wire;
                    self.err(ErrorKind::Ttl, loc.entry(e), "expected a TTL: the record has none and no `$TTL` or earlier TTL is in effect")
                        .help = Some("add `$TTL 3600` at the top of the file, or give the record a TTL".into());
                    return;
                }
            },
        };
        self.wire = wire;
        let record = ZoneRecord {
            owner,
            class,
            ttl,
            rdata,
            span: loc.entry(e),
        };
        if let (Some(observe), Some((wire, _))) = (self.observe.as_mut(), &self.last_owner) {
            observe(&record, code, wire, &self.wire);
        }
        self.records.push(record);
    }

    fn field_error(
        &mut self,
        loc: Loc,
        rd_toks: &[Tok],
        toks: &[Tok],
        e: &Entry,
        fe: FieldError,
        code: u16,
    ) {
        let span = match fe.tok {
            Some(k) => {
                let mut s = loc.tok(&rd_toks[k]);
                if fe.offset > 0 && matches!(loc, Loc::File(_)) {
                    s.col += fe.offset;
                    s.start += fe.offset;
                    s.end = s.start + 1;
                }
                s
            }
            None => loc.after(toks, e),
        };
        let help = fe.help.or_else(|| {
            (fe.kind == ErrorKind::Rdata && code == u16::from(RecordType::SOA)).then(|| {
                "an SOA record is: mname rname serial refresh retry expire minimum".to_string()
            })
        });
        let er = self.err(fe.kind, span, fe.message);
        er.help = help;
    }

    fn directive(&mut self, loc: Loc, src: &[u8], toks: &[Tok], e: &Entry, dir: Option<&Path>) {
        let name = toks[0].text(src).to_ascii_uppercase();
        let args = &toks[1..];
        match name.as_slice() {
            b"$ORIGIN" => {
                if args.len() != 1 {
                    self.err(
                        ErrorKind::Directive,
                        loc.entry(e),
                        format!("expected `$ORIGIN <name>`, found {} arguments", args.len()),
                    );
                    return;
                }
                let mut w = Vec::new();
                match name_to_wire(args[0].text(src), self.origin.as_deref(), &mut w) {
                    Ok(()) => self.origin = Some(w),
                    Err(m) => {
                        self.err(
                            ErrorKind::Name,
                            loc.tok(&args[0]),
                            format!("invalid $ORIGIN: {m}"),
                        );
                    }
                }
            }
            b"$TTL" => {
                if args.len() != 1 {
                    self.err(
                        ErrorKind::Directive,
                        loc.entry(e),
                        format!("expected `$TTL <ttl>`, found {} arguments", args.len()),
                    );
                    return;
                }
                match parse_ttl(args[0].text(src)) {
                    Ok(t) => self.default_ttl = Some(t),
                    Err(m) => {
                        self.err(ErrorKind::Ttl, loc.tok(&args[0]), m);
                    }
                }
            }
            b"$INCLUDE" => self.include(loc, src, args, e, dir),
            b"$GENERATE" => self.generate(loc, src, args, e),
            _ => {
                self.err(
                    ErrorKind::Directive,
                    loc.tok(&toks[0]),
                    format!(
                        "expected a directive ($ORIGIN, $TTL, $INCLUDE, $GENERATE), found {}",
                        shown(toks[0].text(src))
                    ),
                );
            }
        }
    }

    fn include(&mut self, loc: Loc, src: &[u8], args: &[Tok], e: &Entry, dir: Option<&Path>) {
        if args.is_empty() || args.len() > 2 {
            self.err(
                ErrorKind::Directive,
                loc.entry(e),
                format!(
                    "expected `$INCLUDE <file> [origin]`, found {} arguments",
                    args.len()
                ),
            );
            return;
        }
        let span = loc.tok(&args[0]);
        let (Some(dir), Some(root)) = (dir, self.root_dir.clone()) else {
            self.err(
                ErrorKind::Include,
                span,
                "$INCLUDE is not available for a zone read from memory",
            );
            return;
        };
        let mut fname = Vec::new();
        if let Err(m) = unescape(args[0].text(src), &mut fname) {
            self.err(ErrorKind::Include, span, m);
            return;
        }
        let fname = String::from_utf8_lossy(&fname).into_owned();
        let path = dir.join(&fname);
        let canon = match std::fs::canonicalize(&path) {
            Ok(c) => c,
            Err(err) => {
                self.err(
                    ErrorKind::Include,
                    span,
                    format!("cannot read included file {}: {err}", path.display()),
                );
                return;
            }
        };
        if !canon.starts_with(&root) {
            self.err(ErrorKind::Include, span, format!("expected an included file inside the zone's directory, found `{fname}` which resolves outside it"))
                .help = Some(format!("keep included files in {} or below it", root.display()));
            return;
        }
        if let Some(pos) = self.include_stack.iter().position(|p| *p == canon) {
            let chain: Vec<String> = self.include_stack[pos..]
                .iter()
                .chain(std::iter::once(&canon))
                .map(|p| {
                    p.file_name()
                        .unwrap_or_default()
                        .to_string_lossy()
                        .into_owned()
                })
                .collect();
            self.err(
                ErrorKind::Include,
                span,
                format!("include loop: {}", chain.join(" → ")),
            );
            return;
        }
        if self.include_stack.len() > self.opts.max_include_depth {
            self.err(
                ErrorKind::Include,
                span,
                format!(
                    "includes nest deeper than {} levels",
                    self.opts.max_include_depth
                ),
            );
            return;
        }
        let new_origin = if let Some(o) = args.get(1) {
            let mut w = Vec::new();
            if let Err(m) = name_to_wire(o.text(src), self.origin.as_deref(), &mut w) {
                self.err(
                    ErrorKind::Name,
                    loc.tok(o),
                    format!("invalid origin for $INCLUDE: {m}"),
                );
                return;
            }
            Some(w)
        } else {
            None
        };
        let bytes = match std::fs::read(&canon) {
            Ok(b) => b,
            Err(err) => {
                self.err(
                    ErrorKind::Include,
                    span,
                    format!("cannot read included file {}: {err}", path.display()),
                );
                return;
            }
        };
        let saved_origin = self.origin.clone();
        if new_origin.is_some() {
            self.origin = new_origin;
        }
        let (text, raw) = source_text(bytes);
        let file = self.sources.add_shared(path, text.clone());
        self.include_stack.push(canon.clone());
        let sub_dir = canon.parent().map(Path::to_path_buf);
        let saved_toks = std::mem::take(&mut self.toks);
        self.read_bytes(file, raw.as_deref().unwrap_or(text.as_bytes()), sub_dir);
        self.toks = saved_toks;
        self.include_stack.pop();
        // RFC 1035 §5.1: the origin reverts after an included file.
        self.origin = saved_origin;
    }

    fn generate(&mut self, loc: Loc, src: &[u8], args: &[Tok], e: &Entry) {
        let span = loc.entry(e);
        if args.len() < 4 {
            self.err(ErrorKind::Generate, span, format!("expected `$GENERATE <start>-<stop>[/<step>] <lhs> [ttl] [class] <type> <rhs>`, found {} arguments", args.len()));
            return;
        }
        let range = args[0].text(src);
        let (start, stop, step) = match parse_range(range) {
            Ok(r) => r,
            Err(m) => {
                self.err(ErrorKind::Generate, loc.tok(&args[0]), m);
                return;
            }
        };
        let count = (stop - start) / step + 1;
        if count > self.opts.max_generate {
            self.err(
                ErrorKind::Generate,
                loc.tok(&args[0]),
                format!(
                    "the range makes {count} records; one $GENERATE may make at most {}",
                    self.opts.max_generate
                ),
            );
            return;
        }
        let lhs = args[1].text(src).to_vec();
        // The optional TTL/class and the type are copied verbatim; the rhs is expanded.
        let mut k = 2;
        let mut middle = Vec::new();
        while k < args.len() {
            let raw = args[k].text(src);
            middle.extend_from_slice(raw);
            middle.push(b' ');
            k += 1;
            if type_code(raw).is_some() {
                break;
            }
        }
        if k >= args.len() {
            self.err(
                ErrorKind::Generate,
                span,
                "expected a record type and the right-hand side in $GENERATE",
            );
            return;
        }
        let rhs: Vec<u8> = if args.len() - k == 1 && args[k].quoted {
            args[k].text(src).to_vec()
        } else {
            let mut v = Vec::new();
            for t in &args[k..] {
                if t.quoted {
                    v.push(b'"');
                    v.extend_from_slice(t.text(src));
                    v.push(b'"');
                } else {
                    v.extend_from_slice(t.text(src));
                }
                v.push(b' ');
            }
            v
        };
        let mut line = Vec::new();
        let mut toks = Vec::new();
        let mut v = start;
        let before = self.errors.len();
        while v <= stop {
            line.clear();
            let r = expand(&lhs, v, &mut line).and_then(|()| {
                line.push(b' ');
                line.extend_from_slice(&middle);
                expand(&rhs, v, &mut line)
            });
            if let Err(m) = r {
                self.err(ErrorKind::Generate, span, m);
                return;
            }
            let mut sc = Scanner::new(&line);
            match sc.next_entry(&mut toks) {
                Ok(Some(ge)) => {
                    let fixed = Loc::Fixed(span);
                    let first = toks[0];
                    let mut w = Vec::new();
                    if let Err(m) = name_to_wire(first.text(&line), self.origin.as_deref(), &mut w)
                    {
                        self.err(
                            ErrorKind::Generate,
                            span,
                            format!("$GENERATE made an invalid owner name for {v}: {m}"),
                        );
                        return;
                    }
                    let gl = line.clone();
                    self.record(fixed, &gl, &toks, 1, w, &ge);
                }
                Ok(None) => {}
                Err(se) => {
                    self.err(
                        ErrorKind::Generate,
                        span,
                        format!(
                            "$GENERATE made text that does not scan for {v}: {}",
                            se.message
                        ),
                    );
                }
            }
            if self.errors.len() > before {
                // One error per directive: the same fault repeats for every value.
                let last = self.errors.last_mut().unwrap();
                last.message = format!("in $GENERATE at value {v}: {}", last.message);
                return;
            }
            v += step;
        }
    }

    fn finish(mut self) -> ReadResult {
        let soa = u16::from(RecordType::SOA);
        let soas: Vec<usize> = self
            .records
            .iter()
            .enumerate()
            .filter(|(_, r)| u16::from(r.rtype()) == soa)
            .map(|(i, _)| i)
            .collect();
        let origin = match (&self.opts.origin, soas.first()) {
            (Some(o), _) => Some(o.clone()),
            (None, Some(&i)) => Some(self.records[i].owner.clone()),
            (None, None) => None,
        };
        let file0 = Span {
            file: FileId(0),
            line: 1,
            col: 1,
            start: 0,
            end: 0,
        };
        match (&origin, soas.as_slice()) {
            (_, []) if !self.soa_seen && (self.errors.is_empty() || !self.records.is_empty()) => {
                self.errors.push(
                    ReadError::new(ErrorKind::Zone, file0, "expected an SOA record at the zone origin, found none")
                        .help("every zone starts with `@ IN SOA <primary-ns> <hostmaster> <serial> <refresh> <retry> <expire> <minimum>`"),
                );
            }
            (Some(o), list) => {
                for (n, &i) in list.iter().enumerate() {
                    let r = &self.records[i];
                    if !r.owner.eq_ignore_root(o) || n > 0 {
                        let msg = if n > 0 {
                            format!("expected one SOA record, found another at {}", r.owner)
                        } else {
                            format!(
                                "expected the SOA at the origin {o}, found it at {}",
                                r.owner
                            )
                        };
                        self.errors
                            .push(ReadError::new(ErrorKind::Zone, r.span, msg));
                    }
                }
            }
            _ => {}
        }
        self.errors
            .sort_by_key(|e| (e.span.file, e.span.start, e.span.line, e.span.col));
        let class = self.class.map(|c| c.0).unwrap_or(DNSClass::IN);
        ReadResult {
            zone: Zone {
                origin: origin.unwrap_or_else(Name::root),
                class,
                records: self.records,
                sources: self.sources,
            },
            errors: self.errors,
        }
    }
}

fn parse_range(raw: &[u8]) -> Result<(u64, u64, u64), String> {
    let s = std::str::from_utf8(raw).map_err(|_| "the $GENERATE range is not text".to_string())?;
    let bad = || format!("expected a range `<start>-<stop>[/<step>]`, found `{s}`");
    let (range, step) = match s.split_once('/') {
        Some((r, st)) => (r, st.parse::<u64>().map_err(|_| bad())?),
        None => (s, 1),
    };
    let (a, b) = range.split_once('-').ok_or_else(bad)?;
    let a: u64 = a.parse().map_err(|_| bad())?;
    let b: u64 = b.parse().map_err(|_| bad())?;
    if a > b || step == 0 || b > u32::MAX as u64 {
        return Err(format!("the range `{s}` is empty or its step is 0"));
    }
    Ok((a, b, step))
}

/// Expands `$` and `${offset,width,base}` in a `$GENERATE` template.
fn expand(tpl: &[u8], v: u64, out: &mut Vec<u8>) -> Result<(), String> {
    let mut i = 0;
    while i < tpl.len() {
        match tpl[i] {
            b'\\' if i + 1 < tpl.len() => {
                out.extend_from_slice(&tpl[i..i + 2]);
                i += 2;
            }
            b'$' if tpl.get(i + 1) == Some(&b'{') => {
                let close = tpl[i..]
                    .iter()
                    .position(|&b| b == b'}')
                    .ok_or("expected `}` to close `${` in $GENERATE")?;
                let inner = std::str::from_utf8(&tpl[i + 2..i + close])
                    .map_err(|_| "bad $GENERATE modifier")?;
                let mut parts = inner.split(',');
                let bad = || {
                    format!(
                        "expected a modifier `${{offset[,width[,base]]}}` with base d, o, x, X, n or N, found `${{{inner}}}`"
                    )
                };
                let offset: i64 = parts
                    .next()
                    .filter(|p| !p.is_empty())
                    .map(str::parse)
                    .transpose()
                    .map_err(|_| bad())?
                    .unwrap_or(0);
                let width: usize = parts
                    .next()
                    .map(str::parse)
                    .transpose()
                    .map_err(|_| bad())?
                    .unwrap_or(0);
                let base = parts.next().unwrap_or("d");
                if parts.next().is_some() || width > 255 {
                    return Err(bad());
                }
                let n = v as i64 + offset;
                if n < 0 {
                    return Err(format!("the $GENERATE offset makes a negative value ({n})"));
                }
                let s = match base {
                    "d" => format!("{n:0width$}"),
                    "o" => format!("{n:0width$o}"),
                    "x" => format!("{n:0width$x}"),
                    "X" => format!("{n:0width$X}"),
                    "n" | "N" => nibbles(n as u64, width, base == "N"),
                    _ => return Err(bad()),
                };
                out.extend_from_slice(s.as_bytes());
                i += close + 1;
            }
            b'$' => {
                out.extend_from_slice(v.to_string().as_bytes());
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    Ok(())
}

/// BIND's nibble form: hex digits, least significant first, dot separated;
/// `width` counts output characters (digits and dots).
fn nibbles(mut n: u64, width: usize, upper: bool) -> String {
    let mut s = String::new();
    loop {
        let d = (n & 0xf) as u32;
        let c = std::char::from_digit(d, 16).unwrap();
        s.push(if upper { c.to_ascii_uppercase() } else { c });
        n >>= 4;
        if n == 0 && s.len() >= width {
            break;
        }
        s.push('.');
        if n == 0 && s.len() >= width {
            break;
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn include_nesting_is_bounded() {
        let dir = std::env::temp_dir().join(format!("mailzone-depth-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut main =
            String::from("$ORIGIN example.com.\n$TTL 60\n@ SOA ns h 1 2 3 4 5\n$INCLUDE d1.inc\n");
        std::fs::write(dir.join("main.zone"), &main).unwrap();
        for i in 1..=20 {
            std::fs::write(
                dir.join(format!("d{i}.inc")),
                format!("h{i} A 192.0.2.1\n$INCLUDE d{}.inc\n", i + 1),
            )
            .unwrap();
        }
        std::fs::write(dir.join("d21.inc"), "end A 192.0.2.2\n").unwrap();
        let r = read_master_file(&dir.join("main.zone"), &MasterOptions::default());
        let depth: Vec<_> = r
            .errors
            .iter()
            .filter(|e| e.message.contains("includes nest deeper than 10 levels"))
            .collect();
        assert_eq!(depth.len(), 1, "{:?}", r.errors);
        assert_eq!(r.errors.len(), 1);
        // Records up to the limit are read; nothing below it.
        assert!(
            r.zone
                .records
                .iter()
                .any(|r| r.owner.to_string() == "h10.example.com.")
        );
        assert!(
            !r.zone
                .records
                .iter()
                .any(|r| r.owner.to_string() == "end.example.com.")
        );
        main.clear();
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn origin_reverts_after_include_and_in_memory_include_is_refused() {
        let r = read_master_str(
            "m",
            "$ORIGIN example.com.\n$TTL 1\n@ SOA a b 1 2 3 4 5\n$INCLUDE x.inc\n",
            &MasterOptions::default(),
        );
        assert_eq!(r.errors.len(), 1);
        assert!(
            r.errors[0]
                .message
                .contains("not available for a zone read from memory")
        );
    }
}
