//! `mailzone route`: where a sending MTA would deliver mail for an address or
//! domain (RFC 5321 §5.1, RFC 7505), asked of one DNS server, so lab users can
//! test MX plans and failover without a resolver or an MTA.

use crate::query::{Ask, absolute_name, ask, server_addr};
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, RData, RecordType};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

#[derive(clap::Args)]
pub struct RouteArgs {
    /// A mail address (`alice@example.com`, `<alice@example.com>`) or a domain.
    target: String,
    /// The DNS server to ask: `ip` or `ip:port`. Repeat it to give the servers
    /// of several zones; each name is asked of them in turn until one does not
    /// refuse it.
    #[arg(long, short, default_value = "127.0.0.1")]
    server: Vec<String>,
    /// Server port when `--server` gives none.
    #[arg(short, long, default_value_t = 53)]
    port: u16,
    /// Seconds to wait for each answer.
    #[arg(long, default_value_t = 3)]
    timeout: u64,
}

/// CNAME hops followed before giving up (a loop or an absurd chain).
const MAX_CHAIN: usize = 8;

/// What one name/type question came to after following aliases.
struct Resolved {
    /// The name the records belong to (the canonical name).
    name: Name,
    rcode: ResponseCode,
    records: Vec<RData>,
    /// Aliases met on the way, in order.
    aliases: Vec<Name>,
}

/// Asks the servers in turn; the first that does not refuse the name answers.
fn resolve(
    servers: &[SocketAddr],
    name: &Name,
    qtype: RecordType,
    how: Ask,
) -> Result<Resolved, String> {
    let mut last = None;
    for &s in servers {
        let r = resolve_at(s, name, qtype, how)?;
        if r.rcode != ResponseCode::Refused {
            return Ok(r);
        }
        last = Some(r);
    }
    last.ok_or_else(|| "no server to ask".to_string())
}

fn resolve_at(
    server: SocketAddr,
    name: &Name,
    qtype: RecordType,
    how: Ask,
) -> Result<Resolved, String> {
    let mut current = name.clone();
    let mut aliases = Vec::new();
    for _ in 0..MAX_CHAIN {
        let resp = ask(server, &current, qtype, how)?.msg;
        let rcode = resp.metadata.response_code;
        // Follow the chain inside this answer: the server adds the targets it holds.
        let mut owner = current.clone();
        loop {
            let next = resp.answers.iter().find_map(|r| match &r.data {
                RData::CNAME(c) if r.name == owner && qtype != RecordType::CNAME => {
                    Some(c.0.clone())
                }
                _ => None,
            });
            match next {
                Some(t) if !aliases.contains(&t) && aliases.len() < MAX_CHAIN => {
                    aliases.push(owner.clone());
                    owner = t;
                }
                Some(_) => return Err(format!("{name}: CNAME loop or chain over {MAX_CHAIN}")),
                None => break,
            }
        }
        let records: Vec<RData> = resp
            .answers
            .iter()
            .filter(|r| r.name == owner && r.record_type() == qtype)
            .map(|r| r.data.clone())
            .collect();
        // The chain left this server's answer: ask again for the target.
        if owner != current && records.is_empty() && rcode == ResponseCode::NoError {
            current = owner;
            continue;
        }
        return Ok(Resolved {
            name: owner,
            rcode,
            records,
            aliases,
        });
    }
    Err(format!("{name}: CNAME chain over {MAX_CHAIN}"))
}

/// The domain part of an address, or the domain itself; `Err` names an address literal.
fn domain_of(target: &str) -> Result<&str, &str> {
    let t = target.trim().trim_start_matches('<').trim_end_matches('>');
    let domain = t.rsplit_once('@').map_or(t, |(_, d)| d);
    if domain.starts_with('[') && domain.ends_with(']') {
        return Err(domain);
    }
    Ok(domain)
}

struct Hop {
    preference: u16,
    exchange: Name,
    addresses: Vec<String>,
    /// Why the exchange has no usable address, or what is wrong with it.
    note: Option<String>,
}

fn addresses(server: &[SocketAddr], host: &Name, how: Ask) -> Result<Hop, String> {
    let mut hop = Hop {
        preference: 0,
        exchange: host.clone(),
        addresses: Vec::new(),
        note: None,
    };
    let mut problems = Vec::new();
    for qtype in [RecordType::A, RecordType::AAAA] {
        let r = resolve(server, host, qtype, how)?;
        if !r.aliases.is_empty() && qtype == RecordType::A {
            problems.push(format!(
                "is an alias of {} (RFC 2181 §10.3: an MX must name a host, not a CNAME)",
                r.name
            ));
        }
        match r.rcode {
            ResponseCode::NoError => {
                hop.addresses
                    .extend(r.records.iter().filter_map(|d| match d {
                        RData::A(a) => Some(a.0.to_string()),
                        RData::AAAA(a) => Some(a.0.to_string()),
                        _ => None,
                    }))
            }
            ResponseCode::NXDomain if qtype == RecordType::A => {
                problems.push("does not exist (NXDOMAIN)".into())
            }
            ResponseCode::NXDomain => {}
            ResponseCode::Refused if qtype == RecordType::A => problems.push(
                "not served by the servers asked (REFUSED); add its server with --server".into(),
            ),
            ResponseCode::Refused => {}
            other => problems.push(format!("{qtype} lookup failed: {other}")),
        }
    }
    if hop.addresses.is_empty() && problems.is_empty() {
        problems.push("has no A or AAAA record".into());
    }
    if hop.addresses.is_empty() {
        problems.push("skipped by senders".into());
    }
    if !problems.is_empty() {
        hop.note = Some(problems.join("; "));
    }
    Ok(hop)
}

