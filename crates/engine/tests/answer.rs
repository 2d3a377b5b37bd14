//! The engine on byte fixtures, without sockets: queries built and answers
//! parsed with hickory-proto, one RFC behaviour per test.

use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};
use mailzone_engine::{Catalog, ClientCtx, Snapshot, answer};
use mailzone_zone::{MasterOptions, read_master_str};

mod common;

const ZONE: &str = r#"$ORIGIN example.test.
$TTL 3600
@        SOA   ns1 hostmaster 1 7200 900 1209600 300
@        NS    ns1
ns1      A     192.0.2.1
@        MX    10 mx1
@        MX    20 mx2
mx1      A     192.0.2.25
mx2      AAAA  2001:db8::26
www      CNAME web
web      CNAME host
host     A     192.0.2.90
out      CNAME www.elsewhere.test.
*.wild   TXT   "wild"
sub.wild A     192.0.2.50
a.b.ent  A     192.0.2.51
child    NS    ns.child
ns.child A     192.0.2.53
old      DNAME new.example.test.
new      A     192.0.2.91
Mixed    A     192.0.2.92
big      TXT   "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
big      TXT   "1123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
big      TXT   "2123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
big      TXT   "3123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
big      TXT   "4123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
big      TXT   "5123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
"#;

fn catalog() -> Catalog {
    let r = read_master_str("z", ZONE, &MasterOptions::default());
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    Catalog::new(vec![Snapshot::compile(&r.zone)])
}

fn query(name: &str, t: RecordType, edns: Option<u16>) -> Vec<u8> {
    let mut m = Message::new(4242, MessageType::Query, OpCode::Query);
    m.metadata.recursion_desired = true;
    m.add_query(Query::query(Name::from_ascii(name).unwrap(), t));
    if let Some(p) = edns {
        let mut e = Edns::new();
        e.set_max_payload(p);
        m.set_edns(e);
    }
    m.to_vec().unwrap()
}

fn ask_bytes(q: &[u8], tcp: bool) -> Option<Message> {
    let mut out = Vec::new();
    let ctx = ClientCtx {
        tcp,
        ..ClientCtx::default()
    };
    answer(&catalog(), q, &ctx, &mut out)
        .then(|| Message::from_vec(&out).expect("the answer parses"))
}

fn ask(name: &str, t: RecordType) -> Message {
    ask_bytes(&query(name, t, Some(1232)), false).unwrap()
}

fn names(recs: &[hickory_proto::rr::Record]) -> Vec<String> {
    recs.iter()
        .map(|r| format!("{} {}", r.name, r.record_type()))
        .collect()
}

#[test]
fn exact_match_is_authoritative_with_additional_addresses() {
    let m = ask("example.test.", RecordType::MX);
    assert_eq!(m.metadata.response_code, ResponseCode::NoError);
    assert!(
        m.metadata.authoritative && m.metadata.recursion_desired && !m.metadata.recursion_available
    );
    assert_eq!(m.answers.len(), 2);
    assert_eq!(
        names(&m.additionals),
        ["mx1.example.test. A", "mx2.example.test. AAAA"],
        "addresses of every MX target"
    );
    assert_eq!(m.edns.as_ref().unwrap().max_payload(), 1232);
}

#[test]
fn question_case_is_preserved() {
    let m = ask("HoSt.ExAmPlE.tEsT.", RecordType::A);
    assert_eq!(m.queries[0].name().to_string(), "HoSt.ExAmPlE.tEsT.");
    assert_eq!(m.answers[0].name.to_string(), "HoSt.ExAmPlE.tEsT.");
}

#[test]
fn nxdomain_and_nodata_carry_the_soa_with_the_negative_ttl() {
    let m = ask("nope.example.test.", RecordType::A);
    assert_eq!(m.metadata.response_code, ResponseCode::NXDomain);
    assert!(m.metadata.authoritative);
    assert_eq!(names(&m.authorities), ["example.test. SOA"]);
    assert_eq!(m.authorities[0].ttl, 300, "min(SOA TTL 3600, MINIMUM 300)");
    let m = ask("host.example.test.", RecordType::AAAA);
    assert_eq!(m.metadata.response_code, ResponseCode::NoError);
    assert!(m.answers.is_empty());
    assert_eq!(names(&m.authorities), ["example.test. SOA"]);
}

#[test]
fn empty_non_terminals_are_nodata_not_nxdomain() {
    let m = ask("b.ent.example.test.", RecordType::A);
    assert_eq!(m.metadata.response_code, ResponseCode::NoError);
    assert!(m.answers.is_empty());
}

