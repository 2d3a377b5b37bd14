//! The UDP fast path: one blocking thread per socket that takes queries in
//! batches with `recvmmsg` and sends the answers with one `sendmmsg`, so the
//! system-call cost is shared by up to `BATCH` queries. Buffers are made once
//! per thread; a query costs no allocation here. Several sockets may share an
//! address through `SO_REUSEPORT`, one per worker.

use crate::Published;
use mailzone_engine::{ClientCtx, answer};
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::time::Duration;

/// Queries taken per system call at most.
const BATCH: usize = 64;
/// Longest query read; larger datagrams are dropped (no DNS query needs more).
const QUERY_MAX: usize = 4096;
/// How often a waiting worker looks at the stop flag.
const STOP_POLL: Duration = Duration::from_millis(200);

/// Binds `n` UDP sockets to `addr` with `SO_REUSEPORT`, so the kernel spreads
/// queries over them by the client's address and port. Port 0 picks one
/// port for all of them.
pub fn bind_reuseport(addr: SocketAddr, n: usize) -> std::io::Result<Vec<UdpSocket>> {
    use socket2::{Domain, Protocol, Socket, Type};
    let mut out: Vec<UdpSocket> = Vec::with_capacity(n);
    let mut at = addr;
    for _ in 0..n.max(1) {
        let s = Socket::new(Domain::for_address(at), Type::DGRAM, Some(Protocol::UDP))?;
        if at.is_ipv6() {
            s.set_only_v6(true)?;
        }
        s.set_reuse_port(true)?;
        // Bursts of queries wait here rather than being dropped.
        let _ = s.set_recv_buffer_size(4 << 20);
        s.bind(&at.into())?;
        let s: UdpSocket = s.into();
        at = s.local_addr()?;
        out.push(s);
    }
    Ok(out)
}

