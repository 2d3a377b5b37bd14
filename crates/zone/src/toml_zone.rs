//! The TOML zone format. Plain records are written as presentation RDATA; the
//! `[mail]` section states intent (MX hosts, SPF senders, DKIM keys, DMARC
//! policy, MTA-STS, TLS-RPT) and the reader generates correct records from it.
//! Every generated record's span points at the TOML key it came from.

use crate::error::{ErrorKind, ReadError};
use crate::rdata::{parse_rdata, type_code, type_name};
use crate::record::{ReadResult, Zone, ZoneRecord, name_from_wire, rdata_from_wire};
use crate::scan::Scanner;
use crate::span::{FileId, SourceMap, Span, line_col};
use crate::text::{name_to_wire, parse_ttl};
use data_encoding::BASE64;
use hickory_proto::rr::rdata::{MX, TXT};
use hickory_proto::rr::{DNSClass, Name, RData, RecordType};
use serde::Deserialize;
use std::ops::Range;
use std::path::Path;
use toml::Spanned;

/// Schema version 1 of the TOML zone format.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ZoneFile {
    version: Spanned<u32>,
    origin: Spanned<String>,
    ttl: Option<Spanned<Ttl>>,
    soa: Spanned<Soa>,
    #[serde(default)]
    record: Vec<Spanned<Rec>>,
    mail: Option<Spanned<Mail>>,
}

