//! Helpers shared by the end-to-end tests: the corpus, outside tools, record keys.

#![allow(dead_code)]

use hickory_proto::rr::Name;
use mailzone_zone::record::name_to_wire_bytes;
use mailzone_zone::{MasterOptions, ReadResult, Zone};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;

pub fn corpus(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/corpus")
        .join(sub)
}

/// Files with the given extension in a directory, sorted.
pub fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    v.sort();
    v
}

/// The `; origin NAME` header every corpus file starts with.
pub fn origin_of(path: &Path) -> Name {
    let text = std::fs::read_to_string(path).unwrap();
    let first = text.lines().next().unwrap_or_default();
    let o = first
        .strip_prefix("; origin ")
        .unwrap_or_else(|| panic!("{}: first line must be `; origin <name>`", path.display()));
    Name::from_str(o.trim()).unwrap()
}

pub fn read(path: &Path, origin: Option<Name>) -> ReadResult {
    mailzone_zone::read_zone_file(
        path,
        &MasterOptions {
            origin,
            ..MasterOptions::default()
        },
    )
}

/// A record as the differential tests compare it: lowercased owner, type,
/// class, TTL and exact RDATA bytes.
pub type Key = (Vec<u8>, u16, u16, u32, Vec<u8>);

pub fn keys(zone: &Zone) -> Vec<Key> {
    let mut v: Vec<Key> = zone
        .records
        .iter()
        .map(|r| {
            (
                name_to_wire_bytes(&r.owner.to_lowercase()),
                u16::from(r.rtype()),
                u16::from(r.class),
                r.ttl,
                r.rdata_wire(),
            )
        })
        .collect();
    v.sort();
    v
}

/// Fails with the Debian package to install when a tool is missing.
pub fn require_tool(tool: &str, package: &str) {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        found,
        "`{tool}` is not installed: this test needs the Debian package `{package}` (apt-get install {package}; tests/run.sh installs it)"
    );
}

pub fn scratch_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mailzone-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}
