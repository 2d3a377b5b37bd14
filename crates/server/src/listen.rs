//! The listeners: UDP and TCP sockets that move bytes between clients and the
//! engine, nothing else. Sockets are bound by the caller (tests bind port 0).
//! The catalog is read through an atomic pointer, so a reload can publish a
//! new one while queries are answered; readers never wait.

use crate::Published;
use crate::control::Job;
use mailzone_engine::transfer::{NotifyIn, notify_in};
use mailzone_engine::transfer::{Transfer, is_transfer, transfer};
use mailzone_engine::{ClientCtx, answer};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::{Semaphore, watch};
use tokio::time::Instant;

/// After a stop is asked for, a TCP connection still answers queries that
/// arrive this close to each other (those already sent), then closes.
const DRAIN_IDLE: Duration = Duration::from_millis(250);
/// How long a stop waits for TCP connections to drain.
const DRAIN_MAX: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub udp_payload: u16,
    pub tcp_idle: Duration,
    pub max_tcp_connections: usize,
    pub log_queries: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            udp_payload: 1232,
            tcp_idle: Duration::from_secs(10),
            max_tcp_connections: 256,
            log_queries: false,
        }
    }
}

/// Answers UDP queries until `shutdown` turns true.
/// Where a NOTIFY from a secondary zone's primary is passed on (the reload
/// thread); without it NOTIFY is answered but triggers nothing.
pub type Notices = Option<std::sync::mpsc::Sender<Job>>;

/// Answers a NOTIFY, and asks the reload thread to refresh the zone when it
/// came from one of its primaries. `None` when the message is not a NOTIFY.
fn handle_notify(
    catalog: &Published,
    q: &[u8],
    peer: std::net::IpAddr,
    notices: &Notices,
) -> Option<Vec<u8>> {
    // Ordinary queries pay only this byte test.
    if q.len() < 12 || (q[2] >> 3) & 0xF != 4 {
        return None;
    }
    match notify_in(&catalog.load(), q, peer) {
        NotifyIn::No => None,
        NotifyIn::Reply { reply, refresh } => {
            match refresh {
                Some(zone) => {
                    let name = mailzone_zone::record::name_from_wire(&zone)
                        .map(|n| n.to_ascii())
                        .unwrap_or_default();
                    tracing::info!(%peer, zone = name, "NOTIFY received; refreshing");
                    if let Some(tx) = notices {
                        let _ = tx.send(Job {
                            zone: Some(name),
                            force: false,
                            refresh: true,
                            trigger: "NOTIFY",
                            reply: None,
                        });
                    }
                }
                None => {
                    tracing::info!(%peer, "NOTIFY refused: not from a primary of a secondary zone")
                }
            }
            Some(reply)
        }
    }
}

/// Answers UDP queries on `sock` until `shutdown` turns true. The work runs
/// on a thread of its own (the batched fast path of [`crate::udp`]); this
/// future ends when that thread does.
pub async fn serve_udp(
    sock: Arc<UdpSocket>,
    catalog: Published,
    limits: Limits,
    notices: Notices,
    shutdown: watch::Receiver<bool>,
) {
    use std::os::fd::AsFd;
    // The worker reads a duplicate of the descriptor in blocking mode; the
    // tokio socket is not used again.
    let std_sock = match sock.as_fd().try_clone_to_owned() {
        Ok(fd) => std::net::UdpSocket::from(fd),
        Err(e) => {
            tracing::error!(error = %e, "cannot take over the UDP socket");
            return;
        }
    };
    drop(sock);
    serve_udp_std(std_sock, catalog, limits, notices, shutdown).await;
}

/// As [`serve_udp`], for a socket bound by `std` (or `udp::bind_reuseport`).
pub async fn serve_udp_std(
    sock: std::net::UdpSocket,
    catalog: Published,
    limits: Limits,
    notices: Notices,
    shutdown: watch::Receiver<bool>,
) {
    let ctx = ClientCtx {
        tcp: false,
        udp_payload: limits.udp_payload,
    };
    let special_catalog = catalog.clone();
    let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
    // A thread of its own, not tokio's blocking pool: pool threads are
    // reused, and one that built a transfer runs at background priority.
    let spawned = std::thread::Builder::new()
        .name("udp".into())
        .spawn(move || {
            crate::udp::run(
                sock,
                catalog,
                ctx,
                limits.log_queries,
                || *shutdown.borrow(),
                |q, peer| handle_notify(&special_catalog, q, peer.ip(), &notices),
            );
            let _ = done_tx.send(());
        });
    match spawned {
        Ok(_) => {
            let _ = done_rx.await;
        }
        Err(e) => tracing::error!(error = %e, "cannot start a UDP worker"),
    }
}

/// Accepts TCP connections until `shutdown` turns true, then waits (up to
/// five seconds) for open connections to answer what they were sent. Each
/// connection may send many queries (RFC 7766 pipelining); a connection
/// silent for longer than the idle limit is closed; beyond the connection
/// cap new ones are closed at once, so a slow client never blocks others.
pub async fn serve_tcp(
    listener: TcpListener,
    catalog: Published,
    limits: Limits,
    notices: Notices,
    mut shutdown: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_tcp_connections));
    loop {
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    tracing::warn!(error = %e, "tcp accept");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => break,
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            tracing::debug!(%peer, "tcp connection cap reached; closing");
            drop(stream);
            continue;
        };
        let catalog = catalog.clone();
        let shutdown = shutdown.clone();
        let notices = notices.clone();
        tokio::spawn(async move {
            if let Err(e) = connection(stream, peer.ip(), catalog, limits, notices, shutdown).await
            {
                tracing::debug!(%peer, error = %e, "tcp connection");
            }
            drop(permit);
        });
    }
    let all = limits.max_tcp_connections.min(u32::MAX as usize) as u32;
    if tokio::time::timeout(DRAIN_MAX, slots.acquire_many(all))
        .await
        .is_err()
    {
        tracing::warn!("TCP connections still open after the drain time; closing them");
    }
}

