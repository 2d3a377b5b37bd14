//! The engine's DNSSEC rules on bytes, without sockets: a zone signed in
//! memory with a fresh key, then queries with and without DO. Validation
//! itself is judged by delv and unbound in tests/dnssec.rs; here, what goes
//! in which section.

use hickory_proto::dnssec::rdata::DNSSECRData;
use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use mailzone_engine::sign::{Denial, Validity, sign_with_new_key};
use mailzone_engine::{Catalog, ClientCtx, Snapshot, answer};
use mailzone_zone::{MasterOptions, read_master_str};

mod common;

const ZONE: &str = r#"$ORIGIN example.test.
$TTL 3600
@        SOA   ns1 hostmaster 1 7200 900 1209600 300
@        NS    ns1
ns1      A     192.0.2.1
@        MX    10 mx1
mx1      A     192.0.2.25
*.wild   TXT   "wild"
child    NS    ns.child
ns.child A     192.0.2.53
big      TXT   "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
big      TXT   "1123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
big      TXT   "2123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
big      TXT   "3123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
"#;

fn catalog(denial: Denial) -> Catalog {
    let r = read_master_str("z", ZONE, &MasterOptions::default());
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    let validity = Validity {
        inception: 1_700_000_000,
        expiration: 1_900_000_000,
    };
    let signed = sign_with_new_key(&r.zone, denial, validity).unwrap();
    Catalog::new(vec![Snapshot::compile(&signed)])
}

fn ask(cat: &Catalog, name: &str, t: RecordType, edns: Option<(u16, bool)>) -> Message {
    let mut m = Message::new(7, MessageType::Query, OpCode::Query);
    m.add_query(Query::query(Name::from_ascii(name).unwrap(), t));
    if let Some((payload, dnssec_ok)) = edns {
        let mut e = Edns::new();
        e.set_max_payload(payload);
        e.set_dnssec_ok(dnssec_ok);
        m.set_edns(e);
    }
    let mut out = Vec::new();
    assert!(answer(
        cat,
        &m.to_vec().unwrap(),
        &ClientCtx::default(),
        &mut out
    ));
    Message::from_vec(&out).unwrap()
}

fn types(recs: &[Record]) -> Vec<RecordType> {
    recs.iter().map(|r| r.record_type()).collect()
}

/// Every RRset in a section has an RRSIG covering it, and every RRSIG an RRset.
fn signed_together(recs: &[Record]) -> Result<(), String> {
    for r in recs {
        let covered = match &r.data {
            RData::DNSSEC(DNSSECRData::RRSIG(s)) => Some(s.input().type_covered),
            _ => None,
        };
        let (t, want) = match covered {
            Some(c) => (c, "its RRset"),
            None => (r.record_type(), "an RRSIG"),
        };
        let found = recs.iter().any(|o| {
            o.name == r.name
                && match (&o.data, covered) {
                    (RData::DNSSEC(DNSSECRData::RRSIG(s)), None) => s.input().type_covered == t,
                    (d, Some(_)) => {
                        !matches!(d, RData::DNSSEC(DNSSECRData::RRSIG(_))) && o.record_type() == t
                    }
                    _ => false,
                }
        });
        if !found {
            return Err(format!("{} {t} without {want}", r.name));
        }
    }
    Ok(())
}

#[test]
fn without_do_no_dnssec_records_unless_asked_by_type() {
    let cat = catalog(Denial::Nsec);
    let m = ask(&cat, "example.test.", RecordType::MX, Some((1232, false)));
    assert_eq!(types(&m.answers), [RecordType::MX]);
    let m = ask(&cat, "nothing.example.test.", RecordType::A, None);
    assert_eq!(m.metadata.response_code, ResponseCode::NXDomain);
    assert_eq!(types(&m.authorities), [RecordType::SOA]);
    let m = ask(&cat, "example.test.", RecordType::DNSKEY, None);
    assert_eq!(types(&m.answers), [RecordType::DNSKEY]);
}

