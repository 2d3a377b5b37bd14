//! RDATA in presentation format ⇄ wire format, driven by one field schema per
//! type. The same table parses a record's text and writes it back, so the
//! reader and the canonical writer cannot disagree about a type's layout.
//! Wire bytes are then decoded into `hickory-proto` types by the caller.

use crate::error::ErrorKind;
use crate::scan::Tok;
use crate::text::{
    name_to_wire, parse_ttl, parse_uint, unescape, wire_name_len, write_char_string,
    write_wire_name,
};
use data_encoding::{BASE32HEX_NOPAD, BASE64, HEXUPPER_PERMISSIVE};
use std::borrow::Cow;
use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

/// One field of an RDATA layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum F {
    U8,
    U16,
    U32,
    /// A 32-bit period that accepts TTL units (SOA timers, RRSIG original TTL).
    Period,
    /// MX preference: a 16-bit integer whose fault has its own catalogue id.
    MxPref,
    Name,
    Ipv4,
    Ipv6,
    CharStr,
    /// One or more character-strings to the end (TXT, SPF).
    CharStrs,
    /// Hex to the end, whitespace allowed between parts.
    Hex,
    /// Base64 to the end, whitespace allowed between parts.
    Base64,
    /// A record type mnemonic (RRSIG type covered).
    RrType,
    /// An RRSIG time: `YYYYMMDDHHmmSS` or seconds since the epoch.
    Time,
    /// A DNSSEC algorithm number or mnemonic.
    Alg,
    /// NSEC/NSEC3 type bitmap to the end (may be empty).
    Bitmap,
    /// NSEC3 salt: `-` or hex, length-prefixed.
    Salt,
    /// NSEC3 next hashed owner: base32hex, length-prefixed.
    NextHash,
    CaaTag,
    CaaValue,
    /// SVCB/HTTPS parameters to the end.
    SvcParams,
}

/// Type mnemonics we know, with the layout of those we parse. Types without a
/// layout can still be written in RFC 3597 form (`TYPEnnn \# len hex`).
const TYPES: &[(&str, u16, Option<&[F]>)] = &[
    ("A", 1, Some(&[F::Ipv4])),
    ("NS", 2, Some(&[F::Name])),
    ("MD", 3, None),
    ("MF", 4, None),
    ("CNAME", 5, Some(&[F::Name])),
    (
        "SOA",
        6,
        Some(&[
            F::Name,
            F::Name,
            F::U32,
            F::Period,
            F::Period,
            F::Period,
            F::Period,
        ]),
    ),
    ("MB", 7, None),
    ("MG", 8, None),
    ("MR", 9, None),
    ("NULL", 10, None),
    ("WKS", 11, None),
    ("PTR", 12, Some(&[F::Name])),
    ("HINFO", 13, Some(&[F::CharStr, F::CharStr])),
    ("MINFO", 14, None),
    ("MX", 15, Some(&[F::MxPref, F::Name])),
    ("TXT", 16, Some(&[F::CharStrs])),
    ("RP", 17, None),
    ("AFSDB", 18, None),
    ("SIG", 24, None),
    ("KEY", 25, None),
    ("AAAA", 28, Some(&[F::Ipv6])),
    ("LOC", 29, None),
    ("NXT", 30, None),
    ("SRV", 33, Some(&[F::U16, F::U16, F::U16, F::Name])),
    (
        "NAPTR",
        35,
        Some(&[F::U16, F::U16, F::CharStr, F::CharStr, F::CharStr, F::Name]),
    ),
    ("KX", 36, None),
    ("CERT", 37, None),
    ("DNAME", 39, Some(&[F::Name])),
    ("APL", 42, None),
    ("DS", 43, Some(&[F::U16, F::Alg, F::U8, F::Hex])),
    ("SSHFP", 44, Some(&[F::U8, F::U8, F::Hex])),
    ("IPSECKEY", 45, None),
    (
        "RRSIG",
        46,
        Some(&[
            F::RrType,
            F::Alg,
            F::U8,
            F::Period,
            F::Time,
            F::Time,
            F::U16,
            F::Name,
            F::Base64,
        ]),
    ),
    ("NSEC", 47, Some(&[F::Name, F::Bitmap])),
    ("DNSKEY", 48, Some(&[F::U16, F::U8, F::Alg, F::Base64])),
    ("DHCID", 49, None),
    (
        "NSEC3",
        50,
        Some(&[F::U8, F::U8, F::U16, F::Salt, F::NextHash, F::Bitmap]),
    ),
    ("NSEC3PARAM", 51, Some(&[F::U8, F::U8, F::U16, F::Salt])),
    ("TLSA", 52, Some(&[F::U8, F::U8, F::U8, F::Hex])),
    ("SMIMEA", 53, Some(&[F::U8, F::U8, F::U8, F::Hex])),
    ("HIP", 55, None),
    ("CDS", 59, Some(&[F::U16, F::Alg, F::U8, F::Hex])),
    ("CDNSKEY", 60, Some(&[F::U16, F::U8, F::Alg, F::Base64])),
    ("OPENPGPKEY", 61, Some(&[F::Base64])),
    ("CSYNC", 62, None),
    ("ZONEMD", 63, None),
    ("SVCB", 64, Some(&[F::U16, F::Name, F::SvcParams])),
    ("HTTPS", 65, Some(&[F::U16, F::Name, F::SvcParams])),
    ("SPF", 99, Some(&[F::CharStrs])),
    ("EUI48", 108, None),
    ("EUI64", 109, None),
    ("URI", 256, None),
    ("CAA", 257, Some(&[F::U8, F::CaaTag, F::CaaValue])),
];

