//! Differential test: for every valid corpus file, the records mailzone reads
//! equal those BIND's `named-compilezone` writes out (owners lowercased, sorted,
//! exact RDATA bytes, TTL and class).

mod common;

use common::*;
use std::process::Command;

fn compile_with_bind(
    path: &std::path::Path,
    origin: &str,
    out: &std::path::Path,
) -> Result<(), String> {
    // BIND resolves $INCLUDE against its working directory; run it from the
    // zone's directory so both readers see the same files.
    let dir = path.parent().unwrap();
    let o = Command::new("named-compilezone")
        .current_dir(dir)
        .args([
            "-s", "full", "-i", "none", "-k", "ignore", "-n", "ignore", "-m", "ignore", "-r",
            "ignore", "-M", "ignore", "-S", "ignore", "-T", "ignore", "-W", "ignore", "-o",
        ])
        .arg(out)
        .arg(origin)
        .arg(path.file_name().unwrap())
        .output()
        .map_err(|e| e.to_string())?;
    if !o.status.success() {
        return Err(format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ));
    }
    Ok(())
}

#[test]
fn every_valid_corpus_file_reads_like_named_compilezone() {
    require_tool("named-compilezone", "bind9-utils");
    let files = files(&corpus("valid"), "zone");
    assert!(
        files.len() >= 25,
        "the valid corpus has {} files",
        files.len()
    );
    let tmp = scratch_dir("diff-bind");
    let mut failures = Vec::new();
    let mut total = 0;
    for path in &files {
        let origin = origin_of(path);
        let ours = read(path, Some(origin.clone()));
        if !ours.errors.is_empty() {
            failures.push(format!(
                "{}: mailzone reports {:?}",
                path.display(),
                ours.errors
            ));
            continue;
        }
        let out = tmp.join(path.file_name().unwrap());
        if let Err(e) = compile_with_bind(path, &origin.to_string(), &out) {
            failures.push(format!(
                "{}: named-compilezone refused it: {e}",
                path.display()
            ));
            continue;
        }
        let theirs = read(&out, Some(origin.clone()));
        assert!(
            theirs.errors.is_empty(),
            "{}: cannot read BIND's output: {:?}",
            out.display(),
            theirs.errors
        );
        let (a, b) = (keys(&ours.zone), keys(&theirs.zone));
        total += a.len();
        if a != b {
            let only_ours: Vec<_> = a.iter().filter(|k| !b.contains(k)).collect();
            let only_bind: Vec<_> = b.iter().filter(|k| !a.contains(k)).collect();
            failures.push(format!(
                "{}: differs\n  only mailzone: {only_ours:?}\n  only BIND: {only_bind:?}",
                path.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(total > 300, "compared only {total} records");
}
