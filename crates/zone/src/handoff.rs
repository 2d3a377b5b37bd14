//! Handing records over to a thread of its own while a zone is read
//! ([`crate::read_zone_file_observed`]): the reader fills a batch, the
//! thread consumes batches as they come, and what it built comes back when
//! the read ends. The checks' name index and the server's compile use it.

use std::sync::mpsc::{Receiver, SyncSender};
use std::thread::JoinHandle;

/// Whether a thread of its own pays for a zone of about `records` records:
/// on one CPU reader and consumer only take turns (measured slower than
/// doing the work after the read), and a small zone is done in less time
/// than a thread takes to start.
pub fn pays(records: usize) -> bool {
    records >= MIN_RECORDS && std::thread::available_parallelism().is_ok_and(|n| n.get() > 1)
}

/// Zones smaller than this are done with before a thread would have started.
pub const MIN_RECORDS: usize = 20_000;

/// Batches of type `B` handed to a thread that builds an `R` from them.
pub struct Handoff<B, R> {
    batch: B,
    tx: Option<SyncSender<B>>,
    handle: Option<JoinHandle<R>>,
}

impl<B: Default + Send + 'static, R: Send + 'static> Handoff<B, R> {
    /// Batches in flight at most: the reader waits rather than queue a
    /// whole zone's worth when the consumer falls behind.
    const QUEUE: usize = 16;

    /// Starts `consume` on a thread named `name`; it sees every batch sent
    /// until [`Handoff::finish`]. When no thread can be started, nothing is
    /// handed over and `finish` gives `None`.
    pub fn start(name: &str, consume: impl FnOnce(Receiver<B>) -> R + Send + 'static) -> Self {
        let (tx, rx) = std::sync::mpsc::sync_channel::<B>(Self::QUEUE);
        let handle = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || consume(rx))
            .ok();
        Handoff {
            batch: B::default(),
            tx: handle.as_ref().map(|_| tx),
            handle,
        }
    }

    /// The batch being filled; `None` once the consumer is gone (it
    /// panicked), so the reader stops paying for the hand-over.
    pub fn batch(&mut self) -> Option<&mut B> {
        self.tx.as_ref()?;
        Some(&mut self.batch)
    }

    /// Hands the batch being filled over and starts a new one.
    pub fn send(&mut self) {
        let b = std::mem::take(&mut self.batch);
        if let Some(tx) = &self.tx
            && tx.send(b).is_err()
        {
            self.tx = None;
        }
    }

    /// Sends the last batch and waits for what the consumer built: `None`
    /// when it is gone.
    pub fn finish(mut self) -> Option<R> {
        self.send();
        // Closing the channel ends the consumer's loop.
        self.tx.take()?;
        self.handle.take()?.join().ok()
    }
}
