//! The zone model: records as `hickory-proto` types, each with the span it was
//! read from, and the zone that holds them. Wire encoding helpers live here so
//! every stage (writer, differential tests, later the compiler) encodes alike.

use crate::span::{SourceMap, Span};
use hickory_proto::rr::{DNSClass, Name, RData, RecordType};
use hickory_proto::serialize::binary::{
    BinDecodable, BinDecoder, BinEncodable, BinEncoder, NameEncoding, Restrict,
};

/// One resource record and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct ZoneRecord {
    pub owner: Name,
    pub class: DNSClass,
    pub ttl: u32,
    pub rdata: RData,
    pub span: Span,
}

impl ZoneRecord {
    pub fn rtype(&self) -> RecordType {
        self.rdata.record_type()
    }

    /// The RDATA in wire form: uncompressed, case preserved.
    pub fn rdata_wire(&self) -> Vec<u8> {
        rdata_to_wire(&self.rdata)
    }
}

/// A zone as read: its origin, its class, its records in file order, and the
/// text of every file they came from.
#[derive(Debug, Clone)]
pub struct Zone {
    pub origin: Name,
    pub class: DNSClass,
    pub records: Vec<ZoneRecord>,
    pub sources: SourceMap,
}

/// What a reader returns: the zone (partial when there are errors) and every
/// error found. A zone with errors must not be served.
#[derive(Debug, Clone)]
pub struct ReadResult {
    pub zone: Zone,
    pub errors: Vec<crate::error::ReadError>,
}

impl ReadResult {
    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }
}

/// Decodes wire RDATA into hickory's type. The error text says what hickory refused.
pub fn rdata_from_wire(code: u16, wire: &[u8]) -> Result<RData, String> {
    if wire.len() > u16::MAX as usize {
        return Err(format!(
            "the RDATA is {} bytes; at most 65535 fit in a record",
            wire.len()
        ));
    }
    let mut dec = BinDecoder::new(wire);
    let rtype = RecordType::from(code);
    let rd = RData::read(&mut dec, rtype, Restrict::new(wire.len() as u16))
        .map_err(|e| e.to_string())?;
    if !dec.is_empty() {
        return Err("trailing bytes after the RDATA".into());
    }
    Ok(rd)
}

/// Encodes RDATA uncompressed with its case preserved.
pub fn rdata_to_wire(rdata: &RData) -> Vec<u8> {
    let mut buf = Vec::with_capacity(64);
    rdata_to_wire_into(rdata, &mut buf);
    buf
}

/// [`rdata_to_wire`] into a buffer the caller reuses (cleared first): whole-zone
/// passes then allocate nothing per record.
pub fn rdata_to_wire_into(rdata: &RData, buf: &mut Vec<u8>) {
    buf.clear();
    // The types a mail zone is mostly made of are written here, as the
    // encoder writes them uncompressed: the encoder keeps compression
    // bookkeeping that allocates for every name, and whole-zone passes
    // (compile, content hash) encode every record. A test holds the two equal.
    match rdata {
        RData::A(a) => return buf.extend_from_slice(&a.0.octets()),
        RData::AAAA(a) => return buf.extend_from_slice(&a.0.octets()),
        RData::MX(mx) => {
            buf.extend_from_slice(&mx.preference.to_be_bytes());
            return push_name(&mx.exchange, buf);
        }
        RData::NS(n) => return push_name(&n.0, buf),
        RData::CNAME(n) => return push_name(&n.0, buf),
        RData::PTR(n) => return push_name(&n.0, buf),
        RData::TXT(t) if t.txt_data.iter().all(|s| s.len() <= 255) => {
            for s in t.txt_data.iter() {
                buf.push(s.len() as u8);
                buf.extend_from_slice(s);
            }
            return;
        }
        _ => {}
    }
    let mut enc = BinEncoder::new(buf);
    enc.set_name_encoding(NameEncoding::Uncompressed);
    // Encoding data we decoded ourselves cannot fail; an error here is our bug.
    rdata.emit(&mut enc).expect("re-encoding decoded RDATA");
}

/// A name in uncompressed wire form, case preserved.
pub fn name_to_wire_bytes(name: &Name) -> Vec<u8> {
    let mut buf = Vec::with_capacity(name.len() + 2);
    name_to_wire_into(name, &mut buf);
    buf
}

/// [`name_to_wire_bytes`] into a reused buffer (cleared first). Writes what
/// hickory's encoder writes uncompressed (each label after its length, then
/// the root label) without the encoder: it keeps compression bookkeeping
/// that allocates for every name, which showed in whole-zone passes.
pub fn name_to_wire_into(name: &Name, buf: &mut Vec<u8>) {
    buf.clear();
    push_name(name, buf);
}

/// Appends a name's uncompressed wire form.
fn push_name(name: &Name, buf: &mut Vec<u8>) {
    for l in name.iter() {
        buf.push(l.len() as u8);
        buf.extend_from_slice(l);
    }
    buf.push(0);
}

/// A name from uncompressed wire form.
pub fn name_from_wire(wire: &[u8]) -> Result<Name, String> {
    let mut dec = BinDecoder::new(wire);
    Name::read(&mut dec).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn by_encoder(rdata: &RData) -> Vec<u8> {
        let mut buf = Vec::new();
        let mut enc = BinEncoder::new(&mut buf);
        enc.set_name_encoding(NameEncoding::Uncompressed);
        rdata.emit(&mut enc).unwrap();
        buf
    }

    /// The hand-written encodings are the encoder's, byte for byte.
    #[test]
    fn fast_encodings_match_the_encoder() {
        let text = r#"$ORIGIN Example.COM.
@ 300 IN SOA ns1 hostmaster 1 2 3 4 5
@ IN NS ns1
@ IN NS NS2.Other.NET.
@ IN MX 10 Mail
@ IN MX 0 .
@ IN A 192.0.2.1
@ IN AAAA 2001:db8::1
@ IN TXT "v=spf1 -all"
@ IN TXT "" "two" "strings with \"quotes\" and \\ and \255"
www IN CNAME @
*.w IN CNAME x\.y.example.com.
1 IN PTR host.example.com.
sel._domainkey IN TXT ( "v=DKIM1; k=rsa; p=MIIB" "IjANBg" )
_25._tcp.mail IN TLSA 3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
_sub._tcp IN SRV 0 1 587 Mail.Example.COM.
"#;
        let r = crate::master::read_master_str("t.zone", text, &crate::MasterOptions::default());
        assert!(r.errors.is_empty(), "{:?}", r.errors);
        assert!(r.zone.records.len() >= 15);
        let mut buf = Vec::new();
        for rec in &r.zone.records {
            rdata_to_wire_into(&rec.rdata, &mut buf);
            assert_eq!(buf, by_encoder(&rec.rdata), "{rec:?}");
        }
    }
}
