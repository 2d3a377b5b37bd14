//! The running server: listeners that move bytes between clients and the
//! engine, the reload thread that takes config and zones through read →
//! check → compile off the serving path and publishes by one atomic swap,
//! and the ways to ask for a reload (SIGHUP, the control socket, file watch).

pub mod control;
pub mod daemon;
pub mod keys;
pub mod listen;
pub mod load;
pub mod notify;
pub mod reload;
pub mod secondary;
pub mod watch;

pub use listen::{Limits, serve_tcp, serve_udp};

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
