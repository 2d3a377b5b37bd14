//! Sends one UDP query at a time at a fixed pace and writes, per query, the
//! send time (ns since the Unix epoch) and the latency in ns (-1: no answer
//! within 1 s). The bench scripts cut these lines into windows (idle, during
//! a reload) and compute percentiles; measuring in Rust keeps the client's
//! own overhead out of the figures.
//!
//! NAME `@file` replays a query file (`name type` per line, dnsperf's format)
//! in a loop instead of one question; TYPE is then ignored.
//!
//! With `do` last, every query carries EDNS (1232 bytes) with DO set, as
//! validating resolvers send them.
//!
//! usage: mailzone-probe ADDR NAME TYPE RATE SECONDS OUT [do]

use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query};
use hickory_proto::rr::{Name, RecordType};
use std::io::Write;
use std::net::{SocketAddr, UdpSocket};
use std::str::FromStr;
use std::time::{Duration, Instant, SystemTime};

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let dnssec_ok = a.len() == 8 && a[7] == "do";
    if a.len() != 7 && !dnssec_ok {
        eprintln!("usage: mailzone-probe ADDR NAME TYPE RATE SECONDS OUT [do]");
        std::process::exit(2);
    }
    let addr: SocketAddr = a[1].parse().expect("ADDR is ip:port");
    let questions: Vec<(Name, RecordType)> = match a[2].strip_prefix('@') {
        Some(file) => std::fs::read_to_string(file)
            .expect("query file")
            .lines()
            .filter_map(|l| l.split_once(' '))
            .map(|(n, t)| {
                (
                    Name::from_str(n).expect("name"),
                    RecordType::from_str(t.trim()).expect("type"),
                )
            })
            .collect(),
        None => vec![(
            Name::from_str(&a[2]).expect("NAME"),
            RecordType::from_str(&a[3]).expect("TYPE"),
        )],
    };
    let rate: f64 = a[4].parse().expect("RATE is queries per second");
    let seconds: f64 = a[5].parse().expect("SECONDS");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&a[6]).expect("OUT"));

    let mut wires: Vec<Vec<u8>> = questions
        .into_iter()
        .map(|(name, rtype)| {
            let mut m = Message::new(0, MessageType::Query, OpCode::Query);
            m.add_query(Query::query(name, rtype));
            if dnssec_ok {
                let mut e = Edns::new();
                e.set_max_payload(1232);
                e.set_dnssec_ok(true);
                m.set_edns(e);
            }
            m.to_vec().expect("query")
        })
        .collect();
    let mut k = 0;
    let sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
    sock.connect(addr).expect("connect");
    sock.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
    let mut buf = vec![0u8; 65535];
    let gap = Duration::from_secs_f64(1.0 / rate);
    let start = Instant::now();
    let end = start + Duration::from_secs_f64(seconds);
    let mut next = start;
    let mut id: u16 = 0;
    while next < end {
        let now = Instant::now();
        if next > now {
            std::thread::sleep(next - now);
        }
        next += gap;
        id = id.wrapping_add(1);
        k = (k + 1) % wires.len();
        let q = &mut wires[k];
        q[..2].copy_from_slice(&id.to_be_bytes());
        let wall = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let t0 = Instant::now();
        sock.send(q).expect("send");
        let lat = loop {
            match sock.recv(&mut buf) {
                Ok(n) if n >= 2 && buf[..2] == id.to_be_bytes() => {
                    break t0.elapsed().as_nanos() as i64;
                }
                Ok(_) => continue, // a late answer to an earlier query
                Err(_) => break -1,
            }
        };
        writeln!(out, "{wall} {lat}").unwrap();
    }
}
