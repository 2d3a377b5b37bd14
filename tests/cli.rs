//! The binary end to end: exit codes, rendered and JSON output, canonical dump.

mod common;

use std::process::Command;

fn mailzone(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_mailzone"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn check_exit_codes() {
    let good = common::corpus("valid").join("mail-selfhosted.zone");
    let o = mailzone(&["check", "--origin", "example.com.", good.to_str().unwrap()]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let bad = common::corpus("broken").join("mx-preference.zone");
    let o = mailzone(&["check", "--origin", "example.com.", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let o = mailzone(&["check", "/nonexistent/zone"]);
    assert_eq!(o.status.code(), Some(2));
    let o = mailzone(&["check", "--format", "nonsense", good.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn human_output_quotes_the_line_and_points_at_the_token() {
    let bad = common::corpus("broken").join("mx-preference.zone");
    let o = mailzone(&[
        "check",
        "--color",
        "never",
        "--origin",
        "example.com.",
        bad.to_str().unwrap(),
    ]);
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(out.contains("error[MX006]"), "{out}");
    assert!(out.contains("mx-preference.zone:6:6"), "{out}");
    assert!(out.contains("@ MX 70000 mail"), "{out}");
    assert!(out.contains("^^^^^"), "{out}");
    assert!(
        out.contains("help: an MX preference is a 16-bit number"),
        "{out}"
    );
}

#[test]
fn json_output_has_the_documented_fields() {
    let bad = common::corpus("broken").join("mx-preference.zone");
    let o = mailzone(&[
        "check",
        "--format",
        "json",
        "--origin",
        "example.com",
        bad.to_str().unwrap(),
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["schema"], 1);
    let v = &v["reports"][0];
    assert_eq!(v["errors"], 1);
    let d = &v["diagnostics"][0];
    assert_eq!(d["id"], "MX006");
    assert_eq!(d["severity"], "error");
    assert_eq!(d["line"], 6);
    assert_eq!(d["col"], 6);
    for k in [
        "file",
        "byte_start",
        "byte_end",
        "owner",
        "rtype",
        "message",
        "help",
    ] {
        assert!(d.get(k).is_some(), "missing {k}");
    }
}

/// `--timings` says on stderr how long the read and each check family
/// took, leaving stdout as it was; with `--read-only`, just the read.
#[test]
fn timings_name_every_family_and_leave_stdout_alone() {
    let good = common::corpus("valid").join("mail-selfhosted.zone");
    let p = good.to_str().unwrap();
    let args = ["check", "--format", "json", "--origin", "example.com.", p];
    let plain = mailzone(&args);
    let timed = mailzone(&[&args[..], &["--timings"]].concat());
    assert_eq!(timed.status.code(), plain.status.code());
    assert_eq!(timed.stdout, plain.stdout);
    let err = String::from_utf8_lossy(&timed.stderr);
    let line = err
        .lines()
        .find(|l| l.starts_with(p))
        .expect("a timings line");
    for part in ["read ", "names +", "index ", "sort "] {
        assert!(line.contains(part), "{part}: {line}");
    }
    for family in [
        "spf", "dns", "mx", "dmarc", "dkim", "xr", "gen", "policy", "tlsa",
    ] {
        assert_eq!(
            line.matches(&format!("{family} ")).count(),
            1,
            "{family}: {line}"
        );
    }
    let read_only = mailzone(&[&args[..], &["--timings", "--read-only"]].concat());
    let err = String::from_utf8_lossy(&read_only.stderr);
    let line = err
        .lines()
        .find(|l| l.starts_with(p))
        .expect("a timings line");
    assert!(
        line.contains(": read ") && !line.contains("index"),
        "{line}"
    );
}

/// `--info count` reports the same findings as `--info list`, with the info
/// ones as counts per id; ids a policy raises are still listed in full.
#[test]
fn info_count_counts_what_list_lists() {
    let json = |args: &[&str]| -> serde_json::Value {
        let o = mailzone(&[&["check", "--format", "json"], args].concat());
        serde_json::from_slice(&o.stdout).unwrap()
    };
    let mut counted_any = false;
    for entry in std::fs::read_dir(common::corpus("valid")).unwrap() {
        let path = entry.unwrap().path();
        let p = path.to_str().unwrap();
        let list = json(&["--origin", "example.com.", p]);
        let count = json(&["--info", "count", "--origin", "example.com.", p]);
        let (list, count) = (&list["reports"][0], &count["reports"][0]);
        for k in ["errors", "warnings", "infos"] {
            assert_eq!(list[k], count[k], "{p}: {k}");
        }
        assert_eq!(list["counted"], serde_json::json!([]), "{p}");
        let by_id = |v: &serde_json::Value, info: bool| {
            let mut m = std::collections::BTreeMap::<String, u64>::new();
            for d in v["diagnostics"].as_array().unwrap() {
                if (d["severity"] == "info") == info {
                    *m.entry(d["id"].as_str().unwrap().to_string()).or_default() += 1;
                }
            }
            m
        };
        assert_eq!(by_id(list, false), by_id(count, false), "{p}");
        assert!(by_id(count, true).is_empty(), "{p}: info listed");
        let counted: std::collections::BTreeMap<String, u64> = count["counted"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["id"].as_str().unwrap().into(),
                    c["count"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(by_id(list, true), counted, "{p}");
        // In one order whichever thread ran which check first.
        let ids: Vec<&str> = count["counted"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap())
            .collect();
        assert!(ids.is_sorted(), "{p}: {ids:?}");
        counted_any |= !counted.is_empty();
    }
    assert!(counted_any, "no valid corpus zone has an info finding");
    // The human form says what was counted.
    let human = |args: &[&str]| {
        let o = mailzone(&[&["check", "--info", "count", "--color", "never"], args].concat());
        (
            String::from_utf8_lossy(&o.stdout).into_owned(),
            o.status.code(),
        )
    };
    let dir = common::scratch_dir("cli-info-count");
    let zone = write(&dir, "z.zone", ZONE);
    let (out, _) = human(&["--origin", "example.test.", zone.to_str().unwrap()]);
    assert!(
        out.contains("note: info findings counted, not listed") && out.contains("DMARC017 ×1"),
        "{out}"
    );
    assert!(!out.contains("note[DMARC017]"), "{out}");
    // A raised info id is built in full and fails the check.
    let cfg = write(
        &dir,
        "raise.toml",
        "version = 1\n[[zone]]\nname = \"example.test.\"\nfile = \"z.zone\"\n[zone.check]\nraise = [{ id = \"DMARC017\", reason = \"enforce\" }]\n",
    );
    let (out, code) = human(&[cfg.to_str().unwrap()]);
    assert!(out.contains("error[DMARC017]"), "{out}");
    assert_eq!(code, Some(1), "{out}");
}

#[test]
fn dump_writes_canonical_form_that_reads_back() {
    let good = common::corpus("valid").join("omitted-owner.zone");
    let o = mailzone(&[
        "zone",
        "dump",
        "--origin",
        "example.com.",
        good.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0));
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(
        text.contains("\nexample.com. 3600 IN MX 10 mx1.example.com.\n"),
        "{text}"
    );
    let back = mailzone_zone::read_master_str("dump", &text, &Default::default());
    assert!(back.errors.is_empty(), "{:?}", back.errors);
    let orig = common::read(&good, Some("example.com.".parse().unwrap()));
    assert_eq!(common::keys(&back.zone), common::keys(&orig.zone));
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

const ZONE: &str = "$ORIGIN example.test.\n$TTL 3600\n@ SOA ns1 hostmaster 1 7200 900 1209600 3600\n@ NS ns1\nns1 A 192.0.2.1\n@ MX 10 mail\nmail A 192.0.2.25\nmail TXT \"v=spf1 a -all\"\n@ TXT \"v=spf1 mx ptr -all\"\n_dmarc TXT \"v=DMARC1; p=none; rua=mailto:d@example.test\"\n";

#[test]
fn config_overrides_change_severity_and_show_the_reason() {
    let dir = common::scratch_dir("cli-config");
    write(&dir, "z.zone", ZONE);
    // Without overrides: SPF009 (ptr) is a warning, DMARC017 info; exit 0.
    let plain = write(
        &dir,
        "plain.toml",
        "version = 1\n[[zone]]\nname = \"example.test\"\nfile = \"z.zone\"\n",
    );
    let o = mailzone(&["check", "--color", "never", plain.to_str().unwrap()]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("warning[SPF009]"), "{out}");
    assert_eq!(o.status.code(), Some(0), "{out}");
    // --deny warnings makes the warning fail.
    let o = mailzone(&["check", "--deny", "warnings", plain.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let cfg = write(
        &dir,
        "policy.toml",
        "version = 1\n[[zone]]\nname = \"example.test.\"\nfile = \"z.zone\"\n[zone.check]\ndeny_warnings = true\nallow = [{ id = \"SPF009\", reason = \"partner relay needs ptr until March\" }]\nraise = [{ id = \"DMARC017\", reason = \"we enforce DMARC everywhere\" }]\n",
    );
    let o = mailzone(&["check", "--color", "never", cfg.to_str().unwrap()]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("note[SPF009]")
            && out.contains(
                "allowed by config (warning → info): partner relay needs ptr until March"
            ),
        "{out}"
    );
    assert!(
        out.contains("error[DMARC017]")
            && out.contains("raised by config (info → error): we enforce DMARC everywhere"),
        "{out}"
    );
    assert_eq!(
        o.status.code(),
        Some(1),
        "the raised finding fails the check"
    );
    let o = mailzone(&["check", "--format", "json", cfg.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let d = v["reports"][0]["diagnostics"].as_array().unwrap();
    assert!(d.iter().any(|d| d["id"] == "SPF009"
        && d["severity"] == "info"
        && d["policy"].as_str().unwrap().contains("partner relay")));
}

#[test]
fn config_errors_are_located_and_fail() {
    let dir = common::scratch_dir("cli-config-bad");
    write(&dir, "z.zone", ZONE);
    let cfg = write(
        &dir,
        "bad.toml",
        "version = 1\n[[zone]]\nname = \"example.test\"\nfile = \"z.zone\"\n[zone.check]\nallow = [{ id = \"SPF999\", reason = \"x\" }, { id = \"SPF009\", reason = \"\" }]\non_error = \"ignore\"\n",
    );
    let o = mailzone(&["check", "--color", "never", cfg.to_str().unwrap()]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("`SPF999` is not a check id"), "{out}");
    assert!(
        out.contains("give a reason for overriding `SPF009`"),
        "{out}"
    );
    assert!(
        out.contains("expected on_error = \"refuse\" or \"warn\", found \"ignore\""),
        "{out}"
    );
    assert!(out.contains("bad.toml:6:10"), "{out}");
    let cfg = write(
        &dir,
        "v2.toml",
        "version = 2\n[[zone]]\nname = \"x\"\nfile = \"z.zone\"\n",
    );
    let o = mailzone(&["check", "--color", "never", cfg.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("expected `version = 1`, found version 2"));
    let cfg = write(
        &dir,
        "workers.toml",
        "version = 1\n[[zone]]\nname = \"example.test\"\nfile = \"z.zone\"\n[server]\nworkers = 0\n",
    );
    let o = mailzone(&["check", "--color", "never", cfg.to_str().unwrap()]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("workers must be between 1 and 256, found 0"),
        "{out}"
    );
    assert!(out.contains("workers.toml:6:11"), "{out}");
}

#[test]
fn shipped_examples_and_config_are_clean() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for target in ["zones", "config/mailzone.toml"] {
        let o = mailzone(&[
            "check",
            "--deny",
            "warnings",
            "--color",
            "never",
            root.join(target).to_str().unwrap(),
        ]);
        let out = String::from_utf8_lossy(&o.stdout);
        assert_eq!(o.status.code(), Some(0), "{target}: {out}");
        assert!(!out.contains("warning["), "{target}: {out}");
    }
}

fn free_port() -> u16 {
    loop {
        let u = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = u.local_addr().unwrap().port();
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

#[test]
fn serve_refuses_zones_with_errors_serves_the_rest_and_stops_on_sigterm() {
    let dir = common::scratch_dir("cli-serve");
    write(&dir, "good.zone", ZONE);
    write(
        &dir,
        "bad.zone",
        &ZONE
            .replace("example.test", "bad.test")
            .replace("v=spf1 mx ptr -all", "v=spf1 inlcude:x.example -all"),
    );
    write(
        &dir,
        "warn.zone",
        &ZONE
            .replace("example.test", "warn.test")
            .replace("v=spf1 mx ptr -all", "v=spf1 +all"),
    );
    let port = free_port();
    let cfg = write(
        &dir,
        "serve.toml",
        &format!(
            "version = 1\n[[zone]]\nname = \"example.test\"\nfile = \"good.zone\"\n[[zone]]\nname = \"bad.test\"\nfile = \"bad.zone\"\n[[zone]]\nname = \"warn.test\"\nfile = \"warn.zone\"\n[zone.check]\non_error = \"warn\"\n[server]\nlisten = [\"127.0.0.1:{port}\"]\n"
        ),
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_mailzone"))
        .args(["serve", "--config", cfg.to_str().unwrap()])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let ask = |name: &str| -> Option<String> {
        let o = mailzone(&[
            "query",
            "-p",
            &port.to_string(),
            "--timeout",
            "1",
            name,
            "SOA",
        ]);
        o.status
            .success()
            .then(|| String::from_utf8_lossy(&o.stdout).into_owned())
    };
    // The listeners are up before the zones load, and answer REFUSED for a
    // zone not loaded yet; zones served only when clean are published
    // together once every zone has loaded.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let good = loop {
        if let Some(out) = ask("example.test.").filter(|o| !o.contains("Refused")) {
            break out;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the server did not answer within 10 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert!(
        good.contains("No Error") && good.contains("flags: aa"),
        "{good}"
    );
    let bad = ask("bad.test.").unwrap();
    assert!(
        bad.contains("Refused"),
        "a zone with check errors is not served: {bad}"
    );
    let warned = ask("warn.test.").unwrap();
    assert!(
        warned.contains("No Error"),
        "on_error = \"warn\" serves it anyway: {warned}"
    );
    // SIGTERM: a clean stop with status 0.
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = child.wait().unwrap();
    let mut log = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut log).unwrap();
    assert_eq!(status.code(), Some(0), "{log}");
    assert!(
        log.contains("zone not served") && log.contains("SPF002"),
        "{log}"
    );
    assert!(
        log.contains("SPF010") && log.contains("zone loaded"),
        "{log}"
    );
    assert!(log.contains("SIGTERM"), "{log}");
}
