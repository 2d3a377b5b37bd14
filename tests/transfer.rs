//! Zone transfers out, judged by Knot DNS as a secondary of mailzone (both on
//! 127.0.0.1): Knot transfers every zone (the shipped examples, a 100,000
//! record zone, a DNSSEC-signed zone) and then holds exactly what mailzone
//! serves (compared record by record over AXFR from both, and by queries);
//! after a reload with a changed zone, NOTIFY makes Knot serve the new
//! serial within 5 s, by IXFR (Knot's log says so); and transfers from a
//! client outside a zone's `transfer` list are refused.

mod common;

use common::{Daemon, require_tool, write};
use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RecordType};
use hickory_proto::serialize::binary::{BinEncodable, BinEncoder};
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn root() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

type Rec = (String, u16, u32, Vec<u8>);

/// knotd, stopped however the test ends.
struct Knot(std::process::Child);
impl Drop for Knot {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A whole zone over AXFR (or the response to an IXFR): the rcode and every
/// record, names lowercased and RDATA in canonical form.
fn xfr(port: u16, zone: &str, ixfr_serial: Option<u32>) -> (ResponseCode, Vec<Rec>, usize) {
    let mut m = Message::new(77, MessageType::Query, OpCode::Query);
    let name = Name::from_ascii(zone).unwrap();
    match ixfr_serial {
        None => {
            m.add_query(Query::query(name, RecordType::AXFR));
        }
        Some(serial) => {
            m.add_query(Query::query(name.clone(), RecordType::IXFR));
            let soa =
                hickory_proto::rr::rdata::SOA::new(name.clone(), name.clone(), serial, 0, 0, 0, 0);
            m.add_authority(hickory_proto::rr::Record::from_rdata(
                name,
                0,
                hickory_proto::rr::RData::SOA(soa),
            ));
        }
    }
    let q = m.to_vec().unwrap();
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut f = (q.len() as u16).to_be_bytes().to_vec();
    f.extend_from_slice(&q);
    s.write_all(&f).unwrap();
    let mut recs = Vec::new();
    let mut soas = 0;
    let mut messages = 0;
    loop {
        let mut len = [0u8; 2];
        s.read_exact(&mut len).unwrap();
        let mut b = vec![0u8; u16::from_be_bytes(len) as usize];
        s.read_exact(&mut b).unwrap();
        messages += 1;
        let r = Message::from_vec(&b).unwrap();
        if r.metadata.response_code != ResponseCode::NoError {
            return (r.metadata.response_code, recs, messages);
        }
        for a in &r.answers {
            if a.record_type() == RecordType::SOA {
                soas += 1;
            }
            recs.push(common::canonical(a));
        }
        // AXFR ends at the second SOA; an up-to-date IXFR is one SOA.
        let done = soas >= 2 || (ixfr_serial.is_some() && soas == 1 && recs.len() == 1);
        if done {
            return (ResponseCode::NoError, recs, messages);
        }
    }
}

fn soa_serial(port: u16, zone: &str) -> Option<u32> {
    let mut m = Message::new(5, MessageType::Query, OpCode::Query);
    m.add_query(Query::query(
        Name::from_ascii(zone).unwrap(),
        RecordType::SOA,
    ));
    let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    s.send_to(&m.to_vec().unwrap(), ("127.0.0.1", port))
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = s.recv(&mut buf).ok()?;
    let r = Message::from_vec(&buf[..n]).ok()?;
    r.answers.iter().find_map(|a| match &a.data {
        hickory_proto::rr::RData::SOA(soa) => Some(soa.serial),
        _ => None,
    })
}

/// A zone of about 100,000 records: hosts, mail domains, texts.
fn big_zone(origin: &str) -> String {
    let mut z = format!(
        "$ORIGIN {origin}\n$TTL 3600\n@ SOA ns1 hostmaster 1 7200 900 1209600 300\n@ NS ns1\nns1 A 192.0.2.1\n"
    );
    let mut n = 3;
    let mut i = 0u32;
    while n < 100_000 {
        i += 1;
        z.push_str(&format!(
            "h{i} A 10.{}.{}.{}\nh{i} AAAA 2001:db8::{:x}\n",
            i >> 16 & 255,
            i >> 8 & 255,
            i & 255,
            i
        ));
        z.push_str(&format!("d{i} MX 10 h{i}\nd{i} TXT \"v=spf1 mx -all\"\n"));
        n += 4;
    }
    z
}

#[test]
fn knot_as_secondary_transfers_every_zone_and_follows_notify_by_ixfr() {
    require_tool("knotd", "knot");
    let dir = common::scratch_dir("transfer-knot");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("knot")).unwrap();
    let kport = common::free_port();
    // The zones: the shipped examples, a large one, a signed one, and one
    // whose transfer list does not include us.
    std::fs::copy(
        root().join("zones/example.com.zone"),
        dir.join("example.com.zone"),
    )
    .unwrap();
    std::fs::copy(
        root().join("zones/example.org.toml"),
        dir.join("example.org.toml"),
    )
    .unwrap();
    std::fs::create_dir_all(dir.join("keys")).unwrap();
    std::fs::copy(
        root().join("zones/keys/mail2026.pub.pem"),
        dir.join("keys/mail2026.pub.pem"),
    )
    .unwrap();
    write(&dir.join("big.test.zone"), &big_zone("big.test."));
    let fixture = std::fs::read_to_string(root().join("tests/dnssec/mail.test.zone")).unwrap();
    write(
        &dir.join("signed.test.zone"),
        &fixture.replace("mail.test.", "signed.test."),
    );
    write(
        &dir.join("closed.test.zone"),
        &fixture.replace("mail.test.", "closed.test."),
    );
    let o = Command::new(env!("CARGO_BIN_EXE_mailzone"))
        .args([
            "keygen",
            "signed.test.",
            "--dir",
            dir.join("dnskeys").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(o.status.success());
    let open = |name: &str, file: &str, extra: &str| {
        format!(
            "[[zone]]\nname = \"{name}\"\nfile = \"{file}\"\ntransfer = [\"127.0.0.1\"]\nnotify = [\"127.0.0.1:{kport}\"]\n{extra}"
        )
    };
    let zones = [
        open("example.com.", "example.com.zone", ""),
        open("example.org.", "example.org.toml", ""),
        open("big.test.", "big.test.zone", "[zone.check]\non_error = \"warn\"\n"),
        open("signed.test.", "signed.test.zone", "[zone.dnssec]\nkeys = \"dnskeys\"\ndenial = \"nsec3\"\n"),
        "[[zone]]\nname = \"closed.test.\"\nfile = \"closed.test.zone\"\ntransfer = [\"192.0.2.0/24\"]\n".to_string(),
    ]
    .concat();
    let d = Daemon::start(&dir, "", &zones);
    let secondary = ["example.com.", "example.org.", "big.test.", "signed.test."];
    let k = dir.join("knot");
    let mut conf = format!(
        "server:\n  listen: 127.0.0.1@{kport}\n  rundir: {k}\ndatabase:\n  storage: {k}\nremote:\n  - id: mz\n    address: 127.0.0.1@{}\nacl:\n  - id: from_mz\n    address: 127.0.0.1\n    action: [notify, transfer]\ntemplate:\n  - id: default\n    storage: {k}\n    master: mz\n    acl: from_mz\n    semantic-checks: off\n    zonefile-sync: -1\n    journal-content: changes\nlog:\n  - target: stderr\n    any: info\nzone:\n",
        d.port,
        k = k.display()
    );
    for z in secondary {
        conf.push_str(&format!("  - domain: {z}\n"));
    }
    write(&k.join("knot.conf"), &conf);
    let mut knot = Knot(
        Command::new("knotd")
            .args(["-c", k.join("knot.conf").to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut err = knot.0.stderr.take().unwrap();
    let knot_log = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let wait_for = |z: &str, serial: u32, within: Duration| -> Result<Duration, String> {
        let t = Instant::now();
        loop {
            let got = soa_serial(kport, z);
            if got == Some(serial) {
                return Ok(t.elapsed());
            }
            if t.elapsed() > within {
                return Err(format!(
                    "Knot serves {z} at {got:?}, not {serial}, after {within:?}"
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    for z in secondary {
        let serial = soa_serial(d.port, z).unwrap();
        wait_for(z, serial, Duration::from_secs(30)).unwrap();
        // What Knot holds is what mailzone serves, record by record.
        let (rc_m, mut ours, messages) = xfr(d.port, z, None);
        let (rc_k, mut theirs, _) = xfr(kport, z, None);
        assert_eq!(
            (rc_m, rc_k),
            (ResponseCode::NoError, ResponseCode::NoError),
            "{z}"
        );
        ours.sort();
        ours.dedup();
        theirs.sort();
        theirs.dedup();
        let a: BTreeSet<&Rec> = ours.iter().collect();
        let b: BTreeSet<&Rec> = theirs.iter().collect();
        let show = |x: &BTreeSet<&Rec>, y: &BTreeSet<&Rec>| -> Vec<String> {
            x.difference(y)
                .take(5)
                .map(|r| {
                    let mut t = String::new();
                    mailzone_zone::rdata::write_rdata(r.1, &r.3, &mut t);
                    format!(
                        "{} {} {} {t}",
                        r.0,
                        r.2,
                        mailzone_zone::rdata::type_name(r.1)
                    )
                })
                .collect()
        };
        assert!(
            a == b,
            "{z}: only in mailzone {:?}, only in Knot {:?}",
            show(&a, &b),
            show(&b, &a)
        );
        if z == "big.test." {
            assert!(
                ours.len() > 100_000 && messages > 100,
                "{z}: {} records in {messages} messages",
                ours.len()
            );
        }
        if z == "signed.test." {
            assert!(ours.iter().any(|r| r.1 == u16::from(RecordType::RRSIG)));
            assert!(ours.iter().any(|r| r.1 == u16::from(RecordType::NSEC3)));
        }
    }
    // Queries: both servers answer the same.
    for (name, t) in [
        ("example.com.", RecordType::MX),
        ("mail.example.com.", RecordType::A),
        ("_dmarc.example.com.", RecordType::TXT),
        ("nothing.example.com.", RecordType::A),
        ("example.org.", RecordType::TXT),
        ("h777.big.test.", RecordType::AAAA),
        ("d42.big.test.", RecordType::MX),
        ("x.hosts.signed.test.", RecordType::A),
    ] {
        let ask = |port: u16| {
            let mut m = Message::new(9, MessageType::Query, OpCode::Query);
            m.add_query(Query::query(Name::from_ascii(name).unwrap(), t));
            let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
            s.send_to(&m.to_vec().unwrap(), ("127.0.0.1", port))
                .unwrap();
            let mut buf = vec![0u8; 65535];
            let n = s.recv(&mut buf).unwrap();
            let r = Message::from_vec(&buf[..n]).unwrap();
            let mut answers: Vec<String> = r
                .answers
                .iter()
                .map(|a| a.to_string().to_lowercase())
                .collect();
            answers.sort();
            (r.metadata.response_code, answers)
        };
        assert_eq!(ask(d.port), ask(kport), "{name} {t}");
    }
    // A change: mailzone reloads, NOTIFY reaches Knot, Knot asks by IXFR.
    let zf = dir.join("example.com.zone");
    let text = std::fs::read_to_string(&zf).unwrap();
    let old = soa_serial(d.port, "example.com.").unwrap();
    let new = old + 1;
    write(
        &zf,
        &format!(
            "{}added IN TXT \"new in {new}\"\n",
            text.replace(&old.to_string(), &new.to_string())
        ),
    );
    let o = d.mailzone(&["reload"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    let took = wait_for("example.com.", new, Duration::from_secs(5)).unwrap();
    // IXFR from mailzone directly: only the change.
    let (rc, diff, _) = xfr(d.port, "example.com.", Some(old));
    assert_eq!(rc, ResponseCode::NoError);
    assert_eq!(
        diff.len(),
        5,
        "SOA new, SOA old, SOA new, the added TXT, SOA new: {diff:?}"
    );
    let (_, uptodate, _) = xfr(d.port, "example.com.", Some(new));
    assert_eq!(uptodate.len(), 1, "an up-to-date client gets the SOA alone");
    // Refused: a zone whose transfer list does not include 127.0.0.1.
    for ixfr in [None, Some(1)] {
        let (rc, recs, _) = xfr(d.port, "closed.test.", ixfr);
        assert_eq!(rc, ResponseCode::Refused, "{ixfr:?}");
        assert!(recs.is_empty());
    }
    drop(knot);
    let klog = knot_log.join().unwrap();
    assert!(
        klog.lines()
            .any(|l| l.contains("[example.com.]") && l.contains("IXFR") && l.contains("finished")),
        "Knot's log shows no IXFR of example.com.:\n{klog}"
    );
    eprintln!("NOTIFY → Knot serving serial {new}: {took:?}");
    let (code, log) = d.stop();
    assert_eq!(code, Some(0), "{log}");
    assert!(
        log.contains("NOTIFY answered") && log.contains("zone transfer refused"),
        "{log}"
    );
}

/// Sends a (possibly TSIG-signed) AXFR; returns the rcode of the first
/// message, the response messages, and how many of them hickory's TSIG
/// verifier accepted (each MAC chained to the one before).
fn signed_axfr(
    port: u16,
    zone: &str,
    key: Option<(&str, &[u8])>,
) -> (ResponseCode, Vec<Vec<u8>>, usize) {
    use hickory_proto::rr::TSigner;
    use hickory_proto::rr::rdata::tsig::TsigAlgorithm;
    let mut verifier = None;
    let mut m = Message::new(91, MessageType::Query, OpCode::Query);
    m.add_query(Query::query(
        Name::from_ascii(zone).unwrap(),
        RecordType::AXFR,
    ));
    let mut q = m.to_vec().unwrap();
    if let Some((name, secret)) = key {
        let signer = TSigner::new(
            secret.to_vec(),
            TsigAlgorithm::HmacSha256,
            Name::from_ascii(name).unwrap(),
            300,
        )
        .unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let (tsig, v) = signer.sign_message(&m, now).unwrap();
        verifier = v;
        let mut rec = Vec::new();
        tsig.emit(&mut BinEncoder::new(&mut rec)).unwrap();
        q.extend_from_slice(&rec);
        let ar = u16::from_be_bytes([q[10], q[11]]) + 1;
        q[10..12].copy_from_slice(&ar.to_be_bytes());
    }
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut f = (q.len() as u16).to_be_bytes().to_vec();
    f.extend_from_slice(&q);
    s.write_all(&f).unwrap();
    let mut msgs = Vec::new();
    let mut soas = 0;
    loop {
        let mut len = [0u8; 2];
        if s.read_exact(&mut len).is_err() {
            break;
        }
        let mut b = vec![0u8; u16::from_be_bytes(len) as usize];
        s.read_exact(&mut b).unwrap();
        let r = Message::from_vec(&b).unwrap();
        let rc = r.metadata.response_code;
        soas += r
            .answers
            .iter()
            .filter(|a| a.record_type() == RecordType::SOA)
            .count();
        msgs.push(b);
        if rc != ResponseCode::NoError || soas >= 2 {
            break;
        }
    }
    let rc = Message::from_vec(&msgs[0]).unwrap().metadata.response_code;
    let verified = match (&mut verifier, rc) {
        (Some(v), ResponseCode::NoError) => msgs.iter().take_while(|m| v.verify(m).is_ok()).count(),
        _ => 0,
    };
    (rc, msgs, verified)
}

#[test]
fn tsig_signed_transfers_to_knot_and_bad_signatures_are_refused() {
    require_tool("knotd", "knot");
    let dir = common::scratch_dir("transfer-tsig");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("knot")).unwrap();
    let kport = common::free_port();
    let secret: Vec<u8> = (0u8..32)
        .map(|i| i.wrapping_mul(37).wrapping_add(11))
        .collect();
    let b64 = data_encoding::BASE64.encode(&secret);
    std::fs::copy(
        root().join("zones/example.com.zone"),
        dir.join("example.com.zone"),
    )
    .unwrap();
    write(&dir.join("big.test.zone"), &big_zone("big.test."));
    let zone = |name: &str, file: &str| {
        format!(
            "[[zone]]\nname = \"{name}\"\nfile = \"{file}\"\ntransfer = [\"127.0.0.1\"]\ntransfer_key = \"xfr.test.\"\nnotify = [\"127.0.0.1:{kport}\"]\n[zone.check]\non_error = \"warn\"\n"
        )
    };
    let zones = format!(
        "[[key]]\nname = \"xfr.test.\"\nalgorithm = \"hmac-sha256\"\nsecret = \"{b64}\"\n{}{}",
        zone("example.com.", "example.com.zone"),
        zone("big.test.", "big.test.zone")
    );
    let d = Daemon::start(&dir, "", &zones);
    // Our own client: hickory verifies every response message's MAC.
    let (rc, msgs, verified) = signed_axfr(d.port, "big.test.", Some(("xfr.test.", &secret)));
    assert_eq!(rc, ResponseCode::NoError);
    assert!(msgs.len() > 100);
    assert_eq!(verified, msgs.len(), "every message's MAC verifies");
    // Unsigned: refused. Signed with the wrong secret: NOTAUTH.
    assert_eq!(
        signed_axfr(d.port, "big.test.", None).0,
        ResponseCode::Refused
    );
    let wrong: Vec<u8> = secret.iter().map(|b| b ^ 1).collect();
    assert_eq!(
        signed_axfr(d.port, "big.test.", Some(("xfr.test.", &wrong))).0,
        ResponseCode::NotAuth
    );
    assert_eq!(
        signed_axfr(d.port, "big.test.", Some(("other.key.", &secret))).0,
        ResponseCode::NotAuth
    );
    let k = dir.join("knot");
    let conf = format!(
        "server:\n  listen: 127.0.0.1@{kport}\n  rundir: {k}\ndatabase:\n  storage: {k}\nkey:\n  - id: xfr.test.\n    algorithm: hmac-sha256\n    secret: {b64}\nremote:\n  - id: mz\n    address: 127.0.0.1@{}\n    key: xfr.test.\nacl:\n  - id: notify_from_mz\n    address: 127.0.0.1\n    action: notify\ntemplate:\n  - id: default\n    storage: {k}\n    master: mz\n    acl: notify_from_mz\n    semantic-checks: off\n    zonefile-sync: -1\n    journal-content: changes\nlog:\n  - target: stderr\n    any: info\nzone:\n  - domain: example.com.\n  - domain: big.test.\n",
        d.port,
        k = k.display()
    );
    write(&k.join("knot.conf"), &conf);
    let mut knot = Knot(
        Command::new("knotd")
            .args(["-c", k.join("knot.conf").to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut err = knot.0.stderr.take().unwrap();
    let knot_log = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let wait_for = |z: &str, serial: u32| {
        let t = Instant::now();
        while soa_serial(kport, z) != Some(serial) {
            assert!(
                t.elapsed() < Duration::from_secs(30),
                "Knot has no {z} at {serial} after 30 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    // Knot verifies the MAC of every message, chained, over 245 messages.
    wait_for("example.com.", soa_serial(d.port, "example.com.").unwrap());
    wait_for("big.test.", 1);
    // A signed change: NOTIFY, then a TSIG-signed IXFR.
    let zf = dir.join("example.com.zone");
    let text = std::fs::read_to_string(&zf).unwrap();
    let old = soa_serial(d.port, "example.com.").unwrap();
    write(
        &zf,
        &format!(
            "{}signed IN TXT \"tsig\"\n",
            text.replace(&old.to_string(), &(old + 1).to_string())
        ),
    );
    assert!(d.mailzone(&["reload"]).status.success());
    wait_for("example.com.", old + 1);
    drop(knot);
    let klog = knot_log.join().unwrap();
    assert!(
        klog.lines()
            .any(|l| l.contains("[example.com.]") && l.contains("IXFR") && l.contains("finished")),
        "no IXFR in Knot's log:\n{klog}"
    );
    assert!(
        !klog.contains("TSIG"),
        "Knot complained about TSIG:\n{klog}"
    );
    let (code, log) = d.stop();
    assert_eq!(code, Some(0), "{log}");
}

fn status_zone(d: &Daemon, name: &str) -> serde_json::Value {
    let st = d.status();
    st["zones"]
        .as_array()
        .unwrap()
        .iter()
        .find(|z| z["name"] == name)
        .cloned()
        .unwrap_or_else(|| panic!("no {name} in {st}"))
}

fn wait_serial(port: u16, zone: &str, serial: u32, within: Duration) -> Duration {
    let t = Instant::now();
    loop {
        let got = soa_serial(port, zone);
        if got == Some(serial) {
            return t.elapsed();
        }
        assert!(
            t.elapsed() < within,
            "{zone} on port {port}: serial {got:?}, not {serial}, after {within:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn mailzone_as_secondary_of_knot_with_tsig_follows_notify_and_survives_a_restart() {
    require_tool("knotd", "knot");
    require_tool("knotc", "knot");
    let dir = common::scratch_dir("secondary-knot");
    let _ = std::fs::remove_dir_all(&dir);
    let k = dir.join("knot");
    std::fs::create_dir_all(&k).unwrap();
    let (kport, mport) = (common::free_port(), common::free_port());
    let secret: Vec<u8> = (0u8..32)
        .map(|i| i.wrapping_mul(53).wrapping_add(7))
        .collect();
    let b64 = data_encoding::BASE64.encode(&secret);
    let wrong = data_encoding::BASE64.encode(&secret.iter().map(|b| b ^ 0x55).collect::<Vec<u8>>());
    std::fs::copy(
        root().join("zones/example.com.zone"),
        k.join("example.com.zone"),
    )
    .unwrap();
    let fixture = std::fs::read_to_string(root().join("tests/dnssec/mail.test.zone")).unwrap();
    write(&k.join("mail.test.zone"), &fixture);
    write(
        &k.join("knot.conf"),
        &format!(
            "server:\n  listen: 127.0.0.1@{kport}\n  rundir: {k}\ndatabase:\n  storage: {k}\nkey:\n  - id: xfr.test.\n    algorithm: hmac-sha256\n    secret: {b64}\nremote:\n  - id: mz\n    address: 127.0.0.1@{mport}\nacl:\n  - id: to_mz\n    address: 127.0.0.1\n    key: xfr.test.\n    action: transfer\ntemplate:\n  - id: default\n    storage: {k}\n    semantic-checks: off\n    zonefile-sync: -1\n    zonefile-load: difference\n    journal-content: changes\n    notify: mz\n    acl: to_mz\nlog:\n  - target: stderr\n    any: info\nzone:\n  - domain: example.com.\n  - domain: mail.test.\n",
            k = k.display()
        ),
    );
    let knot = Knot(
        Command::new("knotd")
            .args(["-c", k.join("knot.conf").to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let zones = format!(
        "[[key]]\nname = \"xfr.test.\"\nsecret = \"{b64}\"\n[[key]]\nname = \"wrong.test.\"\nsecret = \"{wrong}\"\n\
         [[zone]]\nname = \"example.com.\"\nfile = \"sec/example.com.zone\"\nprimary = [\"127.0.0.1:{kport}\"]\nprimary_key = \"xfr.test.\"\ntransfer = [\"127.0.0.1\"]\n\
         [[zone]]\nname = \"mail.test.\"\nfile = \"sec/mail.test.zone\"\nprimary = [\"127.0.0.1:{kport}\"]\nprimary_key = \"wrong.test.\"\n"
    );
    let up = Instant::now();
    let serial = loop {
        if let Some(s) = soa_serial(kport, "example.com.") {
            break s;
        }
        assert!(
            up.elapsed() < Duration::from_secs(20),
            "knotd did not answer within 20 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let d = Daemon::start_on(&dir, mport, "", &zones);
    wait_serial(mport, "example.com.", serial, Duration::from_secs(10));
    let (_, mut ours, _) = xfr(mport, "example.com.", None);
    let (_, mut theirs, _) = xfr_signed_from_knot(kport, &secret);
    ours.sort();
    theirs.sort();
    assert_eq!(ours, theirs, "mailzone holds what Knot serves");
    let z = status_zone(&d, "example.com.");
    assert_eq!(z["role"], "secondary");
    assert!(
        z["last_transfer"]
            .as_str()
            .unwrap_or_default()
            .starts_with("AXFR"),
        "{z}"
    );
    // A signed change at Knot: NOTIFY, then IXFR.
    let zf = k.join("example.com.zone");
    let text = std::fs::read_to_string(&zf).unwrap();
    write(
        &zf,
        &format!(
            "{}fromknot IN TXT \"v2\"\n",
            text.replace(&serial.to_string(), &(serial + 1).to_string())
        ),
    );
    let o = Command::new("knotc")
        .args([
            "-c",
            k.join("knot.conf").to_str().unwrap(),
            "zone-reload",
            "example.com.",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    let took = wait_serial(mport, "example.com.", serial + 1, Duration::from_secs(5));
    let z = status_zone(&d, "example.com.");
    assert!(
        z["last_transfer"]
            .as_str()
            .unwrap_or_default()
            .starts_with("IXFR"),
        "{z}"
    );
    eprintln!("Knot change → mailzone serving it: {took:?}");
    // The wrong key: Knot refuses, mailzone serves nothing for that zone and says why.
    let z = status_zone(&d, "mail.test.");
    assert_eq!(z["served"], false, "{z}");
    assert!(
        !z["refresh_error"].as_str().unwrap_or_default().is_empty(),
        "{z}"
    );
    // Restart with the primary gone: the persisted copy is served at once.
    let (code, log) = d.stop();
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("NOTIFY received"), "{log}");
    drop(knot);
    let d = Daemon::start_on(&dir, mport, "", &zones);
    assert_eq!(soa_serial(mport, "example.com."), Some(serial + 1));
    let (code, log) = d.stop();
    assert_eq!(code, Some(0), "{log}");
}

/// An AXFR from Knot signed with the test key (Knot requires it).
fn xfr_signed_from_knot(port: u16, secret: &[u8]) -> (ResponseCode, Vec<Rec>, usize) {
    let (rc, msgs, verified) = signed_axfr(port, "example.com.", Some(("xfr.test.", secret)));
    assert_eq!(verified, msgs.len(), "Knot's TSIG verifies");
    let mut recs = Vec::new();
    for m in &msgs {
        for a in Message::from_vec(m).unwrap().answers {
            recs.push(common::canonical(&a));
        }
    }
    (rc, recs, msgs.len())
}

#[test]
fn a_chain_of_three_mailzones_converges_after_each_of_20_changes() {
    let dir = common::scratch_dir("secondary-chain");
    let _ = std::fs::remove_dir_all(&dir);
    let (pa, pb, pc) = (
        common::free_port(),
        common::free_port(),
        common::free_port(),
    );
    for n in ["a", "b", "c"] {
        std::fs::create_dir_all(dir.join(n)).unwrap();
    }
    let fixture = std::fs::read_to_string(root().join("tests/dnssec/mail.test.zone")).unwrap();
    let zone = |v: u32| {
        fixture
            .replace("mail.test.", "chain.test.")
            .replace("2026120301", &(2026120300 + v).to_string())
            .replace("v=STSv1; id=20261203", &format!("v=STSv1; id=change{v}"))
    };
    write(&dir.join("a/chain.test.zone"), &zone(1));
    let a = Daemon::start_on(
        &dir.join("a"),
        pa,
        "",
        &format!(
            "[[zone]]\nname = \"chain.test.\"\nfile = \"chain.test.zone\"\ntransfer = [\"127.0.0.1\"]\nnotify = [\"127.0.0.1:{pb}\"]\n"
        ),
    );
    let b = Daemon::start_on(
        &dir.join("b"),
        pb,
        "",
        &format!(
            "[[zone]]\nname = \"chain.test.\"\nfile = \"chain.test.zone\"\nprimary = [\"127.0.0.1:{pa}\"]\ntransfer = [\"127.0.0.1\"]\nnotify = [\"127.0.0.1:{pc}\"]\n"
        ),
    );
    let c = Daemon::start_on(
        &dir.join("c"),
        pc,
        "",
        &format!(
            "[[zone]]\nname = \"chain.test.\"\nfile = \"chain.test.zone\"\nprimary = [\"127.0.0.1:{pb}\"]\ntransfer = [\"127.0.0.1\"]\n"
        ),
    );
    wait_serial(pc, "chain.test.", 2026120301, Duration::from_secs(10));
    let mut slowest = Duration::ZERO;
    for v in 2..=21 {
        write(&dir.join("a/chain.test.zone"), &zone(v));
        let o = a.mailzone(&["reload"]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
        let serial = 2026120300 + v;
        let reloaded = Instant::now();
        wait_serial(pb, "chain.test.", serial, Duration::from_secs(5));
        wait_serial(pc, "chain.test.", serial, Duration::from_secs(5));
        slowest = slowest.max(reloaded.elapsed());
    }
    for d in [&b, &c] {
        let z = status_zone(d, "chain.test.");
        assert!(
            z["last_transfer"]
                .as_str()
                .unwrap_or_default()
                .starts_with("IXFR"),
            "{z}"
        );
        assert_eq!(z["serial"], 2026120321, "{z}");
    }
    let (_, mut ra, _) = xfr(pa, "chain.test.", None);
    let (_, mut rc, _) = xfr(pc, "chain.test.", None);
    ra.sort();
    rc.sort();
    assert_eq!(ra, rc, "the end of the chain holds what the primary serves");
    eprintln!(
        "20 changes through a chain of three: the last server served each within {slowest:?} of the reload"
    );
    for d in [a, b, c] {
        let (code, log) = d.stop();
        assert_eq!(code, Some(0), "{log}");
    }
}

#[test]
fn a_secondary_stops_serving_at_soa_expire_without_its_primary() {
    let dir = common::scratch_dir("secondary-expire");
    let _ = std::fs::remove_dir_all(&dir);
    let (pa, pb) = (common::free_port(), common::free_port());
    std::fs::create_dir_all(dir.join("a")).unwrap();
    std::fs::create_dir_all(dir.join("b")).unwrap();
    // Refresh 1 s, retry 1 s, expire 4 s.
    let fixture = std::fs::read_to_string(root().join("tests/dnssec/mail.test.zone")).unwrap();
    write(
        &dir.join("a/short.test.zone"),
        &fixture
            .replace("mail.test.", "short.test.")
            .replace("2026120301 7200 900 1209600 300", "2026120301 1 1 4 300"),
    );
    let a = Daemon::start_on(
        &dir.join("a"),
        pa,
        "",
        "[[zone]]\nname = \"short.test.\"\nfile = \"short.test.zone\"\ntransfer = [\"127.0.0.1\"]\n[zone.check]\non_error = \"warn\"\n",
    );
    let b = Daemon::start_on(
        &dir.join("b"),
        pb,
        "",
        &format!(
            "[[zone]]\nname = \"short.test.\"\nfile = \"short.test.zone\"\nprimary = [\"127.0.0.1:{pa}\"]\n[zone.check]\non_error = \"warn\"\n"
        ),
    );
    wait_serial(pb, "short.test.", 2026120301, Duration::from_secs(10));
    let (code, _) = a.stop();
    assert_eq!(code, Some(0));
    let stopped = Instant::now();
    loop {
        let z = status_zone(&b, "short.test.");
        if z["served"] == false {
            assert!(
                z["last_failure"]["reason"]
                    .as_str()
                    .unwrap_or_default()
                    .starts_with("expired"),
                "{z}"
            );
            break;
        }
        assert!(
            stopped.elapsed() < Duration::from_secs(10),
            "still served 10 s after the primary stopped: {z}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let (code, log) = b.stop();
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("refresh failed"), "{log}");
}
