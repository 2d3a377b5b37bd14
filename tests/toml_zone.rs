//! The TOML zone format: every [mail] key and the records it generates, the
//! round trip TOML → records → canonical master file → records, and spans.

mod common;

use mailzone_zone::toml_zone::read_toml_str;
use mailzone_zone::writer::write_record;
use std::path::Path;

const ED25519: &str = "LYGkThi0AufzuhTidhqbGw5b6Na6rM27cMhy5Wt2p+8=";
const RSA2048: &str = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAn5keJxQ2snE3Eg2qwNPcZPa4ZEk9FXZTKmmx2JVNLGOPvZBgndl4+k5dTG+o03FMT0bH43koagL7kURf0stC0mW5USQS00XUC2WYED5fjvC9PVsbrXkV12SJzL2Ckt2BPwQJkk1MswVQbCVw4uICg7Eh1GpUCIJLRCbP7S+Gna24mRBzXpPgG3x2OmRWDqaylEhCNFBx0MnR0kZm3VtDn7+memLh33YbxLM96Wa5hNG0D+WCRFPBAKuEfT62CPCcRT5FMn/cwC3E9ly4ktX9P+eXMoXl3qoTdHIEA8xqY2j1qoyqfxNlJJPKdNQaz5s9hW+hoEmmo/NoEVg05pjMXwIDAQAB";
const RSA4096: &str = "MIICIjANBgkqhkiG9w0BAQEFAAOCAg8AMIICCgKCAgEAmlntYtvbs5OwkpfYx/fA/X4GLnJt36CSyKgDKrENHSlO2ufTfhWWrvyjDc6sWuLap/e0/6QQwB+7rs2WRC4hPIjwMUR5SJCYoJQYIcKYYMt5vK5abW1Lmz3C2tnD1sbB6xBAeq24cEYerwHXSJUL+hxImhtdgGLneQhkSLumv6WlVrxYY2kD6smmLBgl+ylNauQ6NRb+A8DTPC9ZGMvfK7xHH9ETov/S0nl+keyRDmKBBKTh9nbdP8ZovVMf4oE6WQibRA6H/tc3rZylMbqPY4siKExH7Hq9MDxRTsAxLmk3B4bZyVUBv+98KkBmixUTBf4g6oHMyJfKRm1eaOQpDfBYQpkw615xqStNNAJShgCwJ3FqReOJRhFuQK9siT5H3WaxYQk3gOsFButkFya/HVqjyuV45EeqbuWrnZF+MiYrGh3kpWGiun3hvE0rSkmJ1iHWT9ITeNiXeUaKuBKLcN8VJQRdzp6k0ooPjv7vbAxd+w5QxnpShfBGD9ZLQkk4EOFdhw8Td24pBjirHgzhZGNDORVaZZbsAxCudgr1JkhMg5rFrdADhbPiMgVmNsfB1cxJfiHSr1NKHDZTE8nc/oDriKuMTY6mpCo4HWwyCEv1kNHRK6lxmAw9L1o13ZRPz6yjW9Mp+rdije/kENCFv2ybhIWf5dXu43CKWp90O3sCAwEAAQ==";

const HEAD: &str = r#"
version = 1
origin = "example.com."
ttl = 600
[soa]
primary = "ns1"
hostmaster = "hostmaster"
serial = 1
refresh = 3600
retry = 600
expire = "1w"
minimum = 300
"#;

/// A PEM public-key file around base64 SubjectPublicKeyInfo, 64 columns wide.
fn pem(b64: &str) -> String {
    let body: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        body.join("\n")
    )
}

/// The ed25519 key wrapped as SubjectPublicKeyInfo (RFC 8410), as openssl writes it.
fn ed25519_spki() -> String {
    let mut der = vec![
        0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
    ];
    der.extend(data_encoding::BASE64.decode(ED25519.as_bytes()).unwrap());
    data_encoding::BASE64.encode(&der)
}

/// The records (other than the SOA) a TOML zone generates, as master-file lines.
fn lines(body: &str) -> Vec<String> {
    let text = format!("{HEAD}{body}");
    let r = read_toml_str(Path::new("t.toml"), &text);
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    r.zone
        .records
        .iter()
        .filter(|r| r.rtype() != hickory_proto::rr::RecordType::SOA)
        .map(|r| {
            let mut s = String::new();
            write_record(r, &mut s);
            s
        })
        .collect()
}

