//! The server configuration file: which zones to serve from which files, and
//! the check policy of each (refuse or warn on errors, findings allowed or
//! raised, each with a reason). The schema is versioned (`version = 1`) so a
//! file written today still loads when the schema grows.

use mailzone_zone::span::{SourceMap, Span, line_col};
use mailzone_zone::{ErrorKind, ReadError};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// A loaded configuration. Paths are resolved against the config file's directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub path: PathBuf,
    pub zones: Vec<ZoneConfig>,
    /// TSIG keys (RFC 8945), by name.
    pub keys: Vec<TsigKeyConfig>,
    pub server: ServerConfig,
    pub log: LogConfig,
}

/// Listeners and their limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// Addresses to answer on, UDP and TCP each (`127.0.0.1:5353`, `[::1]:5353`).
    pub listen: Vec<String>,
    /// Our EDNS UDP payload size (RFC 8900 suggests 1232).
    pub udp_payload: u16,
    /// Seconds a TCP connection may stay silent before it is closed (RFC 7766 §6.2.3).
    pub tcp_idle_timeout: u64,
    /// Open TCP connections at most; more are closed at once.
    pub max_tcp_connections: usize,
    /// Answer to CHAOS TXT `id.server.`/`hostname.bind.`; REFUSED when unset.
    pub identity: Option<String>,
    /// Answer to CHAOS TXT `version.server.`/`version.bind.`; REFUSED when unset.
    pub version: Option<String>,
    /// The Unix socket `mailzone reload` and `mailzone status` talk to
    /// (created with mode 0600); no control channel when unset.
    pub control_socket: Option<PathBuf>,
    /// Reload when the config or a zone file changes on disk.
    pub watch: bool,
    /// Threads answering queries: each has its own UDP socket on every
    /// listen address (SO_REUSEPORT), and TCP runs on as many. Default: one
    /// per core.
    pub workers: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: vec!["127.0.0.1:5353".into()],
            udp_payload: 1232,
            tcp_idle_timeout: 10,
            max_tcp_connections: 256,
            identity: None,
            version: None,
            control_socket: None,
            watch: false,
            workers: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}

/// Logging: one line per event, never one per query at INFO.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `plain` or `json`.
    pub format: String,
    /// `error`, `warn`, `info`, `debug`, `trace`.
    pub level: String,
    /// Log every query at debug level.
    pub queries: bool,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            format: "plain".into(),
            level: "info".into(),
            queries: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneConfig {
    /// The zone's origin, absolute.
    pub name: String,
    pub file: PathBuf,
    pub check: CheckPolicy,
    pub serial: SerialPolicy,
    /// Sign the zone when it loads; unsigned when absent.
    pub dnssec: Option<DnssecPolicy>,
    /// Clients allowed to transfer the zone (AXFR/IXFR), as address
    /// prefixes; nobody when empty.
    pub transfer: Vec<Prefix>,
    /// Secondaries told of every published change (NOTIFY, RFC 1996).
    pub notify: Vec<std::net::SocketAddr>,
    /// When set, transfers must also be signed with this TSIG key.
    pub transfer_key: Option<String>,
    /// A secondary zone: fetched from these primaries (AXFR/IXFR) into
    /// `file`, which the server writes; a primary zone when empty.
    pub primary: Vec<std::net::SocketAddr>,
    /// The TSIG key to sign requests to the primaries with.
    pub primary_key: Option<String>,
}

/// `[[key]]`: a TSIG key shared with a secondary or a primary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TsigKeyConfig {
    /// Absolute, lowercase (`transfer.example.com.`).
    pub name: String,
    /// `hmac-sha256` (default), `hmac-sha384`, `hmac-sha512`.
    pub algorithm: String,
    pub secret: Vec<u8>,
}

/// An address prefix: `192.0.2.0/24`, `2001:db8::/32`, or one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prefix {
    pub addr: std::net::IpAddr,
    pub len: u8,
}

