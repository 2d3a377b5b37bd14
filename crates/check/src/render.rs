//! Renderers: human (rustc-style snippets through `codespan-reporting`) and
//! JSON (a stable, documented schema; see the README's "check output" section).

use crate::{Diagnostic, Report, Severity};
use codespan_reporting::diagnostic::{Diagnostic as CsDiagnostic, Label, Severity as CsSeverity};
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term::{self, Config};

/// Writes the report rustc-style to `out`. `color` chooses ANSI colours.
pub fn human(report: &Report, color: bool, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let mut files = SimpleFiles::new();
    let ids: Vec<usize> = report
        .sources
        .files()
        .map(|(_, f)| files.add(f.path.display().to_string(), f.text.to_string()))
        .collect();
    let config = Config::default();
    for d in &report.diagnostics {
        let sev = match d.severity {
            Severity::Error => CsSeverity::Error,
            Severity::Warning => CsSeverity::Warning,
            Severity::Info => CsSeverity::Note,
        };
        let mut cs = CsDiagnostic::new(sev)
            .with_code(d.id)
            .with_message(&d.message);
        if let Some(&fid) = ids.get(d.span.file.0 as usize) {
            let len = files.get(fid).map(|f| f.source().len()).unwrap_or(0);
            let start = (d.span.start as usize).min(len);
            let end = (d.span.end as usize).clamp(start, len);
            let mut label = Label::primary(fid, start..end);
            if let (Some(o), Some(t)) = (&d.owner, &d.rtype) {
                label = match &d.term {
                    Some(term) => label.with_message(format!(
                        "{o} {t} string {} @ byte {}: `{}`",
                        term.string, term.byte, term.text
                    )),
                    None => label.with_message(format!("{o} {t}")),
                };
            }
            let mut labels = vec![label];
            for r in d
                .related
                .iter()
                .filter(|r| r.start != d.span.start || r.file != d.span.file)
            {
                if let Some(&rid) = ids.get(r.file.0 as usize) {
                    let len = files.get(rid).map(|f| f.source().len()).unwrap_or(0);
                    let s = (r.start as usize).min(len);
                    labels.push(
                        Label::secondary(rid, s..(r.end as usize).clamp(s, len))
                            .with_message("involved"),
                    );
                }
            }
            cs = cs.with_labels(labels);
        }
        let mut notes = Vec::new();
        if let Some(h) = &d.help {
            notes.push(format!("help: {h}"));
        }
        if let Some(p) = &d.policy {
            notes.push(format!("note: {p}"));
        }
        cs = cs.with_notes(notes);
        if color {
            let mut w = codespan_reporting::term::termcolor::Ansi::new(&mut *out);
            term::emit(&mut w, &config, &files, &cs).map_err(std::io::Error::other)?;
        } else {
            let mut w = codespan_reporting::term::termcolor::NoColor::new(&mut *out);
            term::emit(&mut w, &config, &files, &cs).map_err(std::io::Error::other)?;
        }
    }
    Ok(())
}

/// The reports as one pretty-printed JSON object (schema 1), fields in documented order.
pub fn json(reports: &[Report]) -> String {
    let mut out = Vec::new();
    write_json(reports, &mut out).expect("writing JSON to memory");
    String::from_utf8(out).expect("the JSON writer writes UTF-8")
}

/// Findings per chunk rendered on a thread of its own: below this, one
/// thread writes them in less time than another takes to start.
const CHUNK: usize = 16_384;

