//! SPF, DKIM and DMARC verdicts (valid or not) of mailzone agree with
//! independent implementations — pyspf, dkimpy and the `dmarc` package, run by
//! tests/judge/verdicts.py — on every check fixture. Where mailzone is stricter
//! on purpose, tests/judge/stricter.txt lists the case with the RFC section
//! that makes it so; an entry that no longer disagrees fails the test too.

mod common;

use hickory_proto::rr::{RData, RecordType};
use mailzone_check::{Severity, checks::check_zone};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn judge_python() -> PathBuf {
    let p = std::env::var_os("MAILZONE_JUDGE_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/judge-venv/bin/python"));
    assert!(
        p.exists(),
        "{} not found: the agreement test needs the Python judges of tests/judge/requirements.txt (PyPI: pyspf, dnspython, dkimpy, dmarc, pynacl); tests/run.sh installs them into target/judge-venv",
        p.display()
    );
    p
}

fn owner_str(n: &hickory_proto::rr::Name) -> String {
    n.to_lowercase()
        .to_string()
        .trim_end_matches('.')
        .to_string()
}

#[test]
fn verdicts_agree_with_independent_implementations() {
    let python = judge_python();
    let mut files = common::files(&root().join("tests/checks"), "zone");
    files.extend(common::files(&root().join("tests/checks/clean"), "zone"));
    let mut zones = Vec::new();
    // (fixture, family, owner) -> mailzone says invalid
    let mut ours: BTreeMap<(String, String, String), (bool, Vec<&'static str>)> = BTreeMap::new();
    for path in &files {
        let r = common::read(path, Some(common::origin_of(path)));
        if !r.is_ok() {
            continue;
        }
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let diags = check_zone(&r.zone);
        let mut records = Vec::new();
        let mut queries: Vec<(String, String)> = Vec::new();
        for rec in &r.zone.records {
            let owner = owner_str(&rec.owner);
            let data = match &rec.rdata {
                RData::A(a) => json!(a.0.to_string()),
                RData::AAAA(a) => json!(a.0.to_string()),
                RData::MX(m) => json!([m.preference, owner_str(&m.exchange)]),
                RData::CNAME(c) => json!(owner_str(&c.0)),
                RData::TXT(t) => json!(t.txt_data.iter().map(|s| s.to_vec()).collect::<Vec<_>>()),
                _ => continue,
            };
            records.push(json!([owner, rec.rtype().to_string(), data]));
            if rec.rtype() != RecordType::TXT {
                continue;
            }
            let joined = match &rec.rdata {
                RData::TXT(t) => t.txt_data.concat(),
                _ => unreachable!(),
            };
            let labels: Vec<&[u8]> = rec.owner.iter().collect();
            let family = if joined.len() >= 6 && joined[..6].eq_ignore_ascii_case(b"v=spf1") {
                Some("SPF")
            } else if labels
                .first()
                .is_some_and(|l| l.eq_ignore_ascii_case(b"_dmarc"))
            {
                Some("DMARC")
            } else if labels
                .iter()
                .skip(1)
                .any(|l| l.eq_ignore_ascii_case(b"_domainkey"))
            {
                Some("DKIM")
            } else {
                None
            };
            if let Some(f) = family
                && !queries.iter().any(|q| q.0 == f && q.1 == owner)
            {
                queries.push((f.to_string(), owner.clone()));
            }
        }
        for (family, owner) in &queries {
            let bad: Vec<&'static str> = diags
                .iter()
                .filter(|d| d.severity == Severity::Error && d.id.starts_with(family.as_str()))
                .filter(|d| {
                    d.owner
                        .as_deref()
                        .is_some_and(|o| o.trim_end_matches('.').eq_ignore_ascii_case(owner))
                })
                .map(|d| d.id)
                .collect();
            ours.insert(
                (name.clone(), family.clone(), owner.clone()),
                (!bad.is_empty(), bad),
            );
        }
        zones.push(json!({"name": name, "origin": owner_str(&r.zone.origin), "records": records, "queries": queries}));
    }
    let mut child = Command::new(&python)
        .arg(root().join("tests/judge/verdicts.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(json!({"zones": zones}).to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "the judge script failed");
    let verdicts: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let listed: Vec<(String, String, String)> =
        std::fs::read_to_string(root().join("tests/judge/stricter.txt"))
            .unwrap()
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .map(|l| {
                let (key, why) = l.split_once('|').expect("an entry needs `| reason`");
                assert!(
                    why.contains("RFC"),
                    "an entry must name its RFC section: {l}"
                );
                let mut p = key.split_whitespace();
                (
                    p.next().unwrap().to_string(),
                    p.next().unwrap().to_string(),
                    p.next().unwrap().to_string(),
                )
            })
            .collect();
    let mut disagreements = Vec::new();
    let mut compared = 0;
    let mut used = Vec::new();
    for v in &verdicts {
        let key = (
            v[0].as_str().unwrap().to_string(),
            v[1].as_str().unwrap().to_string(),
            v[2].as_str().unwrap().to_string(),
        );
        let judge = v[3].as_str().unwrap();
        if judge == "skip" {
            continue;
        }
        assert_ne!(judge, "error", "the judge crashed on {key:?}: {}", v[4]);
        compared += 1;
        let (ours_invalid, ids) = &ours[&key];
        if *ours_invalid != (judge == "invalid") {
            if listed.contains(&key) {
                used.push(key.clone());
            } else {
                disagreements.push(format!(
                    "{} {} {}: mailzone {} {ids:?}, judge {judge} ({})",
                    key.0,
                    key.1,
                    key.2,
                    if *ours_invalid { "invalid" } else { "valid" },
                    v[4].as_str().unwrap()
                ));
            }
        }
    }
    let stale: Vec<_> = listed.iter().filter(|k| !used.contains(k)).collect();
    assert!(
        disagreements.is_empty(),
        "{} verdicts differ and are not listed in tests/judge/stricter.txt:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
    assert!(
        stale.is_empty(),
        "tests/judge/stricter.txt lists cases that no longer differ: {stale:?}"
    );
    assert!(compared > 150, "only {compared} verdicts compared");
}