impl Prefix {
    pub fn parse(s: &str) -> Option<Prefix> {
        let (a, l) = match s.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (s, None),
        };
        let addr: std::net::IpAddr = a.parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let len = match l {
            Some(l) => l.parse::<u8>().ok().filter(|&l| l <= max)?,
            None => max,
        };
        Some(Prefix { addr, len })
    }

    pub fn contains(&self, ip: std::net::IpAddr) -> bool {
        let bits = |a: std::net::IpAddr| -> u128 {
            match a {
                std::net::IpAddr::V4(v) => u128::from(u32::from(v)) << 96,
                std::net::IpAddr::V6(v) => u128::from(v),
            }
        };
        // An IPv4 client on an IPv6 socket arrives mapped (::ffff:a.b.c.d).
        let ip = match ip {
            std::net::IpAddr::V6(v) => v.to_ipv4_mapped().map_or(ip, std::net::IpAddr::V4),
            v4 => v4,
        };
        if ip.is_ipv4() != self.addr.is_ipv4() {
            return false;
        }
        // IPv4 addresses sit in the top 32 bits, so one mask rule fits both.
        let mask = u128::MAX
            .checked_shl(128 - u32::from(self.len))
            .unwrap_or(0);
        (bits(ip) & mask) == (bits(self.addr) & mask)
    }
}

/// `[zone.dnssec]`: where the keys are and how to sign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnssecPolicy {
    /// Directory holding the zone's private keys (`mailzone keygen` writes them).
    pub keys: PathBuf,
    pub denial: DenialKind,
    /// Seconds a signature is valid for.
    pub validity: u32,
    /// Seconds before expiry at which the server signs again by itself.
    pub refresh: u32,
    /// When set, every key must be of this algorithm (`ecdsap256sha256`, `ed25519`, `rsasha256`).
    pub algorithm: Option<String>,
    /// Generate a CSK when the directory holds no key for the zone (labs,
    /// first start in a container); off by default, so a lost key directory
    /// is refused rather than silently replaced.
    pub create_keys: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DenialKind {
    Nsec,
    /// RFC 9276 parameters: SHA-1, no extra iterations, empty salt, no opt-out.
    Nsec3,
}

/// Where the SOA serial that is served comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SerialPolicy {
    /// The serial written in the zone file (default).
    #[default]
    File,
    /// Set by the server on every published change: seconds since 1970
    /// (`"unixtime"`, also `"auto"`), or `YYYYMMDDnn` (`"date"`); always
    /// greater than the serial served before.
    Unixtime,
    Date,
}

/// What to do with check findings for one zone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckPolicy {
    /// Serve a zone with errors anyway (`on_error = "warn"`); default refuses it.
    pub serve_with_errors: bool,
    pub deny_warnings: bool,
    /// Findings accepted on purpose: id and reason.
    pub allow: Vec<Override>,
    /// Findings made errors: id and reason.
    pub raise: Vec<Override>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Override {
    pub id: String,
    pub reason: String,
}