/// Types that never appear in a zone file: meta and query types.
const META: &[(&str, u16)] = &[
    ("OPT", 41),
    ("TKEY", 249),
    ("TSIG", 250),
    ("IXFR", 251),
    ("AXFR", 252),
    ("MAILB", 253),
    ("MAILA", 254),
    ("ANY", 255),
];

/// The type code for a mnemonic or `TYPEnnn`, case-insensitive.
pub fn type_code(raw: &[u8]) -> Option<u16> {
    if let Some(t) = TYPES
        .iter()
        .find(|t| t.0.as_bytes().eq_ignore_ascii_case(raw))
    {
        return Some(t.1);
    }
    if raw.len() > 4 && raw[..4].eq_ignore_ascii_case(b"TYPE") {
        return parse_uint(&raw[4..], 65535, "type").ok().map(|v| v as u16);
    }
    None
}

/// Whether `raw` names a meta type that cannot be a record in a zone.
pub fn is_meta_type(raw: &[u8]) -> bool {
    META.iter()
        .any(|t| t.0.as_bytes().eq_ignore_ascii_case(raw))
}

/// The mnemonic of a type, or `TYPEnnn`.
/// A type's mnemonic, or `TYPEnnn` (RFC 3597) for codes without one; borrowed
/// for known types because RDATA parsing asks for it on every record.
pub fn type_name(code: u16) -> Cow<'static, str> {
    match TYPES.iter().find(|t| t.1 == code) {
        Some(t) => Cow::Borrowed(t.0),
        None => Cow::Owned(format!("TYPE{code}")),
    }
}

fn schema(code: u16) -> Option<&'static [F]> {
    TYPES.iter().find(|t| t.1 == code).and_then(|t| t.2)
}

/// Whether a type has a presentation layout we parse (others need `\#`).
pub fn has_layout(code: u16) -> bool {
    schema(code).is_some()
}

const ALGS: &[(&str, u8)] = &[
    ("RSAMD5", 1),
    ("DH", 2),
    ("DSA", 3),
    ("RSASHA1", 5),
    ("DSA-NSEC3-SHA1", 6),
    ("RSASHA1-NSEC3-SHA1", 7),
    ("RSASHA256", 8),
    ("RSASHA512", 10),
    ("ECC-GOST", 12),
    ("ECDSAP256SHA256", 13),
    ("ECDSAP384SHA384", 14),
    ("ED25519", 15),
    ("ED448", 16),
    ("INDIRECT", 252),
    ("PRIVATEDNS", 253),
    ("PRIVATEOID", 254),
];

/// A field-level failure. `tok` is the index of the offending token, or
/// `None` when the record ended before the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub tok: Option<usize>,
    /// Byte offset of the fault inside the token, when known.
    pub offset: u32,
    pub kind: ErrorKind,
    pub message: String,
    pub help: Option<String>,
}

impl FieldError {
    fn at(tok: usize, message: impl Into<String>) -> Self {
        FieldError {
            tok: Some(tok),
            offset: 0,
            kind: ErrorKind::Rdata,
            message: message.into(),
            help: None,
        }
    }
    fn kind(mut self, kind: ErrorKind) -> Self {
        self.kind = kind;
        self
    }
    fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

fn field_what(f: F) -> &'static str {
    match f {
        F::U8 => "an 8-bit number",
        F::U16 => "a 16-bit number",
        F::U32 => "a 32-bit number",
        F::Period => "a period (seconds or units like `1h`)",
        F::MxPref => "an MX preference (0–65535)",
        F::Name => "a domain name",
        F::Ipv4 => "an IPv4 address",
        F::Ipv6 => "an IPv6 address",
        F::CharStr | F::CharStrs => "a character-string",
        F::Hex => "hexadecimal data",
        F::Base64 => "base64 data",
        F::RrType => "a record type",
        F::Time => "a time (YYYYMMDDHHmmSS)",
        F::Alg => "a DNSSEC algorithm",
        F::Bitmap => "record types",
        F::Salt => "a salt (hex or `-`)",
        F::NextHash => "a base32hex hash",
        F::CaaTag => "a CAA property tag",
        F::CaaValue => "a CAA value",
        F::SvcParams => "service parameters",
    }
}