/// One TCP connection: reads whatever the client has sent, answers every
/// complete query in it, and writes all the answers with one write, so
/// pipelined queries (RFC 7766 §6.2.1.1) cost one read and one write per
/// batch rather than three system calls each.
async fn connection(
    mut stream: TcpStream,
    peer: std::net::IpAddr,
    catalog: Published,
    limits: Limits,
    notices: Notices,
    mut shutdown: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let ctx = ClientCtx {
        tcp: true,
        udp_payload: limits.udp_payload,
    };
    let mut out = Vec::with_capacity(4096);
    // Bytes received and not yet answered: at most one partial frame after
    // each pass.
    let mut inbuf: Vec<u8> = Vec::with_capacity(16 * 1024);
    let mut outbuf: Vec<u8> = Vec::with_capacity(16 * 1024);
    let mut draining = *shutdown.borrow();
    let idle = tokio::time::sleep(limits.tcp_idle);
    tokio::pin!(idle);
    loop {
        let mut used = 0;
        while let Some(head) = inbuf.get(used..used + 2) {
            let n = u16::from_be_bytes([head[0], head[1]]) as usize;
            let Some(q) = inbuf.get(used + 2..used + 2 + n) else {
                break;
            };
            used += 2 + n;
            if let Some(reply) = handle_notify(&catalog, q, peer, &notices) {
                push_frame(&mut outbuf, &reply);
                continue;
            }
            if is_transfer(q) {
                // Answers already made go first, in order.
                stream.write_all(&outbuf).await?;
                outbuf.clear();
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                stream = send_transfer(stream, catalog.load_full(), q.to_vec(), peer, now).await?;
                continue;
            }
            if answer(&catalog.load(), q, &ctx, &mut out) {
                push_frame(&mut outbuf, &out);
            }
            // Many pipelined queries for large answers: write as we go, so
            // the buffer stays small whatever the client sends.
            if outbuf.len() >= 64 * 1024 {
                stream.write_all(&outbuf).await?;
                outbuf.clear();
            }
        }
        inbuf.drain(..used);
        if !outbuf.is_empty() {
            stream.write_all(&outbuf).await?;
            outbuf.clear();
        }
        // A stop never cancels a read half-way (that would lose bytes of a
        // frame): it only shortens how long the read may still wait.
        let wait = if draining {
            DRAIN_IDLE
        } else {
            limits.tcp_idle
        };
        idle.as_mut().reset(Instant::now() + wait);
        if inbuf.capacity() - inbuf.len() < 2048 {
            inbuf.reserve(16 * 1024);
        }
        let got = loop {
            tokio::select! {
                r = stream.read_buf(&mut inbuf) => break Some(r),
                _ = &mut idle => break None,
                _ = shutdown.changed(), if !draining => {
                    draining = true;
                    let sooner = idle.deadline().min(Instant::now() + DRAIN_IDLE);
                    idle.as_mut().reset(sooner);
                }
            }
        };
        match got {
            // Silent too long (or drained): close.
            None => return Ok(()),
            Some(Ok(0)) => return Ok(()),
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(e),
        }
    }
}

fn push_frame(buf: &mut Vec<u8>, msg: &[u8]) {
    buf.extend_from_slice(&(msg.len() as u16).to_be_bytes());
    buf.extend_from_slice(msg);
}

/// Answers a transfer request on a thread of its own at background
/// priority: building a large zone's messages and writing megabytes take
/// CPU the listeners need more. The socket goes to that thread and comes
/// back for the connection's next query; no catalog guard is held.
async fn send_transfer(
    stream: TcpStream,
    cat: Arc<mailzone_engine::Catalog>,
    q: Vec<u8>,
    peer: std::net::IpAddr,
    now: u64,
) -> std::io::Result<TcpStream> {
    use std::io::Write;
    let sock = stream.into_std()?;
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        crate::lower_priority();
        let result = (|| -> std::io::Result<std::net::TcpStream> {
            sock.set_nonblocking(false)?;
            let mut w = std::io::BufWriter::with_capacity(64 * 1024, &sock);
            let frame = |w: &mut std::io::BufWriter<&std::net::TcpStream>, m: &[u8]| {
                w.write_all(&(m.len() as u16).to_be_bytes())?;
                w.write_all(m)
            };
            match transfer(&cat, &q, peer, now) {
                Transfer::No => {}
                Transfer::Refused(m) => {
                    tracing::info!(%peer, "zone transfer refused");
                    frame(&mut w, &m)?;
                }
                Transfer::Messages(ms) => {
                    let bytes: usize = ms.iter().map(Vec::len).sum();
                    for m in &ms {
                        frame(&mut w, m)?;
                    }
                    tracing::info!(%peer, messages = ms.len(), bytes, "zone transfer sent");
                }
            }
            w.flush()?;
            drop(w);
            sock.set_nonblocking(true)?;
            Ok(sock)
        })();
        let _ = tx.send(result);
    });
    let sock = rx
        .await
        .map_err(|_| std::io::Error::other("the transfer thread ended"))??;
    TcpStream::from_std(sock)
}
