//! `mailzone route` and `mailzone healthcheck` against a running server over
//! loopback: MX order and shuffling, null MX, implicit MX, aliases, several
//! servers, and a health verdict that follows the server.

mod common;

use common::{Daemon, scratch_dir, write};
use std::process::{Command, Output};

const ROUTE_ZONE: &str = r#"$ORIGIN route.test.
$TTL 300
@        SOA ns1 hostmaster 1 3600 600 86400 300
@        NS  ns1
ns1      A   192.0.2.2
@        MX  10 mx-a
@        MX  10 mx-b
@        MX  20 backup
@        MX  30 nowhere
mx-a     A   192.0.2.10
mx-a     AAAA 2001:db8::10
mx-b     A   192.0.2.11
backup   A   192.0.2.20
nowhere  TXT "no address here"
null     MX  0 .
implicit A   192.0.2.30
bare     TXT "neither MX nor address"
alias    CNAME route.test.
viaalias MX  10 mxalias
mxalias  CNAME mx-a
"#;

const OTHER_ZONE: &str = r#"$ORIGIN other.test.
$TTL 300
@        SOA ns1 hostmaster 1 3600 600 86400 300
@        NS  ns1
ns1      A   192.0.2.3
@        MX  5 mx-a.route.test.
"#;

fn zone_table(name: &str, file: &str) -> String {
    format!("[[zone]]\nname = \"{name}\"\nfile = \"{file}\"\n[zone.check]\non_error = \"warn\"\n")
}

fn start(tag: &str, name: &str, text: &str) -> Daemon {
    let dir = scratch_dir(tag);
    write(&dir.join("z.zone"), text);
    Daemon::start(&dir, "", &zone_table(name, "z.zone")).owning(dir)
}

fn mailzone(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mailzone"))
        .args(args)
        .output()
        .unwrap()
}

fn route(servers: &[&Daemon], target: &str) -> (i32, String) {
    let mut args = vec!["route".to_string(), target.to_string()];
    for d in servers {
        args.push("--server".into());
        args.push(d.addr().to_string());
    }
    let o = Command::new(env!("CARGO_BIN_EXE_mailzone"))
        .args(&args)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    (o.status.code().unwrap_or(-1), text)
}

/// The exchanges of the table, in the order printed.
fn exchanges(out: &str) -> Vec<String> {
    out.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() >= 4 && f[0].parse::<usize>().is_ok()).then(|| f[2].to_string())
        })
        .collect()
}

#[test]
fn route_follows_rfc5321() {
    let d = start("route-main", "route.test.", ROUTE_ZONE);

    let (code, out) = route(&[&d], "alice@route.test");
    assert_eq!(code, 0, "{out}");
    let ex = exchanges(&out);
    assert_eq!(ex.len(), 4, "{out}");
    let mut first_two = ex[..2].to_vec();
    first_two.sort();
    assert_eq!(first_two, ["mx-a.route.test.", "mx-b.route.test."], "{out}");
    assert_eq!(
        ex[2..],
        ["backup.route.test.", "nowhere.route.test."],
        "{out}"
    );
    assert!(out.contains("192.0.2.10, 2001:db8::10"), "{out}");
    assert!(
        out.contains("nowhere.route.test. has no A or AAAA record; skipped by senders"),
        "{out}"
    );
    assert!(out.contains("equal preferences are shuffled"), "{out}");

    // Equal preferences come out in both orders; 40 runs all alike would
    // happen by chance once in 2^39.
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..40 {
        seen.insert(exchanges(&route(&[&d], "route.test").1)[0].clone());
        if seen.len() == 2 {
            break;
        }
    }
    assert_eq!(seen.len(), 2, "equal preferences never shuffled: {seen:?}");

    let (code, out) = route(&[&d], "<bob@null.route.test>");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("null MX (RFC 7505)"), "{out}");

    let (code, out) = route(&[&d], "implicit.route.test");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("implicit MX"), "{out}");
    assert_eq!(exchanges(&out), ["implicit.route.test."], "{out}");
    assert!(out.contains("192.0.2.30"), "{out}");

    let (code, out) = route(&[&d], "bare.route.test");
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("no route: bare.route.test. has no MX and no address"),
        "{out}"
    );

    let (code, out) = route(&[&d], "x@missing.route.test");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("NXDOMAIN"), "{out}");

    let (code, out) = route(&[&d], "alias.route.test");
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("alias.route.test. is an alias (CNAME)"),
        "{out}"
    );
    assert_eq!(exchanges(&out).len(), 4, "{out}");

    let (code, out) = route(&[&d], "viaalias.route.test");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("RFC 2181 §10.3"), "{out}");
    assert!(out.contains("192.0.2.10"), "{out}");

    let (code, out) = route(&[&d], "bob@[192.0.2.1]");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("address literal"), "{out}");

    // A domain the server does not serve is a usage problem, not a verdict.
    let (code, out) = route(&[&d], "example.net");
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("REFUSED"), "{out}");
}

