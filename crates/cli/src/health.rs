//! `mailzone healthcheck`: asks the server of a config for the SOA of each of
//! its zones on each listen address; exit 0 when every one is answered with
//! authority, 1 otherwise. Docker's HEALTHCHECK runs it in the image.

use crate::query::{Ask, absolute_name, ask};
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(clap::Args)]
pub struct HealthArgs {
    /// The server config whose listeners and zones to ask.
    #[arg(long, env = "MAILZONE_CONFIG", default_value = "config/mailzone.toml")]
    config: PathBuf,
    /// Seconds to wait for each answer.
    #[arg(long, default_value_t = 2)]
    timeout: u64,
}

/// A wildcard listen address is asked on loopback, where the server also answers.
fn reachable(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::new(Ipv4Addr::LOCALHOST.into(), addr.port())
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::new(Ipv6Addr::LOCALHOST.into(), addr.port())
        }
        _ => addr,
    }
}

pub fn healthcheck(a: &HealthArgs) -> Result<ExitCode, String> {
    let (listen, zones) = mailzone_config::health_targets_of(&a.config)?;
    if zones.is_empty() {
        return Err(format!("{}: no [[zone]] to ask for", a.config.display()));
    }
    let how = Ask {
        tcp: false,
        edns: true,
        dnssec: false,
        timeout: Duration::from_secs(a.timeout),
    };
    let mut healthy = true;
    for l in &listen {
        let Ok(addr) = l.parse::<SocketAddr>() else {
            println!("unhealthy: listen address `{l}` is not ip:port");
            healthy = false;
            continue;
        };
        let addr = reachable(addr);
        for z in &zones {
            let name = absolute_name(z)?;
            let verdict = match ask(addr, &name, RecordType::SOA, how) {
                Err(e) => Err(format!("no answer: {e}")),
                Ok(r) => {
                    let h = &r.msg.metadata;
                    let has_soa = r
                        .msg
                        .answers
                        .iter()
                        .any(|rec| rec.record_type() == RecordType::SOA && rec.name == name);
                    if h.response_code == ResponseCode::NoError && h.authoritative && has_soa {
                        Ok(())
                    } else {
                        Err(format!(
                            "answered {}{} without an authoritative SOA",
                            h.response_code,
                            if h.authoritative { " (aa)" } else { "" }
                        ))
                    }
                }
            };
            match verdict {
                Ok(()) => println!("ok: {name} SOA at {addr}"),
                Err(why) => {
                    healthy = false;
                    println!("unhealthy: {name} SOA at {addr}: {why}");
                }
            }
        }
    }
    Ok(if healthy {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
