//! The master-file scanner: bytes in, one logical entry of tokens out at a time.
//! It knows quoting, escapes, comments and parentheses (an entry may span lines
//! inside them) and nothing about names or types. Positions are byte offsets
//! plus 1-based line and column, so every later error can say where it is.

/// One token. `start..end` is its text in the source; for a quoted token the
/// quotes are excluded but `col` points at the opening quote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tok {
    pub start: u32,
    pub end: u32,
    pub line: u32,
    pub col: u32,
    pub quoted: bool,
}

impl Tok {
    pub fn text<'a>(&self, src: &'a [u8]) -> &'a [u8] {
        &src[self.start as usize..self.end as usize]
    }
}

/// One logical entry (a record or a directive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// The line began with blank space: the owner is omitted.
    pub leading_blank: bool,
    pub line: u32,
    pub col: u32,
    pub start: u32,
    pub end: u32,
}

/// A problem the scanner found; the entry it occurred in is not returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanError {
    pub offset: u32,
    pub line: u32,
    pub col: u32,
    pub message: String,
    pub help: Option<String>,
}

pub struct Scanner<'a> {
    src: &'a [u8],
    pos: usize,
    line: u32,
    line_start: usize,
}

const fn is_delim(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b';' | b'(' | b')' | b'"')
}

/// Bytes that end a bare token or need a look (an escape), as a table: the
/// scanner spent a fifth of a zone's read deciding this a byte at a time.
static BARE_STOP: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = is_delim(b as u8) || b == b'\\' as usize;
        b += 1;
    }
    t
};

/// Where the bare token starting at `from` ends: at a delimiter, or before
/// a backslash that ends the line. An escape takes the byte after it.
fn bare_end(src: &[u8], from: usize) -> usize {
    let mut pos = from;
    loop {
        match src
            .get(pos..)
            .and_then(|r| r.iter().position(|&c| BARE_STOP[c as usize]))
        {
            None => return src.len(),
            Some(i) => pos += i,
        }
        if src[pos] != b'\\' || src.get(pos + 1) == Some(&b'\n') {
            return pos;
        }
        pos += 2;
    }
}

/// Where the quoted string whose text starts at `from` ends (its closing
/// quote, or the end of the line or file), and whether it was closed.
/// DKIM keys are most of a mail zone's bytes, so this jumps with memchr.
fn quoted_end(src: &[u8], from: usize) -> (usize, bool) {
    let mut pos = from;
    loop {
        match src
            .get(pos..)
            .and_then(|r| memchr::memchr3(b'\\', b'"', b'\n', r))
        {
            None => return (src.len(), false),
            Some(i) => pos += i,
        }
        match src[pos] {
            b'\\' => pos += 2,
            b'"' => return (pos, true),
            _ => return (pos, false),
        }
    }
}

impl<'a> Scanner<'a> {
    pub fn new(src: &'a [u8]) -> Self {
        Scanner {
            src,
            pos: 0,
            line: 1,
            line_start: 0,
        }
    }

    fn col(&self, pos: usize) -> u32 {
        (pos - self.line_start + 1) as u32
    }

    fn newline(&mut self) {
        self.pos += 1;
        self.line += 1;
        self.line_start = self.pos;
    }

    fn skip_to_eol(&mut self) {
        self.pos = match self.src.get(self.pos..) {
            Some(rest) => memchr::memchr(b'\n', rest).map_or(self.src.len(), |i| self.pos + i),
            None => self.src.len(),
        };
    }

    fn error(&self, pos: usize, line: u32, col: u32, msg: impl Into<String>) -> ScanError {
        ScanError {
            offset: pos as u32,
            line,
            col,
            message: msg.into(),
            help: None,
        }
    }

