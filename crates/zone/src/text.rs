//! Presentation-format primitives shared by every reader: domain names with
//! `\DDD`/`\X` escapes, character-strings, TTLs with units. They return plain
//! messages; callers attach the location.

/// Removes `\X` and `\DDD` escapes. `\DDD` must be three decimal digits, at most 255.
pub fn unescape(raw: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
    // The output is never longer than the input; text between escapes is
    // copied a run at a time (byte pushes into a growing Vec showed in the
    // read profile).
    out.reserve(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] != b'\\' {
            let run = raw[i..]
                .iter()
                .position(|&b| b == b'\\')
                .unwrap_or(raw.len() - i);
            out.extend_from_slice(&raw[i..i + run]);
            i += run;
            continue;
        }
        match raw.get(i + 1) {
            None => return Err("expected a character after `\\`, found the end of the text".into()),
            Some(d) if d.is_ascii_digit() => {
                let digits = raw
                    .get(i + 1..i + 4)
                    .filter(|d| d.iter().all(u8::is_ascii_digit));
                let Some(digits) = digits else {
                    return Err(format!(
                        "expected three decimal digits after `\\` (\\DDD), found `{}`",
                        String::from_utf8_lossy(&raw[i..raw.len().min(i + 4)])
                    ));
                };
                let v = digits
                    .iter()
                    .fold(0u32, |acc, d| acc * 10 + (d - b'0') as u32);
                if v > 255 {
                    return Err(format!(
                        "expected a byte value 0–255 in `\\DDD`, found `\\{}`",
                        String::from_utf8_lossy(digits)
                    ));
                }
                out.push(v as u8);
                i += 4;
            }
            Some(&c) => {
                out.push(c);
                i += 2;
            }
        }
    }
    Ok(())
}