#[derive(Deserialize)]
struct Versioned {
    version: toml::Spanned<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct V1 {
    // Read by `Versioned` first; declared so `deny_unknown_fields` accepts it.
    #[allow(dead_code)]
    version: u32,
    #[serde(default)]
    zone: Vec<toml::Spanned<ZoneV1>>,
    #[serde(default)]
    server: ServerV1,
    log: Option<toml::Spanned<LogConfig>>,
    #[serde(default)]
    key: Vec<toml::Spanned<KeyV1>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyV1 {
    name: String,
    algorithm: Option<String>,
    /// Base64, as `tsig-keygen` and `keymgr` print it.
    secret: String,
}

/// `[server]` as written: addresses keep their location for errors.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ServerV1 {
    listen: Option<Vec<toml::Spanned<String>>>,
    udp_payload: Option<u16>,
    tcp_idle_timeout: Option<u64>,
    max_tcp_connections: Option<usize>,
    identity: Option<String>,
    version: Option<String>,
    control_socket: Option<String>,
    watch: Option<bool>,
    workers: Option<toml::Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ZoneV1 {
    name: String,
    file: String,
    #[serde(default)]
    check: CheckV1,
    serial: Option<toml::Spanned<String>>,
    dnssec: Option<toml::Spanned<DnssecV1>>,
    #[serde(default)]
    transfer: Vec<toml::Spanned<String>>,
    #[serde(default)]
    notify: Vec<toml::Spanned<String>>,
    transfer_key: Option<toml::Spanned<String>>,
    #[serde(default)]
    primary: Vec<toml::Spanned<String>>,
    primary_key: Option<toml::Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DnssecV1 {
    keys: String,
    denial: Option<toml::Spanned<String>>,
    validity: Option<toml::Spanned<String>>,
    refresh: Option<toml::Spanned<String>>,
    algorithm: Option<toml::Spanned<String>>,
    #[serde(default)]
    create_keys: bool,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct CheckV1 {
    on_error: Option<toml::Spanned<String>>,
    #[serde(default)]
    deny_warnings: bool,
    #[serde(default)]
    allow: Vec<toml::Spanned<Override>>,
    #[serde(default)]
    raise: Vec<toml::Spanned<Override>>,
}

/// Whether TOML text is a server config (it lists `[[zone]]` tables) rather than a TOML zone.
pub fn looks_like_config(text: &str) -> bool {
    text.parse::<toml::Table>()
        .is_ok_and(|t| t.contains_key("zone") && !t.contains_key("origin"))
}

/// Loads a config. `known_id` says whether a finding id exists, to refuse typos
/// in `allow`/`raise`. Errors are located in the returned source map.
pub fn load(
    path: &Path,
    known_id: impl Fn(&str) -> bool,
) -> Result<Config, (Vec<ReadError>, SourceMap)> {
    let mut sources = SourceMap::new();
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            let file = sources.add(path, "");
            return Err((vec![ReadError::unreadable(file, path, &e)], sources));
        }
    };
    let file = sources.add(path, text.clone());
    let span = |r: std::ops::Range<usize>| {
        let (line, col) = line_col(&text, r.start);
        Span {
            file,
            line,
            col,
            start: r.start as u32,
            end: r.end as u32,
        }
    };
    let fail =
        |r: std::ops::Range<usize>, msg: String| ReadError::new(ErrorKind::Toml, span(r), msg);
    let version = match toml::from_str::<Versioned>(&text) {
        Ok(v) => v.version,
        Err(e) => {
            return Err((
                vec![fail(
                    e.span().unwrap_or(0..0),
                    format!(
                        "{} (a config starts with `version = 1`)",
                        e.message().trim()
                    ),
                )],
                sources,
            ));
        }
    };
    if *version.get_ref() != 1 {
        return Err((
            vec![fail(
                version.span(),
                format!(
                    "expected `version = 1`, found version {}; this mailzone reads version 1",
                    version.get_ref()
                ),
            )],
            sources,
        ));
    }
    let v1: V1 = match toml::from_str(&text) {
        Ok(v) => v,
        Err(e) => {
            return Err((
                vec![fail(
                    e.span().unwrap_or(0..0),
                    e.message().trim().to_string(),
                )],
                sources,
            ));
        }
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut errors = Vec::new();
    let mut zones = Vec::new();
    let absolute = |n: &str| {
        let n = n.to_ascii_lowercase();
        if n.ends_with('.') { n } else { format!("{n}.") }
    };
    let mut keys: Vec<TsigKeyConfig> = Vec::new();
    for k in v1.key {
        let r = k.span();
        let k = k.into_inner();
        let algorithm = k
            .algorithm
            .unwrap_or_else(|| "hmac-sha256".into())
            .to_ascii_lowercase();
        if !["hmac-sha256", "hmac-sha384", "hmac-sha512"].contains(&algorithm.as_str()) {
            errors.push(fail(r.clone(), format!("expected key algorithm \"hmac-sha256\", \"hmac-sha384\" or \"hmac-sha512\", found \"{algorithm}\"")));
        }
        match data_encoding::BASE64.decode(k.secret.trim().as_bytes()) {
            Ok(secret) if secret.len() >= 16 => keys.push(TsigKeyConfig {
                name: absolute(&k.name),
                algorithm,
                secret,
            }),
            _ => errors.push(fail(r, format!("the secret of key `{}` is not base64 of at least 16 bytes (make one with `tsig-keygen` or `openssl rand -base64 32`)", k.name))),
        }
    }
    for z in v1.zone {
        let zspan = z.span();
        let z = z.into_inner();
        let mut policy = CheckPolicy {
            deny_warnings: z.check.deny_warnings,
            ..CheckPolicy::default()
        };
        if let Some(oe) = &z.check.on_error {
            match oe.get_ref().as_str() {
                "refuse" => {}
                "warn" => policy.serve_with_errors = true,
                other => errors.push(fail(
                    oe.span(),
                    format!("expected on_error = \"refuse\" or \"warn\", found \"{other}\""),
                )),
            }
        }
        for (list, dst) in [
            (z.check.allow, &mut policy.allow),
            (z.check.raise, &mut policy.raise),
        ] {
            for o in list {
                let r = o.span();
                let o = o.into_inner();
                if !known_id(&o.id) {
                    errors.push(fail(r, format!("`{}` is not a check id", o.id)));
                } else if o.reason.trim().is_empty() {
                    errors.push(fail(r, format!("give a reason for overriding `{}`", o.id)));
                } else {
                    dst.push(o);
                }
            }
        }
        let serial = match z.serial.as_ref().map(|s| (s.get_ref().as_str(), s.span())) {
            None | Some(("file", _)) => SerialPolicy::File,
            Some(("unixtime" | "auto", _)) => SerialPolicy::Unixtime,
            Some(("date", _)) => SerialPolicy::Date,
            Some((other, r)) => {
                errors.push(fail(
                    r,
                    format!(
                        "expected serial = \"file\", \"unixtime\" (or \"auto\") or \"date\", found \"{other}\""
                    ),
                ));
                SerialPolicy::File
            }
        };
        let dnssec = z.dnssec.map(|d| {
            let dspan = d.span();
            let d = d.into_inner();
            let mut duration = |v: &Option<toml::Spanned<String>>, default: u32, what: &str| match v {
                None => default,
                Some(v) => match mailzone_zone::text::parse_ttl(v.get_ref().as_bytes()) {
                    Ok(secs) if secs > 0 => secs,
                    _ => {
                        errors.push(fail(
                            v.span(),
                            format!("expected {what} as seconds or with units (\"14d\", \"36h\"), found \"{}\"", v.get_ref()),
                        ));
                        default
                    }
                },
            };
            let validity = duration(&d.validity, 14 * 86400, "validity");
            let refresh = duration(&d.refresh, 7 * 86400, "refresh");
            if refresh >= validity {
                errors.push(fail(
                    dspan.clone(),
                    format!("refresh ({refresh} s) must be shorter than validity ({validity} s): signatures would be renewed constantly"),
                ));
            }
            let denial = match d.denial.as_ref().map(|x| (x.get_ref().as_str(), x.span())) {
                None | Some(("nsec", _)) => DenialKind::Nsec,
                Some(("nsec3", _)) => DenialKind::Nsec3,
                Some((other, r)) => {
                    errors.push(fail(r, format!("expected denial = \"nsec\" or \"nsec3\", found \"{other}\"")));
                    DenialKind::Nsec
                }
            };
            let algorithm = d.algorithm.map(|a| {
                let v = a.get_ref().to_ascii_lowercase();
                if !["ecdsap256sha256", "ed25519", "rsasha256"].contains(&v.as_str()) {
                    errors.push(fail(a.span(), format!("expected algorithm \"ecdsap256sha256\", \"ed25519\" or \"rsasha256\", found \"{v}\"")));
                }
                v
            });
            DnssecPolicy {
                keys: dir.join(&d.keys),
                denial,
                validity,
                refresh,
                algorithm,
                create_keys: d.create_keys,
            }
        });
        let mut transfer = Vec::new();
        for t in &z.transfer {
            match Prefix::parse(t.get_ref()) {
                Some(p) => transfer.push(p),
                None => errors.push(fail(
                    t.span(),
                    format!("`{}` is not an address or prefix (write `192.0.2.0/24`, `2001:db8::/32`, `127.0.0.1`)", t.get_ref()),
                )),
            }
        }
        let mut notify = Vec::new();
        for n in &z.notify {
            match n.get_ref().parse::<std::net::SocketAddr>() {
                Ok(a) => notify.push(a),
                Err(_) => errors.push(fail(
                    n.span(),
                    format!(
                        "`{}` is not `ip:port` (write IPv6 as `[2001:db8::53]:53`)",
                        n.get_ref()
                    ),
                )),
            }
        }
        let mut key_ref = |k: &toml::Spanned<String>| {
            let n = absolute(k.get_ref());
            if !keys.iter().any(|x| x.name == n) {
                errors.push(fail(k.span(), format!("no [[key]] named `{n}`")));
            }
            n
        };
        let transfer_key = z.transfer_key.as_ref().map(&mut key_ref);
        let primary_key = z.primary_key.as_ref().map(&mut key_ref);
        let mut primary = Vec::new();
        for p in &z.primary {
            match p.get_ref().parse::<std::net::SocketAddr>() {
                Ok(a) => primary.push(a),
                Err(_) => errors.push(fail(
                    p.span(),
                    format!(
                        "`{}` is not `ip:port` (write IPv6 as `[2001:db8::53]:53`)",
                        p.get_ref()
                    ),
                )),
            }
        }
        if primary.is_empty() && z.primary_key.is_some() {
            errors.push(fail(
                zspan.clone(),
                "primary_key without primary: a key for which server?".to_string(),
            ));
        }
        let name = if z.name.ends_with('.') {
            z.name.clone()
        } else {
            format!("{}.", z.name)
        };
        if zones
            .iter()
            .any(|x: &ZoneConfig| x.name.eq_ignore_ascii_case(&name))
        {
            errors.push(fail(
                zspan.clone(),
                format!("zone `{name}` is listed twice"),
            ));
        }
        zones.push(ZoneConfig {
            name,
            file: dir.join(&z.file),
            check: policy,
            serial,
            dnssec,
            transfer,
            notify,
            transfer_key,
            primary,
            primary_key,
        });
    }
    let (log_span, log) = match v1.log {
        Some(l) => (l.span(), l.into_inner()),
        None => (0..0, LogConfig::default()),
    };
    if log.format != "plain" && log.format != "json" {
        errors.push(fail(
            log_span.clone(),
            format!(
                "expected log format \"plain\" or \"json\", found \"{}\"",
                log.format
            ),
        ));
    }
    if !["error", "warn", "info", "debug", "trace"].contains(&log.level.as_str()) {
        errors.push(fail(
            log_span,
            format!(
                "expected log level error, warn, info, debug or trace, found \"{}\"",
                log.level
            ),
        ));
    }
    let d = ServerConfig::default();
    let mut server = ServerConfig {
        listen: Vec::new(),
        udp_payload: v1.server.udp_payload.unwrap_or(d.udp_payload).max(512),
        tcp_idle_timeout: v1.server.tcp_idle_timeout.unwrap_or(d.tcp_idle_timeout),
        max_tcp_connections: v1
            .server
            .max_tcp_connections
            .unwrap_or(d.max_tcp_connections),
        identity: v1.server.identity,
        version: v1.server.version,
        control_socket: v1.server.control_socket.map(|p| dir.join(p)),
        watch: v1.server.watch.unwrap_or(false),
        workers: d.workers,
    };
    if let Some(w) = v1.server.workers {
        match usize::try_from(*w.get_ref()) {
            Ok(n @ 1..=256) => server.workers = n,
            _ => errors.push(fail(
                w.span(),
                format!(
                    "workers must be between 1 and 256, found {} (leave it out for one per core)",
                    w.get_ref()
                ),
            )),
        }
    }
    match v1.server.listen {
        None => server.listen = d.listen,
        Some(list) => {
            for a in list {
                if a.get_ref().parse::<std::net::SocketAddr>().is_err() {
                    errors.push(fail(
                        a.span(),
                        format!(
                            "listen address `{}` is not `ip:port` (write IPv6 as `[::1]:5353`)",
                            a.get_ref()
                        ),
                    ));
                }
                server.listen.push(a.into_inner());
            }
        }
    }
    if !errors.is_empty() {
        return Err((errors, sources));
    }
    Ok(Config {
        path: path.to_path_buf(),
        zones,
        keys,
        server,
        log,
    })
}

/// The control socket a config names, read leniently: `mailzone reload` must
/// find the running server even when the config now has a mistake in it.
pub fn control_socket_of(path: &Path) -> Result<PathBuf, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        format!(
            "{}: not TOML ({}); pass the socket with --socket",
            path.display(),
            e.message().trim()
        )
    })?;
    let sock = table
        .get("server")
        .and_then(|s| s.get("control_socket"))
        .and_then(|v| v.as_str())
        .ok_or_else(|| {
            format!(
                "{}: no [server] control_socket; set one (and restart the server), or send SIGHUP to reload",
                path.display()
            )
        })?;
    Ok(path.parent().unwrap_or(Path::new(".")).join(sock))
}

