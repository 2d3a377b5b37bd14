//! Reload end to end, against the real binary on 127.0.0.1: 100 reloads that
//! alternate valid and broken edits under UDP and TCP query load; file
//! watching with rename-on-save and truncate-then-write; the SOA serial
//! rules; config reload (zones added and removed by SIGHUP); and a stop that
//! lets TCP answers already asked for finish.

mod common;

use common::{Daemon, config_text, write};
use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::path::Path;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The test zone at version `v`: the serial and every string of the `set`
/// TXT RRset carry it, so an answer that mixes versions is visible.
fn zone(v: u32) -> String {
    format!(
        "$ORIGIN reload.test.\n$TTL 300\n@ SOA ns1 hostmaster {} 3600 900 1209600 300\n@ NS ns1\nns1 A 192.0.2.53\n@ MX 10 mail\nmail A 192.0.2.25\n@ TXT \"v=spf1 mx -all\"\n_dmarc TXT \"v=DMARC1; p=reject; rua=mailto:dmarc@reload.test\"\nset TXT \"v{v} a\"\nset TXT \"v{v} b\"\nset TXT \"v{v} c\"\nset TXT \"v{v} d\"\n",
        1000 + v
    )
}

/// A version no valid edit ever writes: seeing it served is a failure.
const BROKEN: u32 = 9999;

const ZONE_TABLE: &str = "[[zone]]\nname = \"reload.test.\"\nfile = \"reload.zone\"\n";

fn query(name: &str, t: RecordType) -> (u16, Vec<u8>) {
    let id = rand_id();
    let mut m = Message::new(id, MessageType::Query, OpCode::Query);
    m.add_query(Query::query(Name::from_str(name).unwrap(), t));
    (id, m.to_vec().unwrap())
}

/// The answer to `name SOA` over UDP.
fn ask_soa(server: SocketAddr, name: &str) -> Message {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
    let (_, q) = query(name, RecordType::SOA);
    s.send_to(&q, server).unwrap();
    let mut buf = vec![0u8; 4096];
    let n = s.recv(&mut buf).unwrap();
    Message::from_vec(&buf[..n]).unwrap()
}

fn rand_id() -> u16 {
    static N: AtomicU64 = AtomicU64::new(1);
    (N.fetch_add(7919, Ordering::Relaxed) & 0xffff) as u16
}

/// What one answer to `set.reload.test. TXT` says: its version, or why it is wrong.
fn version_of(id: u16, wire: &[u8]) -> Result<u32, String> {
    let m = Message::from_vec(wire).map_err(|e| format!("unparsable answer: {e}"))?;
    if m.metadata.id != id {
        return Err(format!("answer id {} for query id {id}", m.metadata.id));
    }
    if m.metadata.response_code != ResponseCode::NoError {
        return Err(format!("rcode {}", m.metadata.response_code));
    }
    let mut versions = BTreeSet::new();
    for r in &m.answers {
        if let RData::TXT(t) = &r.data {
            let s = t.to_string();
            let v = s
                .trim_matches('"')
                .strip_prefix('v')
                .and_then(|x| x.split(' ').next())
                .and_then(|x| x.parse::<u32>().ok())
                .ok_or_else(|| format!("unexpected TXT {s}"))?;
            versions.insert(v);
        }
    }
    if m.answers.len() != 4 || versions.len() != 1 {
        return Err(format!(
            "RRset of {} records mixing versions {versions:?}",
            m.answers.len()
        ));
    }
    Ok(*versions.first().unwrap())
}

/// What the query load found.
#[derive(Default)]
struct Tally {
    answers: AtomicU64,
    failures: Mutex<Vec<String>>,
}

