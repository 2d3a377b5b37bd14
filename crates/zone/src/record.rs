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