/// What `mailzone healthcheck` asks: the listen addresses and zone names of a
/// config, read leniently (like [`control_socket_of`]) so that a config edited
/// into an error does not make a server that still answers look dead.
pub fn health_targets_of(path: &Path) -> Result<(Vec<String>, Vec<String>), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        format!("{}: not TOML ({})", path.display(), e.message().trim())
    })?;
    let listen = match table.get("server").and_then(|s| s.get("listen")) {
        Some(v) => v
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default(),
        None => ServerConfig::default().listen,
    };
    let zones = table
        .get("zone")
        .and_then(|z| z.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|z| z.get("name").and_then(|n| n.as_str()).map(String::from))
                .collect()
        })
        .unwrap_or_default();
    Ok((listen, zones))
}

#[cfg(test)]
mod tests {
    use super::Prefix;

    #[test]
    fn prefixes() {
        let p = Prefix::parse("192.0.2.0/24").unwrap();
        assert!(p.contains("192.0.2.77".parse().unwrap()));
        assert!(p.contains("::ffff:192.0.2.77".parse().unwrap()));
        assert!(!p.contains("192.0.3.1".parse().unwrap()));
        assert!(!p.contains("2001:db8::1".parse().unwrap()));
        let one = Prefix::parse("127.0.0.1").unwrap();
        assert!(one.contains("127.0.0.1".parse().unwrap()));
        assert!(!one.contains("127.0.0.2".parse().unwrap()));
        let v6 = Prefix::parse("2001:db8::/32").unwrap();
        assert!(v6.contains("2001:db8:1::5".parse().unwrap()));
        assert!(!v6.contains("2001:db9::5".parse().unwrap()));
        assert!(
            Prefix::parse("0.0.0.0/0")
                .unwrap()
                .contains("203.0.113.9".parse().unwrap())
        );
        assert!(Prefix::parse("192.0.2.0/33").is_none());
        assert!(Prefix::parse("nonsense").is_none());
    }
}