/// Queries `set.reload.test. TXT` over UDP or TCP until `stop` (at most 180 s
/// or 2,000,000 queries), checking each answer: NOERROR, one version per
/// RRset, a version that was published, never going backwards.
fn load(
    addr: SocketAddr,
    tcp: bool,
    valid: Arc<Mutex<BTreeSet<u32>>>,
    stop: Arc<AtomicBool>,
    tally: Arc<Tally>,
) {
    let fail = |m: String| tally.failures.lock().unwrap().push(m);
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.connect(addr).unwrap();
    udp.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let mut stream = tcp.then(|| {
        let s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        s
    });
    let started = Instant::now();
    let mut last = 0;
    let mut buf = vec![0u8; 65535];
    for _ in 0..2_000_000 {
        if stop.load(Ordering::Relaxed) || started.elapsed() > Duration::from_secs(180) {
            break;
        }
        let (id, q) = query("set.reload.test.", RecordType::TXT);
        let got = match &mut stream {
            None => {
                udp.send(&q).unwrap();
                udp.recv(&mut buf).map(|n| buf[..n].to_vec())
            }
            Some(s) => {
                let mut frame = (q.len() as u16).to_be_bytes().to_vec();
                frame.extend_from_slice(&q);
                s.write_all(&frame).and_then(|_| {
                    let mut len = [0u8; 2];
                    s.read_exact(&mut len)?;
                    let mut b = vec![0u8; u16::from_be_bytes(len) as usize];
                    s.read_exact(&mut b)?;
                    Ok(b)
                })
            }
        };
        let proto = if tcp { "TCP" } else { "UDP" };
        match got.map_err(|e| format!("{proto}: no answer: {e}")) {
            Err(e) => {
                fail(e);
                if tcp {
                    return;
                }
            }
            Ok(wire) => match version_of(id, &wire) {
                Err(e) => fail(format!("{proto}: {e}")),
                Ok(v) => {
                    tally.answers.fetch_add(1, Ordering::Relaxed);
                    if !valid.lock().unwrap().contains(&v) {
                        fail(format!("{proto}: version {v} was never a valid edit"));
                    } else if v < last {
                        fail(format!("{proto}: version {v} after {last}"));
                    }
                    last = last.max(v);
                }
            },
        }
    }
}

/// The version served now, asked over UDP.
fn served_version(addr: SocketAddr) -> Result<u32, String> {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
    let (id, q) = query("set.reload.test.", RecordType::TXT);
    s.send_to(&q, addr).unwrap();
    let mut buf = vec![0u8; 65535];
    let n = s.recv(&mut buf).map_err(|e| e.to_string())?;
    version_of(id, &buf[..n])
}

