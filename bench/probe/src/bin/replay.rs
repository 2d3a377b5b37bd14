//! Replays a query file through the engine, with no sockets: reads and
//! compiles a zone, builds every query once, then answers them in order,
//! ROUNDS times over. Run under `valgrind --tool=callgrind` it gives a
//! noise-free instruction count per query; alone, a time per query.
//!
//! usage: mailzone-replay ZONE ORIGIN QUERIES [COUNT] [general] [signed]
//!        (COUNT queries answered in all, cycling the file; default 100000;
//!        `general`: never reuse an encoded answer; `signed`: sign the zone
//!        in memory first, ECDSA P-256 and NSEC3 (`nsec` too: NSEC), and set
//!        DO on every query, as validating resolvers do)

use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query};
use hickory_proto::rr::{Name, RecordType};
use mailzone_engine::{Catalog, ClientCtx, Snapshot, answer, answer_general};
use std::str::FromStr;
use std::time::Instant;

fn main() {
    let a: Vec<String> = std::env::args().collect();
    if a.len() < 4 {
        eprintln!("usage: mailzone-replay ZONE ORIGIN QUERIES [COUNT]");
        std::process::exit(2);
    }
    let count: usize = a.get(4).map_or(100_000, |c| c.parse().expect("COUNT"));
    let modes = a.get(5..).unwrap_or_default();
    let respond: Respond = if modes.iter().any(|m| m == "general") {
        answer_general
    } else {
        answer
    };
    let signed = modes.iter().any(|m| m == "signed");
    let origin = Name::from_str(&a[2]).expect("ORIGIN");
    let started = Instant::now();
    let r = mailzone_zone::read_zone_file(
        std::path::Path::new(&a[1]),
        &mailzone_zone::MasterOptions {
            origin: Some(origin),
            ..Default::default()
        },
    );
    assert!(r.is_ok(), "the zone has read errors");
    let read = started.elapsed();
    let nsec = modes.iter().any(|m| m == "nsec");
    let zone = if signed { sign(&r.zone, nsec) } else { r.zone };
    let cat = Catalog::new(vec![Snapshot::compile(&zone)]);
    eprintln!(
        "read {:.2} s, compile {:.2} s",
        read.as_secs_f64(),
        (started.elapsed() - read).as_secs_f64()
    );
    let queries: Vec<Vec<u8>> = std::fs::read_to_string(&a[3])
        .expect("query file")
        .lines()
        .filter_map(|l| l.split_once(' '))
        .enumerate()
        .map(|(i, (n, t))| {
            let mut m = Message::new(i as u16, MessageType::Query, OpCode::Query);
            m.add_query(Query::query(
                Name::from_str(n).expect("name"),
                RecordType::from_str(t.trim()).expect("type"),
            ));
            // As resolvers ask: EDNS with a 1232-byte payload.
            let mut e = Edns::new();
            e.set_max_payload(1232);
            e.set_dnssec_ok(signed);
            m.set_edns(e);
            m.to_vec().expect("query")
        })
        .collect();
    let ctx = ClientCtx {
        tcp: false,
        udp_payload: 1232,
    };
    let mut out = Vec::with_capacity(4096);
    // Every query once first, so that the measured run sees a server that
    // has been answering for a while (answers encoded, allocator warm).
    for q in &queries {
        out.clear();
        respond(&cat, q, &ctx, &mut out);
    }
    let t0 = Instant::now();
    let bytes = measure(&cat, &queries, &ctx, &mut out, count, respond);
    let dt = t0.elapsed();
    println!(
        "{count} queries, {bytes} bytes answered, {:.0} ns per query",
        dt.as_nanos() as f64 / count as f64
    );
}

/// The zone signed with a fresh key, valid from now for 30 days, with NSEC
/// or NSEC3 denial.
fn sign(zone: &mailzone_zone::Zone, nsec: bool) -> mailzone_zone::Zone {
    use mailzone_engine::sign::{Denial, Validity, sign_with_new_key};
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as u32;
    let validity = Validity {
        inception: now - 3600,
        expiration: now + 30 * 86400,
    };
    let denial = if nsec { Denial::Nsec } else { Denial::Nsec3 };
    sign_with_new_key(zone, denial, validity).expect("signing")
}

type Respond = fn(&Catalog, &[u8], &ClientCtx, &mut Vec<u8>) -> bool;

/// The measured loop (callgrind counts inside this function only).
#[inline(never)]
fn measure(
    cat: &Catalog,
    queries: &[Vec<u8>],
    ctx: &ClientCtx,
    out: &mut Vec<u8>,
    count: usize,
    respond: Respond,
) -> usize {
    let mut bytes = 0;
    for i in 0..count {
        out.clear();
        if respond(cat, &queries[i % queries.len()], ctx, out) {
            bytes += out.len();
        }
    }
    bytes
}