/// [`json`], written to `out` as it is produced. The document is written by
/// hand, byte for byte as `serde_json`'s pretty printer writes the schema's
/// structs (a test holds the two equal): a large zone has hundreds of
/// thousands of findings, and serde's field-by-field writes cost more than
/// building the findings did. Large reports are rendered in chunks on every
/// core and written in order.
pub fn write_json<W: std::io::Write>(reports: &[Report], mut out: W) -> std::io::Result<()> {
    let mut head = Vec::with_capacity(256);
    head.extend_from_slice(b"{\n  \"schema\": 1,\n  \"reports\": [");
    for (i, report) in reports.iter().enumerate() {
        head.extend_from_slice(if i == 0 { b"\n" } else { b",\n" });
        head.extend_from_slice(b"    {\n      \"subject\": ");
        string(&mut head, &report.subject);
        for (key, sev) in [
            ("errors", Severity::Error),
            ("warnings", Severity::Warning),
            ("infos", Severity::Info),
        ] {
            head.extend_from_slice(b",\n      \"");
            head.extend_from_slice(key.as_bytes());
            head.extend_from_slice(b"\": ");
            number(&mut head, report.count(sev));
        }
        head.extend_from_slice(b",\n      \"diagnostics\": [");
        let paths: Vec<String> = report
            .sources
            .files()
            .map(|(id, _)| report.sources.path(id).display().to_string())
            .collect();
        let diags = &report.diagnostics;
        if diags.is_empty() {
            head.push(b']');
            counted(&mut head, &report.counted);
            continue;
        }
        out.write_all(&head)?;
        head.clear();
        let chunks: Vec<&[Diagnostic]> = diags.chunks(CHUNK).collect();
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        // Rendering runs ahead of writing by at most one chunk per thread,
        // so memory stays bounded however many findings there are.
        let mut first = true;
        for group in chunks.chunks(threads) {
            let rendered: Vec<Vec<u8>> = if group.len() == 1 {
                vec![render_chunk(group[0], &paths)]
            } else {
                std::thread::scope(|s| {
                    let handles: Vec<_> = group
                        .iter()
                        .map(|c| s.spawn(|| render_chunk(c, &paths)))
                        .collect();
                    handles
                        .into_iter()
                        .map(|h| h.join().expect("rendering JSON panicked"))
                        .collect()
                })
            };
            for r in rendered {
                // Every element comes after a comma but the very first.
                out.write_all(if first { &r[1..] } else { &r })?;
                first = false;
            }
        }
        head.extend_from_slice(b"\n      ]");
        counted(&mut head, &report.counted);
    }
    head.extend_from_slice(if reports.is_empty() {
        b"]\n}"
    } else {
        b"\n  ]\n}"
    });
    out.write_all(&head)
}

/// A report's info findings counted instead of listed, and the end of the
/// report's object.
fn counted(b: &mut Vec<u8>, counts: &[(&str, usize)]) {
    b.extend_from_slice(b",\n      \"counted\": [");
    for (i, (id, n)) in counts.iter().enumerate() {
        b.extend_from_slice(if i == 0 { b"\n" } else { b",\n" });
        b.extend_from_slice(b"        {\n          \"id\": ");
        string(b, id);
        b.extend_from_slice(b",\n          \"count\": ");
        number(b, *n);
        b.extend_from_slice(b"\n        }");
    }
    b.extend_from_slice(if counts.is_empty() {
        b"]\n    }"
    } else {
        b"\n      ]\n    }"
    });
}

/// One run of diagnostics as array elements, each after `,` and a newline.
fn render_chunk(diags: &[Diagnostic], paths: &[String]) -> Vec<u8> {
    let mut b = Vec::with_capacity(diags.len() * 640);
    let path =
        |f: mailzone_zone::FileId| paths.get(f.0 as usize).map_or("<unknown>", String::as_str);
    for d in diags {
        b.extend_from_slice(b",\n");
        b.extend_from_slice(b"        {\n          \"id\": ");
        string(&mut b, d.id);
        field(&mut b, "severity");
        string(&mut b, d.severity.as_str());
        field(&mut b, "file");
        string(&mut b, path(d.span.file));
        field(&mut b, "line");
        number(&mut b, d.span.line);
        field(&mut b, "col");
        number(&mut b, d.span.col);
        field(&mut b, "byte_start");
        number(&mut b, d.span.start);
        field(&mut b, "byte_end");
        number(&mut b, d.span.end);
        field(&mut b, "owner");
        optional(&mut b, d.owner.as_deref());
        field(&mut b, "rtype");
        optional(&mut b, d.rtype.as_deref());
        field(&mut b, "term");
        match &d.term {
            None => b.extend_from_slice(b"null"),
            Some(t) => {
                b.extend_from_slice(b"{\n            \"string\": ");
                number(&mut b, t.string);
                b.extend_from_slice(b",\n            \"byte\": ");
                number(&mut b, t.byte);
                b.extend_from_slice(b",\n            \"text\": ");
                string(&mut b, &t.text);
                b.extend_from_slice(b"\n          }");
            }
        }
        field(&mut b, "related");
        if d.related.is_empty() {
            b.extend_from_slice(b"[]");
        } else {
            for (j, r) in d.related.iter().enumerate() {
                b.extend_from_slice(if j == 0 { b"[\n" } else { b",\n" });
                b.extend_from_slice(b"            {\n              \"file\": ");
                string(&mut b, path(r.file));
                b.extend_from_slice(b",\n              \"line\": ");
                number(&mut b, r.line);
                b.extend_from_slice(b",\n              \"col\": ");
                number(&mut b, r.col);
                b.extend_from_slice(b"\n            }");
            }
            b.extend_from_slice(b"\n          ]");
        }
        field(&mut b, "message");
        string(&mut b, &d.message);
        field(&mut b, "help");
        optional(&mut b, d.help.as_deref());
        field(&mut b, "policy");
        optional(&mut b, d.policy.as_deref());
        b.extend_from_slice(b"\n        }");
    }
    b
}