/// Answers queries on `sock` until `stop()` is true. `special` sees each
/// query first and may answer it itself (NOTIFY).
pub fn run(
    sock: UdpSocket,
    catalog: Published,
    ctx: ClientCtx,
    log_queries: bool,
    stop: impl Fn() -> bool,
    special: impl Fn(&[u8], SocketAddr) -> Option<Vec<u8>>,
) {
    if let Err(e) = sock
        .set_nonblocking(false)
        .and_then(|()| sock.set_read_timeout(Some(STOP_POLL)))
    {
        tracing::error!(error = %e, "udp socket setup");
        return;
    }
    let fd = sock.as_raw_fd();
    let mut rx = vec![[0u8; QUERY_MAX]; BATCH];
    let mut tx: Vec<Vec<u8>> = (0..BATCH).map(|_| Vec::with_capacity(4096)).collect();
    // SAFETY (for the zeroed structs): sockaddr_storage, iovec, msghdr and
    // mmsghdr are plain C structs for which all-zero is a valid value.
    let mut peers: Vec<libc::sockaddr_storage> = vec![unsafe { std::mem::zeroed() }; BATCH];
    let mut iov: Vec<libc::iovec> = vec![unsafe { std::mem::zeroed() }; BATCH];
    let mut msgs: Vec<libc::mmsghdr> = vec![unsafe { std::mem::zeroed() }; BATCH];
    let mut out_iov: Vec<libc::iovec> = vec![unsafe { std::mem::zeroed() }; BATCH];
    let mut out_msgs: Vec<libc::mmsghdr> = vec![unsafe { std::mem::zeroed() }; BATCH];
    while !stop() {
        for i in 0..BATCH {
            iov[i] = libc::iovec {
                iov_base: rx[i].as_mut_ptr().cast(),
                iov_len: QUERY_MAX,
            };
            let h = &mut msgs[i].msg_hdr;
            h.msg_name = (&mut peers[i] as *mut libc::sockaddr_storage).cast();
            h.msg_namelen = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            h.msg_iov = &mut iov[i];
            h.msg_iovlen = 1;
            h.msg_control = std::ptr::null_mut();
            h.msg_controllen = 0;
            h.msg_flags = 0;
            msgs[i].msg_len = 0;
        }
        // SAFETY: every msghdr points at buffers (rx, peers, iov) that live
        // for this whole loop iteration and are not otherwise touched until
        // the call returns. MSG_WAITFORONE: block for the first datagram
        // only (up to the read timeout), then take what is already queued.
        let got = unsafe {
            libc::recvmmsg(
                fd,
                msgs.as_mut_ptr(),
                BATCH as libc::c_uint,
                libc::MSG_WAITFORONE,
                std::ptr::null_mut(),
            )
        };
        if got <= 0 {
            let e = std::io::Error::last_os_error();
            if !matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock
                    | std::io::ErrorKind::TimedOut
                    | std::io::ErrorKind::Interrupted
            ) {
                // ICMP errors surface here on some systems; not ours to stop on.
                tracing::debug!(error = %e, "udp receive");
            }
            continue;
        }
        let got = got as usize;
        let cat = catalog.load();
        let mut n_out = 0;
        for i in 0..got {
            let len = msgs[i].msg_len as usize;
            if msgs[i].msg_hdr.msg_flags & libc::MSG_TRUNC != 0 {
                continue;
            }
            let Some(peer) = to_socket_addr(&peers[i]) else {
                continue;
            };
            let q = &rx[i][..len];
            if log_queries {
                tracing::debug!(%peer, bytes = len, "udp query");
            }
            let out = &mut tx[n_out];
            out.clear();
            if let Some(reply) = special(q, peer) {
                out.extend_from_slice(&reply);
            } else if !answer(&cat, q, &ctx, out) {
                continue;
            }
            out_iov[n_out] = libc::iovec {
                iov_base: out.as_mut_ptr().cast(),
                iov_len: out.len(),
            };
            let h = &mut out_msgs[n_out].msg_hdr;
            h.msg_name = (&mut peers[i] as *mut libc::sockaddr_storage).cast();
            h.msg_namelen = msgs[i].msg_hdr.msg_namelen;
            h.msg_iov = &mut out_iov[n_out];
            h.msg_iovlen = 1;
            h.msg_control = std::ptr::null_mut();
            h.msg_controllen = 0;
            h.msg_flags = 0;
            n_out += 1;
        }
        drop(cat);
        let mut sent = 0;
        while sent < n_out {
            // SAFETY: out_msgs[sent..n_out] point at tx, out_iov and peers,
            // all alive and unchanged until this loop ends.
            let r = unsafe {
                libc::sendmmsg(
                    fd,
                    out_msgs[sent..].as_mut_ptr(),
                    (n_out - sent) as libc::c_uint,
                    0,
                )
            };
            if r <= 0 {
                let e = std::io::Error::last_os_error();
                if e.kind() == std::io::ErrorKind::Interrupted {
                    continue;
                }
                // One bad destination must not cost the rest of the batch.
                tracing::debug!(error = %e, "udp send");
                sent += 1;
                continue;
            }
            sent += r as usize;
        }
    }
}

fn to_socket_addr(s: &libc::sockaddr_storage) -> Option<SocketAddr> {
    match s.ss_family as libc::c_int {
        libc::AF_INET => {
            // SAFETY: the family says this storage holds a sockaddr_in.
            let a = unsafe { &*(s as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>() };
            Some(SocketAddr::from((
                u32::from_be(a.sin_addr.s_addr).to_be_bytes(),
                u16::from_be(a.sin_port),
            )))
        }
        libc::AF_INET6 => {
            // SAFETY: the family says this storage holds a sockaddr_in6.
            let a = unsafe { &*(s as *const libc::sockaddr_storage).cast::<libc::sockaddr_in6>() };
            Some(SocketAddr::V6(std::net::SocketAddrV6::new(
                a.sin6_addr.s6_addr.into(),
                u16::from_be(a.sin6_port),
                a.sin6_flowinfo,
                a.sin6_scope_id,
            )))
        }
        _ => None,
    }
}
