//! Findings about a zone and how they are shown. Every problem, whether the
//! reader found it or a check did, becomes a [`Diagnostic`] with a stable id,
//! a severity and a location; renderers turn a list of them into rustc-style
//! text with the source line and a caret, or into JSON for pipelines.

pub mod catalogue;
pub mod checks;
pub mod index;
pub mod render;
mod slots;

use mailzone_zone::{ReadError, SourceMap, Span};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// One finding, located.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Stable id: `ZFnnn` for reader errors, catalogue ids (`SPF002`, `GEN005`) for checks.
    pub id: &'static str,
    pub severity: Severity,
    /// The owner name concerned, absolute, when there is one.
    pub owner: Option<String>,
    /// The record type concerned, when there is one.
    pub rtype: Option<String>,
    pub span: Span,
    pub message: String,
    pub help: Option<String>,
    /// For findings about one term of a TXT record: which string, where in the
    /// joined text, and the term itself.
    pub term: Option<Term>,
    /// Other records involved (cross-record checks).
    pub related: Vec<Span>,
    /// Set when the server config changed this finding's severity, with its reason.
    pub policy: Option<String>,
}

/// A term inside a TXT record: 1-based character-string index, byte offset in
/// the joined text (strings concatenated, RFC 7208 §3.3), and the term.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    pub string: usize,
    pub byte: usize,
    pub text: String,
}

impl From<&ReadError> for Diagnostic {
    fn from(e: &ReadError) -> Self {
        Diagnostic {
            id: e.id(),
            severity: Severity::Error,
            owner: None,
            rtype: None,
            span: e.span,
            message: e.message.clone(),
            help: e.help.clone(),
            term: None,
            related: Vec::new(),
            policy: None,
        }
    }
}

/// Applies a zone's overrides: an allowed finding becomes info, a raised one
/// an error; both keep the operator's reason so the output shows why.
pub fn apply_policy(
    diags: &mut [Diagnostic],
    allow: &[(String, String)],
    raise: &[(String, String)],
) {
    for d in diags {
        if let Some((_, reason)) = allow.iter().find(|(id, _)| id == d.id) {
            d.policy = Some(format!(
                "allowed by config ({} → info): {reason}",
                d.severity.as_str()
            ));
            d.severity = Severity::Info;
        } else if let Some((_, reason)) = raise.iter().find(|(id, _)| id == d.id) {
            d.policy = Some(format!(
                "raised by config ({} → error): {reason}",
                d.severity.as_str()
            ));
            d.severity = Severity::Error;
        }
    }
}

/// Whether an id is one a finding can carry (catalogue, DNS checks, reader).
pub fn known_id(id: &str) -> bool {
    catalogue::CATALOGUE
        .iter()
        .chain(catalogue::DNS_CHECKS)
        .any(|e| e.id == id)
        || (id.len() == 5 && id.starts_with("ZF"))
}

/// Diagnostics for one zone, with the sources they point into.
#[derive(Debug, Clone)]
pub struct Report {
    /// What was checked (a path), for headers and JSON.
    pub subject: String,
    pub diagnostics: Vec<Diagnostic>,
    pub sources: SourceMap,
    /// Info findings counted by id instead of listed (`mailzone check --info
    /// count`, and every server load), sorted by id.
    pub counted: Vec<(&'static str, usize)>,
}

impl Report {
    /// Findings of a severity, counted ones included.
    pub fn count(&self, sev: Severity) -> usize {
        let listed = self
            .diagnostics
            .iter()
            .filter(|d| d.severity == sev)
            .count();
        if sev == Severity::Info {
            listed + self.counted.iter().map(|(_, n)| n).sum::<usize>()
        } else {
            listed
        }
    }
}
