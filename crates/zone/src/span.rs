//! Where a record or an error came from: a file, a line, a column and a byte range.
//! Every record keeps its span until compile time so that each finding can point
//! at `file:line:col`; the [`SourceMap`] keeps the text so renderers can quote it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Index of a file in a [`SourceMap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct FileId(pub u32);

/// A location in a source file. `line` and `col` are 1-based; `col` counts bytes.
/// `start..end` is the byte range the span covers (for carets and snippets).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    pub file: FileId,
    pub line: u32,
    pub col: u32,
    pub start: u32,
    pub end: u32,
}

impl Span {
    /// A span that covers `self` up to the end of `other` (same file).
    pub fn to(self, other: Span) -> Span {
        Span {
            end: other.end.max(self.end),
            ..self
        }
    }
}

/// One file that was read, with its text.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub path: PathBuf,
    /// A `String` behind the `Arc` (not an `Arc<str>`): the text read from
    /// disk is kept where it was read, where making an `Arc<str>` of it
    /// copied the whole file (60 MB for the 1M-record bench zone, and as
    /// many fresh pages to fault in).
    pub text: Arc<String>,
}

/// Every file read while loading a zone (the zone file, its includes, a TOML file).
#[derive(Debug, Clone, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, path: impl Into<PathBuf>, text: impl Into<String>) -> FileId {
        self.add_shared(path, Arc::new(text.into()))
    }

    /// [`SourceMap::add`] for a text the caller keeps reading from.
    pub fn add_shared(&mut self, path: impl Into<PathBuf>, text: Arc<String>) -> FileId {
        let id = FileId(self.files.len() as u32);
        self.files.push(SourceFile {
            path: path.into(),
            text,
        });
        id
    }

    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.0 as usize)
    }

    pub fn path(&self, id: FileId) -> &Path {
        self.get(id)
            .map(|f| f.path.as_path())
            .unwrap_or(Path::new("<unknown>"))
    }

    pub fn files(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| (FileId(i as u32), f))
    }

    /// `file:line:col` for a span, as editors and terminals understand it.
    pub fn location(&self, span: Span) -> String {
        format!(
            "{}:{}:{}",
            self.path(span.file).display(),
            span.line,
            span.col
        )
    }
}

/// Line and column (1-based, byte columns) of a byte offset in `text`.
pub fn line_col(text: &str, offset: usize) -> (u32, u32) {
    let offset = offset.min(text.len());
    let before = &text.as_bytes()[..offset];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    (line as u32, (offset - line_start + 1) as u32)
}
