//! Answering an unsigned zone's queries allocates nothing once the server is
//! warm: not on the fast path (answers encoded once) and not on the general
//! one (NXDOMAIN, NODATA, wildcards, CNAME chains, referrals, truncation).
//! A counting allocator, armed on this thread only, holds it to that.
//! In a signed zone, positive answers to queries with DO set (what validating
//! resolvers send) allocate nothing either, on either path. DNAME synthesis
//! and DNSSEC denials, wildcards and referrals (their proofs) may allocate.

use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query};
use hickory_proto::rr::{Name, RecordType};
use mailzone_engine::{Catalog, ClientCtx, Snapshot, answer, answer_general};
use mailzone_zone::{MasterOptions, read_master_str};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    static ARMED: Cell<bool> = const { Cell::new(false) };
    static COUNT: Cell<usize> = const { Cell::new(0) };
}

fn note() {
    // `try_with`: the allocator also runs while thread-locals are torn down.
    let _ = ARMED.try_with(|a| {
        if a.get() {
            let _ = COUNT.try_with(|c| c.set(c.get() + 1));
        }
    });
}

// SAFETY: every call is passed straight to the system allocator.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        note();
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        note();
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Allocations made by `f` on this thread.
fn allocations(f: impl FnOnce()) -> usize {
    COUNT.with(|c| c.set(0));
    ARMED.with(|a| a.set(true));
    f();
    ARMED.with(|a| a.set(false));
    COUNT.with(|c| c.get())
}

const ZONE: &str = r#"$ORIGIN example.test.
$TTL 3600
@        SOA   ns1 hostmaster 1 7200 900 1209600 300
@        NS    ns1
@        NS    ns2
ns1      A     192.0.2.1
ns2      A     192.0.2.2
@        MX    10 mx1
@        MX    20 mx2
@        TXT   "v=spf1 mx -all"
mx1      A     192.0.2.25
mx2      AAAA  2001:db8::26
www      CNAME web
web      CNAME host
host     A     192.0.2.90
out      CNAME www.elsewhere.test.
loop1    CNAME loop2
loop2    CNAME loop1
*.wild   TXT   "wild"
*.wild   MX    10 mx1
sub.wild A     192.0.2.50
a.b.ent  A     192.0.2.51
child    NS    ns.child
child    NS    ns.elsewhere.test.
ns.child A     192.0.2.53
Mixed    A     192.0.2.92
"#;

fn query(name: &str, t: RecordType, edns: bool) -> Vec<u8> {
    let mut m = Message::new(7, MessageType::Query, OpCode::Query);
    m.add_query(Query::query(Name::from_ascii(name).unwrap(), t));
    if edns {
        let mut e = Edns::new();
        e.set_max_payload(1232);
        m.set_edns(e);
    }
    m.to_vec().unwrap()
}

/// A query with EDNS (4,096 bytes) and DO set, as validating resolvers ask.
fn query_do(name: &str, t: RecordType) -> Vec<u8> {
    let mut m = Message::new(7, MessageType::Query, OpCode::Query);
    m.add_query(Query::query(Name::from_ascii(name).unwrap(), t));
    let mut e = Edns::new();
    e.set_max_payload(4096);
    e.set_dnssec_ok(true);
    m.set_edns(e);
    m.to_vec().unwrap()
}

type Respond = fn(&Catalog, &[u8], &ClientCtx, &mut Vec<u8>) -> bool;