    /// The next entry, its tokens in `toks`. Blank and comment-only lines are
    /// skipped. An entry with a scanning error is reported in `Err` and the
    /// scanner resumes after it; `Ok(None)` is the end of the input.
    pub fn next_entry(&mut self, toks: &mut Vec<Tok>) -> Result<Option<Entry>, ScanError> {
        loop {
            toks.clear();
            if self.pos >= self.src.len() {
                return Ok(None);
            }
            let entry_start = self.pos;
            let entry_line = self.line;
            let leading_blank = matches!(self.src[self.pos], b' ' | b'\t');
            let mut depth = 0u32;
            let mut open_at = (0usize, 0u32, 0u32);
            // End of the last `)` that closed the outermost parenthesis.
            let mut closed_at = 0usize;
            let mut failure: Option<ScanError> = None;
            while self.pos < self.src.len() {
                let b = self.src[self.pos];
                match b {
                    b' ' | b'\t' | b'\r' => self.pos += 1,
                    b'\n' => {
                        if depth == 0 {
                            self.newline();
                            break;
                        }
                        self.newline();
                    }
                    b';' => self.skip_to_eol(),
                    b'(' => {
                        if depth == 0 {
                            open_at = (self.pos, self.line, self.col(self.pos));
                        }
                        depth += 1;
                        self.pos += 1;
                    }
                    b')' => {
                        if depth == 0 {
                            failure = Some(self.error(
                                self.pos,
                                self.line,
                                self.col(self.pos),
                                "expected a token or the end of the line, found `)` with no `(` before it",
                            ));
                            self.skip_to_eol();
                        } else {
                            depth -= 1;
                            self.pos += 1;
                            if depth == 0 {
                                closed_at = self.pos;
                            }
                        }
                    }
                    b'"' => {
                        let (qline, qcol) = (self.line, self.col(self.pos));
                        let qpos = self.pos;
                        self.pos += 1;
                        let start = self.pos;
                        let closed;
                        (self.pos, closed) = quoted_end(self.src, start);
                        if !closed {
                            let mut e = self.error(
                                qpos,
                                qline,
                                qcol,
                                "expected a closing `\"`, found the end of the line",
                            );
                            e.help = Some(
                                "a quoted string must end on the line it starts on; close it with `\"`"
                                    .into(),
                            );
                            failure = Some(e);
                            // The rest of the line cannot be tokenised reliably.
                            self.skip_to_eol();
                            continue;
                        }
                        toks.push(Tok {
                            start: start as u32,
                            end: self.pos as u32,
                            line: qline,
                            col: qcol,
                            quoted: true,
                        });
                        self.pos += 1;
                    }
                    _ => {
                        let start = self.pos;
                        let (line, col) = (self.line, self.col(self.pos));
                        self.pos = bare_end(self.src, start);
                        if self.pos == start {
                            // A lone backslash before a newline.
                            failure = Some(self.error(
                                start,
                                line,
                                col,
                                "expected an escaped character after `\\`, found the end of the line",
                            ));
                            self.pos += 1;
                            continue;
                        }
                        toks.push(Tok {
                            start: start as u32,
                            end: self.pos as u32,
                            line,
                            col,
                            quoted: false,
                        });
                    }
                }
            }
            if depth > 0 && self.pos >= self.src.len() && failure.is_none() {
                let mut e = self.error(
                    open_at.0,
                    open_at.1,
                    open_at.2,
                    "expected `)` to close this `(`, found the end of the file",
                );
                e.help = Some("add the missing `)` at the end of the record".into());
                failure = Some(e);
            }
            if let Some(e) = failure {
                return Err(e);
            }
            if toks.is_empty() {
                continue;
            }
            let first = toks[0];
            return Ok(Some(Entry {
                leading_blank,
                line: if leading_blank {
                    first.line
                } else {
                    entry_line
                },
                col: if leading_blank { first.col } else { 1 },
                start: if leading_blank {
                    first.start - first.quoted as u32
                } else {
                    entry_start as u32
                },
                end: toks
                    .last()
                    .map(|t| t.end + t.quoted as u32)
                    .unwrap_or(entry_start as u32)
                    .max(closed_at as u32),
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Byte at a time, as the scanner first did; the fast ends must agree.
    fn bare_end_by_byte(src: &[u8], mut pos: usize) -> usize {
        while pos < src.len() {
            let c = src[pos];
            if c == b'\\' {
                if src.get(pos + 1) == Some(&b'\n') {
                    break;
                }
                pos += 2;
            } else if is_delim(c) {
                break;
            } else {
                pos += 1;
            }
        }
        pos.min(src.len())
    }

    fn quoted_end_by_byte(src: &[u8], mut pos: usize) -> (usize, bool) {
        let mut closed = false;
        while pos < src.len() {
            match src[pos] {
                b'\\' => pos += 2,
                b'"' => {
                    closed = true;
                    break;
                }
                b'\n' => break,
                _ => pos += 1,
            }
        }
        (pos.min(src.len()), closed)
    }

    /// Every string of up to six bytes over the bytes that matter, from
    /// every start.
    #[test]
    fn token_ends_agree_with_the_byte_at_a_time_scan() {
        let alphabet = b"a\\\"\n ;()\r\t";
        let mut s = Vec::new();
        let mut n = 0;
        fn each(s: &mut Vec<u8>, left: usize, alphabet: &[u8], f: &mut dyn FnMut(&[u8])) {
            f(s);
            if left == 0 {
                return;
            }
            for &b in alphabet {
                s.push(b);
                each(s, left - 1, alphabet, f);
                s.pop();
            }
        }
        each(&mut s, 6, alphabet, &mut |src| {
            for from in 0..=src.len() {
                assert_eq!(
                    bare_end(src, from),
                    bare_end_by_byte(src, from),
                    "{src:?} {from}"
                );
                assert_eq!(
                    quoted_end(src, from),
                    quoted_end_by_byte(src, from),
                    "{src:?} {from}"
                );
                n += 1;
            }
        });
        assert!(n > 5_000_000, "{n}");
    }

    fn scan(s: &str) -> Vec<Result<(Entry, Vec<String>), ScanError>> {
        let mut sc = Scanner::new(s.as_bytes());
        let mut out = Vec::new();
        let mut toks = Vec::new();
        loop {
            match sc.next_entry(&mut toks) {
                Ok(Some(e)) => out.push(Ok((
                    e,
                    toks.iter()
                        .map(|t| String::from_utf8_lossy(t.text(s.as_bytes())).into_owned())
                        .collect(),
                ))),
                Ok(None) => break,
                Err(e) => out.push(Err(e)),
            }
        }
        out
    }

    #[test]
    fn parentheses_join_lines_and_comments_are_dropped() {
        let r = scan("a IN SOA ns h ( 1 ; serial\n 2 3\n 4 5 )\nb A 1.2.3.4\n");
        assert_eq!(r.len(), 2);
        let (e, t) = r[0].as_ref().unwrap();
        assert_eq!(t, &["a", "IN", "SOA", "ns", "h", "1", "2", "3", "4", "5"]);
        assert!(!e.leading_blank);
        let (e, _) = r[1].as_ref().unwrap();
        assert_eq!(e.line, 4);
    }

    #[test]
    fn quoted_strings_keep_escapes_and_positions() {
        let r = scan("  TXT \"a\\\"b\" c\\ d\n");
        let (e, t) = r[0].as_ref().unwrap();
        assert!(e.leading_blank);
        assert_eq!(t, &["TXT", "a\\\"b", "c\\ d"]);
        assert_eq!((e.line, e.col), (1, 3));
    }

    #[test]
    fn unterminated_quote_and_paren_are_errors_with_location() {
        let r = scan("a TXT \"abc\nb A 1.2.3.4\n");
        let e = r[0].as_ref().unwrap_err();
        assert_eq!((e.line, e.col), (1, 7));
        assert!(r[1].is_ok());
        let r = scan("x\ny SOA ( 1 2\n");
        let e = r[1].as_ref().unwrap_err();
        assert_eq!((e.line, e.col), (2, 7));
    }
}
