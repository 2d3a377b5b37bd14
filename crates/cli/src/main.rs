//! The `mailzone` binary: parses flags, calls the libraries, sets the exit code.
//! Exit codes: 0 clean, 1 problems found in a zone or config, 2 usage or I/O error.

mod control;
mod dnssec;
mod health;
mod query;
mod route;

use clap::{Parser, Subcommand, ValueEnum};
use hickory_proto::rr::Name;
use mailzone_check::{Diagnostic, Report, Severity, apply_policy, render};
use mailzone_config::CheckPolicy;
use mailzone_zone::{MasterOptions, ReadResult};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "mailzone",
    version,
    about = "Authoritative DNS for mail domains, with mail-record checks at load time"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check zones: a zone file (master file or .toml), a directory of them, or a server config.
    Check(CheckArgs),
    /// Serve the zones of a config over UDP and TCP until SIGINT or SIGTERM; SIGHUP reloads.
    Serve {
        /// The server config (see config/mailzone.toml).
        #[arg(long, env = "MAILZONE_CONFIG", default_value = "config/mailzone.toml")]
        config: PathBuf,
    },
    /// Ask a running server to reload its config and changed zones (or one zone).
    Reload(control::ReloadArgs),
    /// Show what a running server serves: per zone serial, load time, findings, last failure.
    Status(control::StatusArgs),
    /// Ask a DNS server one question and print the answer (a small dig).
    Query(query::QueryArgs),
    /// Where a sending MTA would deliver mail for an address or domain (RFC 5321 §5.1): MX, null MX, implicit MX, addresses.
    Route(route::RouteArgs),
    /// Exit 0 when the server of a config answers every zone's SOA with authority, 1 otherwise.
    Healthcheck(health::HealthArgs),
    /// Make a DNSSEC key pair for a zone (a CSK, or KSK and ZSK with --split).
    Keygen(dnssec::KeygenArgs),
    /// Print the DS records (SHA-256) of a zone's keys, for the registrar.
    Ds(dnssec::DsArgs),
    /// Zone file tools.
    Zone {
        #[command(subcommand)]
        command: ZoneCommand,
    },
}

#[derive(Subcommand)]
enum ZoneCommand {
    /// Write a zone in canonical form: absolute names, explicit TTL and class, one record per line.
    Dump(ZoneArgs),
    /// Write a zone of a config as the server serves it (signed, when configured), in canonical form.
    Served(dnssec::ServedArgs),
}

#[derive(clap::Args)]
struct ZoneArgs {
    /// The zone file: RFC 1035 master file, or TOML when the name ends in `.toml`.
    file: PathBuf,
    /// The zone origin (for master files without `$ORIGIN`), e.g. `example.com.`.
    #[arg(long)]
    origin: Option<String>,
}

#[derive(clap::Args)]
struct CheckArgs {
    /// A zone file, a directory of zone files (`*.zone`, `*.toml`), or a server config.
    path: PathBuf,
    /// The zone origin (for a master file without `$ORIGIN`).
    #[arg(long)]
    origin: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Colours in human output.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    color: Color,
    /// Make warnings fail the check too (`--deny warnings`).
    #[arg(long, value_enum)]
    deny: Option<Deny>,
    /// Only read the zone (syntax and RDATA), skip the DNS and mail checks.
    #[arg(long)]
    read_only: bool,
    /// Info findings: `list` each one, or `count` them by id (as the server
    /// logs them; a large mail zone has hundreds of thousands).
    #[arg(long, value_enum, default_value_t = Info::List)]
    info: Info,
    /// Say on stderr how long reading and each part of the checks took
    /// (for benchmarks and for finding what makes a large zone slow).
    #[arg(long)]
    timings: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Info {
    List,
    Count,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Human,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Clone, Copy, ValueEnum)]
enum Deny {
    Warnings,
}

/// One zone to check, with the policy that applies to it.
pub(crate) struct Job {
    pub(crate) path: PathBuf,
    pub(crate) origin: Option<Name>,
    pub(crate) policy: CheckPolicy,
}

use mailzone_server::parse_origin;

pub(crate) fn load(path: &Path, origin: Option<Name>) -> ReadResult {
    mailzone_zone::read_zone_file(
        path,
        &MasterOptions {
            origin,
            ..MasterOptions::default()
        },
    )
}

/// About how many records a zone file holds, from its size (master files
/// run 50 to 70 bytes a record), to size the first allocations.
pub(crate) fn records_guess(path: &Path) -> usize {
    std::fs::metadata(path).map_or(0, |m| (m.len() / 64) as usize)
}

fn read_report(path: &Path, r: &ReadResult) -> Report {
    Report {
        subject: path.display().to_string(),
        diagnostics: r.errors.iter().map(Diagnostic::from).collect(),
        sources: r.zone.sources.clone(),
        counted: Vec::new(),
    }
}