/// Parses the RDATA tokens of a type into wire form, appended to `out`.
pub fn parse_rdata(
    code: u16,
    src: &[u8],
    toks: &[Tok],
    origin: Option<&[u8]>,
    out: &mut Vec<u8>,
) -> Result<(), FieldError> {
    let tname = type_name(code);
    if toks
        .first()
        .is_some_and(|t| !t.quoted && t.text(src) == b"\\#")
    {
        return parse_generic(src, toks, out);
    }
    let Some(fields) = schema(code) else {
        return Err(FieldError {
            tok: toks.first().map(|_| 0),
            offset: 0,
            kind: ErrorKind::Type,
            message: format!(
                "expected RDATA in RFC 3597 form (`\\# length hex`) for type {tname}, which mailzone has no text layout for"
            ),
            help: Some(format!(
                "write the record as `TYPE{code} \\# <length> <hex>`"
            )),
        });
    };
    let mut i = 0usize;
    for &f in fields {
        let rest_field = matches!(
            f,
            F::CharStrs | F::Hex | F::Base64 | F::Bitmap | F::SvcParams | F::CaaValue
        );
        if i >= toks.len() && !matches!(f, F::Bitmap | F::SvcParams) {
            return Err(FieldError {
                tok: None,
                offset: 0,
                kind: if f == F::MxPref {
                    ErrorKind::MxPreference
                } else {
                    ErrorKind::Rdata
                },
                message: format!(
                    "expected {} in the {tname} record, found the end of the record",
                    field_what(f)
                ),
                help: Some(format!("a {tname} record needs: {}", layout_words(fields))),
            });
        }
        if rest_field {
            let rest = &toks[i..];
            parse_rest(f, src, rest, i, out, &tname)?;
            i = toks.len();
            continue;
        }
        let tok = toks[i];
        let raw = tok.text(src);
        let bad = |msg: String| FieldError::at(i, msg);
        match f {
            F::U8 => out.push(parse_uint(raw, 255, "an 8-bit number").map_err(bad)? as u8),
            F::U16 => out.extend_from_slice(
                &(parse_uint(raw, 65535, "a 16-bit number").map_err(bad)? as u16).to_be_bytes(),
            ),
            F::MxPref => {
                let v = parse_uint(raw, 65535, "the MX preference").map_err(|m| {
                    FieldError::at(i, m)
                        .kind(ErrorKind::MxPreference)
                        .help("an MX preference is a 16-bit number; use a value from 0 to 65535")
                })?;
                out.extend_from_slice(&(v as u16).to_be_bytes());
            }
            F::U32 => out.extend_from_slice(
                &(parse_uint(raw, u32::MAX as u64, "a 32-bit number").map_err(bad)? as u32)
                    .to_be_bytes(),
            ),
            F::Period => out.extend_from_slice(&parse_ttl(raw).map_err(bad)?.to_be_bytes()),
            F::Name => {
                if tok.quoted {
                    return Err(bad(format!(
                        "expected a domain name, found the quoted string {}",
                        crate::error::shown(raw)
                    )));
                }
                name_to_wire(raw, origin, out).map_err(bad)?
            }
            F::Ipv4 => {
                let a: Ipv4Addr = std::str::from_utf8(raw)
                    .ok()
                    .filter(|s| s.split('.').count() == 4)
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| {
                        bad(format!(
                            "expected an IPv4 address, found {}",
                            crate::error::shown(raw)
                        ))
                    })?;
                out.extend_from_slice(&a.octets());
            }
            F::Ipv6 => {
                let a: Ipv6Addr = std::str::from_utf8(raw)
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| {
                        bad(format!(
                            "expected an IPv6 address, found {}",
                            crate::error::shown(raw)
                        ))
                    })?;
                out.extend_from_slice(&a.octets());
            }
            F::CharStr => char_string(raw, i, out)?,
            F::RrType => {
                let c = type_code(raw).ok_or_else(|| {
                    bad(format!(
                        "expected a record type, found {}",
                        crate::error::shown(raw)
                    ))
                })?;
                out.extend_from_slice(&c.to_be_bytes());
            }
            F::Time => out.extend_from_slice(&parse_time(raw).map_err(bad)?.to_be_bytes()),
            F::Alg => {
                let v = match ALGS
                    .iter()
                    .find(|a| a.0.as_bytes().eq_ignore_ascii_case(raw))
                {
                    Some(a) => a.1,
                    None => parse_uint(raw, 255, "a DNSSEC algorithm").map_err(bad)? as u8,
                };
                out.push(v);
            }
            F::Salt => {
                if raw == b"-" {
                    out.push(0);
                } else {
                    let bytes = HEXUPPER_PERMISSIVE.decode(raw).map_err(|_| {
                        bad(format!(
                            "expected a salt in hex or `-`, found {}",
                            crate::error::shown(raw)
                        ))
                    })?;
                    if bytes.len() > 255 {
                        return Err(bad("the salt is longer than 255 bytes".into()));
                    }
                    out.push(bytes.len() as u8);
                    out.extend_from_slice(&bytes);
                }
            }
            F::NextHash => {
                let up = raw.to_ascii_uppercase();
                let bytes = BASE32HEX_NOPAD.decode(&up).map_err(|_| {
                    bad(format!(
                        "expected a base32hex hash, found {}",
                        crate::error::shown(raw)
                    ))
                })?;
                if bytes.is_empty() || bytes.len() > 255 {
                    return Err(bad("the next hashed owner must be 1–255 bytes".into()));
                }
                out.push(bytes.len() as u8);
                out.extend_from_slice(&bytes);
            }
            F::CaaTag => {
                if tok.quoted
                    || raw.is_empty()
                    || raw.len() > 255
                    || !raw.iter().all(u8::is_ascii_alphanumeric)
                {
                    return Err(bad(format!(
                        "expected a CAA tag of letters and digits (issue, issuewild, iodef, …), found {}",
                        crate::error::shown(raw)
                    )));
                }
                out.push(raw.len() as u8);
                out.extend_from_slice(raw);
            }
            F::CharStrs | F::Hex | F::Base64 | F::Bitmap | F::SvcParams | F::CaaValue => {
                unreachable!("handled above")
            }
        }
        i += 1;
    }
    if i < toks.len() {
        return Err(FieldError::at(
            i,
            format!(
                "expected the end of the {tname} record, found {}",
                crate::error::shown(toks[i].text(src))
            ),
        )
        .help(format!("a {tname} record has: {}", layout_words(fields))));
    }
    Ok(())
}

