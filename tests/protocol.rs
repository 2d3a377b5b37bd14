//! The server over real sockets on 127.0.0.1, port 0: the checks RFC 8906
//! asks of an authoritative server, TCP pipelining and idle timeout, and
//! 10,000 random and mutated packets after which it still answers correctly.

mod common;

use arc_swap::ArcSwap;
use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::rdata::opt::{EdnsCode, EdnsOption};
use hickory_proto::rr::{DNSClass, Name, RecordType};
use mailzone_engine::{Catalog, Snapshot};
use mailzone_server::{Limits, serve_tcp, serve_udp};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

struct Server {
    udp: SocketAddr,
    tcp: SocketAddr,
    _rt: tokio::runtime::Runtime,
}

fn server() -> &'static Server {
    static S: OnceLock<Server> = OnceLock::new();
    S.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut snaps = Vec::new();
        for (o, f) in [
            ("example.com.", "zones/example.com.zone"),
            ("lab.test.", "tests/knot/lab.test.zone"),
        ] {
            let r = common::read(&root.join(f), Some(o.parse().unwrap()));
            assert!(r.is_ok());
            snaps.push(Snapshot::compile(&r.zone));
        }
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let (u, t) = rt.block_on(async {
            (
                tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap(),
                tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
            )
        });
        let (udp, tcp) = (u.local_addr().unwrap(), t.local_addr().unwrap());
        let cat = Arc::new(ArcSwap::from_pointee(Catalog::new(snaps)));
        let limits = Limits {
            tcp_idle: Duration::from_secs(1),
            max_tcp_connections: 64,
            ..Limits::default()
        };
        let (tx, rx) = tokio::sync::watch::channel(false);
        std::mem::forget(tx);
        rt.spawn(serve_udp(
            Arc::new(u),
            cat.clone(),
            limits,
            None,
            rx.clone(),
        ));
        rt.spawn(serve_tcp(t, cat, limits, None, rx));
        Server { udp, tcp, _rt: rt }
    })
}

fn msg(name: &str, t: RecordType, edns: Option<Edns>) -> Message {
    let mut m = Message::new(0x1234, MessageType::Query, OpCode::Query);
    m.add_query(Query::query(Name::from_ascii(name).unwrap(), t));
    if let Some(e) = edns {
        m.set_edns(e);
    }
    m
}

fn edns(payload: u16) -> Edns {
    let mut e = Edns::new();
    e.set_max_payload(payload);
    e
}

fn udp(q: &[u8]) -> Option<Vec<u8>> {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    s.send_to(q, server().udp).unwrap();
    let mut b = vec![0u8; 65535];
    s.recv_from(&mut b).ok().map(|(n, _)| b[..n].to_vec())
}

fn udp_msg(m: &Message) -> Message {
    Message::from_vec(&udp(&m.to_vec().unwrap()).expect("an answer")).unwrap()
}

fn tcp_frame(s: &mut TcpStream, q: &[u8]) {
    let mut f = (q.len() as u16).to_be_bytes().to_vec();
    f.extend_from_slice(q);
    s.write_all(&f).unwrap();
}

fn tcp_read(s: &mut TcpStream) -> Message {
    let mut len = [0u8; 2];
    s.read_exact(&mut len).unwrap();
    let mut b = vec![0u8; u16::from_be_bytes(len) as usize];
    s.read_exact(&mut b).unwrap();
    Message::from_vec(&b).unwrap()
}

#[test]
fn plain_and_edns_queries() {
    let m = udp_msg(&msg("example.com.", RecordType::MX, None));
    assert_eq!(m.metadata.response_code, ResponseCode::NoError);
    assert!(m.edns.is_none());
    assert_eq!(m.answers.len(), 1);
    let m = udp_msg(&msg("example.com.", RecordType::MX, Some(edns(1232))));
    assert_eq!(m.edns.as_ref().unwrap().max_payload(), 1232);
    assert_eq!(m.edns.as_ref().unwrap().version(), 0);
}

#[test]
fn edns_version_1_gets_badvers() {
    let mut e = edns(1232);
    e.set_version(1);
    let m = udp_msg(&msg("example.com.", RecordType::SOA, Some(e)));
    assert_eq!(u16::from(m.metadata.response_code), 16);
    assert_eq!(m.edns.as_ref().unwrap().version(), 0);
}

#[test]
fn unknown_option_and_unknown_flags_are_ignored() {
    let mut e = edns(1232);
    e.options_mut()
        .insert(EdnsOption::Unknown(65000, vec![1, 2, 3]));
    let m = udp_msg(&msg("example.com.", RecordType::SOA, Some(e)));
    assert_eq!(m.metadata.response_code, ResponseCode::NoError);
    assert_eq!(m.answers.len(), 1);
    assert!(
        m.edns
            .as_ref()
            .unwrap()
            .option(EdnsCode::Unknown(65000))
            .is_none(),
        "unknown options are not echoed"
    );
    // Header Z bit and an unknown EDNS flag set.
    let mut q = msg("example.com.", RecordType::SOA, Some(edns(1232)))
        .to_vec()
        .unwrap();
    q[3] |= 0x40;
    let n = q.len();
    q[n - 3] |= 0x01;
    let r = Message::from_vec(&udp(&q).unwrap()).unwrap();
    assert_eq!(r.metadata.response_code, ResponseCode::NoError);
    assert_eq!(r.answers.len(), 1);
}