/// Read errors, or, when the zone reads cleanly, every check finding with the
/// zone's policy applied. Checks do not run over a partial zone: missing
/// records would show up as findings that only echo the read errors.
pub(crate) fn check_job(job: &Job, read_only: bool, info: Info, timings: bool) -> (Report, usize) {
    let started = std::time::Instant::now();
    // With the origin known, the checks' name index is built while the file
    // is read (on a second thread when there is a second core).
    let guess = records_guess(&job.path);
    let mut stream = job
        .origin
        .as_ref()
        .filter(|_| !read_only)
        .map(|o| mailzone_check::checks::NameStream::start(o, guess));
    let opts = MasterOptions {
        origin: job.origin.clone(),
        ..MasterOptions::default()
    };
    let r = match stream.as_mut() {
        Some(s) => {
            mailzone_zone::read_zone_file_observed(&job.path, &opts, &mut |rec, t, w, rd| {
                s.observe(rec, t, w, rd)
            })
        }
        None => mailzone_zone::read_zone_file(&job.path, &opts),
    };
    let read = started.elapsed();
    let mut names = stream.map(|s| s.finish());
    let names_done = started.elapsed();
    let mut report = read_report(&job.path, &r);
    if r.is_ok() && !read_only {
        let checking = mailzone_check::checks::Checking::new(&r.zone, names.as_mut());
        let checked = match info {
            Info::List => checking.run(),
            // Ids the policy raises to errors are built in full, as the
            // server builds them.
            Info::Count => checking
                .counting_info(job.policy.raise.iter().map(|o| o.id.clone()).collect())
                .run(),
        };
        (report.diagnostics, report.counted) = (checked.diagnostics, checked.counted);
        if timings {
            say_timings(&job.path, read, names_done - read, &checked.timings);
        }
        let pairs = |v: &[mailzone_config::Override]| {
            v.iter()
                .map(|o| (o.id.clone(), o.reason.clone()))
                .collect::<Vec<_>>()
        };
        apply_policy(
            &mut report.diagnostics,
            &pairs(&job.policy.allow),
            &pairs(&job.policy.raise),
        );
    }
    if timings && (read_only || !r.is_ok()) {
        eprintln!("{}: read {} ms", job.path.display(), ms(read));
    }
    let n = r.zone.records.len();
    drop_aside((r, names), n >= 20_000);
    (report, n)
}

/// Milliseconds to a tenth, as `--timings` says them.
fn ms(d: std::time::Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1e3)
}

/// One line per zone on stderr: the read, the wait for the names indexed
/// beside it, the index, each family with the thread that ran it (in the
/// order they ended), and the sort.
fn say_timings(
    path: &Path,
    read: std::time::Duration,
    names: std::time::Duration,
    t: &mailzone_check::checks::Timings,
) {
    let families: Vec<String> = t
        .families
        .iter()
        .map(|(name, thread, took)| format!("{name} {} (#{thread})", ms(*took)))
        .collect();
    eprintln!(
        "{}: read {} ms, names +{} ms, index {} ms, families [{}], sort {} ms",
        path.display(),
        ms(read),
        ms(names),
        ms(t.index),
        families.join(", "),
        ms(t.sort)
    );
}

/// Frees a `large` value on a thread of its own: a million records take a
/// noticeable fraction of a second to free, and the command has nothing to
/// wait for (when it exits first, the kernel takes the memory back at once).
/// A small one is freed here; a thread per zone of a directory would cost more.
fn drop_aside<T: Send + 'static>(v: T, large: bool) {
    if large {
        let _ = std::thread::Builder::new()
            .name("free".into())
            .spawn(move || drop(v));
    }
}

/// Turns the argument into the zones to check; `Err(report)` for a config that does not load.
fn jobs(args: &CheckArgs) -> Result<Result<Vec<Job>, Report>, String> {
    let origin = args
        .origin
        .as_deref()
        .map(parse_origin)
        .transpose()
        .map_err(|e| format!("--origin {e}"))?;
    let p = &args.path;
    if p.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(p)
            .map_err(|e| format!("{}: {e}", p.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|f| f.is_file() && f.extension().is_some_and(|x| x == "zone" || x == "toml"))
            .collect();
        files.sort();
        let mut out = Vec::new();
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap_or_default();
            if f.extension().is_some_and(|x| x == "toml")
                && mailzone_config::looks_like_config(&text)
            {
                continue;
            }
            out.push(Job {
                path: f,
                origin: origin.clone(),
                policy: CheckPolicy::default(),
            });
        }
        if out.is_empty() {
            return Err(format!("{}: no *.zone or *.toml zone files", p.display()));
        }
        return Ok(Ok(out));
    }
    if !p.is_file() {
        return Err(format!("{}: no such file or directory", p.display()));
    }
    let is_config = p.extension().is_some_and(|x| x == "toml")
        && std::fs::read_to_string(p).is_ok_and(|t| mailzone_config::looks_like_config(&t));
    if !is_config {
        return Ok(Ok(vec![Job {
            path: p.clone(),
            origin,
            policy: CheckPolicy::default(),
        }]));
    }
    match mailzone_config::load(p, mailzone_check::known_id) {
        Ok(cfg) => Ok(Ok(cfg
            .zones
            .into_iter()
            .map(|z| Job {
                path: z.file,
                origin: parse_origin(&z.name).ok(),
                policy: z.check,
            })
            .collect())),
        Err((errors, sources)) => Ok(Err(Report {
            subject: p.display().to_string(),
            diagnostics: errors.iter().map(Diagnostic::from).collect(),
            sources,
            counted: Vec::new(),
        })),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("mailzone: {msg}");
            ExitCode::from(2)
        }
    }
}

