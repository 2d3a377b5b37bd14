//! The running server: listeners that move bytes between clients and the
//! engine, the reload thread that takes config and zones through read →
//! check → (sign →) compile off the serving path and publishes by one atomic
//! swap, the ways to ask for a reload (SIGHUP, the control socket, file
//! watch), and zone transfers' moving parts (NOTIFY out, fetching from
//! primaries, DNSSEC and TSIG key files).

pub mod control;
pub mod daemon;
pub mod keys;
pub mod listen;
pub mod load;
pub mod notify;
pub mod reload;
pub mod secondary;
pub mod udp;
pub mod watch;

pub use listen::{Limits, serve_tcp, serve_udp, serve_udp_std};

use arc_swap::ArcSwap;
use hickory_proto::rr::Name;
use mailzone_engine::Catalog;
use std::str::FromStr;
use std::sync::Arc;

/// The published catalog, swapped whole on reload.
pub type Published = Arc<ArcSwap<Catalog>>;

/// A zone name as written in the config, made absolute.
pub fn parse_origin(o: &str) -> Result<Name, String> {
    let fq = if o.ends_with('.') {
        o.to_string()
    } else {
        format!("{o}.")
    };
    Name::from_str(&fq).map_err(|e| format!("`{o}` is not a domain name ({e})"))
}

/// Nice value of background work (reloads, the check and signing threads
/// they start, building zone transfers): low enough that the listeners win
/// the CPU, not so low that a busy server never finishes it.
const BACKGROUND_NICE: i32 = 10;

/// Lowers this thread's CPU priority; threads it starts inherit it.
pub(crate) fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority on our own thread id; no memory is touched.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        if libc::setpriority(libc::PRIO_PROCESS, tid, BACKGROUND_NICE) != 0 {
            tracing::debug!("could not lower a background thread's priority");
        }
    }
}
