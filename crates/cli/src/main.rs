//! The `mailzone` binary: parses flags, calls the libraries, sets the exit code.
//! Exit codes: 0 clean, 1 problems found in the zone, 2 usage or I/O error.

use clap::{Parser, Subcommand, ValueEnum};
use hickory_proto::rr::Name;
use mailzone_check::{Diagnostic, Report, Severity, render};
use mailzone_zone::{MasterOptions, ReadResult};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::str::FromStr;

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
    /// Read a zone (master file or .toml) and report every problem found.
    Check(CheckArgs),
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
    #[command(flatten)]
    zone: ZoneArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Colours in human output.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    color: Color,
    /// Make findings of this severity fail the check too (`--deny warnings`).
    #[arg(long, value_enum)]
    deny: Option<Deny>,
}

#[derive(Clone, Copy, ValueEnum)]
enum Deny {
    Warnings,
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

/// Settings validated from the raw flags.
struct Input {
    path: PathBuf,
    opts: MasterOptions,
}

impl TryFrom<&ZoneArgs> for Input {
    type Error = String;
    fn try_from(a: &ZoneArgs) -> Result<Self, String> {
        let origin = match &a.origin {
            Some(o) => {
                let fq = if o.ends_with('.') {
                    o.clone()
                } else {
                    format!("{o}.")
                };
                Some(
                    Name::from_str(&fq)
                        .map_err(|e| format!("--origin {o}: not a domain name ({e})"))?,
                )
            }
            None => None,
        };
        if !a.file.is_file() {
            return Err(format!("{}: no such file", a.file.display()));
        }
        Ok(Input {
            path: a.file.clone(),
            opts: MasterOptions {
                origin,
                ..MasterOptions::default()
            },
        })
    }
}

fn load(input: &Input) -> ReadResult {
    mailzone_zone::read_zone_file(&input.path, &input.opts)
}

fn report_of(path: &Path, r: &ReadResult) -> Report {
    Report {
        subject: path.display().to_string(),
        diagnostics: r.errors.iter().map(Diagnostic::from).collect(),
        sources: r.zone.sources.clone(),
    }
}

/// Read errors, or, when the zone reads cleanly, every check finding.
/// Checks do not run over a partial zone: missing records would show up as
/// findings that are only echoes of the read errors.
fn check_report(path: &Path, r: &ReadResult) -> Report {
    let mut report = report_of(path, r);
    if r.is_ok() {
        report.diagnostics = mailzone_check::checks::check_zone(&r.zone);
    }
    report
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

fn run(cli: Cli) -> Result<ExitCode, String> {
    match cli.command {
        Command::Check(args) => {
            let input = Input::try_from(&args.zone)?;
            let result = load(&input);
            let report = check_report(&input.path, &result);
            let mut stdout = std::io::stdout().lock();
            match args.format {
                Format::Json => {
                    writeln!(stdout, "{}", render::json(&report)).map_err(|e| e.to_string())?;
                }
                Format::Human => {
                    let color = match args.color {
                        Color::Always => true,
                        Color::Never => false,
                        Color::Auto => std::io::stdout().is_terminal(),
                    };
                    render::human(&report, color, &mut stdout).map_err(|e| e.to_string())?;
                    let (e, w, i) = (
                        report.count(Severity::Error),
                        report.count(Severity::Warning),
                        report.count(Severity::Info),
                    );
                    writeln!(
                        stdout,
                        "{}: {} records, origin {}: {e} error{}, {w} warning{}, {i} info",
                        input.path.display(),
                        result.zone.records.len(),
                        result.zone.origin,
                        plural(e),
                        plural(w)
                    )
                    .map_err(|e| e.to_string())?;
                }
            }
            Ok(if report.count(Severity::Error) > 0 {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Zone {
            command: ZoneCommand::Dump(args),
        } => {
            let input = Input::try_from(&args)?;
            let result = load(&input);
            if !result.is_ok() {
                let report = report_of(&input.path, &result);
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
