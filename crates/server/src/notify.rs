//! NOTIFY out (RFC 1996): after a zone's new version is published, each of
//! its configured secondaries is told, over UDP, until it answers (retried
//! with backoff: 1, 2, 4, 8, 16 s). A secondary that never answers is logged
//! and will still catch up by its own refresh timer.

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

const OPCODE_NOTIFY: u8 = 4;
const TRIES: u32 = 5;

fn message(id: u16, zone_wire: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(16 + zone_wire.len());
    m.extend_from_slice(&id.to_be_bytes());
    // Opcode NOTIFY, AA (RFC 1996 §3.7).
    m.push(OPCODE_NOTIFY << 3 | 0x04);
    m.push(0);
    m.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]);
    m.extend_from_slice(zone_wire);
    m.extend_from_slice(&6u16.to_be_bytes()); // SOA
    m.extend_from_slice(&1u16.to_be_bytes()); // IN
    m
}

/// Tells every target about a new serial of `zone`, on a thread of its
/// own so a silent secondary never holds up a reload.
pub fn send(zone: String, zone_wire: Vec<u8>, serial: u32, targets: Vec<SocketAddr>) {
    if targets.is_empty() {
        return;
    }
    let spawned = std::thread::Builder::new()
        .name("notify".into())
        .spawn(move || {
            for target in targets {
                notify_one(&zone, &zone_wire, serial, target);
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "cannot start the NOTIFY thread");
    }
}

fn notify_one(zone: &str, zone_wire: &[u8], serial: u32, target: SocketAddr) {
    let bind: SocketAddr = if target.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let sock = match UdpSocket::bind(bind) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(zone, %target, error = %e, "NOTIFY: cannot open a socket");
            return;
        }
    };
    let id = (serial as u16) ^ (std::process::id() as u16);
    let msg = message(id, zone_wire);
    let mut buf = [0u8; 512];
    for attempt in 0..TRIES {
        let wait = Duration::from_secs(1 << attempt);
        let _ = sock.set_read_timeout(Some(wait));
        if let Err(e) = sock.send_to(&msg, target) {
            tracing::debug!(zone, %target, error = %e, "NOTIFY send");
            std::thread::sleep(wait);
            continue;
        }
        let deadline = std::time::Instant::now() + wait;
        while std::time::Instant::now() < deadline {
            match sock.recv_from(&mut buf) {
                Ok((n, from))
                    if from == target
                        && n >= 12
                        && buf[..2] == id.to_be_bytes()
                        && buf[2] & 0x80 != 0
                        && (buf[2] >> 3) & 0xF == OPCODE_NOTIFY =>
                {
                    tracing::info!(zone, %target, serial, rcode = buf[3] & 0xF, "NOTIFY answered");
                    return;
                }
                Ok(_) => continue,
                Err(_) => break,
            }
        }
    }
    tracing::warn!(zone, %target, serial, "NOTIFY unanswered after {TRIES} tries; the secondary will catch up on its refresh timer");
}
