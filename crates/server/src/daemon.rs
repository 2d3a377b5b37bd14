//! `mailzone serve`: loads the config, binds the listeners, loads the zones,
//! and runs until SIGTERM or SIGINT. Reloads (SIGHUP, the control socket, file
//! changes), re-signing and secondary refreshes (timers, NOTIFY) are done by
//! one reload thread, at a lower CPU priority than the listeners so a large
//! zone loading never slows answers.

use crate::control::{self, Job};
use crate::reload::{Reloader, Scope};
use crate::{Limits, serve_tcp, serve_udp_std};
use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
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

/// Runs the server. A config that does not load is reported with locations
/// on stderr and exits 1; listeners that cannot bind are an `Err`.
pub fn run(config_path: &Path) -> Result<ExitCode, String> {
    let cfg = match mailzone_config::load(config_path, mailzone_check::known_id) {
        Ok(c) => c,
        Err((errors, sources)) => {
            let report = mailzone_check::Report {
                subject: config_path.display().to_string(),
                diagnostics: errors
                    .iter()
                    .map(mailzone_check::Diagnostic::from)
                    .collect(),
                sources,
                counted: Vec::new(),
            };
            mailzone_check::render::human(&report, false, &mut std::io::stderr().lock())
                .map_err(|e| e.to_string())?;
            return Ok(ExitCode::from(1));
        }
    };
    init_logging(&cfg.log);
    let mut reloader = Reloader::new(config_path, cfg.clone());
    let catalog = reloader.published();
    let (jobs_tx, jobs_rx) = mpsc::channel::<Job>();
    let limits = Limits {
        udp_payload: cfg.server.udp_payload,
        tcp_idle: Duration::from_secs(cfg.server.tcp_idle_timeout),
        max_tcp_connections: cfg.server.max_tcp_connections,
        log_queries: cfg.log.queries,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cfg.server.workers)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let control_path = cfg.server.control_socket.clone();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    // The listeners come up before the zones load: a zone that may be
    // served whatever its checks find answers as soon as it is compiled
    // (see `load_zone_publishing`); the others answer REFUSED until they
    // are loaded, as a server that is not authoritative for them must.
    let mut tasks = rt.block_on(async {
        let mut tasks = Vec::new();
        for a in &cfg.server.listen {
            let addr: SocketAddr = a
                .parse()
                .map_err(|_| format!("listen address `{a}` is not ip:port"))?;
            // One UDP socket per worker (SO_REUSEPORT): the kernel spreads
            // clients over them, and no worker waits for another.
            let udp = crate::udp::bind_reuseport(addr, cfg.server.workers)
                .map_err(|e| format!("cannot bind UDP {addr}: {e}"))?;
            let tcp = tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|e| format!("cannot bind TCP {addr}: {e}"))?;
            tracing::info!(%addr, workers = cfg.server.workers, "listening on UDP and TCP");
            for sock in udp {
                tasks.push(tokio::spawn(serve_udp_std(
                    sock,
                    catalog.clone(),
                    limits,
                    Some(jobs_tx.clone()),
                    stop_rx.clone(),
                )));
            }
            tasks.push(tokio::spawn(serve_tcp(
                tcp,
                catalog.clone(),
                limits,
                Some(jobs_tx.clone()),
                stop_rx.clone(),
            )));
        }
        Ok::<_, String>(tasks)
    })?;
    reloader.load_all();
    let status = reloader.status_handle();
    let watched: crate::watch::WatchList = Arc::new(Mutex::new(reloader.watched_files()));
    let reload_thread = {
        let watched = watched.clone();
        std::thread::Builder::new()
            .name("reload".into())
            .spawn(move || reload_loop(reloader, jobs_rx, watched))
            .map_err(|e| e.to_string())?
    };
    let result = rt.block_on(async {
        if let Some(p) = &control_path {
            let l = control::bind(p)?;
            tracing::info!(socket = %p.display(), "control socket (mailzone reload, mailzone status)");
            tasks.push(tokio::spawn(control::serve(
                l,
                jobs_tx.clone(),
                status.clone(),
                stop_rx.clone(),
            )));
        }
        if cfg.server.watch {
            crate::watch::spawn(watched.clone(), jobs_tx.clone())?;
            tracing::info!("watching the config and zone files for changes");
        }
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
        let mut hup = signal(SignalKind::hangup()).map_err(|e| e.to_string())?;
        loop {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => { tracing::info!("SIGINT: stopping"); break; }
                _ = term.recv() => { tracing::info!("SIGTERM: stopping"); break; }
                _ = hup.recv() => {
                    let _ = jobs_tx.send(Job { zone: None, force: false, refresh: false, trigger: "SIGHUP", reply: None });
                }
            }
        }
        let _ = stop_tx.send(true);
        for t in tasks {
            let _ = tokio::time::timeout(Duration::from_secs(6), t).await;
        }
        Ok::<(), String>(())
    });
    if let Some(p) = &control_path {
        let _ = std::fs::remove_file(p);
    }
    // Closing the queue ends the reload thread (and with it the watcher)
    // after the reload under way, if any; the process does not wait for it.
    drop(jobs_tx);
    drop(reload_thread);
    result.map(|()| ExitCode::SUCCESS)
}

fn reload_loop(
    mut reloader: Reloader,
    jobs: mpsc::Receiver<Job>,
    watched: crate::watch::WatchList,
) {
    crate::lower_priority();
    loop {
        // Between requests, wake up for the timers: signatures to renew,
        // secondaries to refresh or expire.
        let job = match reloader.next_wakeup() {
            None => match jobs.recv() {
                Ok(j) => j,
                Err(_) => return,
            },
            Some(at) => {
                let wait = at
                    .duration_since(std::time::SystemTime::now())
                    .unwrap_or_default();
                match jobs.recv_timeout(wait) {
                    Ok(j) => j,
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        reloader.set_reloading(true);
                        reloader.timers_due();
                        reloader.set_reloading(false);
                        continue;
                    }
                    Err(mpsc::RecvTimeoutError::Disconnected) => return,
                }
            }
        };
        if job.refresh {
            if let Some(z) = &job.zone {
                reloader.set_reloading(true);
                reloader.refresh(z, job.trigger);
                reloader.set_reloading(false);
            }
            continue;
        }
        reloader.set_reloading(true);
        let scope = match job.zone {
            Some(z) => Scope::Zone(z),
            None => Scope::All,
        };
        let outcome = reloader.reload(scope, job.force, job.trigger);
        reloader.set_reloading(false);
        *watched.lock().unwrap() = reloader.watched_files();
        if let Some(reply) = job.reply {
            let _ = reply.send(outcome);
        }
    }
}