fn errors(body: &str) -> Vec<String> {
    let text = format!("{HEAD}{body}");
    let r = read_toml_str(Path::new("t.toml"), &text);
    r.errors
        .iter()
        .map(|e| format!("{}:{} {} {}", e.span.line, e.span.col, e.id(), e.message))
        .collect()
}

#[test]
fn soa_and_plain_records() {
    let text = format!(
        "{HEAD}[[record]]\nname = \"www\"\ntype = \"A\"\ndata = \"192.0.2.1\"\nttl = \"2h\"\n"
    );
    let r = read_toml_str(Path::new("t.toml"), &text);
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    let mut s = String::new();
    write_record(&r.zone.records[0], &mut s);
    assert_eq!(
        s,
        "example.com. 600 IN SOA ns1.example.com. hostmaster.example.com. 1 3600 600 604800 300"
    );
    s.clear();
    write_record(&r.zone.records[1], &mut s);
    assert_eq!(s, "www.example.com. 7200 IN A 192.0.2.1");
}

#[test]
fn hostmaster_as_mail_address() {
    let text = HEAD.replace(
        "hostmaster = \"hostmaster\"",
        "hostmaster = \"dns.admin@example.com\"",
    );
    let r = read_toml_str(Path::new("t.toml"), &text);
    let mut s = String::new();
    write_record(&r.zone.records[0], &mut s);
    assert!(s.contains(" dns\\.admin.example.com. "), "{s}");
}

#[test]
fn mail_mx_hosts_and_ttl() {
    assert_eq!(
        lines(
            "[mail]\nttl = 300\nmx = [{ host = \"mx1\", preference = 10 }, { host = \"mx.example.net.\", preference = 20 }]\n"
        ),
        [
            "example.com. 300 IN MX 10 mx1.example.com.",
            "example.com. 300 IN MX 20 mx.example.net."
        ]
    );
}

#[test]
fn mail_null_mx() {
    assert_eq!(
        lines("[mail]\nnull_mx = true\n"),
        ["example.com. 600 IN MX 0 ."]
    );
    assert!(lines("[mail]\nnull_mx = false\n").is_empty());
    let e = errors("[mail]\nnull_mx = true\nmx = [{ host = \"mx1\", preference = 10 }]\n");
    assert_eq!(e.len(), 1);
    assert!(
        e[0].contains("expected either `null_mx = true` or `mx` hosts, found both"),
        "{e:?}"
    );
}

#[test]
fn mail_spf_every_key() {
    assert_eq!(
        lines(
            "[mail.spf]\na = true\nmx = true\nip4 = [\"192.0.2.0/24\"]\nip6 = [\"2001:db8::/32\"]\ninclude = [\"_spf.example.net\"]\nall = \"fail\"\n"
        ),
        [
            "example.com. 600 IN TXT \"v=spf1 a mx ip4:192.0.2.0/24 ip6:2001:db8::/32 include:_spf.example.net -all\""
        ]
    );
    assert_eq!(
        lines(
            "[mail.spf]\na = [\"web.example.com\"]\nmx = [\"example.org.\"]\nall = \"softfail\"\n"
        ),
        ["example.com. 600 IN TXT \"v=spf1 a:web.example.com mx:example.org ~all\""]
    );
    assert_eq!(
        lines("[mail.spf]\nall = \"neutral\"\n"),
        ["example.com. 600 IN TXT \"v=spf1 ?all\""]
    );
    assert_eq!(
        lines("[mail.spf]\na = false\nall = \"-\"\n"),
        ["example.com. 600 IN TXT \"v=spf1 -all\""]
    );
}

#[test]
fn long_spf_is_split_at_spaces_into_one_record() {
    let ips: Vec<String> = (0..40).map(|i| format!("\"198.51.100.{i}\"")).collect();
    let l = lines(&format!(
        "[mail.spf]\nip4 = [{}]\nall = \"fail\"\n",
        ips.join(",")
    ));
    assert_eq!(l.len(), 1, "one TXT record");
    let strings: Vec<&str> = l[0].split("\" \"").collect();
    assert!(strings.len() >= 3, "{}", l[0]);
    for s in &strings[..strings.len() - 1] {
        assert!(s.ends_with(' '), "string boundary must follow a space: {s}");
    }
}

