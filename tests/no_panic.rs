//! No panic on arbitrary input: random bytes, mutated corpus zone files and
//! mutated TOML zones go through the readers. Every error must have a sane
//! location, and any input that reads cleanly must survive the canonical
//! writer (write, read back, same records). Bounded: PROPTEST_CASES (default
//! 1000 per property) and a 60 s wall-clock cap per property.

mod common;

use mailzone_zone::toml_zone::read_toml_str;
use mailzone_zone::{MasterOptions, ReadResult, read_master_bytes};
use proptest::prelude::*;
use std::path::Path;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const BUDGET: Duration = Duration::from_secs(60);

fn seeds() -> &'static Vec<Vec<u8>> {
    static S: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    S.get_or_init(|| {
        let mut v: Vec<Vec<u8>> = common::files(&common::corpus("valid"), "zone")
            .into_iter()
            .chain(common::files(&common::corpus("broken"), "zone"))
            .map(|p| std::fs::read(p).unwrap())
            .collect();
        v.retain(|s| s.len() < 20_000);
        v
    })
}

fn toml_seed() -> &'static str {
    static S: OnceLock<String> = OnceLock::new();
    S.get_or_init(|| {
        std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../zones/example.com.toml"),
        )
        .unwrap()
    })
}

/// Bytes that matter to the scanner and the RDATA parsers.
const SPICE: &[u8] = b"\"();\\$@.*- \t\n\r0123456789#{},=:/aZ\xff\x00";

#[derive(Debug, Clone)]
enum Mutation {
    Insert(usize, u8),
    Delete(usize, usize),
    Duplicate(usize, usize, usize),
    Replace(usize, u8),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), prop::sample::select(SPICE)).prop_map(|(a, b)| Mutation::Insert(a, b)),
        (any::<usize>(), 1usize..40).prop_map(|(a, n)| Mutation::Delete(a, n)),
        (any::<usize>(), 1usize..80, any::<usize>())
            .prop_map(|(a, n, t)| Mutation::Duplicate(a, n, t)),
        (any::<usize>(), any::<u8>()).prop_map(|(a, b)| Mutation::Replace(a, b)),
    ]
}

fn apply(mut s: Vec<u8>, ms: &[Mutation]) -> Vec<u8> {
    for m in ms {
        if s.is_empty() {
            s.push(b'x');
        }
        let len = s.len();
        match *m {
            Mutation::Insert(a, b) => s.insert(a % (len + 1), b),
            Mutation::Delete(a, n) => {
                let a = a % len;
                s.drain(a..(a + n).min(len));
            }
            Mutation::Duplicate(a, n, t) => {
                let a = a % len;
                let chunk = s[a..(a + n).min(len)].to_vec();
                let t = t % (len + 1);
                s.splice(t..t, chunk);
            }
            Mutation::Replace(a, b) => s[a % len] = b,
        }
    }
    s
}

fn sane(r: &ReadResult, text: &[u8]) {
    let lines = text.iter().filter(|&&b| b == b'\n').count() as u32 + 1;
    for e in &r.errors {
        assert!(
            e.span.line >= 1 && e.span.line <= lines,
            "error outside the text: {e:?}"
        );
        assert!(e.span.col >= 1, "{e:?}");
        assert!(!e.message.is_empty());
    }
    if r.errors.is_empty() {
        let written = mailzone_zone::writer::write_canonical(&r.zone);
        let back = mailzone_zone::read_master_str("rt", &written, &MasterOptions::default());
        assert!(
            back.errors.is_empty(),
            "canonical form does not read back: {:?}\n{written}",
            back.errors
        );
        assert_eq!(
            common::keys(&back.zone),
            common::keys(&r.zone),
            "round trip changed records"
        );
    }
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1000),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn within_budget(start: &OnceLock<Instant>) -> bool {
    start.get_or_init(Instant::now).elapsed() < BUDGET
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(prop_oneof![any::<u8>(), prop::sample::select(SPICE)], 0..2048)) {
        static START: OnceLock<Instant> = OnceLock::new();
        if within_budget(&START) {
            let origin = MasterOptions { origin: Some("example.com.".parse().unwrap()), ..MasterOptions::default() };
            let r = read_master_bytes("random", &bytes, &origin);
            sane(&r, &bytes);
        }
    }

    #[test]
    fn mutated_corpus_files_never_panic(pick in any::<usize>(), ms in prop::collection::vec(mutation(), 1..12)) {
        static START: OnceLock<Instant> = OnceLock::new();
        if within_budget(&START) {
            let seed = &seeds()[pick % seeds().len()];
            let text = apply(seed.clone(), &ms);
            let origin = MasterOptions { origin: Some("example.com.".parse().unwrap()), ..MasterOptions::default() };
            let r = read_master_bytes("mutant", &text, &origin);
            sane(&r, &text);
        }
    }

    #[test]
    fn mutated_toml_never_panics(ms in prop::collection::vec(mutation(), 1..8)) {
        static START: OnceLock<Instant> = OnceLock::new();
        if within_budget(&START) {
            let text = apply(toml_seed().as_bytes().to_vec(), &ms);
            let text = String::from_utf8_lossy(&text).into_owned();
            let r = read_toml_str(Path::new("mutant.toml"), &text);
            sane(&r, text.as_bytes());
        }
    }
}