#[test]
fn cname_chains_are_followed_inside_the_zone() {
    let m = ask("www.example.test.", RecordType::A);
    assert_eq!(
        names(&m.answers),
        [
            "www.example.test. CNAME",
            "web.example.test. CNAME",
            "host.example.test. A"
        ]
    );
    let m = ask("out.example.test.", RecordType::A);
    assert_eq!(names(&m.answers), ["out.example.test. CNAME"]);
    assert_eq!(m.metadata.response_code, ResponseCode::NoError);
    let m = ask("www.example.test.", RecordType::CNAME);
    assert_eq!(
        names(&m.answers),
        ["www.example.test. CNAME"],
        "no chase for a CNAME question"
    );
}

#[test]
fn wildcards_synthesise_only_below_the_closest_encloser() {
    let m = ask("x.wild.example.test.", RecordType::TXT);
    assert_eq!(names(&m.answers), ["x.wild.example.test. TXT"]);
    let m = ask("sub.wild.example.test.", RecordType::TXT);
    assert!(
        m.answers.is_empty(),
        "a name that exists is not covered by the wildcard"
    );
    assert_eq!(m.metadata.response_code, ResponseCode::NoError);
    let m = ask("x.sub.wild.example.test.", RecordType::TXT);
    assert_eq!(
        m.metadata.response_code,
        ResponseCode::NXDomain,
        "the closest encloser sub.wild has no wildcard"
    );
}

#[test]
fn referrals_clear_aa_and_carry_ns_and_glue() {
    let m = ask("www.child.example.test.", RecordType::A);
    assert_eq!(m.metadata.response_code, ResponseCode::NoError);
    assert!(!m.metadata.authoritative);
    assert!(m.answers.is_empty());
    assert_eq!(names(&m.authorities), ["child.example.test. NS"]);
    assert_eq!(names(&m.additionals), ["ns.child.example.test. A"]);
}

#[test]
fn dname_synthesises_a_cname() {
    let m = ask("x.old.example.test.", RecordType::A);
    assert_eq!(
        names(&m.answers)[..2],
        [
            "old.example.test. DNAME".to_string(),
            "x.old.example.test. CNAME".to_string()
        ]
    );
    match &m.answers[1].data {
        RData::CNAME(c) => assert_eq!(c.0.to_string(), "x.new.example.test."),
        other => panic!("{other:?}"),
    }
}

#[test]
fn any_returns_one_rrset() {
    let m = ask("example.test.", RecordType::ANY);
    let types: std::collections::BTreeSet<_> = m.answers.iter().map(|r| r.record_type()).collect();
    assert_eq!(types.len(), 1, "RFC 8482");
}

#[test]
fn edns_badvers_and_no_opt_without_opt() {
    let mut q = query("host.example.test.", RecordType::A, Some(1232));
    // OPT TTL byte 2 is the version: set it to 1.
    let n = q.len();
    q[n - 5] = 1;
    let m = ask_bytes(&q, false).unwrap();
    // 16 is BADVERS for EDNS (RFC 6891); hickory names the shared code BADSIG.
    assert_eq!(u16::from(m.metadata.response_code), 16);
    assert!(m.answers.is_empty());
    let m = ask_bytes(&query("host.example.test.", RecordType::A, None), false).unwrap();
    assert!(
        m.edns.is_none(),
        "no OPT in the reply to a query without one"
    );
    assert_eq!(m.answers.len(), 1);
}

#[test]
fn large_answers_truncate_cleanly_and_fit_over_tcp() {
    let m = ask_bytes(&query("big.example.test.", RecordType::TXT, None), false).unwrap();
    assert!(m.metadata.truncation);
    assert!(
        m.answers.is_empty(),
        "the RRset does not fit whole, so none of it is sent"
    );
    let m = ask_bytes(&query("big.example.test.", RecordType::TXT, None), true).unwrap();
    assert!(!m.metadata.truncation);
    assert_eq!(m.answers.len(), 6);
    let m = ask_bytes(
        &query("big.example.test.", RecordType::TXT, Some(1232)),
        false,
    )
    .unwrap();
    assert!(!m.metadata.truncation);
}