fn layout_words(fields: &[F]) -> String {
    fields
        .iter()
        .map(|&f| field_what(f))
        .collect::<Vec<_>>()
        .join(", ")
}

fn char_string(raw: &[u8], i: usize, out: &mut Vec<u8>) -> Result<(), FieldError> {
    // Unescaped in place after a length byte set once the length is known
    // (a scratch buffer per record showed in the read profile).
    let at = out.len();
    out.push(0);
    unescape(raw, out).map_err(|m| FieldError::at(i, m))?;
    let len = out.len() - at - 1;
    if len > 255 {
        return Err(FieldError::at(
            i,
            format!("expected a character-string of at most 255 bytes, found one of {len} bytes"),
        )
        .kind(ErrorKind::StringTooLong)
        .help("split the text into several quoted strings inside the same record: \"part1\" \"part2\""));
    }
    out[at] = len as u8;
    Ok(())
}

fn parse_rest(
    f: F,
    src: &[u8],
    toks: &[Tok],
    base: usize,
    out: &mut Vec<u8>,
    tname: &str,
) -> Result<(), FieldError> {
    match f {
        F::CharStrs => {
            for (k, t) in toks.iter().enumerate() {
                char_string(t.text(src), base + k, out)?;
            }
        }
        F::CaaValue => {
            if toks.len() > 1 {
                return Err(FieldError::at(
                    base + 1,
                    format!(
                        "expected the end of the CAA record, found {}",
                        crate::error::shown(toks[1].text(src))
                    ),
                )
                .help("quote a CAA value that contains spaces"));
            }
            unescape(toks[0].text(src), out).map_err(|m| FieldError::at(base, m))?;
        }
        F::Hex => {
            let mut joined = Vec::new();
            for t in toks {
                joined.extend_from_slice(t.text(src));
            }
            if joined == b"-" {
                return Ok(());
            }
            let bytes = HEXUPPER_PERMISSIVE.decode(&joined).map_err(|_| {
                let (k, bad) = toks
                    .iter()
                    .enumerate()
                    .find(|(_, t)| !t.text(src).iter().all(u8::is_ascii_hexdigit))
                    .map(|(k, t)| (k, t.text(src)))
                    .unwrap_or((0, &joined[..0]));
                if bad.is_empty() {
                    FieldError::at(base, format!("expected hexadecimal data with an even number of digits in the {tname} record, found {} digits", joined.len()))
                } else {
                    FieldError::at(base + k, format!("expected hexadecimal data in the {tname} record, found {}", crate::error::shown(bad)))
                }
            })?;
            if matches!(tname, "DS" | "CDS") && out.len() >= 4 {
                let want = match out[out.len() - 1] {
                    1 => Some(20),
                    2 => Some(32),
                    4 => Some(48),
                    _ => None,
                };
                if let Some(w) = want.filter(|&w| w != bytes.len()) {
                    return Err(FieldError::at(
                        base,
                        format!(
                            "expected a {w}-byte digest for digest type {}, found {} bytes",
                            out[out.len() - 1],
                            bytes.len()
                        ),
                    ));
                }
            }
            out.extend_from_slice(&bytes);
        }
        F::Base64 => {
            let mut joined = Vec::new();
            for t in toks {
                joined.extend_from_slice(t.text(src));
            }
            let bytes = BASE64.decode(&joined).map_err(|e| {
                let (k, off) = locate(src, toks, e.position);
                let mut fe = FieldError::at(
                    base + k,
                    format!("expected base64 data in the {tname} record; it does not decode ({e})"),
                );
                fe.offset = off;
                fe
            })?;
            out.extend_from_slice(&bytes);
        }
        F::Bitmap => {
            let mut types = Vec::with_capacity(toks.len());
            for (k, t) in toks.iter().enumerate() {
                let c = type_code(t.text(src)).ok_or_else(|| {
                    FieldError::at(
                        base + k,
                        format!(
                            "expected a record type in the type bitmap, found {}",
                            crate::error::shown(t.text(src))
                        ),
                    )
                })?;
                types.push(c);
            }
            write_bitmap(&mut types, out);
        }
        F::SvcParams => parse_svc_params(src, toks, base, out)?,
        _ => unreachable!("not a rest field"),
    }
    Ok(())
}

