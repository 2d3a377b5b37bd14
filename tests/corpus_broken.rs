//! Broken corpus: every file states the errors it must produce, one
//! `; expect: LINE:COL ID message` line each, in order; the reader must report
//! exactly those (location, id and message), no more, no fewer.

mod common;

use common::*;

#[test]
fn broken_files_report_exact_locations_and_messages() {
    let dir = corpus("broken");
    let mut files = files(&dir, "zone");
    files.extend(common::files(&dir, "toml"));
    assert!(
        files.len() >= 15,
        "the broken corpus has {} files",
        files.len()
    );
    let mut failures = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let expected: Vec<String> = text
            .lines()
            .filter_map(|l| {
                l.strip_prefix("; expect: ")
                    .or_else(|| l.strip_prefix("# expect: "))
            })
            .map(str::to_string)
            .collect();
        assert!(
            !expected.is_empty(),
            "{}: no `expect:` lines",
            path.display()
        );
        let origin = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("; origin "))
            .map(|o| o.trim().parse().unwrap());
        let r = read(path, origin);
        let got: Vec<String> = r
            .errors
            .iter()
            .map(|e| format!("{}:{} {} {}", e.span.line, e.span.col, e.id(), e.message))
            .collect();
        if got != expected {
            failures.push(format!(
                "{}:\n  expected: {expected:#?}\n  got:      {got:#?}",
                path.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
