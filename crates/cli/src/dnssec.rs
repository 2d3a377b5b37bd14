//! `mailzone keygen`, `mailzone ds` and `mailzone zone served`: the key
//! files a signed zone needs, the DS records its parent needs, and the zone
//! exactly as the server would serve it (signed), for outside verifiers.

use hickory_proto::dnssec::rdata::DNSSECRData;
use hickory_proto::rr::{DNSClass, Name, RData};
use mailzone_server::keys::{self, Role};
use mailzone_server::parse_origin;
use mailzone_zone::ZoneRecord;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct KeysAt {
    /// The server config: the keys directory is the zone's `[zone.dnssec] keys`.
    #[arg(long, env = "MAILZONE_CONFIG", default_value = "config/mailzone.toml")]
    config: PathBuf,
    /// The keys directory itself (instead of reading it from the config).
    #[arg(long)]
    dir: Option<PathBuf>,
}

impl KeysAt {
    fn dir(&self, zone: &Name) -> Result<PathBuf, String> {
        if let Some(d) = &self.dir {
            return Ok(d.clone());
        }
        let z = zone_config(&self.config, zone)?;
        z.dnssec.map(|d| d.keys).ok_or_else(|| {
            format!(
                "{}: zone {zone} has no [zone.dnssec] section; add one with `keys = \"<dir>\"`, or pass --dir",
                self.config.display()
            )
        })
    }
}

fn zone_config(
    config: &std::path::Path,
    zone: &Name,
) -> Result<mailzone_config::ZoneConfig, String> {
    let cfg =
        mailzone_config::load(config, mailzone_check::known_id).map_err(|(errors, sources)| {
            let first = errors
                .first()
                .map(|e| format!("{}: {}", sources.location(e.span), e.message))
                .unwrap_or_default();
            format!(
                "the config does not load: {first} (run `mailzone check {}`)",
                config.display()
            )
        })?;
    cfg.zones
        .into_iter()
        .find(|z| parse_origin(&z.name).is_ok_and(|n| n == *zone))
        .ok_or_else(|| format!("{}: no zone {zone}", config.display()))
}

#[derive(clap::Args)]
pub struct KeygenArgs {
    /// The zone, e.g. example.com.
    zone: String,
    /// ecdsap256sha256 (default, RFC 8624's recommendation) or ed25519.
    #[arg(long, default_value = "ecdsap256sha256")]
    algorithm: String,
    /// Make a KSK and a ZSK instead of one combined signing key (CSK).
    #[arg(long)]
    split: bool,
    #[command(flatten)]
    at: KeysAt,
}

fn print(r: &ZoneRecord) {
    let mut line = String::new();
    mailzone_zone::writer::write_record(r, &mut line);
    println!("{line}");
}

fn record(owner: &Name, rdata: RData) -> ZoneRecord {
    ZoneRecord {
        owner: owner.clone(),
        class: DNSClass::IN,
        ttl: 3600,
        rdata,
        span: Default::default(),
    }
}

pub fn keygen(a: &KeygenArgs) -> Result<ExitCode, String> {
    let zone = parse_origin(&a.zone)?;
    let alg = keys::algorithm_named(&a.algorithm)?;
    let dir = a.at.dir(&zone)?;
    let roles: &[Role] = if a.split {
        &[Role::Ksk, Role::Zsk]
    } else {
        &[Role::Csk]
    };
    for &role in roles {
        let (path, key) = keys::generate(&dir, &zone, alg, role)?;
        println!(
            "; {} written (mode 0600), key tag {}",
            path.display(),
            key.tag
        );
        print(&record(
            &zone,
            RData::DNSSEC(DNSSECRData::DNSKEY(key.dnskey.clone())),
        ));
    }
    println!("; give your registrar the DS record(s) from `mailzone ds {zone}`");
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Args)]
pub struct DsArgs {
    /// The zone, e.g. example.com.
    zone: String,
    #[command(flatten)]
    at: KeysAt,
}

pub fn ds(a: &DsArgs) -> Result<ExitCode, String> {
    let zone = parse_origin(&a.zone)?;
    let dir = a.at.dir(&zone)?;
    for k in keys::load(&dir, &zone, None)?.iter().filter(|k| k.sep()) {
        print(&record(&zone, RData::DNSSEC(DNSSECRData::DS(k.ds(&zone)?))));
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Args)]
pub struct ServedArgs {
    /// The zone, e.g. example.com.
    zone: String,
    /// The server config naming the zone.
    #[arg(long, env = "MAILZONE_CONFIG", default_value = "config/mailzone.toml")]
    config: PathBuf,
}

pub fn served(a: &ServedArgs) -> Result<ExitCode, String> {
    let zone = parse_origin(&a.zone)?;
    let z = zone_config(&a.config, &zone)?;
    match mailzone_server::load::served_zone(&z) {
        Ok(zone) => {
            print!("{}", mailzone_zone::writer::write_canonical(&zone));
            Ok(ExitCode::SUCCESS)
        }
        Err(f) => {
            eprintln!("{}: {}", a.zone, f.reason);
            for d in &f.diagnostics {
                eprintln!("  {d}");
            }
            Ok(ExitCode::from(1))
        }
    }
}