#[test]
fn hundred_reloads_valid_and_broken_under_query_load() {
    let dir = common::scratch_dir("reload-100");
    let zf = dir.join("reload.zone");
    write(&zf, &zone(1));
    let d = Daemon::start(&dir, "", ZONE_TABLE);
    let good_config = std::fs::read_to_string(&d.config).unwrap();
    let valid = Arc::new(Mutex::new(BTreeSet::from([1u32])));
    let stop = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(Tally::default());
    let loaders: Vec<_> = [false, true]
        .into_iter()
        .map(|tcp| {
            let (valid, stop, tally, addr) = (valid.clone(), stop.clone(), tally.clone(), d.addr());
            std::thread::spawn(move || load(addr, tcp, valid, stop, tally))
        })
        .collect();
    let mut version = 1;
    let mut slowest = Duration::ZERO;
    let mut kinds_seen = BTreeSet::new();
    for i in 0..100 {
        if i % 2 == 0 {
            // A valid edit: the config as it should be, the next version.
            version += 1;
            write(&d.config, &good_config);
            write(&zf, &zone(version));
            valid.lock().unwrap().insert(version);
            let o = d.mailzone(&["reload"]);
            let out = String::from_utf8_lossy(&o.stdout);
            assert!(o.status.success(), "reload {i} (valid, v{version}): {out}");
            let returned = Instant::now();
            loop {
                match served_version(d.addr()) {
                    Ok(v) if v == version => break,
                    other => assert!(
                        returned.elapsed() < Duration::from_secs(1),
                        "reload {i}: v{version} not served 1 s after the reload returned: {other:?}"
                    ),
                }
            }
            slowest = slowest.max(returned.elapsed());
            continue;
        }
        let kind = (i / 2) % 4;
        kinds_seen.insert(kind);
        let broken = zone(BROKEN);
        match kind {
            0 => write(&zf, &format!("{broken}bad A 999.0.2.1\n")),
            1 => write(
                &zf,
                &broken.replace("v=spf1 mx -all", "v=spf1 inlcude:_spf.example.net -all"),
            ),
            2 => std::fs::remove_file(&zf).unwrap(),
            _ => {
                // The zone edit is valid, but it comes with a config that is
                // not: nothing may change.
                write(&zf, &broken);
                write(
                    &d.config,
                    &good_config.replace("[server]", "[server]\nlisten_on = 1"),
                );
            }
        }
        let o = d.mailzone(&["reload"]);
        let out = String::from_utf8_lossy(&o.stdout);
        assert_eq!(
            o.status.code(),
            Some(1),
            "reload {i} (broken kind {kind}): {out}"
        );
        let expect = [
            "ZF007",
            "SPF002",
            "reload.zone",
            "unknown field `listen_on`",
        ][kind];
        assert!(out.contains(expect), "reload {i}: {out}");
        assert_eq!(served_version(d.addr()), Ok(version), "reload {i}");
        if kind == 1 {
            // status keeps the failure with its location.
            let st = d.mailzone(&["status"]);
            let text = String::from_utf8_lossy(&st.stdout);
            assert!(
                text.contains("LAST RELOAD FAILED")
                    && text.contains("reload.zone:8:")
                    && text.contains("error[SPF002]"),
                "{text}"
            );
        }
    }
    stop.store(true, Ordering::Relaxed);
    for l in loaders {
        l.join().unwrap();
    }
    let failures = tally.failures.lock().unwrap();
    let answers = tally.answers.load(Ordering::Relaxed);
    assert!(
        failures.is_empty(),
        "{} failures: {:?}",
        failures.len(),
        &failures[..failures.len().min(10)]
    );
    assert!(answers > 1_000, "only {answers} answers during 100 reloads");
    assert_eq!(kinds_seen.len(), 4);
    eprintln!(
        "100 reloads: {answers} answers checked, none wrong; new data served at most {slowest:?} after the reload returned"
    );
    let st = d.status();
    assert_eq!(st["zones"][0]["loads"], 51, "{st}");
    assert_eq!(st["zones"][0]["serial"], 1051, "{st}");
    let (code, log) = d.stop();
    assert_eq!(code, Some(0), "{log}");
    assert!(
        log.contains("reload.zone:8:") && log.contains("SPF002"),
        "{log}"
    );
}

/// Waits until the zone's published load count reaches `n` (at most 5 s),
/// then checks it stays there for 1.5 s: one reload per change.
fn expect_loads(d: &Daemon, n: u64, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let st = d.status();
        let loads = st["zones"][0]["loads"].as_u64().unwrap();
        if loads == n {
            break;
        }
        assert!(loads < n, "{what}: {loads} loads, expected {n}: {st}");
        assert!(
            Instant::now() < deadline,
            "{what}: not reloaded within 5 s: {st}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(1500));
    let st = d.status();
    assert_eq!(
        st["zones"][0]["loads"], n,
        "{what}: reloaded more than once: {st}"
    );
    assert_eq!(st["zones"][0]["failing"], false, "{what}: {st}");
    assert!(
        st["zones"][0]["last_failure"].is_null(),
        "{what}: an attempt failed: {st}"
    );
}

#[test]
fn watch_reloads_once_per_save_whatever_the_editor_does() {
    let dir = common::scratch_dir("reload-watch");
    let zf = dir.join("reload.zone");
    write(&zf, &zone(1));
    let d = Daemon::start(&dir, "watch = true", ZONE_TABLE);
    expect_loads(&d, 1, "start");
    // Rename-on-save: write a temp file beside it, rename it over.
    let tmp = dir.join(".reload.zone.swp");
    write(&tmp, &zone(2));
    std::fs::rename(&tmp, &zf).unwrap();
    expect_loads(&d, 2, "rename-on-save");
    assert_eq!(served_version(d.addr()), Ok(2));
    // In place: truncate, then write.
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&zf)
        .unwrap();
    f.write_all(zone(3).as_bytes()).unwrap();
    drop(f);
    expect_loads(&d, 3, "truncate-then-write");
    assert_eq!(served_version(d.addr()), Ok(3));
    // Touching a file without changing it reloads nothing; unrelated files are ignored.
    write(&zf, &zone(3));
    write(&dir.join("notes.txt"), "unrelated");
    std::thread::sleep(Duration::from_millis(500));
    expect_loads(&d, 3, "same content");
    let (code, log) = d.stop();
    assert_eq!(code, Some(0), "{log}");
}