#[test]
fn spf_value_errors_point_at_the_value() {
    let e = errors("[mail.spf]\nip4 = [\"192.0.2.300\"]\nall = \"fail\"\n");
    assert_eq!(
        e,
        ["14:8 ZF010 expected an IPv4 address or network like `192.0.2.0/24`, found `192.0.2.300`"]
    );
    let e = errors("[mail.spf]\nip6 = [\"2001:db8::/129\"]\nall = \"fail\"\n");
    assert!(
        e[0].contains("expected an IPv6 address or network"),
        "{e:?}"
    );
    let e = errors("[mail.spf]\ninclude = [\"spf\"]\nall = \"fail\"\n");
    assert!(
        e[0].contains("expected a fully qualified domain to include, found `spf`"),
        "{e:?}"
    );
    let e = errors("[mail.spf]\nall = \"pass\"\n");
    assert_eq!(
        e,
        [
            "14:7 ZF010 expected `all` to be one of \"fail\", \"softfail\", \"neutral\", found \"pass\""
        ]
    );
}

#[test]
fn dkim_rsa_key_inline_with_hash_and_flags() {
    let l = lines(&format!(
        "[[mail.dkim]]\nselector = \"s1\"\npublic_key = \"{RSA2048}\"\nhash = [\"sha256\"]\ntesting = true\n"
    ));
    assert_eq!(l.len(), 1);
    assert!(
        l[0].starts_with(
            "s1._domainkey.example.com. 600 IN TXT \"v=DKIM1; k=rsa; h=sha256; t=y; p=MIIB"
        ),
        "{}",
        l[0]
    );
    let l = lines(&format!(
        "[[mail.dkim]]\nselector = \"s2\"\nalgorithm = \"rsa\"\npublic_key = \"{RSA2048}\"\nstrict = true\n"
    ));
    assert!(l[0].contains("\"v=DKIM1; k=rsa; t=s; p=MIIB"), "{}", l[0]);
    let l = lines(&format!(
        "[[mail.dkim]]\nselector = \"s3\"\npublic_key = \"{RSA2048}\"\nstrict = true\ntesting = true\n"
    ));
    assert!(l[0].contains("; t=y:s; p="), "{}", l[0]);
}

#[test]
fn dkim_key_is_split_into_255_byte_strings_of_one_record() {
    let r = read_toml_str(
        Path::new("t.toml"),
        &format!("{HEAD}[[mail.dkim]]\nselector = \"big\"\npublic_key = \"{RSA4096}\"\n"),
    );
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    let txt = r.zone.records.iter().find_map(|r| match &r.rdata {
        hickory_proto::rr::RData::TXT(t) => Some(t.clone()),
        _ => None,
    });
    let txt = txt.expect("a TXT record");
    let parts: Vec<&[u8]> = txt.txt_data.iter().map(|s| &s[..]).collect();
    assert!(parts.len() >= 3);
    assert!(parts[..parts.len() - 1].iter().all(|p| p.len() == 255));
    let joined: Vec<u8> = parts.concat();
    assert_eq!(joined, format!("v=DKIM1; k=rsa; p={RSA4096}").into_bytes());
}

