//! `mailzone serve` and `mailzone query`: wiring the config, the checks, the
//! engine and the listeners together, and a small client for labs and
//! health checks.

use arc_swap::ArcSwap;
use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query};
use hickory_proto::rr::{Name, RecordType};
use mailzone_check::{Diagnostic, Severity, apply_policy, checks::check_zone};
use mailzone_config::Config;
use mailzone_engine::{Catalog, Snapshot};
use mailzone_server::{Limits, serve_tcp, serve_udp};
use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

fn init_logging(cfg: &mailzone_config::LogConfig) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&cfg.level));
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    if cfg.format == "json" {
        b.json().init();
    } else {
        b.init();
    }
}

/// Logs a zone's findings once: errors and warnings one line each (the first
/// hundred), info findings as counts per id.
fn log_findings(zone: &str, diags: &[Diagnostic], sources: &mailzone_zone::SourceMap) {
    for (shown, d) in diags
        .iter()
        .filter(|d| d.severity >= Severity::Warning)
        .enumerate()
    {
        if shown == 100 {
            tracing::warn!(
                zone,
                "… and more findings; run `mailzone check` for all of them"
            );
            break;
        }
        let at = sources.location(d.span);
        match d.severity {
            Severity::Error => tracing::error!(zone, id = d.id, at = %at, "{}", d.message),
            _ => tracing::warn!(zone, id = d.id, at = %at, "{}", d.message),
        }
    }
    let mut infos: Vec<(&str, usize)> = Vec::new();
    for d in diags.iter().filter(|d| d.severity == Severity::Info) {
        match infos.iter_mut().find(|(id, _)| *id == d.id) {
            Some(e) => e.1 += 1,
            None => infos.push((d.id, 1)),
        }
    }
    if !infos.is_empty() {
        let list: Vec<String> = infos.iter().map(|(id, n)| format!("{id}×{n}")).collect();
        tracing::info!(zone, "info findings: {}", list.join(" "));
    }
}

/// Reads, checks and compiles one zone; `None` when it must not be served.
fn load_zone(z: &mailzone_config::ZoneConfig) -> Option<Snapshot> {
    let origin = crate::parse_origin(&z.name).ok();
    let r = crate::load(&z.file, origin);
    let name = z.name.as_str();
    if !r.is_ok() {
        let diags: Vec<Diagnostic> = r.errors.iter().map(Diagnostic::from).collect();
        log_findings(name, &diags, &r.zone.sources);
        tracing::error!(
            zone = name,
            errors = diags.len(),
            "zone not loaded: it does not read cleanly"
        );
        return None;
    }
    let mut diags = check_zone(&r.zone);
    let pairs = |v: &[mailzone_config::Override]| {
        v.iter()
            .map(|o| (o.id.clone(), o.reason.clone()))
            .collect::<Vec<_>>()
    };
    apply_policy(&mut diags, &pairs(&z.check.allow), &pairs(&z.check.raise));
    log_findings(name, &diags, &r.zone.sources);
    let count = |s| diags.iter().filter(|d| d.severity == s).count();
    let (e, w, i) = (
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Info),
    );
    if e > 0 && !z.check.serve_with_errors {
        tracing::error!(
            zone = name,
            errors = e,
            "zone not served: check errors (set on_error = \"warn\" to serve it anyway)"
        );
        return None;
    }
    let snap = Snapshot::compile(&r.zone);
    tracing::info!(
        zone = name,
        records = snap.records,
        serial = snap.serial,
        errors = e,
        warnings = w,
        info = i,
        "zone loaded"
    );
    Some(snap)
}

