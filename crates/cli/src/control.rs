//! `mailzone reload` and `mailzone status`: ask a running server over its
//! control socket and print what it says. Exit codes: 0 done, 1 the reload
//! (or a zone) failed, 2 the server could not be reached.

use mailzone_server::control::{Reply, Request, request};
use mailzone_server::reload::{Outcome, Status};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(clap::Args)]
pub struct Target {
    /// The server config; its `[server] control_socket` is where to ask.
    #[arg(long, env = "MAILZONE_CONFIG", default_value = "config/mailzone.toml")]
    config: PathBuf,
    /// The control socket itself (instead of reading it from the config).
    #[arg(long)]
    socket: Option<PathBuf>,
    /// Print the server's JSON reply.
    #[arg(long)]
    json: bool,
}

impl Target {
    fn ask(&self, req: &Request, timeout: Duration) -> Result<Reply, String> {
        let socket = match &self.socket {
            Some(s) => s.clone(),
            None => mailzone_config::control_socket_of(&self.config)?,
        };
        request(&socket, req, timeout)
    }
}

#[derive(clap::Args)]
pub struct ReloadArgs {
    /// Reload only this zone (default: the config and every zone that changed).
    zone: Option<String>,
    /// Reload even unchanged zones, and accept a SOA serial that goes backwards.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    target: Target,
}

pub fn reload(a: &ReloadArgs) -> Result<ExitCode, String> {
    let req = Request::Reload {
        zone: a.zone.clone(),
        force: a.force,
    };
    // Reading and checking a zone of millions of records takes seconds.
    let reply = a.target.ask(&req, Duration::from_secs(600))?;
    let outcome = match reply {
        Reply::Reload(o) => o,
        Reply::Error { message } => return Err(message),
        Reply::Status(_) => return Err("the server answered with a status".into()),
    };
    if a.target.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&outcome).unwrap_or_default()
        );
    } else {
        print_outcome(&outcome);
    }
    Ok(if outcome.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn print_outcome(o: &Outcome) {
    if let Some(f) = &o.config {
        println!("config: failed: {}", f.reason);
        for d in &f.diagnostics {
            println!("  {d}");
        }
    }
    for z in &o.zones {
        let serial = z
            .serial
            .map(|s| format!(" (serial {s})"))
            .unwrap_or_default();
        println!("{}: {}{serial}: {}", z.zone, z.result, z.message);
        for d in &z.diagnostics {
            println!("  {d}");
        }
    }
    for n in &o.notes {
        println!("note: {n}");
    }
}

#[derive(clap::Args)]
pub struct StatusArgs {
    #[command(flatten)]
    target: Target,
}

pub fn status(a: &StatusArgs) -> Result<ExitCode, String> {
    let st = match a.target.ask(&Request::Status, Duration::from_secs(5))? {
        Reply::Status(s) => s,
        Reply::Error { message } => return Err(message),
        Reply::Reload(_) => return Err("the server answered with a reload".into()),
    };
    if a.target.json {
        println!("{}", serde_json::to_string_pretty(&st).unwrap_or_default());
    } else {
        print_status(&st);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_status(st: &Status) {
    println!(
        "config {} (loaded {}; server started {}; {} reload{}{})",
        st.config,
        st.config_loaded,
        st.started,
        st.reloads,
        if st.reloads == 1 { "" } else { "s" },
        if st.reloading { "; reloading now" } else { "" }
    );
    if let Some(f) = &st.config_failure {
        println!("  last config failure at {}: {}", f.at, f.reason);
        for d in &f.diagnostics {
            println!("    {d}");
        }
    }
    for z in &st.zones {
        match (z.serial, &z.loaded_at) {
            (Some(serial), Some(at)) => println!(
                "{}: serial {serial}, loaded {at}, {} records, {} errors, {} warnings, {} info, {} load{}{}",
                z.name,
                z.records,
                z.errors,
                z.warnings,
                z.infos,
                z.loads,
                if z.loads == 1 { "" } else { "s" },
                if z.failing {
                    "; LAST RELOAD FAILED"
                } else {
                    ""
                }
            ),
            _ => println!("{}: NOT SERVED ({})", z.name, z.file),
        }
        if z.role == "secondary" {
            println!(
                "  secondary of {}; last transfer: {}; next refresh {}; expires {}",
                z.primaries.join(", "),
                z.last_transfer.as_deref().unwrap_or("none yet"),
                z.next_refresh.as_deref().unwrap_or("-"),
                z.expires.as_deref().unwrap_or("-")
            );
            if let Some(e) = &z.refresh_error {
                println!("  last refresh failed: {e}");
            }
        }
        for n in &z.notes {
            println!("  note: {n}");
        }
        if let Some(f) = &z.last_failure {
            println!("  last failure at {}: {}", f.at, f.reason);
            for d in &f.diagnostics {
                println!("    {d}");
            }
        }
    }
}