#[test]
fn dkim_ed25519_from_raw_key_and_from_pem_file() {
    let l = lines(&format!(
        "[[mail.dkim]]\nselector = \"ed\"\nalgorithm = \"ed25519\"\npublic_key = \"{ED25519}\"\n"
    ));
    assert_eq!(
        l,
        [format!(
            "ed._domainkey.example.com. 600 IN TXT \"v=DKIM1; k=ed25519; p={ED25519}\""
        )]
    );
    let dir = common::scratch_dir("toml-pem");
    std::fs::write(dir.join("ed.pub.pem"), pem(&ed25519_spki())).unwrap();
    std::fs::write(dir.join("rsa.pub.pem"), pem(RSA2048)).unwrap();
    std::fs::write(
        dir.join("private.pem"),
        "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    let zone = dir.join("z.toml");
    let body = format!(
        "{HEAD}[[mail.dkim]]\nselector = \"ed\"\nalgorithm = \"ed25519\"\npublic_key_file = \"ed.pub.pem\"\n[[mail.dkim]]\nselector = \"rsa\"\npublic_key_file = \"rsa.pub.pem\"\n"
    );
    let r = read_toml_str(&zone, &body);
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    let mut s = String::new();
    write_record(&r.zone.records[1], &mut s);
    assert_eq!(
        s,
        format!("ed._domainkey.example.com. 600 IN TXT \"v=DKIM1; k=ed25519; p={ED25519}\"")
    );
    s.clear();
    write_record(&r.zone.records[2], &mut s);
    let text = format!("v=DKIM1; k=rsa; p={RSA2048}");
    let (a, b) = text.split_at(255);
    assert_eq!(
        s,
        format!("rsa._domainkey.example.com. 600 IN TXT \"{a}\" \"{b}\"")
    );
    let r = read_toml_str(
        &zone,
        &format!("{HEAD}[[mail.dkim]]\nselector = \"x\"\npublic_key_file = \"private.pem\"\n"),
    );
    assert_eq!(r.errors.len(), 1);
    assert!(
        r.errors[0].message.contains("holds a PRIVATE key"),
        "{:?}",
        r.errors
    );
}

#[test]
fn dkim_errors() {
    let e = errors("[[mail.dkim]]\nselector = \"s\"\nalgorithm = \"dsa\"\npublic_key = \"AAAA\"\n");
    assert_eq!(
        e,
        ["15:13 ZF010 expected algorithm \"rsa\" or \"ed25519\", found \"dsa\""]
    );
    let e =
        errors("[[mail.dkim]]\nselector = \"s\"\nalgorithm = \"ed25519\"\npublic_key = \"AAAA\"\n");
    assert!(
        e[0].contains("expected a 32-byte ed25519 public key, found 3 bytes"),
        "{e:?}"
    );
    let e = errors("[[mail.dkim]]\nselector = \"s\"\n");
    assert!(
        e[0].contains("expected `public_key` or `public_key_file` for DKIM selector `s`"),
        "{e:?}"
    );
    let e = errors("[[mail.dkim]]\nselector = \"s\"\npublic_key = \"not base64!\"\n");
    assert!(e[0].contains("expected the public key in base64"), "{e:?}");
}

#[test]
fn dmarc_every_key() {
    assert_eq!(
        lines(
            "[mail.dmarc]\np = \"quarantine\"\nsp = \"reject\"\nnp = \"reject\"\npct = 50\nrua = [\"mailto:a@example.com\", \"mailto:b@example.net\"]\nruf = [\"mailto:f@example.com\"]\nadkim = \"s\"\naspf = \"r\"\nfo = \"1:d\"\nri = 86400\n"
        ),
        [
            "_dmarc.example.com. 600 IN TXT \"v=DMARC1; p=quarantine; sp=reject; np=reject; pct=50; rua=mailto:a@example.com,mailto:b@example.net; ruf=mailto:f@example.com; adkim=s; aspf=r; fo=1:d; ri=86400\""
        ]
    );
    assert_eq!(
        lines("[mail.dmarc]\np = \"none\"\n"),
        ["_dmarc.example.com. 600 IN TXT \"v=DMARC1; p=none\""]
    );
}

#[test]
fn dmarc_errors_point_at_the_value() {
    assert_eq!(
        errors("[mail.dmarc]\np = \"block\"\n"),
        ["14:5 ZF010 expected p to be \"none\", \"quarantine\" or \"reject\", found \"block\""]
    );
    let e = errors("[mail.dmarc]\np = \"none\"\nrua = [\"dmarc@example.com\"]\n");
    assert_eq!(
        e,
        ["15:8 ZF010 expected a mailto: URI in rua, found `dmarc@example.com`"]
    );
    let e = errors("[mail.dmarc]\np = \"none\"\nadkim = \"x\"\nfo = \"2\"\n");
    assert_eq!(e.len(), 2, "{e:?}");
    let e = errors("[mail.dmarc]\np = \"none\"\npct = 150\n");
    assert!(
        e[0].contains("expected pct between 0 and 100, found 150"),
        "{e:?}"
    );
}

#[test]
fn mta_sts_and_tls_rpt() {
    assert_eq!(
        lines("[mail.mta_sts]\nid = \"20261123\"\n"),
        ["_mta-sts.example.com. 600 IN TXT \"v=STSv1; id=20261123\""]
    );
    assert_eq!(
        lines(
            "[mail.tls_rpt]\nrua = [\"mailto:tls@example.com\", \"https://rpt.example.net/v1\"]\n"
        ),
        [
            "_smtp._tls.example.com. 600 IN TXT \"v=TLSRPTv1; rua=mailto:tls@example.com,https://rpt.example.net/v1\""
        ]
    );
    let e = errors("[mail.mta_sts]\nid = \"2026-11-23\"\n");
    assert_eq!(
        e,
        ["14:6 ZF010 expected an MTA-STS id of 1–32 letters and digits, found `2026-11-23`"]
    );
    let e = errors("[mail.tls_rpt]\nrua = [\"tls@example.com\"]\n");
    assert!(
        e[0].contains("expected `mailto:` or `https://` URIs in rua, found `tls@example.com`"),
        "{e:?}"
    );
}

#[test]
fn schema_errors_name_the_allowed_keys() {
    let e = errors("[mail.dmarc]\npolicy = \"reject\"\n");
    assert_eq!(e.len(), 1);
    assert!(
        e[0].starts_with(
            "14:1 ZF010 unknown field `policy`, expected one of `p`, `sp`, `np`, `rua`"
        ),
        "{e:?}"
    );
    let e = errors("[[record]]\nname = \"www\"\ntype = \"A\"\ndata = 17\n");
    assert!(
        e[0].starts_with("16:8 ZF010 invalid type: integer `17`, expected a string"),
        "{e:?}"
    );
}

#[test]
fn record_data_errors_point_at_the_data_string() {
    let e = errors("[[record]]\nname = \"www\"\ntype = \"A\"\ndata = \"192.0.2.300\"\n");
    assert_eq!(
        e,
        ["16:8 ZF007 expected an IPv4 address, found `192.0.2.300` (at column 1 of `data`)"]
    );
    let e = errors("[[record]]\nname = \"@\"\ntype = \"MX\"\ndata = \"70000 mail\"\n");
    assert!(e[0].starts_with("16:8 MX006 "), "{e:?}");
}

#[test]
fn generated_records_point_at_their_toml_keys() {
    let text = format!(
        "{HEAD}[mail]\nmx = [{{ host = \"mx1\", preference = 10 }}]\n[mail.dmarc]\np = \"none\"\n"
    );
    let r = read_toml_str(Path::new("t.toml"), &text);
    let mx = r
        .zone
        .records
        .iter()
        .find(|r| r.rtype() == hickory_proto::rr::RecordType::MX)
        .unwrap();
    assert_eq!(mx.span.line, 14);
    let dmarc = r
        .zone
        .records
        .iter()
        .find(|r| r.rtype() == hickory_proto::rr::RecordType::TXT)
        .unwrap();
    assert!((15..=16).contains(&dmarc.span.line), "{:?}", dmarc.span);
}

#[test]
fn example_zone_round_trips_through_the_canonical_writer() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../zones/example.com.toml");
    let r = common::read(&path, None);
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert!(r.zone.records.len() >= 15);
    let text = mailzone_zone::writer::write_canonical(&r.zone);
    let back = mailzone_zone::read_master_str("dump", &text, &Default::default());
    assert!(back.errors.is_empty(), "{:?}", back.errors);
    assert_eq!(common::keys(&back.zone), common::keys(&r.zone));
    // And BIND reads the canonical form to the same records.
    common::require_tool("named-compilezone", "bind9-utils");
    let dir = common::scratch_dir("toml-rt");
    std::fs::write(dir.join("dump.zone"), &text).unwrap();
    let out = dir.join("bind.zone");
    let st = std::process::Command::new("named-compilezone")
        .args(["-s", "full", "-i", "none", "-q", "-o"])
        .arg(&out)
        .arg("example.com")
        .arg(dir.join("dump.zone"))
        .status()
        .unwrap();
    assert!(st.success());
    let bind = common::read(&out, Some("example.com.".parse().unwrap()));
    assert_eq!(common::keys(&bind.zone), common::keys(&r.zone));
}