pub fn serve(config: &Path) -> Result<ExitCode, String> {
    let cfg: Config = match mailzone_config::load(config, mailzone_check::known_id) {
        Ok(c) => c,
        Err((errors, sources)) => {
            let report = mailzone_check::Report {
                subject: config.display().to_string(),
                diagnostics: errors.iter().map(Diagnostic::from).collect(),
                sources,
            };
            mailzone_check::render::human(&report, false, &mut std::io::stderr().lock())
                .map_err(|e| e.to_string())?;
            return Ok(ExitCode::from(1));
        }
    };
    init_logging(&cfg.log);
    let snapshots: Vec<Snapshot> = cfg.zones.iter().filter_map(load_zone).collect();
    if snapshots.is_empty() {
        tracing::error!("no zone could be loaded; nothing to serve");
        return Ok(ExitCode::from(1));
    }
    let catalog: mailzone_server::Published =
        Arc::new(ArcSwap::from_pointee(Catalog::new(snapshots)));
    let limits = Limits {
        udp_payload: cfg.server.udp_payload,
        tcp_idle: Duration::from_secs(cfg.server.tcp_idle_timeout),
        max_tcp_connections: cfg.server.max_tcp_connections,
        log_queries: cfg.log.queries,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async move {
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let mut tasks = Vec::new();
        for a in &cfg.server.listen {
            let addr: SocketAddr = a
                .parse()
                .map_err(|_| format!("listen address `{a}` is not ip:port"))?;
            let udp = tokio::net::UdpSocket::bind(addr)
                .await
                .map_err(|e| format!("cannot bind UDP {addr}: {e}"))?;
            let tcp = tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|e| format!("cannot bind TCP {addr}: {e}"))?;
            tracing::info!(%addr, "listening on UDP and TCP");
            tasks.push(tokio::spawn(serve_udp(
                Arc::new(udp),
                catalog.clone(),
                limits,
                stop_rx.clone(),
            )));
            tasks.push(tokio::spawn(serve_tcp(
                tcp,
                catalog.clone(),
                limits,
                stop_rx.clone(),
            )));
        }
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .map_err(|e| e.to_string())?;
        tokio::select! {
            _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT: stopping"),
            _ = term.recv() => tracing::info!("SIGTERM: stopping"),
        }
        let _ = stop_tx.send(true);
        for t in tasks {
            let _ = tokio::time::timeout(Duration::from_secs(5), t).await;
        }
        Ok::<(), String>(())
    })?;
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Args)]
pub struct QueryArgs {
    /// `@server` (address, default 127.0.0.1), then the name, then the type (default A).
    args: Vec<String>,
    /// Server port.
    #[arg(short, long, default_value_t = 53)]
    port: u16,
    /// Use TCP from the start (UDP answers with TC set are retried over TCP anyway).
    #[arg(long)]
    tcp: bool,
    /// Set the DNSSEC OK bit.
    #[arg(long)]
    dnssec: bool,
    /// Send no EDNS OPT record.
    #[arg(long)]
    no_edns: bool,
    /// Seconds to wait for an answer.
    #[arg(long, default_value_t = 3)]
    timeout: u64,
}

fn exchange_udp(server: SocketAddr, msg: &[u8], timeout: Duration) -> std::io::Result<Vec<u8>> {
    let bind: SocketAddr = if server.is_ipv4() {
        "0.0.0.0:0".parse().unwrap()
    } else {
        "[::]:0".parse().unwrap()
    };
    let s = std::net::UdpSocket::bind(bind)?;
    s.set_read_timeout(Some(timeout))?;
    s.send_to(msg, server)?;
    let mut buf = vec![0u8; 65535];
    loop {
        let (n, from) = s.recv_from(&mut buf)?;
        // Only the answer from the server, to our id.
        if from == server && n >= 2 && buf[..2] == msg[..2] {
            return Ok(buf[..n].to_vec());
        }
    }
}

fn exchange_tcp(server: SocketAddr, msg: &[u8], timeout: Duration) -> std::io::Result<Vec<u8>> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect_timeout(&server, timeout)?;
    s.set_read_timeout(Some(timeout))?;
    let mut frame = (msg.len() as u16).to_be_bytes().to_vec();
    frame.extend_from_slice(msg);
    s.write_all(&frame)?;
    let mut len = [0u8; 2];
    s.read_exact(&mut len)?;
    let mut buf = vec![0u8; u16::from_be_bytes(len) as usize];
    s.read_exact(&mut buf)?;
    Ok(buf)
}

