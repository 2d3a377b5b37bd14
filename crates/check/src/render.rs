//! Renderers: human (rustc-style snippets through `codespan-reporting`) and
//! JSON (a stable, documented schema; see the README's "check output" section).

use crate::{Report, Severity};
use codespan_reporting::diagnostic::{Diagnostic as CsDiagnostic, Label, Severity as CsSeverity};
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term::{self, Config};
use serde::Serialize;

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

#[derive(Serialize)]
struct JsonOutput<'a> {
    /// Schema version of this JSON; bumped on any incompatible change.
    schema: u32,
    reports: Vec<JsonReport<'a>>,
}

#[derive(Serialize)]
struct JsonReport<'a> {
    subject: &'a str,
    errors: usize,
    warnings: usize,
    infos: usize,
    diagnostics: JsonDiagnostics<'a>,
}

/// A report's diagnostics, turned into JSON one at a time as they are
/// written (a large zone has hundreds of thousands; no second copy of them).
struct JsonDiagnostics<'a> {
    report: &'a Report,
    /// Each source file's path as shown, made once per report.
    paths: Vec<String>,
}

impl Serialize for JsonDiagnostics<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let path = |f: mailzone_zone::FileId| {
            self.paths
                .get(f.0 as usize)
                .map_or("<unknown>", String::as_str)
        };
        s.collect_seq(self.report.diagnostics.iter().map(|d| {
            JsonDiagnostic {
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
                    .map(|r| JsonLoc {
                        file: path(r.file),
                        line: r.line,
                        col: r.col,
                    })
                    .collect(),
                message: &d.message,
                help: d.help.as_deref(),
                policy: d.policy.as_deref(),
            }
        }))
    }
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

/// The reports as one pretty-printed JSON object (schema 1), fields in documented order.
pub fn json(reports: &[Report]) -> String {
    let mut out = Vec::new();
    write_json(reports, &mut out).expect("writing JSON to memory");
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

/// [`json`], written to `out` as it is produced.
pub fn write_json(reports: &[Report], out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let out_json = JsonOutput {
        schema: 1,
        reports: reports.iter().map(json_report).collect(),
    };
    serde_json::to_writer_pretty(out, &out_json).map_err(std::io::Error::other)
}

fn json_report(report: &Report) -> JsonReport<'_> {
    let paths = report
        .sources
        .files()
        .map(|(id, _)| report.sources.path(id).display().to_string())
        .collect();
    JsonReport {
        subject: &report.subject,
        errors: report.count(Severity::Error),
        warnings: report.count(Severity::Warning),
        infos: report.count(Severity::Info),
        diagnostics: JsonDiagnostics { report, paths },
    }
}