/// Which token, and which byte in it, holds byte `pos` of the tokens joined.
fn locate(src: &[u8], toks: &[Tok], mut pos: usize) -> (usize, u32) {
    for (k, t) in toks.iter().enumerate() {
        let len = t.text(src).len();
        if pos < len {
            return (k, pos as u32);
        }
        pos -= len;
    }
    (toks.len().saturating_sub(1), 0)
}

/// The NSEC type bitmap (RFC 4034 §4.1.2) for a set of types.
pub fn write_bitmap(types: &mut [u16], out: &mut Vec<u8>) {
    types.sort_unstable();
    let mut k = 0;
    while k < types.len() {
        let window = (types[k] >> 8) as u8;
        let mut bits = [0u8; 32];
        let mut len = 0;
        while k < types.len() && (types[k] >> 8) as u8 == window {
            let low = (types[k] & 0xff) as usize;
            bits[low / 8] |= 0x80 >> (low % 8);
            len = len.max(low / 8 + 1);
            k += 1;
        }
        out.push(window);
        out.push(len as u8);
        out.extend_from_slice(&bits[..len]);
    }
}

fn parse_generic(src: &[u8], toks: &[Tok], out: &mut Vec<u8>) -> Result<(), FieldError> {
    let Some(len_tok) = toks.get(1) else {
        return Err(FieldError {
            tok: None,
            offset: 0,
            kind: ErrorKind::Rdata,
            message: "expected the RDATA length after `\\#`, found the end of the record".into(),
            help: Some("RFC 3597 form is `\\# <length> <hex>`".into()),
        });
    };
    let len = parse_uint(len_tok.text(src), 65535, "the RDATA length")
        .map_err(|m| FieldError::at(1, m))? as usize;
    let mut joined = Vec::new();
    for t in &toks[2..] {
        joined.extend_from_slice(t.text(src));
    }
    let bytes = HEXUPPER_PERMISSIVE.decode(&joined).map_err(|_| {
        FieldError::at(
            2.min(toks.len() - 1),
            "expected hexadecimal RDATA after the length, with an even number of digits",
        )
    })?;
    if bytes.len() != len {
        return Err(FieldError::at(
            1,
            format!(
                "the length says {len} bytes, but the hex data holds {} bytes",
                bytes.len()
            ),
        ));
    }
    out.extend_from_slice(&bytes);
    Ok(())
}

const SVC_KEYS: &[(&str, u16)] = &[
    ("mandatory", 0),
    ("alpn", 1),
    ("no-default-alpn", 2),
    ("port", 3),
    ("ipv4hint", 4),
    ("ech", 5),
    ("ipv6hint", 6),
];

fn svc_key(raw: &[u8]) -> Option<u16> {
    if let Some(k) = SVC_KEYS.iter().find(|k| k.0.as_bytes() == raw) {
        return Some(k.1);
    }
    if raw.len() > 3 && raw.starts_with(b"key") {
        return parse_uint(&raw[3..], 65534, "key").ok().map(|v| v as u16);
    }
    None
}

fn svc_key_name(k: u16) -> String {
    SVC_KEYS
        .iter()
        .find(|e| e.1 == k)
        .map(|e| e.0.to_string())
        .unwrap_or_else(|| format!("key{k}"))
}

/// Splits a decoded value list on commas, honouring `\,` and `\\` (RFC 9460 App. A.1).
fn value_list(v: &[u8]) -> Vec<Vec<u8>> {
    let mut items = vec![Vec::new()];
    let mut i = 0;
    while i < v.len() {
        match v[i] {
            b'\\' if i + 1 < v.len() => {
                items.last_mut().unwrap().push(v[i + 1]);
                i += 2;
            }
            b',' => {
                items.push(Vec::new());
                i += 1;
            }
            b => {
                items.last_mut().unwrap().push(b);
                i += 1;
            }
        }
    }
    items
}