/// A domain name in wire form (uncompressed labels, ending with the root label).
/// `origin` is the wire form of the origin, used for relative names and `@`.
pub fn name_to_wire(raw: &[u8], origin: Option<&[u8]>, out: &mut Vec<u8>) -> Result<(), String> {
    let start = out.len();
    if raw == b"@" {
        return match origin {
            Some(o) => {
                out.extend_from_slice(o);
                Ok(())
            }
            None => Err("`@` stands for the origin, but no origin is set".into()),
        };
    }
    if raw == b"." {
        out.push(0);
        return Ok(());
    }
    if raw.is_empty() {
        return Err("expected a domain name, found an empty string".into());
    }
    let mut label_start = out.len();
    out.push(0);
    let mut i = 0;
    let mut absolute = false;
    while i < raw.len() {
        let b = raw[i];
        match b {
            b'.' => {
                let len = out.len() - label_start - 1;
                if len == 0 {
                    return Err(format!(
                        "empty label in `{}` (two dots in a row, or a leading dot)",
                        String::from_utf8_lossy(raw)
                    ));
                }
                if len > 63 {
                    return Err(format!(
                        "label of {len} bytes in `{}`; a label holds at most 63",
                        String::from_utf8_lossy(raw)
                    ));
                }
                out[label_start] = len as u8;
                i += 1;
                if i == raw.len() {
                    absolute = true;
                } else {
                    label_start = out.len();
                    out.push(0);
                }
            }
            b'\\' => {
                let mut tmp = Vec::with_capacity(1);
                let end = if raw.get(i + 1).is_some_and(u8::is_ascii_digit) {
                    (i + 4).min(raw.len())
                } else {
                    (i + 2).min(raw.len())
                };
                unescape(&raw[i..end], &mut tmp)?;
                out.extend_from_slice(&tmp);
                i = end;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    if !absolute {
        let len = out.len() - label_start - 1;
        if len > 63 {
            return Err(format!(
                "label of {len} bytes in `{}`; a label holds at most 63",
                String::from_utf8_lossy(raw)
            ));
        }
        out[label_start] = len as u8;
        match origin {
            Some(o) => out.extend_from_slice(o),
            None => {
                return Err(format!(
                    "`{}` is a relative name, but no origin is set",
                    String::from_utf8_lossy(raw)
                ));
            }
        }
    } else {
        out.push(0);
    }
    if out.len() - start > 255 {
        return Err(format!(
            "the name is {} bytes long in wire form; a name holds at most 255",
            out.len() - start
        ));
    }
    Ok(())
}

/// Length of the wire-form name at the start of `wire` (no compression).
pub fn wire_name_len(wire: &[u8]) -> Option<usize> {
    let mut i = 0;
    loop {
        let l = *wire.get(i)? as usize;
        if l > 63 {
            return None;
        }
        i += 1 + l;
        if l == 0 {
            return Some(i);
        }
    }
}

/// Writes a wire-form name in presentation format (absolute, with escapes).
pub fn write_wire_name(wire: &[u8], out: &mut String) {
    let mut i = 0;
    if wire.first() == Some(&0) {
        out.push('.');
        return;
    }
    while let Some(&l) = wire.get(i) {
        if l == 0 {
            break;
        }
        let label = &wire[i + 1..(i + 1 + l as usize).min(wire.len())];
        for &b in label {
            match b {
                b'.' | b'\\' | b'"' | b'(' | b')' | b';' | b'@' | b'$' => {
                    out.push('\\');
                    out.push(b as char);
                }
                0x21..=0x7e => out.push(b as char),
                _ => out.push_str(&format!("\\{b:03}")),
            }
        }
        out.push('.');
        i += 1 + l as usize;
    }
}

/// Writes bytes as one quoted character-string with escapes.
pub fn write_char_string(bytes: &[u8], out: &mut String) {
    out.push('"');
    for &b in bytes {
        match b {
            b'"' | b'\\' => {
                out.push('\\');
                out.push(b as char);
            }
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\{b:03}")),
        }
    }
    out.push('"');
}

/// A TTL or period: seconds, or units `w d h m s` (any case) as in `1h30m`.
/// Values above 2^31-1 are refused (RFC 2181 §8).
pub fn parse_ttl(raw: &[u8]) -> Result<u32, String> {
    if raw.is_empty() || !raw[0].is_ascii_digit() {
        return Err(format!(
            "expected a TTL (seconds, or units like `1h30m`), found `{}`",
            String::from_utf8_lossy(raw)
        ));
    }
    let mut total: u64 = 0;
    let mut cur: u64 = 0;
    let mut digits = 0;
    for &b in raw {
        match b {
            b'0'..=b'9' => {
                cur = cur * 10 + (b - b'0') as u64;
                digits += 1;
                if cur > u32::MAX as u64 {
                    return Err(format!(
                        "TTL `{}` is too large; the maximum is 2147483647",
                        String::from_utf8_lossy(raw)
                    ));
                }
            }
            _ => {
                let mult = match b.to_ascii_lowercase() {
                    b'w' => 604_800,
                    b'd' => 86_400,
                    b'h' => 3_600,
                    b'm' => 60,
                    b's' => 1,
                    _ => {
                        return Err(format!(
                            "expected a TTL (seconds, or units w d h m s like `1h30m`), found `{}`",
                            String::from_utf8_lossy(raw)
                        ));
                    }
                };
                if digits == 0 {
                    return Err(format!(
                        "expected a number before the unit in TTL `{}`",
                        String::from_utf8_lossy(raw)
                    ));
                }
                total += cur * mult;
                cur = 0;
                digits = 0;
            }
        }
    }
    total += cur;
    if total > i32::MAX as u64 {
        return Err(format!(
            "TTL `{}` is {total} seconds; the maximum is 2147483647 (RFC 2181 §8)",
            String::from_utf8_lossy(raw)
        ));
    }
    Ok(total as u32)
}

/// A plain decimal integer with an upper bound.
pub fn parse_uint(raw: &[u8], max: u64, what: &str) -> Result<u64, String> {
    if raw.is_empty() || raw.len() > 20 || !raw.iter().all(u8::is_ascii_digit) {
        return Err(format!(
            "expected {what} (a number 0–{max}), found `{}`",
            String::from_utf8_lossy(raw)
        ));
    }
    let v = raw.iter().try_fold(0u64, |a, d| {
        a.checked_mul(10)?.checked_add((d - b'0') as u64)
    });
    match v {
        Some(v) if v <= max => Ok(v),
        _ => Err(format!(
            "{what} `{}` is out of range; it must be 0–{max}",
            String::from_utf8_lossy(raw)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(s: &str, origin: &str) -> Result<String, String> {
        let mut o = Vec::new();
        name_to_wire(origin.as_bytes(), None, &mut o).unwrap();
        let mut w = Vec::new();
        name_to_wire(s.as_bytes(), Some(&o), &mut w)?;
        let mut out = String::new();
        write_wire_name(&w, &mut out);
        Ok(out)
    }

    #[test]
    fn names() {
        assert_eq!(wire("www", "example.com.").unwrap(), "www.example.com.");
        assert_eq!(wire("@", "example.com.").unwrap(), "example.com.");
        assert_eq!(wire("a.b.", "example.com.").unwrap(), "a.b.");
        assert_eq!(wire("a\\.b", "x.").unwrap(), "a\\.b.x.");
        assert_eq!(wire("\\065bc", "x.").unwrap(), "Abc.x.");
        assert!(wire("a..b", "x.").is_err());
        assert!(wire(&"a".repeat(64), "x.").is_err());
        assert!(wire("\\256", "x.").is_err());
    }

    #[test]
    fn ttls() {
        assert_eq!(parse_ttl(b"3600").unwrap(), 3600);
        assert_eq!(parse_ttl(b"1h30m").unwrap(), 5400);
        assert_eq!(parse_ttl(b"1W2D").unwrap(), 604_800 + 172_800);
        assert_eq!(parse_ttl(b"1h30").unwrap(), 3630);
        assert!(parse_ttl(b"1x").is_err());
        assert!(parse_ttl(b"h").is_err());
        assert!(parse_ttl(b"4294967296").is_err());
    }
}
