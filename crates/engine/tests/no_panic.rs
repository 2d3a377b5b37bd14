//! The engine never panics on arbitrary bytes, and whatever it answers is a
//! well-formed DNS message with the query's ID. In a signed zone, mutated
//! queries with DO set get the same bytes from the served path as from the
//! general one. Bounded: PROPTEST_CASES (default 2000 per property).

use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query};
use hickory_proto::rr::{Name, RecordType};
use mailzone_engine::{Catalog, ClientCtx, Snapshot, answer, answer_general};
use mailzone_zone::{MasterOptions, read_master_str};
use proptest::prelude::*;
use std::sync::OnceLock;

fn catalog() -> &'static Catalog {
    static C: OnceLock<Catalog> = OnceLock::new();
    C.get_or_init(|| {
        let z = "$ORIGIN example.test.\n$TTL 60\n@ SOA ns1 h 1 2 3 4 5\n@ NS ns1\nns1 A 192.0.2.1\n@ MX 10 mx\nmx A 192.0.2.2\n* TXT \"w\"\nc CNAME mx\nd DNAME example.test.\nsub NS ns.sub\nns.sub A 192.0.2.3\n";
        Catalog::new(vec![Snapshot::compile(&read_master_str("z", z, &MasterOptions::default()).zone)])
    })
}

/// A zone like [`catalog`]'s (plus a wildcard below a name and an empty
/// non-terminal), signed in memory: NSEC3 when `nsec3`, else NSEC.
fn signed(nsec3: bool) -> &'static Catalog {
    use mailzone_engine::sign::{Denial, Validity, sign_with_new_key};
    static C: [OnceLock<Catalog>; 2] = [OnceLock::new(), OnceLock::new()];
    C[usize::from(nsec3)].get_or_init(|| {
        let z = "$ORIGIN example.test.\n$TTL 60\n@ SOA ns1 h 1 2 3 4 5\n@ NS ns1\nns1 A 192.0.2.1\n@ MX 10 mx\nmx A 192.0.2.2\nmx AAAA 2001:db8::2\n*.w TXT \"w\"\nc CNAME mx\nsub NS ns.sub\nns.sub A 192.0.2.3\na.b.ent A 192.0.2.4\n";
        let r = read_master_str("z", z, &MasterOptions::default());
        let validity = Validity { inception: 1_700_000_000, expiration: 1_900_000_000 };
        let denial = if nsec3 { Denial::Nsec3 } else { Denial::Nsec };
        Catalog::new(vec![Snapshot::compile(&sign_with_new_key(&r.zone, denial, validity).unwrap())])
    })
}

fn check(bytes: &[u8], tcp: bool) {
    let mut out = Vec::new();
    let ctx = ClientCtx {
        tcp,
        ..ClientCtx::default()
    };
    if answer(catalog(), bytes, &ctx, &mut out) {
        let m = Message::from_vec(&out).expect("every reply parses");
        assert_eq!(m.metadata.id, u16::from_be_bytes([bytes[0], bytes[1]]));
        assert!(tcp || out.len() <= 1232, "UDP replies fit the payload");
    }
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(2000),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn random_packets(bytes in prop::collection::vec(any::<u8>(), 0..600), tcp in any::<bool>()) {
        check(&bytes, tcp);
    }

    #[test]
    fn mutated_queries(name in "[a-zA-Z*]{1,8}(\\.[a-z]{1,5}){0,3}", t in 0u16..300, flips in prop::collection::vec((any::<usize>(), any::<u8>()), 0..6), cut in any::<usize>(), tcp in any::<bool>()) {
        let mut m = Message::new(99, MessageType::Query, OpCode::Query);
        let Ok(n) = Name::from_ascii(format!("{name}.example.test.")) else { return Ok(()) };
        m.add_query(Query::query(n, RecordType::from(t)));
        // hickory will not encode some types (OPT, …) as a question; those cases are skipped.
        let Ok(mut q) = m.to_vec() else { return Ok(()) };
        for (at, b) in flips {
            let i = at % q.len();
            if i >= 2 { q[i] = b; }
        }
        if cut % 5 == 0 { q.truncate(12 + cut % (q.len() - 11)); }
        check(&q, tcp);
    }

    #[test]
    fn signed_answers_with_do_equal_the_general_path(prefix in "([a-zA-Z*]{1,3}\\.)?", at in prop::sample::select(vec!["", "mx.", "MX.", "ns1.", "c.", "x.w.", "w.", "*.w.", "a.b.ent.", "b.ent.", "sub.", "ns.sub.", "nothere."]), t in prop::sample::select(vec![1u16, 2, 6, 15, 16, 28, 43, 46, 47, 48, 50, 51, 255, 99]), payload in 0u16..5000, flips in prop::collection::vec((any::<usize>(), any::<u8>()), 0..3), nsec3 in any::<bool>(), tcp in any::<bool>()) {
        let mut m = Message::new(99, MessageType::Query, OpCode::Query);
        let Ok(n) = Name::from_ascii(format!("{prefix}{at}example.test.")) else { return Ok(()) };
        m.add_query(Query::query(n, RecordType::from(t)));
        let mut e = Edns::new();
        e.set_max_payload(payload);
        e.set_dnssec_ok(true);
        m.set_edns(e);
        let Ok(mut q) = m.to_vec() else { return Ok(()) };
        for (at, b) in flips {
            let i = at % q.len();
            if i >= 2 { q[i] = b; }
        }
        let cat = signed(nsec3);
        let ctx = ClientCtx { tcp, ..ClientCtx::default() };
        let mut general = Vec::new();
        let g = answer_general(cat, &q, &ctx, &mut general);
        // Twice: the first may encode, the second reuses.
        for _ in 0..2 {
            let mut served = Vec::new();
            let f = answer(cat, &q, &ctx, &mut served);
            prop_assert_eq!((f, &served), (g, &general));
        }
        if g {
            let r = Message::from_vec(&general).expect("every reply parses");
            prop_assert_eq!(r.metadata.id, 99);
            prop_assert!(tcp || general.len() <= 1232, "UDP replies fit the payload");
        }
    }
}
