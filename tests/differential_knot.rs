//! Differential test: Knot DNS (Debian package `knot`, started here on a
//! loopback port) and mailzone serve the same zones; thousands of generated
//! queries go to both, over UDP and TCP, and the answers must agree on rcode,
//! flags, EDNS and every section compared as sets of RRsets. Accepted
//! differences are the categories in tests/knot/variances.txt, each with a reason.

mod common;

use arc_swap::ArcSwap;
use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query};
use hickory_proto::rr::{Name, RecordType};
use mailzone_engine::{Catalog, Snapshot};
use mailzone_server::{Limits, serve_tcp, serve_udp};
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

struct Knot(Child);
impl Drop for Knot {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    // Bind both protocols on one port, then release it for knotd.
    loop {
        let u = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = u.local_addr().unwrap().port();
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// The zones both servers load: (origin, file, format for reading).
fn zones() -> Vec<(String, PathBuf)> {
    let r = root();
    vec![
        ("example.com.".into(), r.join("zones/example.com.zone")),
        ("example.org.".into(), r.join("zones/example.org.toml")),
        (
            "example.net.".into(),
            r.join("tests/corpus/valid/delegation-glue.zone"),
        ),
        (
            "parked.example.".into(),
            r.join("tests/corpus/valid/parked.zone"),
        ),
        (
            "100.51.198.in-addr.arpa.".into(),
            r.join("tests/corpus/valid/reverse-v4.zone"),
        ),
        ("lab.test.".into(), r.join("tests/knot/lab.test.zone")),
    ]
}

fn exchange(addr: SocketAddr, msg: &[u8], tcp: bool) -> Vec<u8> {
    if tcp {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        let mut f = (msg.len() as u16).to_be_bytes().to_vec();
        f.extend_from_slice(msg);
        s.write_all(&f).unwrap();
        let mut len = [0u8; 2];
        s.read_exact(&mut len).unwrap();
        let mut b = vec![0u8; u16::from_be_bytes(len) as usize];
        s.read_exact(&mut b).unwrap();
        b
    } else {
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        for _ in 0..3 {
            s.send_to(msg, addr).unwrap();
            let mut b = vec![0u8; 65535];
            if let Ok((n, _)) = s.recv_from(&mut b) {
                return b[..n].to_vec();
            }
        }
        panic!("no UDP answer from {addr}");
    }
}

#[derive(Clone, Debug)]
struct Q {
    name: String,
    qtype: RecordType,
    edns: Option<(u16, bool)>,
    tcp: bool,
}

fn build(q: &Q, id: u16) -> Vec<u8> {
    let mut m = Message::new(id, MessageType::Query, OpCode::Query);
    m.add_query(Query::query(Name::from_ascii(&q.name).unwrap(), q.qtype));
    if let Some((payload, dnssec)) = q.edns {
        let mut e = Edns::new();
        e.set_max_payload(payload);
        e.set_dnssec_ok(dnssec);
        m.set_edns(e);
    }
    m.to_vec().unwrap()
}

type Set = BTreeSet<(String, u16, u32, Vec<u8>)>;

/// A section as a set of records; `canonical` lowercases names inside RDATA
/// (RFC 4034 §6.2) to tell case-only differences apart.
fn section(recs: &[hickory_proto::rr::Record], canonical: bool) -> Set {
    use hickory_proto::serialize::binary::{BinEncodable, BinEncoder};
    recs.iter()
        .map(|r| {
            let wire = if canonical {
                let mut buf = Vec::new();
                let mut enc = BinEncoder::new(&mut buf);
                enc.set_canonical_form(true);
                r.data.emit(&mut enc).unwrap();
                buf
            } else {
                let zr = mailzone_zone::ZoneRecord {
                    owner: r.name.clone(),
                    class: r.dns_class,
                    ttl: r.ttl,
                    rdata: r.data.clone(),
                    span: Default::default(),
                };
                zr.rdata_wire()
            };
            (
                r.name.to_lowercase().to_string(),
                u16::from(r.record_type()),
                r.ttl,
                wire,
            )
        })
        .collect()
}

/// What differs between two answers, by category.
fn differences(q: &Q, a: &Message, b: &Message) -> Vec<(&'static str, String)> {
    let mut d = Vec::new();
    let (ma, mb) = (&a.metadata, &b.metadata);
    if ma.response_code != mb.response_code {
        d.push((
            "rcode",
            format!("{} vs {}", ma.response_code, mb.response_code),
        ));
    }
    for (name, x, y) in [
        ("aa", ma.authoritative, mb.authoritative),
        ("tc", ma.truncation, mb.truncation),
        ("rd", ma.recursion_desired, mb.recursion_desired),
        ("ra", ma.recursion_available, mb.recursion_available),
    ] {
        if x != y {
            d.push(("flags", format!("{name}: {x} vs {y}")));
        }
    }
    if a.edns.is_some() != b.edns.is_some() {
        d.push((
            "edns",
            format!("OPT {} vs {}", a.edns.is_some(), b.edns.is_some()),
        ));
    }
    if a.queries.first().map(|x| x.name().to_string())
        != b.queries.first().map(|x| x.name().to_string())
    {
        d.push(("question", "question differs".into()));
    }
    let truncated = ma.truncation || mb.truncation;
    for (cat, x, y) in [
        ("answer", &a.answers, &b.answers),
        ("authority", &a.authorities, &b.authorities),
        ("additional", &a.additionals, &b.additionals),
    ] {
        let (sx, sy) = (section(x, false), section(y, false));
        if sx != sy {
            let cat = if q.qtype == RecordType::ANY && cat != "authority" {
                "any-rrset"
            } else if section(x, true) == section(y, true) {
                "rdata-name-case"
            } else if truncated {
                "truncated-content"
            } else {
                cat
            };
            let show = |r: &(String, u16, u32, Vec<u8>)| {
                let mut t = String::new();
                mailzone_zone::rdata::write_rdata(r.1, &r.3, &mut t);
                format!(
                    "{} {} {} {t}",
                    r.0,
                    r.2,
                    mailzone_zone::rdata::type_name(r.1)
                )
            };
            let only_a: Vec<_> = sx.difference(&sy).map(show).collect();
            let only_b: Vec<_> = sy.difference(&sx).map(show).collect();
            d.push((
                cat,
                format!("only mailzone {only_a:?}, only knot {only_b:?}"),
            ));
        }
    }
    d
}

fn queries(zone_records: &[(String, Vec<(String, RecordType)>)]) -> Vec<Q> {
    let types = [
        RecordType::A,
        RecordType::AAAA,
        RecordType::MX,
        RecordType::TXT,
        RecordType::NS,
        RecordType::SOA,
        RecordType::CNAME,
        RecordType::SRV,
        RecordType::CAA,
        RecordType::DS,
        RecordType::ANY,
        RecordType::HINFO,
        RecordType::TLSA,
        RecordType::PTR,
        RecordType::DNAME,
    ];
    let mut seed: u64 = 20261123;
    let mut rnd = move || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as u32
    };
    let mut out = Vec::new();
    for (origin, owners) in zone_records {
        let mut names: Vec<String> = owners.iter().map(|o| o.0.clone()).collect();
        names.sort();
        names.dedup();
        let mut extra = vec![
            format!("nx-{}.{origin}", rnd()),
            format!("a.b.c.nx.{origin}"),
            format!("x.wild.{origin}"),
            format!("a.b.wild.{origin}"),
            format!("exists.wild.{origin}"),
            format!("ent.{origin}"),
            format!("c.ent.{origin}"),
            format!("deep.below.child.{origin}"),
            format!("www.old.{origin}"),
            format!("x.y.old.{origin}"),
        ];
        for n in &names {
            extra.push(format!("nx.{n}"));
        }
        names.extend(extra);
        for n in &names {
            for t in types.iter().copied().chain(types.iter().copied()) {
                let r = rnd();
                let edns = match r % 4 {
                    0 => None,
                    1 => Some((1232, false)),
                    2 => Some((4096, true)),
                    _ => Some((512, r % 8 == 3)),
                };
                out.push(Q {
                    name: n.clone(),
                    qtype: t,
                    edns,
                    tcp: r % 5 == 0,
                });
            }
            // 0x20: the same question with mixed case.
            let mixed: String = n
                .chars()
                .map(|c| {
                    if rnd() % 2 == 0 {
                        c.to_ascii_uppercase()
                    } else {
                        c
                    }
                })
                .collect();
            out.push(Q {
                name: mixed,
                qtype: RecordType::A,
                edns: Some((1232, false)),
                tcp: false,
            });
        }
    }
    for name in ["example.invalid.", "com.", "."] {
        out.push(Q {
            name: name.into(),
            qtype: RecordType::A,
            edns: None,
            tcp: false,
        });
    }
    // Large answers: forced truncation over UDP, complete over TCP.
    for (n, t) in [
        ("big._domainkey.lab.test.", RecordType::TXT),
        ("many.lab.test.", RecordType::TXT),
    ] {
        for edns in [None, Some((512, false)), Some((1232, false))] {
            for tcp in [false, true] {
                out.push(Q {
                    name: n.into(),
                    qtype: t,
                    edns,
                    tcp,
                });
            }
        }
    }
    out
}

#[test]
fn mailzone_answers_like_knot() {
    common::require_tool("knotd", "knot");
    let dir = common::scratch_dir("knot");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut snaps = Vec::new();
    let mut owner_lists = Vec::new();
    let mut zone_conf = String::new();
    for (origin, path) in zones() {
        let r = common::read(&path, Some(origin.parse().unwrap()));
        assert!(r.is_ok(), "{}: {:?}", path.display(), r.errors);
        let file = dir.join(format!("{origin}zone"));
        std::fs::write(&file, mailzone_zone::writer::write_canonical(&r.zone)).unwrap();
        zone_conf.push_str(&format!(
            "  - domain: {origin}\n    file: {}\n",
            file.display()
        ));
        owner_lists.push((
            origin.clone(),
            r.zone
                .records
                .iter()
                .map(|x| (x.owner.to_string(), x.rtype()))
                .collect::<Vec<_>>(),
        ));
        snaps.push(Snapshot::compile(&r.zone));
    }
    let port = free_port();
    let conf = format!(
        "server:\n  listen: 127.0.0.1@{port}\n  rundir: {d}\n  udp-max-payload: 1232\ndatabase:\n  storage: {d}\ntemplate:\n  - id: default\n    storage: {d}\n    semantic-checks: off\n    journal-content: none\n    zonefile-sync: -1\nlog:\n  - target: stderr\n    any: error\nzone:\n{zone_conf}",
        d = dir.display()
    );
    std::fs::write(dir.join("knot.conf"), conf).unwrap();
    let knot = Knot(
        Command::new("knotd")
            .arg("-c")
            .arg(dir.join("knot.conf"))
            .spawn()
            .expect("start knotd"),
    );
    let knot_addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();

    // mailzone in-process, on port 0.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (udp, tcp) = rt.block_on(async {
        (
            tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap(),
            tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
        )
    });
    let udp_addr = udp.local_addr().unwrap();
    let tcp_addr = tcp.local_addr().unwrap();
    let published = Arc::new(ArcSwap::from_pointee(Catalog::new(snaps)));
    let (_stop, stop_rx) = tokio::sync::watch::channel(false);
    rt.spawn(serve_udp(
        Arc::new(udp),
        published.clone(),
        Limits::default(),
        None,
        stop_rx.clone(),
    ));
    rt.spawn(serve_tcp(tcp, published, Limits::default(), None, stop_rx));

    // Wait (bounded) for knotd to load every zone.
    let deadline = Instant::now() + Duration::from_secs(20);
    for (origin, _) in zones() {
        loop {
            let q = Q {
                name: origin.clone(),
                qtype: RecordType::SOA,
                edns: None,
                tcp: false,
            };
            let s = UdpSocket::bind("127.0.0.1:0").unwrap();
            s.set_read_timeout(Some(Duration::from_millis(200)))
                .unwrap();
            s.send_to(&build(&q, 1), knot_addr).unwrap();
            let mut b = vec![0u8; 4096];
            if let Ok((n, _)) = s.recv_from(&mut b)
                && Message::from_vec(&b[..n]).is_ok_and(|m| !m.answers.is_empty())
            {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "knotd did not load {origin} within 20 s"
            );
        }
    }

    let allowed: Vec<String> = std::fs::read_to_string(root().join("tests/knot/variances.txt"))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| l.split('|').next().unwrap().trim().to_string())
        .collect();
    let qs = queries(&owner_lists);
    assert!(qs.len() >= 5000, "only {} queries", qs.len());
    let mut failures = Vec::new();
    let mut accepted = std::collections::BTreeMap::<&str, usize>::new();
    for (i, q) in qs.iter().enumerate() {
        let wire = build(q, (i % 65535) as u16 + 1);
        let ours = exchange(if q.tcp { tcp_addr } else { udp_addr }, &wire, q.tcp);
        let theirs = exchange(knot_addr, &wire, q.tcp);
        let (a, b) = (
            Message::from_vec(&ours).expect("mailzone's answer parses"),
            Message::from_vec(&theirs).expect("knot's answer parses"),
        );
        for (cat, what) in differences(q, &a, &b) {
            if allowed.iter().any(|c| c == cat) {
                *accepted.entry(cat).or_default() += 1;
            } else if failures.len() < 60 {
                failures.push(format!(
                    "{} {} edns={:?} tcp={}: [{cat}] {what}",
                    q.name, q.qtype, q.edns, q.tcp
                ));
            }
        }
    }
    drop(knot);
    eprintln!(
        "{} queries compared; accepted differences by category: {accepted:?}",
        qs.len()
    );
    assert!(
        failures.is_empty(),
        "{} differences (first 60):\n{}",
        failures.len(),
        failures.join("\n")
    );
}
