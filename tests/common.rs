//! Helpers shared by the end-to-end tests: the corpus, outside tools, record keys.

#![allow(dead_code)]

use hickory_proto::rr::Name;
use mailzone_zone::record::name_to_wire_bytes;
use mailzone_zone::{MasterOptions, ReadResult, Zone};
use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::str::FromStr;
use std::time::{Duration, Instant};

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

/// A directory of the test's own under the system temp dir, removed when
/// the test ends, unless it ends by panicking: then it is kept to look at.
pub struct Scratch(PathBuf);

impl std::ops::Deref for Scratch {
    type Target = PathBuf;
    fn deref(&self) -> &PathBuf {
        &self.0
    }
}

impl AsRef<Path> for Scratch {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

pub fn scratch_dir(tag: &str) -> Scratch {
    let d = std::env::temp_dir().join(format!("mailzone-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    Scratch(d)
}

pub fn free_port() -> u16 {
    loop {
        let u = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = u.local_addr().unwrap().port();
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

pub fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

pub struct Daemon {
    pub child: Child,
    /// Everything the server logs, read as it comes so the pipe never fills.
    log: Option<std::thread::JoinHandle<String>>,
    pub dir: PathBuf,
    pub port: u16,
    pub config: PathBuf,
    /// The server's directory, when the server owns it (removed after the
    /// server is killed).
    scratch: Option<Scratch>,
}

impl Daemon {
    /// Makes the server own its scratch directory, for a helper that
    /// returns the server alone.
    pub fn owning(mut self, dir: Scratch) -> Daemon {
        self.scratch = Some(dir);
        self
    }

    /// Starts `mailzone serve` on a config with the given `[server]` extras
    /// and `[[zone]]` tables; waits until its control socket answers.
    pub fn start(dir: &Path, server_extra: &str, zones: &str) -> Daemon {
        Daemon::start_on(dir, free_port(), server_extra, zones)
    }

    /// As `start`, on a port chosen beforehand (peers' configs name it).
    pub fn start_on(dir: &Path, port: u16, server_extra: &str, zones: &str) -> Daemon {
        let config = dir.join("mailzone.toml");
        write(&config, &config_text(port, server_extra, zones));
        let mut child = Command::new(env!("CARGO_BIN_EXE_mailzone"))
            .args(["serve", "--config", config.to_str().unwrap()])
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut err = child.stderr.take().unwrap();
        let log = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = err.read_to_string(&mut s);
            s
        });
        let d = Daemon {
            child,
            log: Some(log),
            dir: dir.to_path_buf(),
            port,
            config,
            scratch: None,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while !d.mailzone(&["status"]).status.success() {
            assert!(
                Instant::now() < deadline,
                "the server did not start within 20 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        d
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// Runs `mailzone <cmd> --socket <ours> <args>`.
    pub fn mailzone(&self, args: &[&str]) -> Output {
        let mut a: Vec<&str> = args.to_vec();
        let sock = self.dir.join("ctl.sock");
        a.extend(["--socket", sock.to_str().unwrap()]);
        Command::new(env!("CARGO_BIN_EXE_mailzone"))
            .args(&a)
            .output()
            .unwrap()
    }

    pub fn status(&self) -> serde_json::Value {
        let o = self.mailzone(&["status", "--json"]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice(&o.stdout).unwrap()
    }

    /// SIGTERM, then the exit status and everything logged.
    pub fn stop(mut self) -> (Option<i32>, String) {
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let status = self.child.wait().unwrap();
        let log = self.log.take().unwrap().join().unwrap();
        (status.code(), log)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

pub fn config_text(port: u16, server_extra: &str, zones: &str) -> String {
    format!(
        "version = 1\n{zones}\n[server]\nlisten = [\"127.0.0.1:{port}\"]\ncontrol_socket = \"ctl.sock\"\n{server_extra}\n"
    )
}

/// A record as transfers are compared: owner lowercased, type, TTL, and the
/// RDATA in canonical form (names inside lowercased, RFC 4034 §6.2).
pub fn canonical(r: &hickory_proto::rr::Record) -> (String, u16, u32, Vec<u8>) {
    use hickory_proto::serialize::binary::{BinEncodable, BinEncoder};
    let mut buf = Vec::new();
    let mut enc = BinEncoder::new(&mut buf);
    enc.set_canonical_form(true);
    r.data.emit(&mut enc).unwrap();
    (
        r.name.to_lowercase().to_string(),
        u16::from(r.record_type()),
        r.ttl,
        buf,
    )
}