/// Sorts by preference and shuffles each run of equal preferences, as RFC 5321
/// §5.1 asks of senders to spread load.
fn order(hops: &mut [Hop]) {
    hops.sort_by_key(|h| h.preference);
    let mut start = 0;
    while start < hops.len() {
        let pref = hops[start].preference;
        let end = start
            + hops[start..]
                .iter()
                .take_while(|h| h.preference == pref)
                .count();
        fastrand::shuffle(&mut hops[start..end]);
        start = end;
    }
}

pub fn route(a: &RouteArgs) -> Result<ExitCode, String> {
    let servers = a
        .server
        .iter()
        .map(|s| server_addr(s, a.port))
        .collect::<Result<Vec<_>, _>>()?;
    let shown = servers
        .iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let how = Ask {
        tcp: false,
        edns: true,
        dnssec: false,
        timeout: Duration::from_secs(a.timeout),
    };
    let domain = match domain_of(&a.target) {
        Ok(d) => d,
        Err(literal) => {
            println!(
                "{}: address literal: senders connect to {literal} directly, no DNS",
                a.target
            );
            return Ok(ExitCode::SUCCESS);
        }
    };
    let name = absolute_name(domain)?;
    println!("route for {} (domain {name}), asking {shown}", a.target);
    let mx = resolve(&servers, &name, RecordType::MX, how)?;
    for alias in &mx.aliases {
        println!("  {alias} is an alias (CNAME); senders use its target");
    }
    let target = &mx.name;
    match mx.rcode {
        ResponseCode::NoError => {}
        ResponseCode::NXDomain => {
            println!("no route: {target} does not exist (NXDOMAIN); senders bounce at once");
            return Ok(ExitCode::from(1));
        }
        ResponseCode::Refused => {
            return Err(format!(
                "{shown} do not serve {target} (REFUSED); ask one of that domain's servers"
            ));
        }
        other => return Err(format!("{shown} answered {other} for {target} MX")),
    }
    let mut hops = Vec::new();
    let exchanges: Vec<(u16, Name)> = mx
        .records
        .iter()
        .filter_map(|d| match d {
            RData::MX(m) => Some((m.preference, m.exchange.clone())),
            _ => None,
        })
        .collect();
    if exchanges.len() == 1 && exchanges[0].1.is_root() {
        println!(
            "no route: {target} has a null MX (RFC 7505): it accepts no mail; senders bounce at once"
        );
        return Ok(ExitCode::from(1));
    }
    if exchanges.is_empty() {
        println!("{target} has no MX: implicit MX (RFC 5321 §5.1), the domain's own address");
        let hop = addresses(&servers, target, how)?;
        if hop.addresses.is_empty() {
            println!(
                "no route: {target} has no MX and no address: {}",
                hop.note.unwrap_or_default()
            );
            return Ok(ExitCode::from(1));
        }
        hops.push(hop);
    } else {
        for (preference, exchange) in exchanges {
            if exchange.is_root() {
                // A "." among other MX records is not a null MX (RFC 7505 §3), just unusable.
                hops.push(Hop {
                    preference,
                    exchange,
                    addresses: Vec::new(),
                    note: Some("`.` beside other MX records is not a null MX (RFC 7505 §3); skipped by senders".into()),
                });
                continue;
            }
            let mut hop = addresses(&servers, &exchange, how)?;
            hop.preference = preference;
            hops.push(hop);
        }
    }
    order(&mut hops);
    let width = hops
        .iter()
        .map(|h| h.exchange.to_string().len())
        .max()
        .unwrap_or(8)
        .max(8);
    println!(
        "  {:<5} {:<5} {:<width$} addresses",
        "try", "pref", "exchange"
    );
    let mut usable = 0;
    for (i, h) in hops.iter().enumerate() {
        let addrs = if h.addresses.is_empty() {
            "-".to_string()
        } else {
            usable += 1;
            h.addresses.join(", ")
        };
        println!(
            "  {:<5} {:<5} {:<width$} {addrs}",
            i + 1,
            h.preference,
            h.exchange.to_string()
        );
        if let Some(n) = &h.note {
            println!("        {} {n}", h.exchange);
        }
    }
    let tied = hops.windows(2).any(|w| w[0].preference == w[1].preference);
    if tied {
        println!("  (equal preferences are shuffled: senders spread mail across them)");
    }
    if usable == 0 {
        println!("no route: no exchange has an address; mail queues, then bounces");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::domain_of;

    #[test]
    fn targets() {
        assert_eq!(domain_of("alice@example.com"), Ok("example.com"));
        assert_eq!(domain_of("<a@b@example.com>"), Ok("example.com"));
        assert_eq!(domain_of("example.com"), Ok("example.com"));
        assert_eq!(domain_of("bob@[192.0.2.1]"), Err("[192.0.2.1]"));
    }
}