#[derive(Deserialize, Clone)]
#[serde(untagged)]
enum Ttl {
    Seconds(u32),
    Text(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Soa {
    primary: Spanned<String>,
    hostmaster: Spanned<String>,
    serial: Spanned<u32>,
    refresh: Spanned<Ttl>,
    retry: Spanned<Ttl>,
    expire: Spanned<Ttl>,
    minimum: Spanned<Ttl>,
    ttl: Option<Spanned<Ttl>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Rec {
    name: Spanned<String>,
    #[serde(rename = "type")]
    rtype: Spanned<String>,
    data: Spanned<String>,
    ttl: Option<Spanned<Ttl>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Mail {
    #[serde(default)]
    mx: Vec<Spanned<MxHost>>,
    null_mx: Option<Spanned<bool>>,
    spf: Option<Spanned<Spf>>,
    #[serde(default)]
    dkim: Vec<Spanned<Dkim>>,
    dmarc: Option<Spanned<Dmarc>>,
    mta_sts: Option<Spanned<MtaSts>>,
    tls_rpt: Option<Spanned<TlsRpt>>,
    ttl: Option<Spanned<Ttl>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MxHost {
    host: Spanned<String>,
    preference: Spanned<u16>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum HostList {
    Flag(bool),
    Names(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Spf {
    a: Option<Spanned<HostList>>,
    mx: Option<Spanned<HostList>>,
    #[serde(default)]
    ip4: Vec<Spanned<String>>,
    #[serde(default)]
    ip6: Vec<Spanned<String>>,
    #[serde(default)]
    include: Vec<Spanned<String>>,
    all: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Dkim {
    selector: Spanned<String>,
    algorithm: Option<Spanned<String>>,
    public_key: Option<Spanned<String>>,
    public_key_file: Option<Spanned<String>>,
    hash: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    testing: bool,
    #[serde(default)]
    strict: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Dmarc {
    p: Spanned<String>,
    sp: Option<Spanned<String>>,
    np: Option<Spanned<String>>,
    #[serde(default)]
    rua: Vec<Spanned<String>>,
    #[serde(default)]
    ruf: Vec<Spanned<String>>,
    adkim: Option<Spanned<String>>,
    aspf: Option<Spanned<String>>,
    pct: Option<Spanned<u8>>,
    fo: Option<Spanned<String>>,
    ri: Option<Spanned<u32>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MtaSts {
    id: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TlsRpt {
    rua: Spanned<Vec<String>>,
}

/// Reads a TOML zone file.
pub fn read_toml_file(path: &Path) -> ReadResult {
    match std::fs::read_to_string(path) {
        Ok(text) => read_toml_str(path, &text),
        Err(e) => {
            let mut sources = SourceMap::new();
            let file = sources.add(path, "");
            ReadResult {
                zone: Zone {
                    origin: Name::root(),
                    class: DNSClass::IN,
                    records: Vec::new(),
                    sources,
                },
                errors: vec![ReadError::unreadable(file, path, &e)],
            }
        }
    }
}

/// Reads TOML zone text. `path` names the file in locations and is the base for `public_key_file`.
pub fn read_toml_str(path: &Path, text: &str) -> ReadResult {
    let mut sources = SourceMap::new();
    let file = sources.add(path, text.to_string());
    let mut g = Gen {
        file,
        text,
        dir: path.parent().map(Path::to_path_buf),
        origin: Vec::new(),
        records: Vec::new(),
        errors: Vec::new(),
        read: Vec::new(),
    };
    let origin = match toml::from_str::<ZoneFile>(text) {
        Ok(z) => g.zone(z),
        Err(e) => {
            let range = e.span().unwrap_or(0..0);
            let msg = e.message().trim().to_string();
            let help = if msg.starts_with("unknown field") || msg.starts_with("missing field") {
                Some(
                    "the TOML zone format is described in the README (section \"TOML zones\")"
                        .to_string(),
                )
            } else {
                None
            };
            let mut err = ReadError::new(ErrorKind::Toml, g.span(range), msg);
            err.help = help;
            g.errors.push(err);
            None
        }
    };
    for (path, text) in g.read {
        sources.add(path, text);
    }
    ReadResult {
        zone: Zone {
            origin: origin.unwrap_or_else(Name::root),
            class: DNSClass::IN,
            records: g.records,
            sources,
        },
        errors: g.errors,
    }
}

struct Gen<'t> {
    file: FileId,
    text: &'t str,
    dir: Option<std::path::PathBuf>,
    origin: Vec<u8>,
    records: Vec<ZoneRecord>,
    errors: Vec<ReadError>,
    /// Other files read (DKIM key files), with their text ("" when unreadable),
    /// so whoever reloads the zone knows what it depends on.
    read: Vec<(std::path::PathBuf, String)>,
}

fn rua_ok(uri: &str, https: bool) -> bool {
    let lower = uri.to_ascii_lowercase();
    (lower.starts_with("mailto:")
        && uri[7..].contains('@')
        && !uri.contains(',')
        && !uri.contains(';'))
        || (https && lower.starts_with("https://") && uri.len() > 8)
}

/// Splits text into character-strings of at most 255 bytes. SPF text is cut
/// after a space so no term is glued to the next when strings are joined.
fn split_strings(text: &str, at_spaces: bool) -> Vec<Vec<u8>> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    while b.len() - start > 255 {
        let mut end = start + 255;
        if at_spaces && let Some(p) = b[start..end].iter().rposition(|&c| c == b' ') {
            end = start + p + 1;
        }
        out.push(b[start..end].to_vec());
        start = end;
    }
    out.push(b[start..].to_vec());
    out
}

impl Gen<'_> {
    fn span(&self, r: Range<usize>) -> Span {
        let (line, col) = line_col(self.text, r.start);
        Span {
            file: self.file,
            line,
            col,
            start: r.start as u32,
            end: r.end as u32,
        }
    }

    fn error(&mut self, r: Range<usize>, msg: impl Into<String>) -> &mut ReadError {
        let span = self.span(r);
        self.errors.push(ReadError::new(ErrorKind::Toml, span, msg));
        self.errors.last_mut().unwrap()
    }

    fn ttl(&mut self, t: &Spanned<Ttl>) -> Option<u32> {
        match t.get_ref() {
            Ttl::Seconds(s) if *s <= i32::MAX as u32 => Some(*s),
            Ttl::Seconds(s) => {
                self.error(
                    t.span(),
                    format!("TTL {s} is too large; the maximum is 2147483647"),
                );
                None
            }
            Ttl::Text(s) => match parse_ttl(s.as_bytes()) {
                Ok(v) => Some(v),
                Err(m) => {
                    self.error(t.span(), m);
                    None
                }
            },
        }
    }

    fn name(&mut self, s: &Spanned<String>) -> Option<Vec<u8>> {
        self.name_text(s.get_ref(), s.span())
    }

    fn name_text(&mut self, s: &str, r: Range<usize>) -> Option<Vec<u8>> {
        let mut w = Vec::new();
        match name_to_wire(s.as_bytes(), Some(&self.origin), &mut w) {
            Ok(()) => Some(w),
            Err(m) => {
                self.errors.push(ReadError::new(
                    ErrorKind::Name,
                    self.span(r),
                    format!("invalid name: {m}"),
                ));
                None
            }
        }
    }

    fn push(&mut self, owner: &[u8], ttl: u32, rdata: RData, r: Range<usize>) {
        match name_from_wire(owner) {
            Ok(owner) => {
                let span = self.span(r);
                self.records.push(ZoneRecord {
                    owner,
                    class: DNSClass::IN,
                    ttl,
                    rdata,
                    span,
                });
            }
            Err(m) => {
                self.error(r, format!("invalid name: {m}"));
            }
        }
    }

    /// Parses presentation RDATA held in a TOML string.
    fn rdata_text(&mut self, code: u16, data: &str, r: Range<usize>) -> Option<RData> {
        let src = data.as_bytes();
        let mut sc = Scanner::new(src);
        let mut toks = Vec::new();
        let mut all = Vec::new();
        loop {
            match sc.next_entry(&mut toks) {
                Ok(Some(_)) => all.extend_from_slice(&toks),
                Ok(None) => break,
                Err(e) => {
                    self.errors.push(ReadError::new(
                        ErrorKind::Syntax,
                        self.span(r.clone()),
                        format!("in `data` at column {}: {}", e.col, e.message),
                    ));
                    return None;
                }
            }
        }
        let mut wire = Vec::new();
        if let Err(fe) = parse_rdata(code, src, &all, Some(&self.origin), &mut wire) {
            let at = fe
                .tok
                .map(|k| format!(" (at column {} of `data`)", all[k].col))
                .unwrap_or_default();
            let mut e = ReadError::new(fe.kind, self.span(r), format!("{}{at}", fe.message));
            e.help = fe.help;
            self.errors.push(e);
            return None;
        }
        match rdata_from_wire(code, &wire) {
            Ok(rd) => Some(rd),
            Err(m) => {
                self.errors.push(ReadError::new(
                    ErrorKind::Rdata,
                    self.span(r),
                    format!("the {} RDATA is not valid: {m}", type_name(code)),
                ));
                None
            }
        }
    }

    fn txt(&mut self, owner: &[u8], ttl: u32, text: &str, at_spaces: bool, r: Range<usize>) {
        let strings = split_strings(text, at_spaces);
        let refs: Vec<&[u8]> = strings.iter().map(Vec::as_slice).collect();
        self.push(owner, ttl, RData::TXT(TXT::from_bytes(refs)), r);
    }

    fn zone(&mut self, z: ZoneFile) -> Option<Name> {
        if *z.version.get_ref() != 1 {
            self.error(
                z.version.span(),
                format!(
                    "expected `version = 1`, found version {}",
                    z.version.get_ref()
                ),
            )
            .help = Some("this mailzone reads version 1 of the TOML zone format".into());
            return None;
        }
        let mut o = Vec::new();
        if let Err(m) = name_to_wire(z.origin.get_ref().as_bytes(), Some(&[0]), &mut o) {
            self.errors.push(ReadError::new(
                ErrorKind::Name,
                self.span(z.origin.span()),
                format!("invalid origin: {m}"),
            ));
            return None;
        }
        self.origin = o.clone();
        let origin = name_from_wire(&o).ok()?;
        let default_ttl = match &z.ttl {
            Some(t) => self.ttl(t).unwrap_or(3600),
            None => 3600,
        };
        self.soa(&z.soa, default_ttl, &o);
        for rec in &z.record {
            let rec = rec.get_ref();
            let Some(owner) = self.name(&rec.name) else {
                continue;
            };
            let ttl = rec.ttl.as_ref().map_or(Some(default_ttl), |t| self.ttl(t));
            let Some(code) = type_code(rec.rtype.get_ref().as_bytes()) else {
                let span = self.span(rec.rtype.span());
                self.errors.push(
                    ReadError::new(
                        ErrorKind::Type,
                        span,
                        format!("expected a record type, found `{}`", rec.rtype.get_ref()),
                    )
                    .help("types are mnemonics such as A, AAAA, MX, TXT, or TYPEnnn for others"),
                );
                continue;
            };
            if code == u16::from(RecordType::SOA) {
                self.error(
                    rec.rtype.span(),
                    "expected the SOA in the [soa] table, found it in [[record]]",
                );
                continue;
            }
            let Some(rdata) = self.rdata_text(code, rec.data.get_ref(), rec.data.span()) else {
                continue;
            };
            if let Some(ttl) = ttl {
                self.push(&owner, ttl, rdata, rec.data.span());
            }
        }
        if let Some(m) = &z.mail {
            let ttl = m
                .get_ref()
                .ttl
                .as_ref()
                .map_or(Some(default_ttl), |t| self.ttl(t))
                .unwrap_or(default_ttl);
            self.mail(m.get_ref(), ttl, &o);
        }
        Some(origin)
    }

    fn soa(&mut self, soa: &Spanned<Soa>, default_ttl: u32, origin: &[u8]) {
        let s = soa.get_ref();
        let mname = self.name(&s.primary);
        // Accept the e-mail form a person would write; RFC 1035 wants its first dot escaped.
        let host = s.hostmaster.get_ref();
        let rname = match host.split_once('@') {
            Some((local, domain)) => {
                let local = local.replace('.', "\\.");
                let d = if domain.ends_with('.') {
                    domain.to_string()
                } else {
                    format!("{domain}.")
                };
                self.name_text(&format!("{local}.{d}"), s.hostmaster.span())
            }
            None => self.name(&s.hostmaster),
        };
        let timers: Vec<Option<u32>> = [&s.refresh, &s.retry, &s.expire, &s.minimum]
            .iter()
            .map(|t| self.ttl(t))
            .collect();
        let ttl = s.ttl.as_ref().map_or(Some(default_ttl), |t| self.ttl(t));
        let (Some(mname), Some(rname), Some(ttl)) = (mname, rname, ttl) else {
            return;
        };
        if timers.iter().any(Option::is_none) {
            return;
        }
        let mut wire = mname;
        wire.extend_from_slice(&rname);
        wire.extend_from_slice(&s.serial.get_ref().to_be_bytes());
        for t in timers.into_iter().flatten() {
            wire.extend_from_slice(&t.to_be_bytes());
        }
        match rdata_from_wire(6, &wire) {
            Ok(rd) => self.push(origin, ttl, rd, soa.span()),
            Err(m) => {
                self.error(soa.span(), format!("the SOA is not valid: {m}"));
            }
        }
    }

    fn mail(&mut self, m: &Mail, ttl: u32, apex: &[u8]) {
        if let Some(n) = &m.null_mx
            && *n.get_ref()
        {
            if let Some(first) = m.mx.first() {
                self.error(
                    first.span(),
                    "expected either `null_mx = true` or `mx` hosts, found both",
                )
                .help = Some(
                    "a null MX (RFC 7505) says the domain takes no mail; remove `mx` or `null_mx`"
                        .into(),
                );
            } else {
                self.push(apex, ttl, RData::MX(MX::new(0, Name::root())), n.span());
            }
        }
        for h in &m.mx {
            let hv = h.get_ref();
            if let Some(w) = self.name(&hv.host) {
                let Ok(target) = name_from_wire(&w) else {
                    continue;
                };
                self.push(
                    apex,
                    ttl,
                    RData::MX(MX::new(*hv.preference.get_ref(), target)),
                    h.span(),
                );
            }
        }
        if let Some(spf) = &m.spf {
            self.spf(spf, ttl, apex);
        }
        for d in &m.dkim {
            self.dkim(d, ttl);
        }
        if let Some(d) = &m.dmarc {
            self.dmarc(d, ttl);
        }
        if let Some(s) = &m.mta_sts {
            let id = s.get_ref().id.get_ref();
            if id.is_empty() || id.len() > 32 || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
                self.error(
                    s.get_ref().id.span(),
                    format!("expected an MTA-STS id of 1–32 letters and digits, found `{id}`"),
                )
                .help = Some("use a date-like id without punctuation, e.g. `20261123`".into());
            } else if let Some(owner) = self.name_text("_mta-sts", s.span()) {
                self.txt(&owner, ttl, &format!("v=STSv1; id={id}"), false, s.span());
            }
        }
        if let Some(t) = &m.tls_rpt {
            let rua = t.get_ref().rua.get_ref();
            if rua.is_empty() {
                self.error(
                    t.get_ref().rua.span(),
                    "expected at least one `rua` address for TLS-RPT",
                );
            } else if let Some(bad) = rua.iter().find(|u| !rua_ok(u, true)) {
                self.error(
                    t.get_ref().rua.span(),
                    format!("expected `mailto:` or `https://` URIs in rua, found `{bad}`"),
                )
                .help = Some("write `rua = [\"mailto:tls-reports@example.com\"]`".into());
            } else if let Some(owner) = self.name_text("_smtp._tls", t.span()) {
                self.txt(
                    &owner,
                    ttl,
                    &format!("v=TLSRPTv1; rua={}", rua.join(",")),
                    false,
                    t.span(),
                );
            }
        }
    }

    fn spf(&mut self, spf: &Spanned<Spf>, ttl: u32, apex: &[u8]) {
        let s = spf.get_ref();
        let mut text = String::from("v=spf1");
        let mut ok = true;
        for (mech, list) in [("a", &s.a), ("mx", &s.mx)] {
            match list.as_ref().map(|l| (l.get_ref(), l.span())) {
                Some((HostList::Flag(true), _)) => text.push_str(&format!(" {mech}")),
                Some((HostList::Names(names), r)) => {
                    for n in names {
                        ok &= self.name_text(n, r.clone()).is_some();
                        text.push_str(&format!(" {mech}:{}", n.trim_end_matches('.')));
                    }
                }
                _ => {}
            }
        }
        for ip in &s.ip4 {
            let v = ip.get_ref();
            let (addr, pfx) = v.split_once('/').unwrap_or((v, "32"));
            if addr.parse::<std::net::Ipv4Addr>().is_err()
                || pfx.parse::<u8>().map_or(true, |p| p > 32)
            {
                self.error(
                    ip.span(),
                    format!("expected an IPv4 address or network like `192.0.2.0/24`, found `{v}`"),
                );
                ok = false;
            }
            text.push_str(&format!(" ip4:{v}"));
        }
        for ip in &s.ip6 {
            let v = ip.get_ref();
            let (addr, pfx) = v.split_once('/').unwrap_or((v, "128"));
            if addr.parse::<std::net::Ipv6Addr>().is_err()
                || pfx.parse::<u8>().map_or(true, |p| p > 128)
            {
                self.error(
                    ip.span(),
                    format!(
                        "expected an IPv6 address or network like `2001:db8::/32`, found `{v}`"
                    ),
                );
                ok = false;
            }
            text.push_str(&format!(" ip6:{v}"));
        }
        for inc in &s.include {
            let v = inc.get_ref();
            if !v.trim_end_matches('.').contains('.') {
                self.error(
                    inc.span(),
                    format!("expected a fully qualified domain to include, found `{v}`"),
                )
                .help = Some("write the provider's SPF domain, e.g. `_spf.example.net`".into());
                ok = false;
            }
            text.push_str(&format!(" include:{}", v.trim_end_matches('.')));
        }
        let all = match s.all.get_ref().as_str() {
            "fail" | "-" => "-all",
            "softfail" | "~" => "~all",
            "neutral" | "?" => "?all",
            other => {
                self.error(s.all.span(), format!("expected `all` to be one of \"fail\", \"softfail\", \"neutral\", found \"{other}\""))
                    .help = Some("\"fail\" (-all) is the usual choice once every sender is listed".into());
                return;
            }
        };
        text.push(' ');
        text.push_str(all);
        if ok {
            self.txt(apex, ttl, &text, true, spf.span());
        }
    }

    fn dkim(&mut self, d: &Spanned<Dkim>, ttl: u32) {
        let k = d.get_ref();
        let sel = k.selector.get_ref();
        let alg = k
            .algorithm
            .as_ref()
            .map(|a| a.get_ref().as_str())
            .unwrap_or("rsa");
        if alg != "rsa" && alg != "ed25519" {
            let r = k.algorithm.as_ref().unwrap().span();
            self.error(
                r,
                format!("expected algorithm \"rsa\" or \"ed25519\", found \"{alg}\""),
            );
            return;
        }
        let key = match (&k.public_key, &k.public_key_file) {
            (Some(p), None) => {
                let cleaned: String = p.get_ref().chars().filter(|c| !c.is_whitespace()).collect();
                match BASE64.decode(cleaned.as_bytes()) {
                    Ok(der) => Some((der, p.span())),
                    Err(e) => {
                        self.error(p.span(), format!("expected the public key in base64, found text that does not decode ({e})"));
                        None
                    }
                }
            }
            (None, Some(f)) => self.pem_key(f),
            (Some(p), Some(_)) => {
                self.error(
                    p.span(),
                    "expected one of `public_key` and `public_key_file`, found both",
                );
                None
            }
            (None, None) => {
                self.error(d.span(), format!("expected `public_key` or `public_key_file` for DKIM selector `{sel}`"))
                    .help = Some("`public_key_file` takes a PEM public key, e.g. the .txt-less output of `openssl pkey -pubout`".into());
                None
            }
        };
        let Some((mut der, krange)) = key else { return };
        if alg == "ed25519" {
            // RFC 8463 publishes the bare 32-byte key; a PEM file holds it inside an SPKI wrapper.
            const SPKI_ED25519: [u8; 12] = [
                0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
            ];
            if der.len() == 44 && der[..12] == SPKI_ED25519 {
                der.drain(..12);
            }
            if der.len() != 32 {
                self.error(
                    krange,
                    format!(
                        "expected a 32-byte ed25519 public key, found {} bytes",
                        der.len()
                    ),
                );
                return;
            }
        } else if der.first() != Some(&0x30) || der.len() < 64 {
            self.error(krange, format!("expected an RSA public key (DER SubjectPublicKeyInfo), found {} bytes that are not one", der.len()));
            return;
        }
        let mut text = String::from("v=DKIM1; k=");
        text.push_str(alg);
        if let Some(h) = &k.hash {
            if let Some(bad) = h.get_ref().iter().find(|x| *x != "sha256" && *x != "sha1") {
                self.error(
                    h.span(),
                    format!("expected hash names \"sha256\" (or \"sha1\"), found \"{bad}\""),
                );
                return;
            }
            text.push_str(&format!("; h={}", h.get_ref().join(":")));
        }
        match (k.testing, k.strict) {
            (true, true) => text.push_str("; t=y:s"),
            (true, false) => text.push_str("; t=y"),
            (false, true) => text.push_str("; t=s"),
            _ => {}
        }
        text.push_str("; p=");
        text.push_str(&BASE64.encode(&der));
        if let Some(owner) = self.name_text(&format!("{sel}._domainkey"), k.selector.span()) {
            self.txt(&owner, ttl, &text, false, d.span());
        }
    }

    fn pem_key(&mut self, f: &Spanned<String>) -> Option<(Vec<u8>, Range<usize>)> {
        let Some(dir) = &self.dir else {
            self.error(
                f.span(),
                "`public_key_file` needs the TOML zone to be read from a file",
            );
            return None;
        };
        let path = dir.join(f.get_ref());
        let text = match std::fs::read(&path) {
            Ok(b) => String::from_utf8_lossy(&b).into_owned(),
            Err(e) => {
                self.read.push((path.clone(), String::new()));
                self.error(f.span(), format!("cannot read {}: {e}", path.display()));
                return None;
            }
        };
        self.read.push((path.clone(), text.clone()));
        if text.contains("PRIVATE KEY-----") {
            self.error(f.span(), format!("{} holds a PRIVATE key; a DKIM record publishes only the public key", path.display()))
                .help = Some("derive the public key with `openssl pkey -in key.pem -pubout -out key.pub.pem` and point at that".into());
            return None;
        }
        let body: String = text
            .lines()
            .skip_while(|l| {
                !l.starts_with("-----BEGIN PUBLIC KEY-----")
                    && !l.starts_with("-----BEGIN RSA PUBLIC KEY-----")
            })
            .skip(1)
            .take_while(|l| !l.starts_with("-----END"))
            .collect::<String>()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        if body.is_empty() {
            self.error(
                f.span(),
                format!(
                    "expected a PEM public key (-----BEGIN PUBLIC KEY-----) in {}",
                    path.display()
                ),
            );
            return None;
        }
        match BASE64.decode(body.as_bytes()) {
            Ok(der) => Some((der, f.span())),
            Err(e) => {
                self.error(
                    f.span(),
                    format!("the PEM body in {} is not base64 ({e})", path.display()),
                );
                None
            }
        }
    }

    fn dmarc(&mut self, d: &Spanned<Dmarc>, ttl: u32) {
        let m = d.get_ref();
        let mut ok = true;
        let mut text = String::from("v=DMARC1");
        let policies = ["none", "quarantine", "reject"];
        for (tag, v) in [
            ("p", Some(&m.p)),
            ("sp", m.sp.as_ref()),
            ("np", m.np.as_ref()),
        ] {
            if let Some(v) = v {
                if !policies.contains(&v.get_ref().as_str()) {
                    self.error(v.span(), format!("expected {tag} to be \"none\", \"quarantine\" or \"reject\", found \"{}\"", v.get_ref()));
                    ok = false;
                }
                text.push_str(&format!("; {tag}={}", v.get_ref()));
            }
        }
        if let Some(p) = &m.pct {
            if *p.get_ref() > 100 {
                self.error(
                    p.span(),
                    format!("expected pct between 0 and 100, found {}", p.get_ref()),
                );
                ok = false;
            }
            text.push_str(&format!("; pct={}", p.get_ref()));
        }
        for (tag, list) in [("rua", &m.rua), ("ruf", &m.ruf)] {
            if list.is_empty() {
                continue;
            }
            for u in list {
                if !rua_ok(u.get_ref(), true) {
                    let hint = if u.get_ref().contains('@') && !u.get_ref().contains(':') {
                        format!("write `mailto:{}`", u.get_ref())
                    } else {
                        "DMARC report addresses are `mailto:` URIs".to_string()
                    };
                    self.error(
                        u.span(),
                        format!("expected a mailto: URI in {tag}, found `{}`", u.get_ref()),
                    )
                    .help = Some(hint);
                    ok = false;
                }
            }
            let joined: Vec<&str> = list.iter().map(|u| u.get_ref().as_str()).collect();
            text.push_str(&format!("; {tag}={}", joined.join(",")));
        }
        for (tag, v) in [("adkim", &m.adkim), ("aspf", &m.aspf)] {
            if let Some(v) = v {
                if v.get_ref() != "r" && v.get_ref() != "s" {
                    self.error(
                        v.span(),
                        format!(
                            "expected {tag} to be \"r\" (relaxed) or \"s\" (strict), found \"{}\"",
                            v.get_ref()
                        ),
                    );
                    ok = false;
                }
                text.push_str(&format!("; {tag}={}", v.get_ref()));
            }
        }
        if let Some(fo) = &m.fo {
            if fo.get_ref().is_empty()
                || !fo
                    .get_ref()
                    .split(':')
                    .all(|x| ["0", "1", "d", "s"].contains(&x))
            {
                self.error(
                    fo.span(),
                    format!(
                        "expected fo to be a colon list of 0, 1, d, s, found \"{}\"",
                        fo.get_ref()
                    ),
                );
                ok = false;
            }
            text.push_str(&format!("; fo={}", fo.get_ref()));
        }
        if let Some(ri) = &m.ri {
            text.push_str(&format!("; ri={}", ri.get_ref()));
        }
        if ok && let Some(owner) = self.name_text("_dmarc", d.span()) {
            self.txt(&owner, ttl, &text, false, d.span());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_split_at_spaces_for_spf() {
        let text = format!(
            "v=spf1 {} -all",
            (0..40)
                .map(|i| format!("ip4:192.0.2.{i}"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        let parts = split_strings(&text, true);
        assert!(parts.len() > 1);
        assert!(parts.iter().all(|p| p.len() <= 255));
        assert!(parts[..parts.len() - 1].iter().all(|p| p.ends_with(b" ")));
        assert_eq!(parts.concat(), text.as_bytes());
    }
}