pub fn query(a: &QueryArgs) -> Result<ExitCode, String> {
    let mut server = "127.0.0.1".to_string();
    let mut rest = Vec::new();
    for x in &a.args {
        match x.strip_prefix('@') {
            Some(s) => server = s.to_string(),
            None => rest.push(x.clone()),
        }
    }
    let (name, rtype) = match rest.as_slice() {
        [n] => (n.clone(), "A".to_string()),
        [n, t] => (n.clone(), t.clone()),
        _ => return Err("usage: mailzone query [@server] <name> [type] [-p port]".into()),
    };
    let ip: std::net::IpAddr = server
        .parse()
        .map_err(|_| format!("`{server}` is not an IP address"))?;
    let addr = SocketAddr::new(ip, a.port);
    let fq = if name.ends_with('.') {
        name.clone()
    } else {
        format!("{name}.")
    };
    let qname = Name::from_str(&fq).map_err(|e| format!("`{name}`: {e}"))?;
    let qtype = RecordType::from_str(&rtype.to_ascii_uppercase())
        .map_err(|_| format!("`{rtype}` is not a record type"))?;
    let id = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(1)
        & 0xffff) as u16;
    let mut msg = Message::new(id, MessageType::Query, OpCode::Query);
    msg.metadata.recursion_desired = false;
    msg.add_query(Query::query(qname, qtype));
    if !a.no_edns {
        let mut e = Edns::new();
        e.set_max_payload(1232);
        e.set_dnssec_ok(a.dnssec);
        msg.set_edns(e);
    }
    let wire = msg.to_vec().map_err(|e| e.to_string())?;
    let timeout = Duration::from_secs(a.timeout);
    let started = std::time::Instant::now();
    let mut via = if a.tcp { "TCP" } else { "UDP" };
    let mut bytes = if a.tcp {
        exchange_tcp(addr, &wire, timeout)
    } else {
        exchange_udp(addr, &wire, timeout)
    }
    .map_err(|e| format!("{addr}: {e}"))?;
    let mut resp =
        Message::from_vec(&bytes).map_err(|e| format!("cannot parse the answer: {e}"))?;
    if resp.metadata.truncation && !a.tcp {
        via = "TCP (UDP answer was truncated)";
        bytes = exchange_tcp(addr, &wire, timeout).map_err(|e| format!("{addr}: {e}"))?;
        resp = Message::from_vec(&bytes).map_err(|e| format!("cannot parse the answer: {e}"))?;
    }
    let h = &resp.metadata;
    println!(
        ";; {} from {addr} over {via} in {} ms, {} bytes",
        h.response_code,
        started.elapsed().as_millis(),
        bytes.len()
    );
    let mut flags = Vec::new();
    for (on, f) in [
        (h.authoritative, "aa"),
        (h.truncation, "tc"),
        (h.recursion_desired, "rd"),
        (h.recursion_available, "ra"),
        (h.authentic_data, "ad"),
        (h.checking_disabled, "cd"),
    ] {
        if on {
            flags.push(f);
        }
    }
    println!(
        ";; id {}, flags: {}; answer {}, authority {}, additional {}",
        h.id,
        flags.join(" "),
        resp.answers.len(),
        resp.authorities.len(),
        resp.additionals.len()
    );
    if let Some(e) = &resp.edns {
        println!(
            ";; EDNS version {}, udp {}, do {}",
            e.version(),
            e.max_payload(),
            e.flags().dnssec_ok
        );
    }
    for (title, recs) in [
        ("ANSWER", &resp.answers),
        ("AUTHORITY", &resp.authorities),
        ("ADDITIONAL", &resp.additionals),
    ] {
        if recs.is_empty() {
            continue;
        }
        println!("\n;; {title}");
        for r in recs {
            let mut line = String::new();
            let zr = mailzone_zone::ZoneRecord {
                owner: r.name.clone(),
                class: r.dns_class,
                ttl: r.ttl,
                rdata: r.data.clone(),
                span: Default::default(),
            };
            mailzone_zone::writer::write_record(&zr, &mut line);
            println!("{line}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