#[test]
fn dnssec_ok_is_echoed() {
    let mut e = edns(1232);
    e.set_dnssec_ok(true);
    let m = udp_msg(&msg("example.com.", RecordType::SOA, Some(e)));
    assert!(m.edns.as_ref().unwrap().flags().dnssec_ok);
}

#[test]
fn small_payload_truncates_then_tcp_gives_all() {
    let q = msg("big._domainkey.lab.test.", RecordType::TXT, Some(edns(512)));
    let m = udp_msg(&q);
    assert!(m.metadata.truncation);
    let mut s = TcpStream::connect(server().tcp).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    tcp_frame(&mut s, &q.to_vec().unwrap());
    let m = tcp_read(&mut s);
    assert!(!m.metadata.truncation);
    assert_eq!(m.answers.len(), 1);
}

#[test]
fn qdcount_zero_and_two_are_formerr() {
    let q = msg("example.com.", RecordType::SOA, None).to_vec().unwrap();
    let mut q0 = q.clone();
    q0[5] = 0;
    q0.truncate(12);
    assert_eq!(
        Message::from_vec(&udp(&q0).unwrap())
            .unwrap()
            .metadata
            .response_code,
        ResponseCode::FormErr
    );
    let mut q2 = q.clone();
    q2[5] = 2;
    q2.extend_from_slice(&q[12..]);
    assert_eq!(
        Message::from_vec(&udp(&q2).unwrap())
            .unwrap()
            .metadata
            .response_code,
        ResponseCode::FormErr
    );
}

#[test]
fn unknown_opcode_and_unknown_class() {
    let mut q = msg("example.com.", RecordType::SOA, None).to_vec().unwrap();
    q[2] = (q[2] & 0x87) | (15 << 3);
    assert_eq!(
        Message::from_vec(&udp(&q).unwrap())
            .unwrap()
            .metadata
            .response_code,
        ResponseCode::NotImp
    );
    let mut m = msg("example.com.", RecordType::SOA, None);
    let mut qq = Query::query(Name::from_ascii("example.com.").unwrap(), RecordType::SOA);
    qq.set_query_class(DNSClass::Unknown(10));
    m.queries = vec![qq];
    assert_eq!(udp_msg(&m).metadata.response_code, ResponseCode::Refused);
}

#[test]
fn tcp_pipelining_of_ten_queries() {
    let mut s = TcpStream::connect(server().tcp).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let mut all = Vec::new();
    for i in 0..10u16 {
        let mut m = msg(
            if i % 2 == 0 {
                "example.com."
            } else {
                "mail.example.com."
            },
            RecordType::A,
            None,
        );
        m.metadata.id = 100 + i;
        let q = m.to_vec().unwrap();
        all.extend_from_slice(&(q.len() as u16).to_be_bytes());
        all.extend_from_slice(&q);
    }
    s.write_all(&all).unwrap();
    let mut ids: Vec<u16> = (0..10).map(|_| tcp_read(&mut s).metadata.id).collect();
    ids.sort();
    assert_eq!(ids, (100..110).collect::<Vec<_>>());
}

#[test]
fn silent_tcp_connections_are_closed_after_the_idle_timeout() {
    let mut s = TcpStream::connect(server().tcp).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let t = Instant::now();
    let mut b = [0u8; 1];
    let n = s.read(&mut b).unwrap_or(0);
    assert_eq!(n, 0, "the server closes the connection");
    let waited = t.elapsed();
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(4),
        "closed after {waited:?}"
    );
}

#[test]
fn ten_thousand_random_and_mutated_packets_then_still_correct() {
    let base = msg("example.com.", RecordType::MX, Some(edns(1232)))
        .to_vec()
        .unwrap();
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut seed: u64 = 7;
    let mut rnd = || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as usize
    };
    for i in 0..10_000 {
        let p: Vec<u8> = if i % 2 == 0 {
            (0..rnd() % 300).map(|_| rnd() as u8).collect()
        } else {
            let mut p = base.clone();
            for _ in 0..1 + rnd() % 6 {
                let at = rnd() % p.len();
                p[at] = rnd() as u8;
            }
            if rnd() % 4 == 0 {
                p.truncate(rnd() % p.len());
            }
            p
        };
        s.send_to(&p, server().udp).unwrap();
    }
    // Still answering, and correctly, over both transports.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(b) = udp(&base) {
            let m = Message::from_vec(&b).unwrap();
            if m.metadata.id == 0x1234 {
                assert_eq!(m.answers.len(), 1);
                break;
            }
        }
        assert!(
            Instant::now() < deadline,
            "no correct answer after the noise"
        );
    }
    let mut t = TcpStream::connect(server().tcp).unwrap();
    t.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    tcp_frame(&mut t, &base);
    assert_eq!(tcp_read(&mut t).answers.len(), 1);
}
