//! The secondary side of zone transfers: ask a primary for its SOA serial,
//! and fetch what changed (IXFR, RFC 1995) or the whole zone (AXFR, RFC
//! 5936), TSIG-signed and verified when the zone names a key. The result is
//! the zone's new master-file text; the caller writes it to the zone's file
//! and loads that like any zone (checks, policy, compile, publish).

use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::rdata::SOA;
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType, TSigVerifier, TSigner};
use hickory_proto::serialize::binary::{BinEncodable, BinEncoder};
use mailzone_engine::transfer::TsigKey;
use mailzone_zone::{SourceMap, Zone, ZoneRecord};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::time::{Duration, SystemTime};

const TIMEOUT: Duration = Duration::from_secs(10);

fn now() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The query bytes, TSIG-signed when a key is given, with the verifier for
/// the response.
fn request(m: &Message, key: Option<&TsigKey>) -> Result<(Vec<u8>, Option<TSigVerifier>), String> {
    let mut q = m.to_vec().map_err(|e| e.to_string())?;
    let Some(k) = key else { return Ok((q, None)) };
    let signer = TSigner::new(k.secret.clone(), k.algorithm.clone(), k.name.clone(), 300)
        .map_err(|e| e.to_string())?;
    let (tsig, verifier) = signer.sign_message(m, now()).map_err(|e| e.to_string())?;
    let mut rec = Vec::new();
    tsig.emit(&mut BinEncoder::new(&mut rec))
        .map_err(|e| e.to_string())?;
    q.extend_from_slice(&rec);
    let ar = u16::from_be_bytes([q[10], q[11]]) + 1;
    q[10..12].copy_from_slice(&ar.to_be_bytes());
    Ok((q, verifier))
}

fn id() -> u16 {
    (SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(1, |d| d.subsec_nanos())
        & 0xffff) as u16
}

/// The primary's SOA serial for `zone`, asked over UDP.
pub fn primary_serial(primary: SocketAddr, zone: &Name) -> Result<u32, String> {
    let mut m = Message::new(id(), MessageType::Query, OpCode::Query);
    m.add_query(Query::query(zone.clone(), RecordType::SOA));
    let (q, _) = request(&m, None)?;
    let bind: SocketAddr = if primary.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let s = UdpSocket::bind(bind).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(2)))
        .map_err(|e| e.to_string())?;
    s.send_to(&q, primary).map_err(|e| e.to_string())?;
    let mut buf = vec![0u8; 65535];
    loop {
        let (n, from) = s
            .recv_from(&mut buf)
            .map_err(|e| format!("no SOA answer: {e}"))?;
        if from != primary || buf[..2] != q[..2] {
            continue;
        }
        let r = Message::from_vec(&buf[..n]).map_err(|e| e.to_string())?;
        if r.metadata.response_code != ResponseCode::NoError {
            return Err(format!("SOA query: {}", r.metadata.response_code));
        }
        return r
            .answers
            .iter()
            .find_map(|a| match &a.data {
                RData::SOA(soa) => Some(soa.serial),
                _ => None,
            })
            .ok_or_else(|| "no SOA in the answer".into());
    }
}

/// What a transfer brought.
pub struct Fetched {
    pub text: String,
    pub serial: u32,
    /// `IXFR` or `AXFR`, as the primary answered.
    pub kind: &'static str,
    pub messages: usize,
}

