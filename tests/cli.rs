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
