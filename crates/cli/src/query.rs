//! `mailzone query`: a small client that asks one question and prints the
//! answer, so labs and health checks need no other tool.

use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query};
use hickory_proto::rr::{Name, RecordType};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::str::FromStr;
use std::time::Duration;

#[derive(clap::Args)]
pub struct QueryArgs {
    /// `@server` (address, default 127.0.0.1), then the name, then the type (default A).
    args: Vec<String>,
    /// Server port.
    #[arg(short, long, default_value_t = 53)]
    port: u16,
    /// Use TCP from the start (UDP answers with TC set are retried over TCP anyway).
    #[arg(long)]
    tcp: bool,
    /// Set the DNSSEC OK bit.
    #[arg(long)]
    dnssec: bool,
    /// Send no EDNS OPT record.
    #[arg(long)]
    no_edns: bool,
    /// Seconds to wait for an answer.
    #[arg(long, default_value_t = 3)]
    timeout: u64,
}

fn exchange_udp(server: SocketAddr, msg: &[u8], timeout: Duration) -> std::io::Result<Vec<u8>> {
    let bind: SocketAddr = if server.is_ipv4() {
        "0.0.0.0:0".parse().unwrap()
    } else {
        "[::]:0".parse().unwrap()
    };
    let s = std::net::UdpSocket::bind(bind)?;
    s.set_read_timeout(Some(timeout))?;
    s.send_to(msg, server)?;
    let mut buf = vec![0u8; 65535];
    loop {
        let (n, from) = s.recv_from(&mut buf)?;
        // Only the answer from the server, to our id.
        if from == server && n >= 2 && buf[..2] == msg[..2] {
            return Ok(buf[..n].to_vec());
        }
    }
}

fn exchange_tcp(server: SocketAddr, msg: &[u8], timeout: Duration) -> std::io::Result<Vec<u8>> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect_timeout(&server, timeout)?;
    s.set_read_timeout(Some(timeout))?;
    let mut frame = (msg.len() as u16).to_be_bytes().to_vec();
    frame.extend_from_slice(msg);
    s.write_all(&frame)?;
    let mut len = [0u8; 2];
    s.read_exact(&mut len)?;
    let mut buf = vec![0u8; u16::from_be_bytes(len) as usize];
    s.read_exact(&mut buf)?;
    Ok(buf)
}

/// One exchange's outcome: the parsed answer, its size and the transport that carried it.
pub struct Answer {
    pub msg: Message,
    pub bytes: usize,
    pub via: &'static str,
}

/// How to ask: transport, EDNS, DO bit and the wait.
#[derive(Clone, Copy)]
pub struct Ask {
    pub tcp: bool,
    pub edns: bool,
    pub dnssec: bool,
    pub timeout: Duration,
}

/// Asks `server` one question (RD clear, as to an authoritative server); a UDP
/// answer with TC set is asked again over TCP, as a resolver would.
pub fn ask(
    server: SocketAddr,
    qname: &Name,
    qtype: RecordType,
    how: Ask,
) -> Result<Answer, String> {
    let id = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(1)
        & 0xffff) as u16;
    let mut msg = Message::new(id, MessageType::Query, OpCode::Query);
    msg.metadata.recursion_desired = false;
    msg.add_query(Query::query(qname.clone(), qtype));
    if how.edns {
        let mut e = Edns::new();
        e.set_max_payload(1232);
        e.set_dnssec_ok(how.dnssec);
        msg.set_edns(e);
    }
    let wire = msg.to_vec().map_err(|e| e.to_string())?;
    let mut via = if how.tcp { "TCP" } else { "UDP" };
    let mut bytes = if how.tcp {
        exchange_tcp(server, &wire, how.timeout)
    } else {
        exchange_udp(server, &wire, how.timeout)
    }
    .map_err(|e| io_error(server, e, how.timeout))?;
    let mut resp =
        Message::from_vec(&bytes).map_err(|e| format!("cannot parse the answer: {e}"))?;
    if resp.metadata.truncation && !how.tcp {
        via = "TCP (UDP answer was truncated)";
        bytes = exchange_tcp(server, &wire, how.timeout)
            .map_err(|e| io_error(server, e, how.timeout))?;
        resp = Message::from_vec(&bytes).map_err(|e| format!("cannot parse the answer: {e}"))?;
    }
    Ok(Answer {
        msg: resp,
        bytes: bytes.len(),
        via,
    })
}

