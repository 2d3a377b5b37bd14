//! Data-driven check fixtures: `tests/checks/<ID>.pos.zone` must produce the
//! id, `<ID>.neg.zone` (a near miss) must not. `; expect: ID [LINE:COL]` and
//! `; expect-not: ID` lines say what to assert. Every catalogue id has both.

mod common;

use mailzone_check::catalogue::{CATALOGUE, DNS_CHECKS};
use mailzone_check::{Diagnostic, checks::check_zone};
use std::path::Path;

/// Read errors when the zone does not read, else the check findings.
pub fn diagnostics(path: &Path) -> Vec<Diagnostic> {
    let r = common::read(path, Some(common::origin_of(path)));
    if r.is_ok() {
        check_zone(&r.zone)
    } else {
        r.errors.iter().map(Diagnostic::from).collect()
    }
}

#[test]
fn every_fixture_reports_exactly_what_it_says() {
    let dir = common::corpus("../checks");
    let files = common::files(&dir, "zone");
    let mut failures = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let diags = diagnostics(path);
        let ids: Vec<&str> = diags.iter().map(|d| d.id).collect();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("; expect: ") {
                let mut parts = rest.split_whitespace();
                let id = parts.next().unwrap();
                let found: Vec<&Diagnostic> = diags.iter().filter(|d| d.id == id).collect();
                if found.is_empty() {
                    failures.push(format!("{}: expected {id}, got {ids:?}", path.display()));
                } else if let Some(loc) = parts.next() {
                    let locs: Vec<String> = found
                        .iter()
                        .map(|d| format!("{}:{}", d.span.line, d.span.col))
                        .collect();
                    if !locs.iter().any(|l| l == loc) {
                        failures.push(format!(
                            "{}: expected {id} at {loc}, found at {locs:?}",
                            path.display()
                        ));
                    }
                }
            } else if let Some(id) = line.strip_prefix("; expect-not: ")
                && let Some(d) = diags.iter().find(|d| d.id == id.trim())
            {
                failures.push(format!(
                    "{}: must not report {id}, but did: {}",
                    path.display(),
                    d.message
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_catalogue_id_has_a_positive_and_a_near_miss_fixture() {
    let dir = common::corpus("../checks");
    let missing: Vec<String> = CATALOGUE
        .iter()
        .chain(DNS_CHECKS)
        .flat_map(|e| ["pos", "neg"].map(|k| format!("{}.{k}.zone", e.id)))
        .filter(|f| !dir.join(f).exists())
        .collect();
    assert!(missing.is_empty(), "missing fixtures: {missing:?}");
    assert_eq!(CATALOGUE.len(), 141);
}

#[test]
fn real_world_clean_shapes_have_no_error_and_no_warning() {
    let dir = common::corpus("../checks/clean");
    let files = common::files(&dir, "zone");
    assert!(files.len() >= 4);
    let mut failures = Vec::new();
    for path in &files {
        for d in diagnostics(path) {
            if d.severity >= mailzone_check::Severity::Warning {
                failures.push(format!(
                    "{}:{}: {}[{}] {}",
                    path.display(),
                    d.span.line,
                    d.severity.as_str(),
                    d.id,
                    d.message
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The `*.zone` files of these directories (relative to the corpus).
fn zone_files(dirs: &[&str]) -> Vec<std::path::PathBuf> {
    dirs.iter()
        .flat_map(|d| common::files(&common::corpus(d), "zone"))
        .collect()
}

/// The server and `check` index a zone's names on a second thread while the
/// file is read; on every fixture, every clean shape, every shipped example
/// and every corpus zone (with `$INCLUDE` and `$GENERATE`), that must find
/// exactly what indexing after the read finds, and the reader must hand
/// over every record once, in order, with its owner's wire form.
#[test]
fn names_indexed_while_reading_give_the_same_findings() {
    use mailzone_check::checks::{NameStream, check_zone_with};
    use mailzone_zone::record::{name_to_wire_bytes, rdata_to_wire};
    let files = zone_files(&[
        "../checks",
        "../checks/clean",
        "../../zones",
        "valid",
        "broken",
    ]);
    assert!(files.len() > 300, "found only {} zones", files.len());
    let mut compared = 0;
    for path in &files {
        // Fixtures name their origin on the first line; other zones by their SOA.
        let text = std::fs::read_to_string(path).unwrap();
        let origin = if text.starts_with("; origin ") {
            common::origin_of(path)
        } else {
            common::read(path, None).zone.origin
        };
        // Both ways: on a thread of its own (reading DKIM keys and DMARC
        // records ahead, and not, as a server compiling beside it does) and
        // by the reader itself.
        let mut streams = [
            NameStream::on_thread(&origin, 0),
            NameStream::on_thread(&origin, 0).without_read_ahead(),
            NameStream::inline(&origin, 0),
        ];
        let mut seen: Vec<Vec<u8>> = Vec::new();
        let r = mailzone_zone::read_zone_file_observed(
            path,
            &mailzone_zone::MasterOptions {
                origin: Some(origin),
                ..Default::default()
            },
            &mut |rec, t, wire, rdata| {
                assert_eq!(wire, name_to_wire_bytes(&rec.owner), "{}", path.display());
                assert_eq!(rdata, rdata_to_wire(&rec.rdata), "{}", path.display());
                seen.push(wire.to_vec());
                for s in &mut streams {
                    s.observe(rec, t, wire, rdata);
                }
            },
        );
        assert_eq!(seen.len(), r.zone.records.len(), "{}", path.display());
        if !r.is_ok() {
            continue;
        }
        let after = check_zone(&r.zone);
        for s in streams {
            let mut names = s.finish();
            // Names that do not match are rebuilt by the index: that would
            // hide a stream that lost records.
            assert!(names.built_from(&r.zone), "{}", path.display());
            assert_eq!(
                check_zone_with(&r.zone, Some(&mut names)),
                after,
                "{}",
                path.display()
            );
        }
        compared += 1;
    }
    assert!(compared > 250, "compared only {compared} zones");
}

/// The names of the zone at `path`, indexed on a thread of their own while
/// it is read, reading ahead, as `mailzone check` indexes a large zone.
fn read_ahead(
    path: &std::path::Path,
    origin: &hickory_proto::rr::Name,
) -> mailzone_check::index::ReadAhead {
    let mut stream = mailzone_check::checks::NameStream::on_thread(origin, 0);
    mailzone_zone::read_zone_file_observed(
        path,
        &mailzone_zone::MasterOptions {
            origin: Some(origin.clone()),
            ..Default::default()
        },
        &mut |rec, t, wire, rdata| stream.observe(rec, t, wire, rdata),
    );
    stream.finish()
}

/// A server counts its info findings instead of building them: on every
/// fixture, clean shape, shipped example and valid corpus zone, the counts
/// must be what building them gives, the findings built must be the rest,
/// and an id kept (one a config raises to an error) must still be built.
#[test]
fn counted_info_findings_match_the_built_ones() {
    use mailzone_check::Severity;
    use mailzone_check::checks::check_zone_counting;
    let files = zone_files(&["../checks", "../checks/clean", "../../zones", "valid"]);
    let (mut compared, mut with_infos) = (0, 0);
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let origin = text
            .starts_with("; origin ")
            .then(|| common::origin_of(path));
        let r = common::read(path, origin);
        if !r.is_ok() {
            continue;
        }
        let all = check_zone(&r.zone);
        let mut want: Vec<(&str, usize)> = Vec::new();
        for d in all.iter().filter(|d| d.severity == Severity::Info) {
            match want.iter_mut().find(|(id, _)| *id == d.id) {
                Some(e) => e.1 += 1,
                None => want.push((d.id, 1)),
            }
        }
        want.sort_unstable();
        let rest: Vec<_> = all
            .iter()
            .filter(|d| d.severity != Severity::Info)
            .cloned()
            .collect();
        let (built, mut counted) = check_zone_counting(&r.zone, None, Vec::new());
        counted.sort_unstable();
        assert_eq!(built, rest, "{}", path.display());
        assert_eq!(counted, want, "{}", path.display());
        // The same with what the names thread read ahead (SPF, DMARC and
        // DKIM records' own checks, MX exchanges), which counting trusts.
        let mut ahead = read_ahead(path, &r.zone.origin);
        assert!(ahead.built_from(&r.zone), "{}", path.display());
        let (built, counted) = check_zone_counting(&r.zone, Some(&mut ahead), Vec::new());
        assert_eq!(built, rest, "read ahead: {}", path.display());
        assert_eq!(counted, want, "read ahead: {}", path.display());
        // Keeping the first info id builds exactly those findings again.
        if let Some(&(kept, _)) = want.first() {
            let (built, counted) = check_zone_counting(&r.zone, None, vec![kept.to_string()]);
            let mut expect: Vec<_> = all
                .iter()
                .filter(|d| d.severity != Severity::Info || d.id == kept)
                .cloned()
                .collect();
            expect.sort_by_key(|d| (d.span.file, d.span.start, d.id));
            let mut got = built.clone();
            got.sort_by_key(|d| (d.span.file, d.span.start, d.id));
            assert_eq!(got, expect, "{}", path.display());
            assert!(counted.iter().all(|c| c.0 != kept), "{}", path.display());
            with_infos += 1;
        }
        compared += 1;
    }
    assert!(compared > 250, "compared only {compared} zones");
    assert!(with_infos > 30, "only {with_infos} zones had info findings");
}