fn parse_svc_params(
    src: &[u8],
    toks: &[Tok],
    base: usize,
    out: &mut Vec<u8>,
) -> Result<(), FieldError> {
    let mut params: Vec<(u16, Vec<u8>, usize)> = Vec::new();
    let mut k = 0;
    while k < toks.len() {
        let at = base + k;
        let raw = toks[k].text(src);
        let (key_raw, value): (&[u8], Option<Vec<u8>>) = match raw.iter().position(|&b| b == b'=') {
            Some(p)
                if p + 1 == raw.len()
                    && toks
                        .get(k + 1)
                        .is_some_and(|n| n.quoted && n.start == toks[k].end + 1) =>
            {
                k += 1;
                let mut v = Vec::new();
                unescape(toks[k].text(src), &mut v).map_err(|m| FieldError::at(at, m))?;
                (&raw[..p], Some(v))
            }
            Some(p) => {
                let mut v = Vec::new();
                unescape(&raw[p + 1..], &mut v).map_err(|m| FieldError::at(at, m))?;
                (&raw[..p], Some(v))
            }
            None => (raw, None),
        };
        k += 1;
        let key = svc_key(key_raw).ok_or_else(|| {
            FieldError::at(at, format!("expected a service parameter key (mandatory, alpn, no-default-alpn, port, ipv4hint, ech, ipv6hint or keyNNNNN), found {}", crate::error::shown(key_raw)))
        })?;
        if params.iter().any(|p| p.0 == key) {
            return Err(FieldError::at(
                at,
                format!("service parameter `{}` appears twice", svc_key_name(key)),
            ));
        }
        let need_value = |v: Option<Vec<u8>>| {
            v.filter(|v| !v.is_empty()).ok_or_else(|| {
                FieldError::at(at, format!("expected a value for `{}=`", svc_key_name(key)))
            })
        };
        let mut wire = Vec::new();
        match key {
            0 => {
                let mut keys = Vec::new();
                for item in value_list(&need_value(value)?) {
                    keys.push(svc_key(&item).ok_or_else(|| {
                        FieldError::at(
                            at,
                            format!(
                                "expected a key name in mandatory=, found {}",
                                crate::error::shown(&item)
                            ),
                        )
                    })?);
                }
                keys.sort_unstable();
                for kk in keys {
                    wire.extend_from_slice(&kk.to_be_bytes());
                }
            }
            1 => {
                for item in value_list(&need_value(value)?) {
                    if item.is_empty() || item.len() > 255 {
                        return Err(FieldError::at(
                            at,
                            "each alpn identifier must be 1–255 bytes",
                        ));
                    }
                    wire.push(item.len() as u8);
                    wire.extend_from_slice(&item);
                }
            }
            2 => {
                if value.as_ref().is_some_and(|v| !v.is_empty()) {
                    return Err(FieldError::at(at, "`no-default-alpn` takes no value"));
                }
            }
            3 => {
                let v = need_value(value)?;
                wire.extend_from_slice(
                    &(parse_uint(&v, 65535, "a port").map_err(|m| FieldError::at(at, m))? as u16)
                        .to_be_bytes(),
                );
            }
            4 => {
                for item in value_list(&need_value(value)?) {
                    let a: Ipv4Addr = std::str::from_utf8(&item)
                        .ok()
                        .and_then(|s| s.parse().ok())
                        .ok_or_else(|| {
                            FieldError::at(
                                at,
                                format!(
                                    "expected an IPv4 address in ipv4hint, found {}",
                                    crate::error::shown(&item)
                                ),
                            )
                        })?;
                    wire.extend_from_slice(&a.octets());
                }
            }
            5 => {
                wire = BASE64
                    .decode(&need_value(value)?)
                    .map_err(|_| FieldError::at(at, "expected base64 in ech="))?;
            }
            6 => {
                for item in value_list(&need_value(value)?) {
                    let a: Ipv6Addr = std::str::from_utf8(&item)
                        .ok()
                        .and_then(|s| s.parse().ok())
                        .ok_or_else(|| {
                            FieldError::at(
                                at,
                                format!(
                                    "expected an IPv6 address in ipv6hint, found {}",
                                    crate::error::shown(&item)
                                ),
                            )
                        })?;
                    wire.extend_from_slice(&a.octets());
                }
            }
            _ => wire = value.unwrap_or_default(),
        }
        params.push((key, wire, at));
    }
    params.sort_by_key(|p| p.0);
    for (key, wire, at) in params {
        if wire.len() > 65535 {
            return Err(FieldError::at(at, "service parameter value too long"));
        }
        out.extend_from_slice(&key.to_be_bytes());
        out.extend_from_slice(&(wire.len() as u16).to_be_bytes());
        out.extend_from_slice(&wire);
    }
    Ok(())
}

/// Days since 1970-01-01 for a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// An RRSIG time (RFC 4034 §3.2): `YYYYMMDDHHmmSS` in UTC, or a plain number of seconds.
pub fn parse_time(raw: &[u8]) -> Result<u32, String> {
    if raw.len() == 14 && raw.iter().all(u8::is_ascii_digit) {
        let n = |a: usize, b: usize| {
            raw[a..b]
                .iter()
                .fold(0i64, |acc, d| acc * 10 + (d - b'0') as i64)
        };
        let (y, mo, d, h, mi, s) = (n(0, 4), n(4, 6), n(6, 8), n(8, 10), n(10, 12), n(12, 14));
        if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 59 {
            return Err(format!(
                "expected a time YYYYMMDDHHmmSS, found `{}` (a field is out of range)",
                String::from_utf8_lossy(raw)
            ));
        }
        let secs = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s;
        // Serial-number arithmetic (RFC 4034 §3.1.5): times wrap modulo 2^32.
        return Ok(secs.rem_euclid(1 << 32) as u32);
    }
    parse_uint(raw, u32::MAX as u64, "a time (YYYYMMDDHHmmSS or seconds)").map(|v| v as u32)
}

fn format_time(t: u32, out: &mut String) {
    let secs = t as i64;
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let r = secs.rem_euclid(86_400);
    let _ = write!(
        out,
        "{y:04}{m:02}{d:02}{:02}{:02}{:02}",
        r / 3600,
        r % 3600 / 60,
        r % 60
    );
}