#[test]
fn malformed_and_unsupported_queries() {
    let q = query("host.example.test.", RecordType::A, None);
    assert!(
        ask_bytes(&q[..11], false).is_none(),
        "too short for a header: no answer"
    );
    let mut resp = q.clone();
    resp[2] |= 0x80;
    assert!(
        ask_bytes(&resp, false).is_none(),
        "a response is not answered"
    );
    let mut q0 = q.clone();
    q0[5] = 0;
    assert_eq!(
        ask_bytes(&q0, false).unwrap().metadata.response_code,
        ResponseCode::FormErr
    );
    let mut q2 = q.clone();
    q2[5] = 2;
    assert_eq!(
        ask_bytes(&q2, false).unwrap().metadata.response_code,
        ResponseCode::FormErr
    );
    let mut trailing = q.clone();
    trailing.extend_from_slice(b"junk");
    assert_eq!(
        ask_bytes(&trailing, false).unwrap().metadata.response_code,
        ResponseCode::FormErr
    );
    let mut notify = q.clone();
    notify[2] = (notify[2] & 0x87) | (4 << 3);
    assert_eq!(
        ask_bytes(&notify, false).unwrap().metadata.response_code,
        ResponseCode::NotImp
    );
    assert_eq!(
        ask("www.elsewhere.test.", RecordType::A)
            .metadata
            .response_code,
        ResponseCode::Refused
    );
    assert_eq!(
        ask("example.test.", RecordType::AXFR)
            .metadata
            .response_code,
        ResponseCode::Refused
    );
    let mut chaos = Message::new(7, MessageType::Query, OpCode::Query);
    let mut cq = Query::query(Name::from_ascii("version.bind.").unwrap(), RecordType::TXT);
    cq.set_query_class(hickory_proto::rr::DNSClass::CH);
    chaos.add_query(cq);
    assert_eq!(
        ask_bytes(&chaos.to_vec().unwrap(), false)
            .unwrap()
            .metadata
            .response_code,
        ResponseCode::Refused
    );
}