/// Says "no answer within N s" for the timeout the OS reports as EAGAIN.
fn io_error(server: SocketAddr, e: std::io::Error, timeout: Duration) -> String {
    match e.kind() {
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
            format!("{server}: no answer within {} s", timeout.as_secs_f32())
        }
        _ => format!("{server}: {e}"),
    }
}

/// A name as typed, made absolute (`example.com` and `example.com.` are the same).
pub fn absolute_name(name: &str) -> Result<Name, String> {
    mailzone_server::parse_origin(name)
}

/// `ip`, `ip:port` or `[ipv6]:port`, with `port` when none is written.
pub fn server_addr(s: &str, port: u16) -> Result<SocketAddr, String> {
    if let Ok(a) = s.parse::<SocketAddr>() {
        return Ok(a);
    }
    s.trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<std::net::IpAddr>()
        .map(|ip| SocketAddr::new(ip, port))
        .map_err(|_| format!("`{s}` is not an IP address (or ip:port)"))
}

pub fn query(a: &QueryArgs) -> Result<ExitCode, String> {
    let mut server = "127.0.0.1".to_string();
    let mut rest = Vec::new();
    for x in &a.args {
        match x.strip_prefix('@') {
            Some(s) => server = s.to_string(),
            None => rest.push(x.clone()),
        }
    }
    let (name, rtype) = match rest.as_slice() {
        [n] => (n.clone(), "A".to_string()),
        [n, t] => (n.clone(), t.clone()),
        _ => return Err("usage: mailzone query [@server] <name> [type] [-p port]".into()),
    };
    let addr = server_addr(&server, a.port)?;
    let qname = absolute_name(&name)?;
    let qtype = RecordType::from_str(&rtype.to_ascii_uppercase())
        .map_err(|_| format!("`{rtype}` is not a record type"))?;
    let started = std::time::Instant::now();
    let Answer {
        msg: resp,
        bytes,
        via,
    } = ask(
        addr,
        &qname,
        qtype,
        Ask {
            tcp: a.tcp,
            edns: !a.no_edns,
            dnssec: a.dnssec,
            timeout: Duration::from_secs(a.timeout),
        },
    )?;
    let h = &resp.metadata;
    println!(
        ";; {} from {addr} over {via} in {} ms, {} bytes",
        h.response_code,
        started.elapsed().as_millis(),
        bytes
    );
    let mut flags = Vec::new();
    for (on, f) in [
        (h.authoritative, "aa"),
        (h.truncation, "tc"),
        (h.recursion_desired, "rd"),
        (h.recursion_available, "ra"),
        (h.authentic_data, "ad"),
        (h.checking_disabled, "cd"),
    ] {
        if on {
            flags.push(f);
        }
    }
    println!(
        ";; id {}, flags: {}; answer {}, authority {}, additional {}",
        h.id,
        flags.join(" "),
        resp.answers.len(),
        resp.authorities.len(),
        resp.additionals.len()
    );
    if let Some(e) = &resp.edns {
        println!(
            ";; EDNS version {}, udp {}, do {}",
            e.version(),
            e.max_payload(),
            e.flags().dnssec_ok
        );
    }
    for (title, recs) in [
        ("ANSWER", &resp.answers),
        ("AUTHORITY", &resp.authorities),
        ("ADDITIONAL", &resp.additionals),
    ] {
        if recs.is_empty() {
            continue;
        }
        println!("\n;; {title}");
        for r in recs {
            let mut line = String::new();
            let zr = mailzone_zone::ZoneRecord {
                owner: r.name.clone(),
                class: r.dns_class,
                ttl: r.ttl,
                rdata: r.data.clone(),
                span: Default::default(),
            };
            mailzone_zone::writer::write_record(&zr, &mut line);
            println!("{line}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