fn check(args: CheckArgs) -> Result<ExitCode, String> {
    let io = |e: std::io::Error| e.to_string();
    let mut reports = Vec::new();
    let mut counts = Vec::new();
    let mut denied = Vec::new();
    match jobs(&args)? {
        Ok(jobs) => {
            for job in &jobs {
                let (report, n) = check_job(job, args.read_only, args.info, args.timings);
                reports.push(report);
                counts.push(n);
                denied.push(job.policy.deny_warnings);
            }
        }
        Err(config_report) => {
            reports.push(config_report);
            counts.push(0);
            denied.push(false);
        }
    }
    let mut stdout = std::io::stdout().lock();
    match args.format {
        Format::Json => {
            let mut w = std::io::BufWriter::with_capacity(1 << 20, &mut stdout);
            render::write_json(&reports, &mut w).map_err(io)?;
            writeln!(w).map_err(io)?;
            w.flush().map_err(io)?;
        }
        Format::Human => {
            let color = match args.color {
                Color::Always => true,
                Color::Never => false,
                Color::Auto => std::io::stdout().is_terminal(),
            };
            for (report, n) in reports.iter().zip(&counts) {
                render::human(report, color, &mut stdout).map_err(io)?;
                if !report.counted.is_empty() {
                    let ids: Vec<String> = report
                        .counted
                        .iter()
                        .map(|(id, n)| format!("{id} ×{n}"))
                        .collect();
                    writeln!(
                        stdout,
                        "note: info findings counted, not listed (`--info list` shows them): {}",
                        ids.join(", ")
                    )
                    .map_err(io)?;
                }
                let (e, w, i) = (
                    report.count(Severity::Error),
                    report.count(Severity::Warning),
                    report.count(Severity::Info),
                );
                writeln!(
                    stdout,
                    "{}: {n} records: {e} error{}, {w} warning{}, {i} info",
                    report.subject,
                    plural(e),
                    plural(w)
                )
                .map_err(io)?;
            }
        }
    }
    let failing = reports.iter().zip(&denied).any(|(r, &deny)| {
        r.count(Severity::Error) > 0
            || ((deny || args.deny.is_some()) && r.count(Severity::Warning) > 0)
    });
    let findings: usize = reports.iter().map(|r| r.diagnostics.len()).sum();
    drop_aside(reports, findings >= 20_000);
    Ok(if failing {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn run(cli: Cli) -> Result<ExitCode, String> {
    match cli.command {
        Command::Check(args) => check(args),
        Command::Serve { config } => mailzone_server::daemon::run(&config),
        Command::Reload(args) => control::reload(&args),
        Command::Status(args) => control::status(&args),
        Command::Query(args) => query::query(&args),
        Command::Route(args) => route::route(&args),
        Command::Healthcheck(args) => health::healthcheck(&args),
        Command::Keygen(args) => dnssec::keygen(&args),
        Command::Ds(args) => dnssec::ds(&args),
        Command::Zone {
            command: ZoneCommand::Served(args),
        } => dnssec::served(&args),
        Command::Zone {
            command: ZoneCommand::Dump(args),
        } => {
            let origin = args
                .origin
                .as_deref()
                .map(parse_origin)
                .transpose()
                .map_err(|e| format!("--origin {e}"))?;
            if !args.file.is_file() {
                return Err(format!("{}: no such file", args.file.display()));
            }
            let result = load(&args.file, origin);
            if !result.is_ok() {
                let report = read_report(&args.file, &result);
                render::human(
                    &report,
                    std::io::stderr().is_terminal(),
                    &mut std::io::stderr().lock(),
                )
                .map_err(|e| e.to_string())?;
                return Ok(ExitCode::from(1));
            }
            let text = mailzone_zone::writer::write_canonical(&result.zone);
            std::io::stdout()
                .lock()
                .write_all(text.as_bytes())
                .map_err(|e| e.to_string())?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