/// The separator and key of a diagnostic's next field.
fn field(b: &mut Vec<u8>, key: &str) {
    b.extend_from_slice(b",\n          \"");
    b.extend_from_slice(key.as_bytes());
    b.extend_from_slice(b"\": ");
}

fn number(b: &mut Vec<u8>, n: impl itoa::Integer) {
    b.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

fn optional(b: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => string(b, s),
        None => b.extend_from_slice(b"null"),
    }
}

/// A JSON string as serde_json escapes it: quote, backslash and control
/// characters; everything else, UTF-8 included, as it is.
fn string(b: &mut Vec<u8>, s: &str) {
    b.push(b'"');
    let bytes = s.as_bytes();
    let mut from = 0;
    // Eight bytes at a time while none needs escaping (most text has none).
    let mut i = 0;
    while i < bytes.len() {
        if let Some(w) = bytes.get(i..i + 8) {
            let w = u64::from_le_bytes(w.try_into().unwrap_or_default());
            if !word_needs_escape(w) {
                i += 8;
                continue;
            }
        }
        let c = bytes[i];
        i += 1;
        if c >= 0x20 && c != b'"' && c != b'\\' {
            continue;
        }
        let i = i - 1;
        b.extend_from_slice(&bytes[from..i]);
        from = i + 1;
        match c {
            b'"' => b.extend_from_slice(b"\\\""),
            b'\\' => b.extend_from_slice(b"\\\\"),
            b'\n' => b.extend_from_slice(b"\\n"),
            b'\r' => b.extend_from_slice(b"\\r"),
            b'\t' => b.extend_from_slice(b"\\t"),
            0x08 => b.extend_from_slice(b"\\b"),
            0x0c => b.extend_from_slice(b"\\f"),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                b.extend_from_slice(b"\\u00");
                b.push(HEX[(c >> 4) as usize]);
                b.push(HEX[(c & 0xf) as usize]);
            }
        }
    }
    b.extend_from_slice(&bytes[from..]);
    b.push(b'"');
}

/// Whether any byte of `w` is a control character, `"` or `\\` (the
/// has-less-than and has-zero-byte tricks on a word: exact as a yes/no).
fn word_needs_escape(w: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let below_space = w.wrapping_sub(ONES * 0x20) & !w;
    let q = w ^ (ONES * u64::from(b'"'));
    let quote = q.wrapping_sub(ONES) & !q;
    let s = w ^ (ONES * u64::from(b'\\'));
    let slash = s.wrapping_sub(ONES) & !s;
    (below_space | quote | slash) & HIGH != 0
}

#[cfg(test)]
mod tests {
    //! The hand-written JSON against serde_json's pretty printer over the
    //! schema's structs, which is what the documented format was defined by.
    use super::*;
    use crate::{Diagnostic, Term};
    use mailzone_zone::{FileId, Span};
    use serde::Serialize;