#[test]
fn route_asks_several_servers() {
    let main = start("route-multi-a", "route.test.", ROUTE_ZONE);
    let other = start("route-multi-b", "other.test.", OTHER_ZONE);

    // Alone, the other server cannot tell the exchange's address.
    let (code, out) = route(&[&other], "other.test");
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("not served by the servers asked (REFUSED)"),
        "{out}"
    );

    let (code, out) = route(&[&other, &main], "other.test");
    assert_eq!(code, 0, "{out}");
    assert_eq!(exchanges(&out), ["mx-a.route.test."], "{out}");
    assert!(out.contains("192.0.2.10, 2001:db8::10"), "{out}");
}

#[test]
fn healthcheck_follows_the_server() {
    let dir = scratch_dir("healthcheck");
    write(&dir.join("route.zone"), ROUTE_ZONE);
    write(&dir.join("other.zone"), OTHER_ZONE);
    let tables = zone_table("route.test.", "route.zone") + &zone_table("other.test.", "other.zone");
    let d = Daemon::start(&dir, "", &tables);
    let config = d.config.to_str().unwrap().to_string();

    let o = mailzone(&["healthcheck", "--config", &config]);
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(o.status.success(), "{out}");
    assert!(out.contains("ok: route.test. SOA"), "{out}");
    assert!(out.contains("ok: other.test. SOA"), "{out}");

    // The same through the environment, as the Docker image runs it.
    let o = Command::new(env!("CARGO_BIN_EXE_mailzone"))
        .arg("healthcheck")
        .env("MAILZONE_CONFIG", &config)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));

    // A zone the server does not serve makes it unhealthy, and says which.
    let extra = dir.join("extra.toml");
    write(
        &extra,
        &common::config_text(
            d.port,
            "",
            &(tables.clone() + &zone_table("absent.test.", "absent.zone")),
        ),
    );
    let o = mailzone(&["healthcheck", "--config", extra.to_str().unwrap()]);
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("unhealthy: absent.test. SOA"), "{out}");
    assert!(out.contains("Refused"), "{out}");

    let (code, _) = d.stop();
    assert_eq!(code, Some(0));
    let o = mailzone(&["healthcheck", "--config", &config, "--timeout", "1"]);
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("no answer"), "{out}");
}

/// `workers = 3`: three UDP sockets share the port (SO_REUSEPORT); queries
/// from many source ports, spread over them by the kernel, are all answered.
#[test]
fn several_udp_workers_share_the_port() {
    let dir = scratch_dir("workers");
    write(&dir.join("z.zone"), ROUTE_ZONE);
    let d = Daemon::start(&dir, "workers = 3", &zone_table("route.test.", "z.zone"));
    let q = {
        use hickory_proto::op::{Message, MessageType, OpCode, Query};
        let mut m = Message::new(7, MessageType::Query, OpCode::Query);
        m.add_query(Query::query(
            "route.test.".parse().unwrap(),
            hickory_proto::rr::RecordType::MX,
        ));
        m.to_vec().unwrap()
    };
    let mut answered = 0;
    for _ in 0..60 {
        let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_secs(2)))
            .unwrap();
        for _ in 0..5 {
            s.send_to(&q, d.addr()).unwrap();
            let mut buf = [0u8; 4096];
            let n = s.recv(&mut buf).unwrap();
            let m = hickory_proto::op::Message::from_vec(&buf[..n]).unwrap();
            assert_eq!(m.answers.len(), 4);
            answered += 1;
        }
    }
    assert_eq!(answered, 300);
    let (code, log) = d.stop();
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("workers=3"), "{log}");
}