/// Fetches the zone from a primary: IXFR from `have` (our serial and the
/// records we serve) when we have a version, else AXFR.
pub fn fetch(
    primary: SocketAddr,
    zone: &Name,
    key: Option<&TsigKey>,
    have: Option<(u32, &[ZoneRecord])>,
) -> Result<Fetched, String> {
    let mut m = Message::new(id(), MessageType::Query, OpCode::Query);
    match have {
        Some((serial, _)) => {
            m.add_query(Query::query(zone.clone(), RecordType::IXFR));
            let soa = SOA::new(zone.clone(), zone.clone(), serial, 0, 0, 0, 0);
            m.add_authority(Record::from_rdata(zone.clone(), 0, RData::SOA(soa)));
        }
        None => {
            m.add_query(Query::query(zone.clone(), RecordType::AXFR));
        }
    }
    let (q, mut verifier) = request(&m, key)?;
    let mut s = TcpStream::connect_timeout(&primary, TIMEOUT).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(TIMEOUT))
        .map_err(|e| e.to_string())?;
    let mut frame = (q.len() as u16).to_be_bytes().to_vec();
    frame.extend_from_slice(&q);
    s.write_all(&frame).map_err(|e| e.to_string())?;
    let mut records: Vec<Record> = Vec::new();
    let mut messages = 0;
    let mut soas = 0;
    loop {
        let mut len = [0u8; 2];
        s.read_exact(&mut len)
            .map_err(|e| format!("the transfer stopped after {messages} messages: {e}"))?;
        let mut b = vec![0u8; u16::from_be_bytes(len) as usize];
        s.read_exact(&mut b).map_err(|e| e.to_string())?;
        messages += 1;
        if let Some(v) = &mut verifier {
            v.verify(&b)
                .map_err(|e| format!("TSIG of message {messages} does not verify: {e}"))?;
        }
        let r = Message::from_vec(&b).map_err(|e| e.to_string())?;
        if r.metadata.response_code != ResponseCode::NoError {
            return Err(format!("the primary answered {}", r.metadata.response_code));
        }
        for a in r.answers {
            if a.record_type() == RecordType::SOA {
                soas += 1;
            }
            records.push(a);
        }
        let first_serial = soa_serial(records.first());
        // Done: one SOA (up to date), or the closing SOA of an AXFR-style
        // answer, or the final SOA of an incremental one.
        let closing = records.len() > 1
            && records.last().map(Record::record_type) == Some(RecordType::SOA)
            && soa_serial(records.last()) == first_serial
            && (soas == 2 || (soas > 2 && soas % 2 == 0));
        if (records.len() == 1
            && have.is_some()
            && soa_serial(records.first()) == have.map(|h| h.0))
            || closing
        {
            break;
        }
    }
    let serial = soa_serial(records.first()).ok_or("the transfer does not start with an SOA")?;
    let incremental = records.len() > 1 && records[1].record_type() == RecordType::SOA;
    let (kind, result) = match (have, incremental) {
        (Some((_, current)), true) => ("IXFR", apply_ixfr(current, &records)?),
        (Some((ours, current)), false) if records.len() == 1 && serial == ours => {
            ("IXFR", current.to_vec())
        }
        _ => (
            "AXFR",
            records[..records.len() - 1]
                .iter()
                .map(to_zone_record)
                .collect(),
        ),
    };
    let zone_text = mailzone_zone::writer::write_canonical(&Zone {
        origin: zone.clone(),
        class: DNSClass::IN,
        records: result,
        sources: SourceMap::new(),
    });
    Ok(Fetched {
        text: zone_text,
        serial,
        kind,
        messages,
    })
}

fn soa_serial(r: Option<&Record>) -> Option<u32> {
    match r.map(|r| &r.data) {
        Some(RData::SOA(s)) => Some(s.serial),
        _ => None,
    }
}

fn to_zone_record(r: &Record) -> ZoneRecord {
    ZoneRecord {
        owner: r.name.clone(),
        class: DNSClass::IN,
        ttl: r.ttl,
        rdata: r.data.clone(),
        span: Default::default(),
    }
}

fn same(a: &ZoneRecord, b: &Record) -> bool {
    a.owner == b.name
        && a.rtype() == b.record_type()
        && a.rdata_wire() == to_zone_record(b).rdata_wire()
}

/// Applies an incremental transfer: after the first SOA, sequences of
/// (old SOA, deletions, new SOA, additions), RFC 1995 §4.
fn apply_ixfr(current: &[ZoneRecord], recs: &[Record]) -> Result<Vec<ZoneRecord>, String> {
    #[derive(PartialEq)]
    enum Phase {
        WantOld,
        Deleting,
        Adding,
    }
    let mut zone: Vec<ZoneRecord> = current.to_vec();
    let mut phase = Phase::WantOld;
    for r in &recs[1..recs.len() - 1] {
        let soa = r.record_type() == RecordType::SOA;
        phase = match (phase, soa) {
            // The old SOA opens the deletions; ours goes.
            (Phase::WantOld | Phase::Adding, true) => {
                zone.retain(|z| z.rtype() != RecordType::SOA);
                Phase::Deleting
            }
            // The new SOA opens the additions.
            (Phase::Deleting, true) => {
                zone.push(to_zone_record(r));
                Phase::Adding
            }
            (Phase::Deleting, false) => {
                let before = zone.len();
                zone.retain(|z| !same(z, r));
                if zone.len() == before {
                    return Err(format!(
                        "IXFR deletes {} {}, which we do not have",
                        r.name,
                        r.record_type()
                    ));
                }
                Phase::Deleting
            }
            (Phase::Adding, false) => {
                zone.push(to_zone_record(r));
                Phase::Adding
            }
            (Phase::WantOld, false) => return Err("IXFR without the old SOA".into()),
        };
    }
    if phase != Phase::Adding {
        return Err("IXFR ended in the middle of a change".into());
    }
    Ok(zone)
}