#[test]
fn a_warm_server_allocates_nothing_per_query() {
    // Six 100-byte strings at `big`: more than 512 bytes, so UDP without
    // EDNS truncates.
    let mut zone = ZONE.to_string();
    for i in 0..6 {
        zone += &format!("big TXT \"{i}{}\"\n", &"0123456789".repeat(10)[1..]);
    }
    let r = read_master_str("z", &zone, &MasterOptions::default());
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    let cat = Catalog::new(vec![Snapshot::compile(&r.zone)]);
    let asked = [
        ("example.test.", RecordType::MX),
        ("example.test.", RecordType::TXT),
        ("example.test.", RecordType::ANY),
        ("EXAMPLE.test.", RecordType::MX),
        ("mixed.example.test.", RecordType::A),
        ("host.example.test.", RecordType::AAAA),
        ("www.example.test.", RecordType::A),
        ("out.example.test.", RecordType::A),
        ("loop1.example.test.", RecordType::A),
        ("nothere.example.test.", RecordType::A),
        ("deep.nothere.example.test.", RecordType::MX),
        ("ent.example.test.", RecordType::A),
        ("x.y.wild.example.test.", RecordType::TXT),
        ("x.wild.example.test.", RecordType::MX),
        ("x.wild.example.test.", RecordType::A),
        ("host.child.example.test.", RecordType::A),
        ("child.example.test.", RecordType::NS),
        ("big.example.test.", RecordType::TXT),
        ("elsewhere.test.", RecordType::A),
    ];
    let queries: Vec<Vec<u8>> = asked
        .iter()
        .flat_map(|&(n, t)| [query(n, t, true), query(n, t, false)])
        .collect();
    let udp = ClientCtx::default();
    let tcp = ClientCtx {
        tcp: true,
        ..ClientCtx::default()
    };
    let mut out = Vec::with_capacity(65536);
    let paths: [(&str, Respond); 2] = [("served", answer), ("general", answer_general)];
    for (path, respond) in paths {
        for ctx in [&udp, &tcp] {
            for (q, i) in queries.iter().zip(0..) {
                // Warm: the fast path encodes an answer on its first use.
                out.clear();
                assert!(respond(&cat, q, ctx, &mut out));
                let n = allocations(|| {
                    out.clear();
                    respond(&cat, q, ctx, &mut out);
                });
                let (name, t) = asked[i / 2];
                assert_eq!(
                    n, 0,
                    "{path} path, {name} {t}, tcp {}: {n} allocations",
                    ctx.tcp
                );
                assert!(out.len() > 12);
                // The truncating path is among those measured.
                let truncated = out[2] & 0x02 != 0;
                assert_eq!(
                    truncated,
                    name == "big.example.test." && !ctx.tcp && i % 2 == 1
                );
            }
        }
    }
    // The counter counts: a query built inside the armed section allocates.
    assert!(allocations(|| drop(query("example.test.", RecordType::A, true))) > 0);
}

#[test]
fn a_warm_server_allocates_nothing_for_signed_positive_answers() {
    use mailzone_engine::sign::{Denial, Validity, sign_with_new_key};
    let r = read_master_str("z", ZONE, &MasterOptions::default());
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    let validity = Validity {
        inception: 1_700_000_000,
        expiration: 1_900_000_000,
    };
    let signed = sign_with_new_key(&r.zone, Denial::Nsec3, validity).unwrap();
    let cat = Catalog::new(vec![Snapshot::compile(&signed)]);
    let asked = [
        ("example.test.", RecordType::MX),
        ("example.test.", RecordType::TXT),
        ("example.test.", RecordType::DNSKEY),
        ("example.test.", RecordType::SOA),
        ("host.example.test.", RecordType::A),
        ("mx2.example.test.", RecordType::AAAA),
        ("sub.wild.example.test.", RecordType::A),
    ];
    let ctx = ClientCtx::default();
    let mut out = Vec::with_capacity(65536);
    for (name, t) in asked {
        let q = query_do(name, t);
        assert!(answer(&cat, &q, &ctx, &mut out));
        let served = allocations(|| {
            out.clear();
            answer(&cat, &q, &ctx, &mut out);
        });
        assert_eq!(served, 0, "{name} {t}: {served} allocations");
        let r = Message::from_vec(&out).unwrap();
        assert!(
            r.answers
                .iter()
                .any(|a| a.record_type() == RecordType::RRSIG),
            "{name} {t}: the answer is signed"
        );
        // It came from the encoding with signatures, made on the first query
        // (after its part without DO, whose length leads it).
        let mut key = Vec::new();
        for l in name.trim_end_matches('.').split('.') {
            key.push(l.len() as u8);
            key.extend_from_slice(l.as_bytes());
        }
        key.push(0);
        let z = cat.find(&key).unwrap();
        let enc = z
            .node(&key)
            .unwrap()
            .rrset(&z.sets, u16::from(t))
            .unwrap()
            .encoded
            .get()
            .unwrap();
        let plain = u16::from_le_bytes([enc[0], enc[1]]) as usize;
        assert!(enc.len() > 2 + plain, "{name} {t}: no encoding with DO");
        // The general path writes the same answer without allocating either
        // (signatures are kept inline).
        let general = allocations(|| {
            out.clear();
            answer_general(&cat, &q, &ctx, &mut out);
        });
        assert_eq!(general, 0, "{name} {t}: {general} allocations");
    }
    // The counter sees a signed answer that allocates: an NSEC3 denial's
    // proofs are gathered in a list.
    let q = query_do("nothere.example.test.", RecordType::A);
    assert!(answer(&cat, &q, &ctx, &mut out));
    assert!(
        allocations(|| {
            out.clear();
            answer(&cat, &q, &ctx, &mut out);
        }) > 0
    );
}
