//! DNSSEC end to end, judged by tools nobody here wrote: the signed zone as
//! served passes `ldns-verify-zone` (ldnsutils) and `dnssec-verify`
//! (bind9-utils); `delv` (bind9-dnsutils) fully validates answers, wildcard
//! expansions and denials served by the running server, for ECDSA P-256 with
//! NSEC3 and Ed25519 with NSEC; `mailzone ds` agrees with `dnssec-dsfromkey`;
//! unbound, validating through a stub zone, sets AD and returns SERVFAIL for
//! a tampered signature; and short-lived signatures are renewed in time.

mod common;

use common::{Daemon, require_tool, write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn mailzone(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_mailzone"))
        .args(args)
        .output()
        .unwrap()
}

fn ok(o: &std::process::Output, what: &str) -> String {
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "{what}: {out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    out
}

/// The fixture zone renamed to `origin`, written into `dir`.
fn fixture(dir: &Path, origin: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let text = std::fs::read_to_string(root.join("tests/dnssec/mail.test.zone")).unwrap();
    write(
        &dir.join(format!("{origin}zone")),
        &text.replace("mail.test.", origin),
    );
}

fn zone_table(origin: &str, dnssec: &str) -> String {
    format!(
        "[[zone]]\nname = \"{origin}\"\nfile = \"{origin}zone\"\n[zone.dnssec]\nkeys = \"keys\"\n{dnssec}\n"
    )
}

/// A delv trust anchor file with the zone's KSK/CSK DNSKEYs as served.
fn anchor(dir: &Path, served: &str, origin: &str) -> std::path::PathBuf {
    let mut keys = String::new();
    for l in served.lines() {
        let f: Vec<&str> = l.split_whitespace().collect();
        if f.len() >= 8 && f[3] == "DNSKEY" && f[4] == "257" {
            keys.push_str(&format!(
                "  \"{origin}\" static-key {} {} {} \"{}\";\n",
                f[4],
                f[5],
                f[6],
                f[7..].concat()
            ));
        }
    }
    assert!(!keys.is_empty(), "no KSK/CSK in {served}");
    let p = dir.join(format!("{origin}anchor"));
    write(&p, &format!("trust-anchors {{\n{keys}}};\n"));
    p
}

/// Asks delv, with the zone's key as the only trust anchor; returns its output.
fn delv(port: u16, anchor: &Path, origin: &str, name: &str, t: &str) -> String {
    let o = Command::new("delv")
        .args([
            "@127.0.0.1",
            "-p",
            &port.to_string(),
            "-a",
            anchor.to_str().unwrap(),
            &format!("+root={origin}"),
            name,
            t,
        ])
        .output()
        .unwrap();
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn signed_zones_verify_and_validate_for_both_algorithms_and_denials() {
    require_tool("ldns-verify-zone", "ldnsutils");
    require_tool("dnssec-verify", "bind9-utils");
    require_tool("dnssec-dsfromkey", "bind9-utils");
    require_tool("delv", "bind9-dnsutils");
    let dir = common::scratch_dir("dnssec-validate");
    let _ = std::fs::remove_dir_all(dir.join("keys"));
    let keys = dir.join("keys");
    let cases = [
        // origin, keygen flags, denial, dnssec-verify flags
        (
            "ecdsa.test.",
            vec!["--algorithm", "ecdsap256sha256"],
            "nsec3",
            vec!["-z"],
        ),
        (
            "ed.test.",
            vec!["--algorithm", "ed25519", "--split"],
            "nsec",
            vec![],
        ),
    ];
    let mut tables = String::new();
    for (origin, kflags, denial, _) in &cases {
        fixture(&dir, origin);
        let mut a = vec!["keygen", origin, "--dir", keys.to_str().unwrap()];
        a.extend(kflags.iter().copied());
        let out = ok(&mailzone(&a), "keygen");
        assert!(out.contains("DNSKEY 257"), "{out}");
        tables.push_str(&zone_table(origin, &format!("denial = \"{denial}\"")));
    }
    let d = Daemon::start(&dir, "", &tables);
    for (origin, _, denial, vflags) in &cases {
        // The zone exactly as served, judged by two verifiers.
        let served = ok(
            &mailzone(&[
                "zone",
                "served",
                origin,
                "--config",
                d.config.to_str().unwrap(),
            ]),
            "zone served",
        );
        let file = dir.join(format!("{origin}signed"));
        write(&file, &served);
        assert!(served.contains(if *denial == "nsec3" {
            " NSEC3 "
        } else {
            " NSEC "
        }));
        let o = Command::new("ldns-verify-zone")
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "ldns-verify-zone {origin}: {}",
            String::from_utf8_lossy(&o.stdout)
        );
        let mut a: Vec<&str> = vflags.clone();
        a.extend(["-o", origin, file.to_str().unwrap()]);
        let o = Command::new("dnssec-verify").args(&a).output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(
            o.status.success() && text.contains("Zone fully signed"),
            "dnssec-verify {origin}: {text}"
        );
        // `mailzone ds` gives what BIND computes from the published DNSKEY.
        let ds = ok(
            &mailzone(&["ds", origin, "--dir", keys.to_str().unwrap()]),
            "ds",
        );
        let o = Command::new("dnssec-dsfromkey")
            .args(["-2", "-f", file.to_str().unwrap(), origin])
            .output()
            .unwrap();
        let bind = String::from_utf8_lossy(&o.stdout);
        let digest = |s: &str| -> Vec<String> {
            let mut v: Vec<String> = s
                .lines()
                .filter_map(|l| l.split_whitespace().last().map(str::to_ascii_uppercase))
                .collect();
            v.sort();
            v
        };
        assert!(
            !ds.is_empty() && digest(&ds) == digest(&bind),
            "mailzone ds:\n{ds}\ndnssec-dsfromkey:\n{bind}"
        );
        // Answers from the running server, validated by delv.
        let anchor = anchor(&dir, &served, origin);
        let fq = |n: &str| {
            if n.is_empty() {
                origin.to_string()
            } else {
                format!("{n}.{origin}")
            }
        };
        for (name, t, negative) in [
            ("", "MX", false),
            ("", "TXT", false),
            ("mail._domainkey", "TXT", false),
            ("_dmarc", "TXT", false),
            ("_mta-sts", "TXT", false),
            ("_25._tcp.mx", "TLSA", false),
            ("anything.hosts", "A", false),
            ("anything.hosts", "MX", true),
            ("no-such-name", "A", true),
            ("x.y.b.ent", "A", true),
            ("b.ent", "A", true),
            ("mx", "TXT", true),
            ("insecure", "DS", true),
            ("secure", "DS", false),
            ("www", "A", false),
            // A CNAME to a name without MX: delv shows the validated CNAME
            // and the validated denial after it.
            ("www", "MX", false),
        ] {
            let out = delv(d.port, &anchor, origin, &fq(name), t);
            if name == "www" && t == "MX" {
                assert!(out.contains("NXRRSET"), "{origin} www MX: {out}");
            }
            let want = if negative {
                "; negative response, fully validated"
            } else {
                "; fully validated"
            };
            assert!(out.contains(want), "{origin} {name} {t}: {out}");
        }
    }
    let (code, log) = d.stop();
    assert_eq!(code, Some(0), "{log}");
}

#[test]
fn unbound_sets_ad_and_refuses_a_tampered_signature() {
    require_tool("unbound", "unbound");
    let dir = common::scratch_dir("dnssec-unbound");
    let _ = std::fs::remove_dir_all(dir.join("keys"));
    let keys = dir.join("keys");
    // good.test. is signed by the server; bad.test. is served pre-signed
    // from a file in which one signature was altered.
    fixture(&dir, "good.test.");
    fixture(&dir, "bad.test.");
    for z in ["good.test.", "bad.test."] {
        ok(
            &mailzone(&["keygen", z, "--dir", keys.to_str().unwrap()]),
            "keygen",
        );
    }
    let signing = format!(
        "{}{}",
        zone_table("good.test.", ""),
        zone_table("bad.test.", "")
    );
    write(
        &dir.join("sign.toml"),
        &common::config_text(1, "", &signing),
    );
    let served = ok(
        &mailzone(&[
            "zone",
            "served",
            "bad.test.",
            "--config",
            dir.join("sign.toml").to_str().unwrap(),
        ]),
        "zone served",
    );
    let mut tampered = String::new();
    let mut done = false;
    for l in served.lines() {
        if !done && l.starts_with("bad.test. ") && l.contains(" RRSIG MX ") {
            // Change one character inside the base64 signature (not the
            // padding): the record still reads, the signature is wrong.
            let at = l.rfind(' ').unwrap() + 6;
            let c = if l.as_bytes()[at] == b'A' { "B" } else { "A" };
            tampered.push_str(&format!("{}{c}{}", &l[..at], &l[at + 1..]));
            done = true;
        } else {
            tampered.push_str(l);
        }
        tampered.push('\n');
    }
    assert!(done, "no MX signature in {served}");
    write(&dir.join("bad.signed.zone"), &tampered);
    let tables = format!(
        "{}[[zone]]\nname = \"bad.test.\"\nfile = \"bad.signed.zone\"\n",
        zone_table("good.test.", "")
    );
    let d = Daemon::start(&dir, "", &tables);
    // unbound: a validating resolver with stub zones pointing at us and the
    // DS records from `mailzone ds` as trust anchors.
    let uport = common::free_port();
    let mut conf = format!(
        "server:\n  interface: 127.0.0.1\n  port: {uport}\n  do-ip6: no\n  do-not-query-localhost: no\n  username: \"\"\n  chroot: \"\"\n  directory: \"{}\"\n  pidfile: \"\"\n  use-syslog: no\n  logfile: \"\"\n  verbosity: 1\n  module-config: \"validator iterator\"\n  val-log-level: 2\n  local-zone: \"test.\" nodefault\n",
        dir.display()
    );
    for z in ["good.test.", "bad.test."] {
        let ds = ok(&mailzone(&["ds", z, "--dir", keys.to_str().unwrap()]), "ds");
        for l in ds.lines() {
            conf.push_str(&format!("  trust-anchor: \"{l}\"\n"));
        }
    }
    for z in ["good.test.", "bad.test."] {
        conf.push_str(&format!(
            "stub-zone:\n  name: \"{z}\"\n  stub-addr: 127.0.0.1@{}\n",
            d.port
        ));
    }
    write(&dir.join("unbound.conf"), &conf);
    let mut unbound = Command::new("unbound")
        .args(["-d", "-c", dir.join("unbound.conf").to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let dig = |name: &str, t: &str| -> String {
        let o = Command::new("dig")
            .args([
                "+dnssec",
                "+tries=1",
                "+time=2",
                "@127.0.0.1",
                "-p",
                &uport.to_string(),
                name,
                t,
            ])
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let deadline = Instant::now() + Duration::from_secs(15);
    let good = loop {
        let out = dig("good.test.", "MX");
        if out.contains("status: NOERROR") || Instant::now() > deadline {
            break out;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let flags = |out: &str| {
        out.lines()
            .find(|l| l.contains(";; flags:"))
            .unwrap_or_default()
            .to_string()
    };
    assert!(
        flags(&good).contains(" ad"),
        "AD expected for a signed answer: {good}"
    );
    // AD on the queries delv validates: data, wildcard, and denials.
    for (name, t, status) in [
        ("good.test.", "TXT", "NOERROR"),
        ("mail._domainkey.good.test.", "TXT", "NOERROR"),
        ("_dmarc.good.test.", "TXT", "NOERROR"),
        ("_25._tcp.mx.good.test.", "TLSA", "NOERROR"),
        ("anything.hosts.good.test.", "A", "NOERROR"),
        ("www.good.test.", "A", "NOERROR"),
        ("nothing.good.test.", "A", "NXDOMAIN"),
        ("mx.good.test.", "TXT", "NOERROR"),
        ("b.ent.good.test.", "A", "NOERROR"),
    ] {
        let out = dig(name, t);
        assert!(
            out.contains(&format!("status: {status}")) && flags(&out).contains(" ad"),
            "{name} {t}: {out}"
        );
    }
    // The pre-signed zone: untouched signatures and its own proofs validate.
    for (name, t) in [("bad.test.", "TXT"), ("nothing.bad.test.", "A")] {
        let out = dig(name, t);
        assert!(flags(&out).contains(" ad"), "pre-signed {name} {t}: {out}");
    }
    let bad = dig("bad.test.", "MX");
    assert!(
        bad.contains("status: SERVFAIL"),
        "a tampered signature must not validate: {bad}"
    );
    let _ = unbound.kill();
    let _ = unbound.wait();
    let (code, log) = d.stop();
    assert_eq!(code, Some(0), "{log}");
}

#[test]
fn short_lived_signatures_are_renewed_before_they_expire() {
    require_tool("delv", "bind9-dnsutils");
    let dir = common::scratch_dir("dnssec-resign");
    let _ = std::fs::remove_dir_all(dir.join("keys"));
    fixture(&dir, "fresh.test.");
    ok(
        &mailzone(&[
            "keygen",
            "fresh.test.",
            "--dir",
            dir.join("keys").to_str().unwrap(),
        ]),
        "keygen",
    );
    // Signatures valid 16 s, renewed when 12 s remain: every 4 s.
    let d = Daemon::start(
        &dir,
        "",
        &zone_table("fresh.test.", "validity = \"16\"\nrefresh = \"12\""),
    );
    let served = ok(
        &mailzone(&[
            "zone",
            "served",
            "fresh.test.",
            "--config",
            d.config.to_str().unwrap(),
        ]),
        "zone served",
    );
    let anchor = anchor(&dir, &served, "fresh.test.");
    let first = d.status()["zones"][0]["serial"].as_u64().unwrap();
    // 24 s: past the first signatures' expiry; every answer must validate.
    let start = Instant::now();
    let mut checks = 0;
    while start.elapsed() < Duration::from_secs(24) {
        let out = delv(d.port, &anchor, "fresh.test.", "fresh.test.", "MX");
        assert!(
            out.contains("; fully validated"),
            "after {:?}: {out}",
            start.elapsed()
        );
        checks += 1;
        std::thread::sleep(Duration::from_secs(1));
    }
    let last = d.status()["zones"][0]["serial"].as_u64().unwrap();
    assert!(
        last >= first + 4,
        "re-signed {} times in 24 s (serial {first} → {last})",
        last - first
    );
    assert!(checks >= 10);
    let (code, log) = d.stop();
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("zone re-signed"), "{log}");
}

/// One answer reduced to what two correctly signing servers must agree on:
/// rcode, AA, TC; each section's records other than RRSIG/NSEC/NSEC3 (SOA
/// serials left out: each server numbers its own signed versions); the
/// types the RRSIGs cover; and whether denial records are present.
fn comparable(m: &hickory_proto::op::Message) -> String {
    use hickory_proto::dnssec::rdata::DNSSECRData;
    use hickory_proto::rr::RData;
    let mut out = format!(
        "rcode {} aa {} tc {}\n",
        m.metadata.response_code, m.metadata.authoritative, m.metadata.truncation
    );
    for (title, recs) in [
        ("answer", &m.answers),
        ("authority", &m.authorities),
        ("additional", &m.additionals),
    ] {
        let mut lines: Vec<String> = Vec::new();
        let mut denial = false;
        for r in recs.iter() {
            let owner = r.name.to_lowercase().to_string();
            match &r.data {
                RData::DNSSEC(DNSSECRData::RRSIG(s)) => {
                    let t = s.input().type_covered;
                    if !matches!(
                        t,
                        hickory_proto::rr::RecordType::NSEC | hickory_proto::rr::RecordType::NSEC3
                    ) {
                        lines.push(format!("{owner} RRSIG covering {t}"));
                    }
                }
                RData::DNSSEC(DNSSECRData::NSEC(_)) | RData::DNSSEC(DNSSECRData::NSEC3(_)) => {
                    denial = true
                }
                RData::OPT(_) => {}
                RData::SOA(soa) => {
                    let mut soa = soa.clone();
                    soa.serial = 0;
                    lines.push(format!("{owner} {} SOA {soa}", r.ttl));
                }
                d => lines.push(format!("{owner} {} {} {d}", r.ttl, r.record_type())),
            }
        }
        lines.sort();
        lines.dedup();
        out.push_str(&format!(
            "{title} (denial records: {denial}):\n  {}\n",
            lines.join("\n  ")
        ));
    }
    out
}

fn ask_udp(port: u16, name: &str, t: hickory_proto::rr::RecordType) -> hickory_proto::op::Message {
    use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query};
    let mut m = Message::new(4321, MessageType::Query, OpCode::Query);
    m.add_query(Query::query(
        hickory_proto::rr::Name::from_ascii(name).unwrap(),
        t,
    ));
    let mut e = Edns::new();
    e.set_max_payload(1232);
    e.set_dnssec_ok(true);
    m.set_edns(e);
    let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let mut buf = vec![0u8; 65535];
    for _ in 0..3 {
        s.send_to(&m.to_vec().unwrap(), ("127.0.0.1", port))
            .unwrap();
        if let Ok(n) = s.recv(&mut buf) {
            return Message::from_vec(&buf[..n]).unwrap();
        }
    }
    panic!("no answer from 127.0.0.1:{port} for {name} {t}");
}

#[test]
fn signed_answers_agree_with_knot_signing_the_same_zones() {
    use hickory_proto::dnssec::rdata::DNSSECRData;
    use hickory_proto::dnssec::{PublicKey, Verifier};
    use hickory_proto::rr::{RData, RecordType};
    require_tool("knotd", "knot");
    require_tool("delv", "bind9-dnsutils");
    let dir = common::scratch_dir("dnssec-knot");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("knot")).unwrap();
    let cases = [("n3.test.", "nsec3"), ("n1.test.", "nsec")];
    let mut tables = String::new();
    for (origin, denial) in cases {
        fixture(&dir, origin);
        ok(
            &mailzone(&[
                "keygen",
                origin,
                "--dir",
                dir.join("keys").to_str().unwrap(),
            ]),
            "keygen",
        );
        tables.push_str(&zone_table(origin, &format!("denial = \"{denial}\"")));
    }
    let d = Daemon::start(&dir, "", &tables);
    // Knot signs the same files with keys of its own: a CSK, ECDSA P-256,
    // NSEC3 with RFC 9276 parameters, or NSEC.
    let kport = common::free_port();
    let k = dir.join("knot");
    let mut conf = format!(
        "server:\n  listen: 127.0.0.1@{kport}\n  rundir: {k}\n  udp-max-payload: 1232\ndatabase:\n  storage: {k}\npolicy:\n  - id: n3\n    algorithm: ecdsap256sha256\n    single-type-signing: on\n    nsec3: on\n    nsec3-iterations: 0\n    nsec3-salt-length: 0\n    nsec3-opt-out: off\n  - id: n1\n    algorithm: ecdsap256sha256\n    single-type-signing: on\ntemplate:\n  - id: default\n    storage: {k}\n    semantic-checks: off\n    zonefile-sync: -1\n    zonefile-load: whole\n    journal-content: changes\nlog:\n  - target: stderr\n    any: error\nzone:\n",
        k = k.display()
    );
    for (origin, denial) in cases {
        let src = dir.join(format!("{origin}zone"));
        let text = std::fs::read_to_string(&src).unwrap();
        // Knot reads the file as is; drop our first-line comment only.
        write(&k.join(format!("{origin}zone")), &text);
        conf.push_str(&format!(
            "  - domain: {origin}\n    file: {}\n    dnssec-signing: on\n    dnssec-policy: {}\n",
            k.join(format!("{origin}zone")).display(),
            if denial == "nsec3" { "n3" } else { "n1" }
        ));
    }
    write(&k.join("knot.conf"), &conf);
    let mut knot = Command::new("knotd")
        .args(["-c", k.join("knot.conf").to_str().unwrap()])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    for (origin, _) in cases {
        loop {
            let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            s.set_read_timeout(Some(Duration::from_millis(300)))
                .unwrap();
            let m = {
                use hickory_proto::op::{Message, MessageType, OpCode, Query};
                let mut m = Message::new(1, MessageType::Query, OpCode::Query);
                m.add_query(Query::query(
                    hickory_proto::rr::Name::from_ascii(origin).unwrap(),
                    RecordType::DNSKEY,
                ));
                m.to_vec().unwrap()
            };
            s.send_to(&m, ("127.0.0.1", kport)).unwrap();
            let mut buf = vec![0u8; 4096];
            if let Ok(n) = s.recv(&mut buf)
                && hickory_proto::op::Message::from_vec(&buf[..n])
                    .is_ok_and(|m| !m.answers.is_empty())
            {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "knotd did not sign {origin} within 20 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    let mut compared = 0;
    let mut diffs = Vec::new();
    for (origin, _) in cases {
        let fq = |n: &str| {
            if n.is_empty() {
                origin.to_string()
            } else {
                format!("{n}.{origin}")
            }
        };
        let names = [
            "",
            "ns1",
            "mx",
            "mail._domainkey",
            "_dmarc",
            "_mta-sts",
            "mta-sts",
            "_25._tcp.mx",
            "x.hosts",
            "a.b.ent",
            "b.ent",
            "ent",
            "x.y.b.ent",
            "nx",
            "deep.nx",
            "secure",
            "x.secure",
            "insecure",
            "x.insecure",
            "ns.secure",
        ];
        let types = [
            RecordType::A,
            RecordType::AAAA,
            RecordType::MX,
            RecordType::TXT,
            RecordType::NS,
            RecordType::SOA,
            RecordType::TLSA,
            RecordType::DS,
            RecordType::CNAME,
        ];
        for n in names {
            for t in types {
                let (a, b) = (ask_udp(d.port, &fq(n), t), ask_udp(kport, &fq(n), t));
                compared += 1;
                let (ca, cb) = (comparable(&a), comparable(&b));
                if ca != cb {
                    diffs.push(format!("{} {t}:\nmailzone {ca}knot {cb}", fq(n)));
                }
            }
        }
        // Both servers' proofs validate, each with its own key as the anchor.
        for (port, who) in [(d.port, "mailzone"), (kport, "knot")] {
            let keys = ask_udp(port, origin, RecordType::DNSKEY);
            let mut anchors = String::new();
            for r in &keys.answers {
                if let RData::DNSSEC(DNSSECRData::DNSKEY(k)) = &r.data
                    && k.secure_entry_point()
                {
                    anchors.push_str(&format!(
                        "  \"{origin}\" static-key {} 3 {} \"{}\";\n",
                        k.flags(),
                        u8::from(k.algorithm()),
                        data_encoding::BASE64.encode(k.public_key().public_bytes())
                    ));
                }
            }
            let file = dir.join(format!("{who}.{origin}anchor"));
            write(&file, &format!("trust-anchors {{\n{anchors}}};\n"));
            for (n, t, negative) in [
                ("", "MX", false),
                ("x.hosts", "A", false),
                ("x.hosts", "MX", true),
                ("nx", "A", true),
                ("b.ent", "A", true),
                ("mx", "TXT", true),
                ("insecure", "DS", true),
            ] {
                let out = delv(port, &file, origin, &fq(n), t);
                let want = if negative {
                    "; negative response, fully validated"
                } else {
                    "; fully validated"
                };
                assert!(out.contains(want), "{who} {origin} {n} {t}: {out}");
            }
        }
    }
    let _ = knot.kill();
    let _ = knot.wait();
    assert!(compared > 300);
    assert!(
        diffs.is_empty(),
        "{} of {compared} answers differ:\n{}",
        diffs.len(),
        diffs[..diffs.len().min(5)].join("\n")
    );
    let (code, log) = d.stop();
    assert_eq!(code, Some(0), "{log}");
}

/// `mailzone zone served` for the daemon's zone passes `ldns-verify-zone`.
fn verify_served(d: &Daemon, zone: &str) {
    let served = ok(
        &mailzone(&[
            "zone",
            "served",
            zone,
            "--config",
            d.config.to_str().unwrap(),
        ]),
        "zone served",
    );
    let file = d.dir.join(format!("{zone}signed"));
    write(&file, &served);
    let o = Command::new("ldns-verify-zone")
        .arg(&file)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
}

#[test]
fn a_zone_without_its_keys_is_refused_until_keys_exist_rsa_included() {
    require_tool("ldns-verify-zone", "ldnsutils");
    let dir = common::scratch_dir("dnssec-nokeys");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("keys")).unwrap();
    fixture(&dir, "rsa.test.");
    let d = Daemon::start(&dir, "", &zone_table("rsa.test.", ""));
    let st = d.status();
    let z = &st["zones"][0];
    assert_eq!(z["served"], false, "{st}");
    let reason = z["last_failure"]["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("no key for rsa.test.") && reason.contains("mailzone keygen"),
        "{st}"
    );
    // An RSA key (RSASHA256, 2048 bits), then a reload: served, signed, verified.
    let out = ok(
        &mailzone(&[
            "keygen",
            "rsa.test.",
            "--algorithm",
            "rsasha256",
            "--dir",
            dir.join("keys").to_str().unwrap(),
        ]),
        "keygen rsasha256",
    );
    assert!(out.contains("DNSKEY 257 3 8 "), "{out}");
    let o = d.mailzone(&["reload"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    assert_eq!(d.status()["zones"][0]["served"], true);
    verify_served(&d, "rsa.test.");
    let (code, log) = d.stop();
    assert_eq!(code, Some(0), "{log}");
}

#[test]
fn create_keys_makes_one_csk_once_and_signs_with_it() {
    require_tool("ldns-verify-zone", "ldnsutils");
    let dir = common::scratch_dir("dnssec-create-keys");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    fixture(&dir, "fresh.test.");
    let tables = zone_table("fresh.test.", "create_keys = true");
    let pems = || -> Vec<std::path::PathBuf> {
        std::fs::read_dir(dir.join("keys"))
            .map(|e| e.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default()
    };

    let d = Daemon::start(&dir, "", &tables);
    assert_eq!(d.status()["zones"][0]["served"], true, "{}", d.status());
    let made = pems();
    assert_eq!(made.len(), 1, "{made:?}");
    let name = made[0].file_name().unwrap().to_str().unwrap().to_string();
    assert!(
        name.starts_with("fresh.test+013+") && name.ends_with(".csk.pem"),
        "{name}"
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&made[0]), 0o600);
    assert_eq!(mode(&dir.join("keys")), 0o700);
    // The key made during the load is not a change for the next reload.
    let o = d.mailzone(&["reload"]);
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(o.status.success() && out.contains("unchanged"), "{out}");
    verify_served(&d, "fresh.test.");
    let (code, log) = d.stop();
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("generated a CSK; DS for the parent"), "{log}");

    // A restart finds the key and makes no other.
    let d = Daemon::start(&dir, "", &tables);
    assert_eq!(d.status()["zones"][0]["served"], true);
    assert_eq!(pems(), made);
    let (_, log) = d.stop();
    assert!(!log.contains("generated a CSK"), "{log}");
}