#[test]
fn serial_rules_warn_refuse_force_and_auto() {
    let dir = common::scratch_dir("reload-serial");
    let zf = dir.join("reload.zone");
    write(&zf, &zone(1));
    let auto = dir.join("auto.zone");
    write(&auto, &zone(1).replace("reload.test.", "auto.test."));
    let d = Daemon::start(
        &dir,
        "",
        &format!(
            "{ZONE_TABLE}[[zone]]\nname = \"auto.test.\"\nfile = \"auto.zone\"\nserial = \"unixtime\"\n"
        ),
    );
    // Only a comment changed: no warning. (The first load's content hash is
    // worked out after the zone is served, so this also checks it is the
    // hash of the zone, not a stand-in.)
    write(&zf, &format!("; a comment\n{}", zone(1)));
    let o = d.mailzone(&["reload", "reload.test"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{out}");
    assert!(!out.contains("did not"), "{out}");
    // Records changed, serial not: served, with a warning.
    write(&zf, &zone(2).replace("1002 3600", "1001 3600"));
    let o = d.mailzone(&["reload", "reload.test"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{out}");
    assert!(out.contains("the SOA serial (1001) did not"), "{out}");
    assert_eq!(served_version(d.addr()), Ok(2));
    // Serial backwards: refused, the old zone keeps serving; --force takes it.
    write(&zf, &zone(3).replace("1003 3600", "900 3600"));
    let o = d.mailzone(&["reload", "reload.test"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("goes backwards, from 1001 to 900"), "{out}");
    assert_eq!(served_version(d.addr()), Ok(2));
    let o = d.mailzone(&["reload", "--force", "reload.test"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    assert_eq!(served_version(d.addr()), Ok(3));
    // serial = "unixtime": the server's serial, rising with every change,
    // kept when only a comment changed.
    let serial = |d: &Daemon| d.status()["zones"][1]["serial"].as_u64().unwrap();
    let first = serial(&d);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(
        first + 60 > now && first <= now,
        "{first} is not the time ({now})"
    );
    write(
        &auto,
        &format!(
            "; a comment\n{}",
            zone(1).replace("reload.test.", "auto.test.")
        ),
    );
    assert!(d.mailzone(&["reload", "auto.test"]).status.success());
    assert_eq!(serial(&d), first, "a comment is not a change");
    write(&auto, &zone(2).replace("reload.test.", "auto.test."));
    assert!(d.mailzone(&["reload", "auto.test"]).status.success());
    let next = serial(&d);
    assert!(
        next > first && next <= first + 60,
        "{next} does not follow {first}"
    );
    let (code, log) = d.stop();
    assert_eq!(code, Some(0), "{log}");
}

#[test]
fn sighup_reloads_the_config_adding_and_removing_zones() {
    let dir = common::scratch_dir("reload-config");
    write(&dir.join("reload.zone"), &zone(1));
    write(
        &dir.join("other.zone"),
        &zone(1).replace("reload.test.", "other.test."),
    );
    let d = Daemon::start(&dir, "", ZONE_TABLE);
    let soa = |name: &str| ask_soa(d.addr(), name).metadata.response_code;
    let chaos = || {
        let mut m = Message::new(9, MessageType::Query, OpCode::Query);
        let mut q = Query::query(Name::from_ascii("id.server.").unwrap(), RecordType::TXT);
        q.set_query_class(hickory_proto::rr::DNSClass::CH);
        m.add_query(q);
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        s.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
        s.send_to(&m.to_vec().unwrap(), d.addr()).unwrap();
        let mut buf = vec![0u8; 4096];
        let n = s.recv(&mut buf).unwrap();
        let m = Message::from_vec(&buf[..n]).unwrap();
        m.answers
            .iter()
            .map(|r| r.data.to_string())
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(soa("other.test."), ResponseCode::Refused);
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(dir.join("ctl.sock"))
            .unwrap()
            .permissions(),
    );
    assert_eq!(
        mode & 0o777,
        0o600,
        "the control socket is for its owner only"
    );
    let hup = |d: &Daemon| unsafe { libc::kill(d.child.id() as i32, libc::SIGHUP) };
    let wait_for = |what: &str, f: &dyn Fn() -> bool| {
        let deadline = Instant::now() + Duration::from_secs(5);
        while !f() {
            assert!(Instant::now() < deadline, "{what} within 5 s of SIGHUP");
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    // Add a zone and an identity; SIGHUP.
    let cfg = config_text(
        d.port,
        "identity = \"ns1.reload.test\"",
        &format!("{ZONE_TABLE}[[zone]]\nname = \"other.test.\"\nfile = \"other.zone\"\n"),
    );
    write(&d.config, &cfg);
    hup(&d);
    wait_for("other.test. served", &|| {
        soa("other.test.") == ResponseCode::NoError
    });
    assert!(chaos().contains("ns1.reload.test"), "{}", chaos());
    // A config naming a zone file that cannot be read changes nothing.
    write(
        &d.config,
        &config_text(
            d.port,
            "",
            "[[zone]]\nname = \"gone.test.\"\nfile = \"gone.zone\"\n",
        ),
    );
    let o = d.mailzone(&["reload"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("cannot be read; nothing changed") && out.contains("gone.zone"),
        "{out}"
    );
    assert_eq!(soa("reload.test."), ResponseCode::NoError);
    assert_eq!(soa("other.test."), ResponseCode::NoError);
    // Remove a zone; SIGHUP.
    write(&d.config, &config_text(d.port, "", ZONE_TABLE));
    hup(&d);
    wait_for("other.test. removed", &|| {
        soa("other.test.") == ResponseCode::Refused
    });
    assert_eq!(soa("reload.test."), ResponseCode::NoError);
    let st = d.status();
    assert_eq!(st["zones"].as_array().unwrap().len(), 1, "{st}");
    let (code, log) = d.stop();
    assert_eq!(code, Some(0), "{log}");
    assert!(
        log.contains("SIGHUP") && log.contains("zone removed"),
        "{log}"
    );
}

#[test]
fn sigterm_lets_tcp_answers_already_asked_for_finish() {
    let dir = common::scratch_dir("reload-stop");
    write(&dir.join("reload.zone"), &zone(1));
    let d = Daemon::start(&dir, "", ZONE_TABLE);
    let mut s = TcpStream::connect(d.addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let frame = |q: &[u8]| {
        let mut f = (q.len() as u16).to_be_bytes().to_vec();
        f.extend_from_slice(q);
        f
    };
    let read = |s: &mut TcpStream| -> std::io::Result<Vec<u8>> {
        let mut len = [0u8; 2];
        s.read_exact(&mut len)?;
        let mut b = vec![0u8; u16::from_be_bytes(len) as usize];
        s.read_exact(&mut b)?;
        Ok(b)
    };
    // One round trip: the connection is accepted and served.
    let (id, q) = query("set.reload.test.", RecordType::TXT);
    s.write_all(&frame(&q)).unwrap();
    assert_eq!(version_of(id, &read(&mut s).unwrap()), Ok(1));
    // 50 pipelined queries, then SIGTERM at once: all 50 are answered.
    let mut ids = Vec::new();
    let mut batch = Vec::new();
    for _ in 0..50 {
        let (id, q) = query("set.reload.test.", RecordType::TXT);
        ids.push(id);
        batch.extend(frame(&q));
    }
    s.write_all(&batch).unwrap();
    unsafe { libc::kill(d.child.id() as i32, libc::SIGTERM) };
    for (i, id) in ids.iter().enumerate() {
        let got = read(&mut s).unwrap_or_else(|e| panic!("answer {i} of 50 lost: {e}"));
        assert_eq!(version_of(*id, &got), Ok(1));
    }
    let (code, log) = d.stop();
    assert_eq!(code, Some(0), "{log}");
}

#[test]
fn a_toml_zone_reloads_when_only_its_key_file_changes() {
    let dir = common::scratch_dir("reload-toml-key");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    std::fs::create_dir_all(dir.join("keys")).unwrap();
    std::fs::copy(
        root.join("zones/example.com.toml"),
        dir.join("example.com.toml"),
    )
    .unwrap();
    let key = std::fs::read_to_string(root.join("zones/keys/mail2026.pub.pem")).unwrap();
    write(&dir.join("keys/mail2026.pub.pem"), &key);
    let d = Daemon::start(
        &dir,
        "",
        "[[zone]]\nname = \"example.com.\"\nfile = \"example.com.toml\"\n",
    );
    let o = d.mailzone(&["reload"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success() && out.contains("example.com.: unchanged"),
        "{out}"
    );
    // The same key, wrapped differently: the file changed, so the zone is read again.
    write(
        &dir.join("keys/mail2026.pub.pem"),
        &key.replace('\n', "\r\n"),
    );
    let o = d.mailzone(&["reload"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success() && out.contains("example.com.: loaded"),
        "{out}"
    );
    let (code, log) = d.stop();
    assert_eq!(code, Some(0), "{log}");
}

#[test]
fn a_zone_served_despite_its_findings_answers_before_its_checks_end() {
    let dir = common::scratch_dir("reload-early");
    write(&dir.join("reload.zone"), &zone(1));
    // An SPF error: refused under the default on_error, served under "warn".
    let other = |v: u32| {
        zone(v).replace("reload.test.", "other.test.").replace(
            "\"v=spf1 mx -all\"",
            "\"v=spf1 inlcude:_spf.example.net -all\"",
        )
    };
    write(&dir.join("other.zone"), &other(1));
    let zones = format!(
        "{ZONE_TABLE}[[zone]]\nname = \"other.test.\"\nfile = \"other.zone\"\n[zone.check]\non_error = \"warn\"\n"
    );
    let d = Daemon::start(&dir, "identity = \"ns1.reload.test\"", &zones);
    let serial = |name: &str| {
        ask_soa(d.addr(), name)
            .answers
            .iter()
            .find_map(|r| match &r.data {
                RData::SOA(soa) => Some(soa.serial),
                _ => None,
            })
    };
    assert_eq!(serial("reload.test."), Some(1001));
    assert_eq!(serial("other.test."), Some(1001));
    let st = d.status();
    let other_status = st["zones"]
        .as_array()
        .unwrap()
        .iter()
        .find(|z| z["name"] == "other.test.")
        .cloned()
        .unwrap();
    assert!(other_status["errors"].as_u64().unwrap() > 0, "{st}");
    // A reload of the warn zone alone publishes it early too, and keeps
    // every other zone served.
    write(&dir.join("other.zone"), &other(2));
    let o = d.mailzone(&["reload", "other.test."]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    assert_eq!(serial("other.test."), Some(1002));
    assert_eq!(serial("reload.test."), Some(1001));
    let (code, log) = d.stop();
    assert_eq!(code, Some(0), "{log}");
    // Per zone, in the order logged: answering (published) comes before
    // loaded (checks done) for the warn zone, and never for the other.
    let events: Vec<(&str, &str)> = log
        .lines()
        .filter_map(|l| {
            let zone = ["reload.test.", "other.test."]
                .into_iter()
                .find(|z| l.contains(&format!("zone=\"{z}\"")))?;
            let what = if l.contains("zone answering; its checks are still running") {
                "answering"
            } else if l.contains("zone loaded") {
                "loaded"
            } else {
                return None;
            };
            Some((zone, what))
        })
        .collect();
    assert_eq!(
        events,
        [
            ("reload.test.", "loaded"),
            ("other.test.", "answering"),
            ("other.test.", "loaded"),
            ("other.test.", "answering"),
            ("other.test.", "loaded"),
        ],
        "{log}"
    );
}
