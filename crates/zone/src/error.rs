//! Errors found while reading a zone. They are collected, never thrown: one pass
//! reports every bad line. Each carries a stable id, the location, what was
//! expected and what was found, and where possible a hint that fixes it.

use crate::span::Span;
use std::fmt;

/// Problems a reader can report. Ids are stable: tests, docs and JSON output use them.
/// Where the mail-check catalogue has an id for the same fault (`GEN005`, `MX006`)
/// the reader uses that id so the operator sees the mail-specific reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// Tokens: unterminated quote, unbalanced parenthesis, stray byte.
    Syntax,
    /// A `$` directive that is unknown or malformed.
    Directive,
    /// A domain name that is malformed (label too long, bad escape, relative with no origin).
    Name,
    /// A TTL that is not a number or a unit string, or overflows.
    Ttl,
    /// A class that differs from the zone's, or is unknown.
    Class,
    /// An unknown record type.
    Type,
    /// RDATA that does not parse for its type.
    Rdata,
    /// `$INCLUDE` that escapes the zone directory, loops, nests too deep or cannot be read.
    Include,
    /// `$GENERATE` with a bad range or modifier.
    Generate,
    /// A TXT character-string over 255 bytes (catalogue id GEN005).
    StringTooLong,
    /// An MX preference out of 0–65535 (catalogue id MX006).
    MxPreference,
    /// A TOML zone file that does not follow the schema.
    Toml,
    /// The zone as a whole: no SOA, several SOA, records outside the origin.
    Zone,
    /// A file that cannot be read.
    Io,
}

impl ErrorKind {
    pub fn id(self) -> &'static str {
        match self {
            ErrorKind::Syntax => "ZF001",
            ErrorKind::Directive => "ZF002",
            ErrorKind::Name => "ZF003",
            ErrorKind::Ttl => "ZF004",
            ErrorKind::Class => "ZF005",
            ErrorKind::Type => "ZF006",
            ErrorKind::Rdata => "ZF007",
            ErrorKind::Include => "ZF008",
            ErrorKind::Generate => "ZF009",
            ErrorKind::Toml => "ZF010",
            ErrorKind::Zone => "ZF011",
            ErrorKind::Io => "ZF012",
            ErrorKind::StringTooLong => "GEN005",
            ErrorKind::MxPreference => "MX006",
        }
    }
}

/// One problem, located.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadError {
    pub kind: ErrorKind,
    pub span: Span,
    /// What is wrong, in one sentence that names what was expected and what was found.
    pub message: String,
    /// How to fix it, when we know.
    pub help: Option<String>,
}

impl ReadError {
    pub fn new(kind: ErrorKind, span: Span, message: impl Into<String>) -> Self {
        ReadError {
            kind,
            span,
            message: message.into(),
            help: None,
        }
    }

    /// A file that cannot be read, located at its start.
    pub fn unreadable(
        file: crate::span::FileId,
        path: &std::path::Path,
        err: &std::io::Error,
    ) -> Self {
        let span = Span {
            file,
            line: 1,
            col: 1,
            start: 0,
            end: 0,
        };
        ReadError::new(
            ErrorKind::Io,
            span,
            format!("cannot read {}: {err}", path.display()),
        )
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn id(&self) -> &'static str {
        self.kind.id()
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: error[{}]: {}",
            self.span.line,
            self.span.col,
            self.id(),
            self.message
        )
    }
}

/// Shows a token to the operator: printable, shortened when long.
pub fn shown(bytes: &[u8]) -> String {
    let mut s = String::new();
    for &b in bytes.iter().take(60) {
        if (0x20..0x7f).contains(&b) {
            s.push(b as char);
        } else {
            s.push_str(&format!("\\{b:03}"));
        }
    }
    if bytes.len() > 60 {
        s.push('…');
    }
    format!("`{s}`")
}
