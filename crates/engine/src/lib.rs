//! mailzone's engine: zones compiled into immutable snapshots, and a pure
//! function that answers a query from them. It never touches a socket, a
//! clock or a thread (the rustls model), so it is unit-tested on bytes,
//! fuzzed, and benchmarked without a network; listeners only move bytes.

pub mod answer;
pub mod sign;
pub mod snapshot;
pub mod stream;
pub mod transfer;

pub use answer::{ClientCtx, answer, answer_general};
pub use snapshot::{Catalog, Snapshot};