#[test]
fn chaos_identity_and_version_only_when_configured() {
    let mut chaos = Message::new(7, MessageType::Query, OpCode::Query);
    let mut cq = Query::query(Name::from_ascii("id.server.").unwrap(), RecordType::TXT);
    cq.set_query_class(hickory_proto::rr::DNSClass::CH);
    chaos.add_query(cq);
    let q = chaos.to_vec().unwrap();
    let mut out = Vec::new();
    let mut cat = catalog();
    assert!(answer(&cat, &q, &ClientCtx::default(), &mut out));
    assert_eq!(
        Message::from_vec(&out).unwrap().metadata.response_code,
        ResponseCode::Refused
    );
    cat.identity = Some("ns1.example.test".into());
    assert!(answer(&cat, &q, &ClientCtx::default(), &mut out));
    let m = Message::from_vec(&out).unwrap();
    assert_eq!(m.metadata.response_code, ResponseCode::NoError);
    match &m.answers[0].data {
        RData::TXT(t) => assert_eq!(&t.txt_data[0][..], b"ns1.example.test"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn notify_is_accepted_from_a_primary_of_a_secondary_zone_only() {
    use mailzone_engine::transfer::{NotifyIn, notify_in};
    let mut cat = catalog();
    let key = mailzone_engine::snapshot::lower(b"\x07example\x04test\x00");
    cat.secondaries
        .insert(key, vec!["192.0.2.53".parse().unwrap()]);
    let mut m = Message::new(99, MessageType::Query, OpCode::Notify);
    m.add_query(Query::query(
        Name::from_ascii("example.test.").unwrap(),
        RecordType::SOA,
    ));
    let q = m.to_vec().unwrap();
    let from = |ip: &str| match notify_in(&cat, &q, ip.parse().unwrap()) {
        NotifyIn::Reply { reply, refresh } => {
            (Message::from_vec(&reply).unwrap(), refresh.is_some())
        }
        NotifyIn::No => panic!("a NOTIFY"),
    };
    let (r, refresh) = from("192.0.2.53");
    assert!(refresh && r.metadata.authoritative);
    assert_eq!(r.metadata.response_code, ResponseCode::NoError);
    assert_eq!(r.metadata.op_code, OpCode::Notify);
    let (r, refresh) = from("198.51.100.7");
    assert!(!refresh);
    assert_eq!(r.metadata.response_code, ResponseCode::Refused);
    // Not a NOTIFY: the ordinary path.
    assert!(matches!(
        notify_in(
            &cat,
            &query("example.test.", RecordType::SOA, None),
            "192.0.2.53".parse().unwrap()
        ),
        NotifyIn::No
    ));
}

/// Answers reused from their first encoding are byte for byte what the
/// general path writes, for every name and type of the zone, both cases of
/// the question, with and without EDNS (and DO), over UDP and TCP, asked
/// twice (the first encodes, the second reuses), and when an answer does not
/// fit the UDP size (the general path truncates).
#[test]
fn reused_answers_equal_the_general_path() {
    let cat = catalog();
    let names = [
        "example.test.",
        "ns1.example.test.",
        "mx1.example.test.",
        "mx2.example.test.",
        "www.example.test.",
        "web.example.test.",
        "host.example.test.",
        "out.example.test.",
        "x.wild.example.test.",
        "sub.wild.example.test.",
        "b.ent.example.test.",
        "a.b.ent.example.test.",
        "child.example.test.",
        "ns.child.example.test.",
        "x.old.example.test.",
        "new.example.test.",
        "big.example.test.",
        "none.example.test.",
        // An owner written in mixed case, asked in its own case and others.
        "Mixed.example.test.",
        "mixed.example.test.",
    ];
    let types = [
        RecordType::A,
        RecordType::AAAA,
        RecordType::MX,
        RecordType::TXT,
        RecordType::NS,
        RecordType::SOA,
        RecordType::CNAME,
        RecordType::DS,
        RecordType::ANY,
        RecordType::SRV,
    ];
    let mut compared = 0;
    for name in names {
        for upper in [false, true] {
            let n = if upper {
                name.to_ascii_uppercase()
            } else {
                name.to_string()
            };
            for t in types {
                for edns in [None, Some(512), Some(1232), Some(4096)] {
                    for dnssec in [false, true] {
                        let mut q = query(&n, t, edns);
                        if dnssec {
                            let Some(e) = edns else { continue };
                            let mut m = Message::from_vec(&q).unwrap();
                            let mut x = Edns::new();
                            x.set_max_payload(e);
                            x.set_dnssec_ok(true);
                            m.set_edns(x);
                            q = m.to_vec().unwrap();
                        }
                        common::served_equals_general(
                            &cat,
                            &q,
                            &format!("{n} {t} edns {edns:?} do {dnssec}"),
                        );
                        compared += 4;
                    }
                }
            }
        }
    }
    assert!(compared > 5000, "{compared}");
    // The big TXT RRset needs TCP or a large EDNS size; at 512 bytes both paths truncate.
    let mut out = Vec::new();
    let q = query("big.example.test.", RecordType::TXT, None);
    answer(&cat, &q, &ClientCtx::default(), &mut out);
    assert_ne!(out[2] & 0x02, 0, "TC expected");
}

/// Names the answer takes from the zone, not from the question, are
/// written as the zone writes them: the SOA of a denial, a referral's NS
/// and glue, a DNAME, additional addresses and transferred records. (The
/// snapshot keeps an owner's spelling only where it is not its lower-case
/// key, so a mixed-case zone is what shows it.)
#[test]
fn owners_keep_the_case_the_zone_writes() {
    let text = |extra: &str| {
        format!(
            "$ORIGIN Case.Test.\n$TTL 300\n@ SOA Ns1 Host 1 7200 900 1209600 300\n@ NS Ns1\nNs1 A 192.0.2.1\n@ MX 10 Mail\nMail A 192.0.2.25\nSub NS Ns.Sub\nNs.Sub A 192.0.2.53\nOld DNAME new.case.test.\n{extra}"
        )
    };
    let compile = |t: &str| {
        let r = read_master_str("z", t, &MasterOptions::default());
        assert!(r.errors.is_empty(), "{:?}", r.errors);
        Snapshot::compile(&r.zone)
    };
    let cat = Catalog::new(vec![compile(&text(""))]);
    let ask = |name: &str, t: RecordType| {
        let mut out = Vec::new();
        assert!(answer(
            &cat,
            &query(name, t, Some(1232)),
            &ClientCtx::default(),
            &mut out
        ));
        Message::from_vec(&out).expect("the answer parses")
    };
    let m = ask("case.test.", RecordType::MX);
    assert_eq!(names(&m.additionals), ["Mail.Case.Test. A"]);
    let m = ask("nope.case.test.", RecordType::A);
    assert_eq!(m.metadata.response_code, ResponseCode::NXDomain);
    assert_eq!(names(&m.authorities), ["Case.Test. SOA"]);
    let m = ask("www.sub.case.test.", RecordType::A);
    assert_eq!(names(&m.authorities), ["Sub.Case.Test. NS"]);
    assert_eq!(names(&m.additionals), ["Ns.Sub.Case.Test. A"]);
    let m = ask("a.old.case.test.", RecordType::A);
    assert_eq!(names(&m.answers)[0], "Old.Case.Test. DNAME");
    // A record added in the next version is transferred as written.
    let diff = mailzone_engine::transfer::diff(
        &compile(&text("")),
        &compile(&text("New.Host A 192.0.2.26\n")),
    )
    .expect("both versions have an SOA");
    let owners: Vec<&[u8]> = diff.added.iter().map(|r| &*r.owner).collect();
    assert_eq!(owners, [b"\x03New\x04Host\x04Case\x04Test\x00".as_slice()]);
}