    #[derive(Serialize)]
    struct JsonOutput<'a> {
        schema: u32,
        reports: Vec<JsonReport<'a>>,
    }

    #[derive(Serialize)]
    struct JsonReport<'a> {
        subject: &'a str,
        errors: usize,
        warnings: usize,
        infos: usize,
        diagnostics: Vec<JsonDiagnostic<'a>>,
        counted: Vec<JsonCount<'a>>,
    }

    #[derive(Serialize)]
    struct JsonCount<'a> {
        id: &'a str,
        count: usize,
    }

    #[derive(Serialize)]
    struct JsonDiagnostic<'a> {
        id: &'a str,
        severity: Severity,
        file: &'a str,
        line: u32,
        col: u32,
        byte_start: u32,
        byte_end: u32,
        owner: Option<&'a str>,
        rtype: Option<&'a str>,
        term: Option<JsonTerm<'a>>,
        related: Vec<JsonLoc<'a>>,
        message: &'a str,
        help: Option<&'a str>,
        policy: Option<&'a str>,
    }

    #[derive(Serialize)]
    struct JsonTerm<'a> {
        string: usize,
        byte: usize,
        text: &'a str,
    }

    #[derive(Serialize)]
    struct JsonLoc<'a> {
        file: &'a str,
        line: u32,
        col: u32,
    }

    fn by_serde(reports: &[Report]) -> String {
        let paths: Vec<Vec<String>> = reports
            .iter()
            .map(|r| {
                r.sources
                    .files()
                    .map(|(id, _)| r.sources.path(id).display().to_string())
                    .collect()
            })
            .collect();
        let doc = JsonOutput {
            schema: 1,
            reports: reports
                .iter()
                .zip(&paths)
                .map(|(r, paths)| {
                    let path =
                        |f: FileId| paths.get(f.0 as usize).map_or("<unknown>", String::as_str);
                    JsonReport {
                        subject: &r.subject,
                        errors: r.count(Severity::Error),
                        warnings: r.count(Severity::Warning),
                        infos: r.count(Severity::Info),
                        diagnostics: r
                            .diagnostics
                            .iter()
                            .map(|d| JsonDiagnostic {
                                id: d.id,
                                severity: d.severity,
                                file: path(d.span.file),
                                line: d.span.line,
                                col: d.span.col,
                                byte_start: d.span.start,
                                byte_end: d.span.end,
                                owner: d.owner.as_deref(),
                                rtype: d.rtype.as_deref(),
                                term: d.term.as_ref().map(|t| JsonTerm {
                                    string: t.string,
                                    byte: t.byte,
                                    text: &t.text,
                                }),
                                related: d
                                    .related
                                    .iter()
                                    .map(|l| JsonLoc {
                                        file: path(l.file),
                                        line: l.line,
                                        col: l.col,
                                    })
                                    .collect(),
                                message: &d.message,
                                help: d.help.as_deref(),
                                policy: d.policy.as_deref(),
                            })
                            .collect(),
                        counted: r
                            .counted
                            .iter()
                            .map(|&(id, count)| JsonCount { id, count })
                            .collect(),
                    }
                })
                .collect(),
        };
        serde_json::to_string_pretty(&doc).unwrap()
    }

    fn report(subject: &str, text: &str, diagnostics: Vec<Diagnostic>) -> Report {
        let mut sources = mailzone_zone::SourceMap::default();
        sources.add(std::path::PathBuf::from("dir/zone \"q\".zone"), text);
        Report {
            subject: subject.into(),
            diagnostics,
            sources,
            counted: Vec::new(),
        }
    }

    fn diag(n: usize) -> Diagnostic {
        let span = |k: usize| Span {
            file: FileId((k % 3) as u32),
            start: k as u32,
            end: k as u32 + 7,
            line: k as u32 + 1,
            col: (k % 80) as u32 + 1,
        };
        Diagnostic {
            id: ["SPF002", "MX004", "ZF001"][n % 3],
            severity: [Severity::Info, Severity::Warning, Severity::Error][n % 3],
            owner: (!n.is_multiple_of(4)).then(|| format!("d{n}.example.")),
            rtype: (!n.is_multiple_of(5)).then(|| "TXT".to_string()),
            span: span(n),
            message: format!(
                "message {n} with \"quotes\", \\, tab\t, nl\n, nul\u{0}, esc\u{1b}, del\u{7f}, é ✓"
            ),
            help: n
                .is_multiple_of(2)
                .then(|| format!("help {n}: `\u{8}\u{c}\r`")),
            term: (n % 3 == 1).then(|| Term {
                string: n % 4 + 1,
                byte: n * 3,
                text: format!("inlcude:{n}\"x"),
            }),
            related: (0..n % 3).map(span).collect(),
            policy: n
                .is_multiple_of(7)
                .then(|| "allowed by config (warning → info): why".into()),
        }
    }

    #[test]
    fn word_scan_flags_exactly_the_bytes_that_need_escaping() {
        for fill in [b'a', 0xc3, 0x7f, b'~'] {
            for pos in 0..8 {
                for c in 0..=255u8 {
                    let mut w = [fill; 8];
                    w[pos] = c;
                    let want = w.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\');
                    assert_eq!(word_needs_escape(u64::from_le_bytes(w)), want, "{w:?}");
                }
            }
        }
    }

    #[test]
    fn hand_written_json_is_serde_pretty_byte_for_byte() {
        let cases = vec![
            vec![],
            vec![report("empty.zone", "", vec![])],
            vec![report("one.zone", "x", vec![diag(1)])],
            vec![
                report("a.zone", "abc", (0..50).map(diag).collect()),
                Report {
                    counted: vec![("MX004", 3), ("SPF006", 1)],
                    ..report("b.zone", "", vec![])
                },
                Report {
                    counted: vec![("DKIM016", 2)],
                    ..report("c.zone", "", vec![diag(2)])
                },
                // More than one chunk, so the threads' seams are covered.
                report("big.zone", "z", (0..2 * CHUNK + 17).map(diag).collect()),
            ],
        ];
        for reports in cases {
            assert_eq!(json(&reports), by_serde(&reports));
        }
    }
}