/// Writes wire RDATA of a type in presentation format. Types without a layout,
/// and data that does not fit its layout, are written in RFC 3597 form.
pub fn write_rdata(code: u16, wire: &[u8], out: &mut String) {
    let start = out.len();
    if let Some(fields) = schema(code)
        && write_fields(fields, wire, out).is_some()
    {
        return;
    }
    out.truncate(start);
    let _ = write!(out, "\\# {}", wire.len());
    if !wire.is_empty() {
        out.push(' ');
        out.push_str(&HEXUPPER_PERMISSIVE.encode(wire));
    }
}

fn write_fields(fields: &[F], w: &[u8], out: &mut String) -> Option<()> {
    let mut p = 0usize;
    let take = |p: &mut usize, n: usize| -> Option<&[u8]> {
        let s = w.get(*p..*p + n)?;
        *p += n;
        Some(s)
    };
    for (idx, &f) in fields.iter().enumerate() {
        let sep = |out: &mut String| {
            if idx > 0 {
                out.push(' ');
            }
        };
        match f {
            F::U8 | F::Alg => {
                sep(out);
                let _ = write!(out, "{}", take(&mut p, 1)?[0]);
            }
            F::U16 | F::MxPref => {
                sep(out);
                let b = take(&mut p, 2)?;
                let _ = write!(out, "{}", u16::from_be_bytes([b[0], b[1]]));
            }
            F::U32 | F::Period => {
                sep(out);
                let b = take(&mut p, 4)?;
                let _ = write!(out, "{}", u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
            }
            F::Time => {
                sep(out);
                let b = take(&mut p, 4)?;
                format_time(u32::from_be_bytes([b[0], b[1], b[2], b[3]]), out);
            }
            F::RrType => {
                sep(out);
                let b = take(&mut p, 2)?;
                out.push_str(&type_name(u16::from_be_bytes([b[0], b[1]])));
            }
            F::Name => {
                sep(out);
                let n = wire_name_len(w.get(p..)?)?;
                write_wire_name(take(&mut p, n)?, out);
            }
            F::Ipv4 => {
                sep(out);
                let b = take(&mut p, 4)?;
                let _ = write!(out, "{}", Ipv4Addr::new(b[0], b[1], b[2], b[3]));
            }
            F::Ipv6 => {
                sep(out);
                let b: [u8; 16] = take(&mut p, 16)?.try_into().ok()?;
                let _ = write!(out, "{}", Ipv6Addr::from(b));
            }
            F::CharStr => {
                sep(out);
                let l = take(&mut p, 1)?[0] as usize;
                write_char_string(take(&mut p, l)?, out);
            }
            F::CharStrs => {
                let mut first = true;
                while p < w.len() {
                    if !first || idx > 0 {
                        out.push(' ');
                    }
                    first = false;
                    let l = take(&mut p, 1)?[0] as usize;
                    write_char_string(take(&mut p, l)?, out);
                }
                if first {
                    return None;
                }
            }
            F::Hex => {
                sep(out);
                let n = w.len() - p;
                let rest = take(&mut p, n)?;
                if rest.is_empty() {
                    out.push('-');
                } else {
                    out.push_str(&HEXUPPER_PERMISSIVE.encode(rest));
                }
            }
            F::Base64 => {
                sep(out);
                let n = w.len() - p;
                let rest = take(&mut p, n)?;
                if rest.is_empty() {
                    return None;
                }
                out.push_str(&BASE64.encode(rest));
            }
            F::Salt => {
                sep(out);
                let l = take(&mut p, 1)?[0] as usize;
                let s = take(&mut p, l)?;
                if s.is_empty() {
                    out.push('-');
                } else {
                    out.push_str(&HEXUPPER_PERMISSIVE.encode(s));
                }
            }
            F::NextHash => {
                sep(out);
                let l = take(&mut p, 1)?[0] as usize;
                out.push_str(&BASE32HEX_NOPAD.encode(take(&mut p, l)?));
            }
            F::Bitmap => {
                while p < w.len() {
                    let win = take(&mut p, 1)?[0] as u16;
                    let l = take(&mut p, 1)?[0] as usize;
                    if l == 0 || l > 32 {
                        return None;
                    }
                    for (byte_i, &byte) in take(&mut p, l)?.iter().enumerate() {
                        for bit in 0..8 {
                            if byte & (0x80 >> bit) != 0 {
                                out.push(' ');
                                out.push_str(&type_name(win << 8 | (byte_i * 8 + bit) as u16));
                            }
                        }
                    }
                }
            }
            F::CaaTag => {
                sep(out);
                let l = take(&mut p, 1)?[0] as usize;
                out.push_str(std::str::from_utf8(take(&mut p, l)?).ok()?);
            }
            F::CaaValue => {
                sep(out);
                let n = w.len() - p;
                write_char_string(take(&mut p, n)?, out);
            }
            F::SvcParams => {
                while p < w.len() {
                    let kb = take(&mut p, 2)?;
                    let key = u16::from_be_bytes([kb[0], kb[1]]);
                    let lb = take(&mut p, 2)?;
                    let v = take(&mut p, u16::from_be_bytes([lb[0], lb[1]]) as usize)?;
                    out.push(' ');
                    out.push_str(&svc_key_name(key));
                    write_svc_value(key, v, out)?;
                }
            }
        }
    }
    (p == w.len()).then_some(())
}

fn write_svc_value(key: u16, v: &[u8], out: &mut String) -> Option<()> {
    match key {
        0 => {
            out.push('=');
            let names: Vec<String> = v
                .chunks(2)
                .map(|c| {
                    if c.len() == 2 {
                        svc_key_name(u16::from_be_bytes([c[0], c[1]]))
                    } else {
                        String::new()
                    }
                })
                .collect();
            out.push_str(&names.join(","));
        }
        1 => {
            let mut items = Vec::new();
            let mut p = 0;
            while p < v.len() {
                let l = v[p] as usize;
                let item = v.get(p + 1..p + 1 + l)?;
                let mut s = Vec::new();
                for &b in item {
                    if b == b',' || b == b'\\' {
                        s.push(b'\\');
                    }
                    s.push(b);
                }
                items.push(s);
                p += 1 + l;
            }
            out.push('=');
            write_char_string(&items.join(&b','), out);
        }
        2 => {
            if !v.is_empty() {
                return None;
            }
        }
        3 => {
            let _ = write!(out, "={}", u16::from_be_bytes(v.try_into().ok()?));
        }
        4 => {
            if v.is_empty() || !v.len().is_multiple_of(4) {
                return None;
            }
            let a: Vec<String> = v
                .chunks(4)
                .map(|c| Ipv4Addr::new(c[0], c[1], c[2], c[3]).to_string())
                .collect();
            let _ = write!(out, "={}", a.join(","));
        }
        5 => {
            let _ = write!(out, "={}", BASE64.encode(v));
        }
        6 => {
            if v.is_empty() || !v.len().is_multiple_of(16) {
                return None;
            }
            let a: Vec<String> = v
                .chunks(16)
                .map(|c| Ipv6Addr::from(<[u8; 16]>::try_from(c).unwrap()).to_string())
                .collect();
            let _ = write!(out, "={}", a.join(","));
        }
        _ => {
            if !v.is_empty() {
                out.push('=');
                write_char_string(v, out);
            }
        }
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::Scanner;

    fn roundtrip(ty: &str, text: &str) -> String {
        let code = type_code(ty.as_bytes()).unwrap();
        let mut sc = Scanner::new(text.as_bytes());
        let mut toks = Vec::new();
        sc.next_entry(&mut toks).unwrap().unwrap();
        let mut origin = Vec::new();
        name_to_wire(b"example.com.", None, &mut origin).unwrap();
        let mut wire = Vec::new();
        parse_rdata(code, text.as_bytes(), &toks, Some(&origin), &mut wire).unwrap();
        let mut out = String::new();
        write_rdata(code, &wire, &mut out);
        out
    }

    #[test]
    fn layouts_round_trip() {
        assert_eq!(roundtrip("MX", "10 mail"), "10 mail.example.com.");
        assert_eq!(
            roundtrip("SOA", "ns h ( 1 2h 3 4 1d )"),
            "ns.example.com. h.example.com. 1 7200 3 4 86400"
        );
        assert_eq!(
            roundtrip("TXT", "\"a b\" c \"\\\"\""),
            "\"a b\" \"c\" \"\\\"\""
        );
        assert_eq!(
            roundtrip("CAA", "0 issue \"ca.example.net; account=1\""),
            "0 issue \"ca.example.net; account=1\""
        );
        assert_eq!(
            roundtrip("NSEC", "host.example.com. A MX RRSIG NSEC TYPE1234"),
            "host.example.com. A MX RRSIG NSEC TYPE1234"
        );
        assert_eq!(
            roundtrip(
                "RRSIG",
                "A 13 2 3600 20261201000000 20261101000000 12345 example.com. AAAA"
            ),
            "A 13 2 3600 20261201000000 20261101000000 12345 example.com. AAAA"
        );
        assert_eq!(
            roundtrip(
                "NSEC3",
                "1 0 10 AABB 2T7B4G4VSA5SMI47K61MV5BV1A22BOJR A RRSIG"
            ),
            "1 0 10 AABB 2T7B4G4VSA5SMI47K61MV5BV1A22BOJR A RRSIG"
        );
        assert_eq!(
            roundtrip("HTTPS", "1 . alpn=\"h2,h3\" port=443 ipv4hint=192.0.2.1"),
            "1 . alpn=\"h2,h3\" port=443 ipv4hint=192.0.2.1"
        );
        assert_eq!(
            roundtrip(
                "DS",
                "1 ECDSAP256SHA256 2 ( 4C1E 5A2B00112233445566778899AABBCCDDEEFF00112233445566778899AABB )"
            ),
            "1 13 2 4C1E5A2B00112233445566778899AABBCCDDEEFF00112233445566778899AABB"
        );
        assert_eq!(roundtrip("TYPE65280", "\\# 3 ABCDEF"), "\\# 3 ABCDEF");
    }

    #[test]
    fn time_conversion_matches_known_values() {
        assert_eq!(parse_time(b"19700101000000").unwrap(), 0);
        assert_eq!(parse_time(b"20000101000000").unwrap(), 946_684_800);
        let mut s = String::new();
        format_time(946_684_800, &mut s);
        assert_eq!(s, "20000101000000");
    }
}