#[test]
fn with_do_every_rrset_comes_with_its_signatures_and_denials_with_proofs() {
    for denial in [Denial::Nsec, Denial::Nsec3] {
        let cat = catalog(denial);
        let proof = if denial == Denial::Nsec {
            RecordType::NSEC
        } else {
            RecordType::NSEC3
        };
        let m = ask(&cat, "example.test.", RecordType::MX, Some((4096, true)));
        assert_eq!(types(&m.answers), [RecordType::MX, RecordType::RRSIG]);
        signed_together(
            &m.additionals
                .iter()
                .filter(|r| r.record_type() != RecordType::OPT)
                .cloned()
                .collect::<Vec<_>>(),
        )
        .unwrap();
        let m = ask(
            &cat,
            "nothing.example.test.",
            RecordType::A,
            Some((4096, true)),
        );
        assert_eq!(m.metadata.response_code, ResponseCode::NXDomain);
        assert!(
            types(&m.authorities).contains(&proof),
            "{denial:?}: {:?}",
            m.authorities
        );
        signed_together(&m.authorities).unwrap();
        // Wildcard expansion: the answer, and proof that the name itself does not exist.
        let m = ask(
            &cat,
            "x.wild.example.test.",
            RecordType::TXT,
            Some((4096, true)),
        );
        assert_eq!(types(&m.answers), [RecordType::TXT, RecordType::RRSIG]);
        assert!(
            types(&m.authorities).contains(&proof),
            "{denial:?}: {:?}",
            m.authorities
        );
        // A delegation without DS: NS unsigned, and proof there is no DS.
        let m = ask(
            &cat,
            "x.child.example.test.",
            RecordType::A,
            Some((4096, true)),
        );
        assert!(!m.metadata.authoritative);
        let ns: Vec<&Record> = m
            .authorities
            .iter()
            .filter(|r| r.record_type() == RecordType::NS)
            .collect();
        assert_eq!(ns.len(), 1);
        assert!(types(&m.authorities).contains(&proof));
        assert!(
            !m.authorities.iter().any(|r| matches!(&r.data, RData::DNSSEC(DNSSECRData::RRSIG(s)) if s.input().type_covered == RecordType::NS)),
            "delegation NS are never signed"
        );
    }
}

#[test]
fn truncation_never_separates_an_rrset_from_its_signatures() {
    let cat = catalog(Denial::Nsec3);
    for payload in [512u16, 600, 700, 800, 900, 1000] {
        let m = ask(
            &cat,
            "big.example.test.",
            RecordType::TXT,
            Some((payload, true)),
        );
        for section in [&m.answers, &m.authorities] {
            signed_together(section).unwrap_or_else(|e| panic!("payload {payload}: {e}"));
        }
        if m.answers.is_empty() {
            assert!(
                m.metadata.truncation,
                "payload {payload}: nothing fits, so TC"
            );
        }
    }
}

/// In a signed zone, answers reused from their first encoding (with DO and
/// without) are byte for byte what the general path writes: every name and
/// type, both cases of the question, with and without EDNS and DO, over UDP
/// and TCP, each asked twice (the first encodes, the second reuses), under
/// both kinds of denial. At the smaller EDNS sizes the signed answers do not
/// fit and the general path truncates.
#[test]
fn reused_signed_answers_equal_the_general_path() {
    let names = [
        "example.test.",
        "ns1.example.test.",
        "mx1.example.test.",
        "x.wild.example.test.",
        "*.wild.example.test.",
        "child.example.test.",
        "ns.child.example.test.",
        "big.example.test.",
        "none.example.test.",
    ];
    let types = [
        RecordType::A,
        RecordType::MX,
        RecordType::TXT,
        RecordType::NS,
        RecordType::SOA,
        RecordType::DNSKEY,
        RecordType::DS,
        RecordType::NSEC,
        RecordType::RRSIG,
    ];
    for denial in [Denial::Nsec, Denial::Nsec3] {
        let cat = catalog(denial);
        let (mut compared, mut signed) = (0, 0);
        for name in names {
            for upper in [false, true] {
                let n = if upper {
                    name.to_ascii_uppercase()
                } else {
                    name.to_string()
                };
                for t in types {
                    for edns in [
                        None,
                        Some((512, false)),
                        Some((512, true)),
                        Some((1232, true)),
                        Some((4096, true)),
                    ] {
                        let mut m = Message::new(7, MessageType::Query, OpCode::Query);
                        m.add_query(Query::query(Name::from_ascii(&n).unwrap(), t));
                        if let Some((payload, dnssec_ok)) = edns {
                            let mut e = Edns::new();
                            e.set_max_payload(payload);
                            e.set_dnssec_ok(dnssec_ok);
                            m.set_edns(e);
                        }
                        let q = m.to_vec().unwrap();
                        let what = format!("{denial:?} {n} {t} edns {edns:?}");
                        for general in common::served_equals_general(&cat, &q, &what) {
                            let r = Message::from_vec(&general).unwrap();
                            signed += r
                                .answers
                                .iter()
                                .filter(|r| r.record_type() == RecordType::RRSIG)
                                .count();
                        }
                        compared += 4;
                    }
                }
            }
        }
        assert!(compared > 2500, "{compared}");
        // The answers compared carried signatures.
        assert!(signed > 100, "{signed}");
    }
}
