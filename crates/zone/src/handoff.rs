//! Handing records over to a thread of its own while a zone is read
//! ([`crate::read_zone_file_observed`]): the reader fills a batch, the
//! thread consumes batches as they come, and what it built comes back when
//! the read ends. The checks' name index and the server's compile use it.
//! Emptied batches go back to the reader to be filled again, which spares
//! an allocation of a few hundred kilobytes per batch (glibc maps and
//! unmaps ones that large). Paired runs on the 1M bench zone measured no
//! change in wall time from it; it stays for the allocations it spares.

use std::sync::mpsc::{Receiver, Sender, SyncSender};
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

/// A batch that can be emptied and filled again, its room kept.
pub trait Reuse: Default {
    fn clear(&mut self);
}

/// Batches of type `B` handed to a thread that builds an `R` from them.
pub struct Handoff<B, R> {
    batch: B,
    tx: Option<SyncSender<B>>,
    /// Batches the consumer is done with.
    spare: Receiver<B>,
    handle: Option<JoinHandle<R>>,
}

/// The batches as the consumer sees them: each one it took goes back to the
/// reader, emptied, when it asks for the next.
pub struct Batches<B> {
    rx: Receiver<B>,
    back: Sender<B>,
    current: Option<B>,
}

impl<B: Reuse> Batches<B> {
    /// The next batch sent; `None` once the reader has finished.
    pub fn next_batch(&mut self) -> Option<&mut B> {
        if let Some(mut done) = self.current.take() {
            done.clear();
            // (The reader may have finished already; then it is dropped.)
            let _ = self.back.send(done);
        }
        self.current = Some(self.rx.recv().ok()?);
        self.current.as_mut()
    }
}

impl<B: Reuse + Send + 'static, R: Send + 'static> Handoff<B, R> {
    /// Batches in flight at most: the reader waits rather than queue a
    /// whole zone's worth when the consumer falls behind.
    const QUEUE: usize = 16;

    /// Starts `consume` on a thread named `name`; it sees every batch sent
    /// until [`Handoff::finish`]. When no thread can be started, nothing is
    /// handed over and `finish` gives `None`.
    pub fn start(name: &str, consume: impl FnOnce(Batches<B>) -> R + Send + 'static) -> Self {
        let (tx, rx) = std::sync::mpsc::sync_channel::<B>(Self::QUEUE);
        let (back, spare) = std::sync::mpsc::channel::<B>();
        let batches = Batches {
            rx,
            back,
            current: None,
        };
        let handle = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || consume(batches))
            .ok();
        Handoff {
            batch: B::default(),
            tx: handle.as_ref().map(|_| tx),
            spare,
            handle,
        }
    }

    /// The batch being filled; `None` once the consumer is gone (it
    /// panicked), so the reader stops paying for the hand-over.
    pub fn batch(&mut self) -> Option<&mut B> {
        self.tx.as_ref()?;
        Some(&mut self.batch)
    }

    /// Hands the batch being filled over and starts the next: one the
    /// consumer is done with when there is one, else a new one.
    pub fn send(&mut self) {
        let next = self.spare.try_recv().unwrap_or_default();
        let b = std::mem::replace(&mut self.batch, next);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Numbers(Vec<u32>);

    impl Reuse for Numbers {
        fn clear(&mut self) {
            self.0.clear();
        }
    }

    #[test]
    fn every_batch_arrives_and_comes_back_empty_with_its_room() {
        let mut h = Handoff::start("test", |mut batches: Batches<Numbers>| {
            let mut seen = Vec::new();
            while let Some(b) = batches.next_batch() {
                seen.extend_from_slice(&b.0);
            }
            seen
        });
        let first = h.batch().expect("a consumer thread");
        first.0.reserve(1000);
        first.0.extend([1, 2, 3]);
        h.send();
        h.batch().expect("a consumer thread").0.push(4);
        h.send();
        // The first batch comes back once the consumer asks for the one after it.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let back = loop {
            if let Ok(b) = h.spare.try_recv() {
                break b;
            }
            assert!(std::time::Instant::now() < deadline, "no batch came back");
            std::thread::sleep(std::time::Duration::from_millis(1));
        };
        assert!(back.0.is_empty());
        assert!(
            back.0.capacity() >= 1000,
            "the batch came back without its room"
        );
        h.batch().expect("a consumer thread").0.push(5);
        assert_eq!(h.finish(), Some(vec![1, 2, 3, 4, 5]));
    }

    #[test]
    fn a_spare_batch_is_filled_again() {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Numbers>(4);
        let (back, spare) = std::sync::mpsc::channel::<Numbers>();
        let mut h: Handoff<Numbers, ()> = Handoff {
            batch: Numbers::default(),
            tx: Some(tx),
            spare,
            handle: None,
        };
        let mut room = Numbers::default();
        room.0.reserve(500);
        back.send(room).unwrap();
        h.batch().unwrap().0.push(1);
        h.send();
        assert!(
            h.batch().unwrap().0.capacity() >= 500,
            "the spare batch was not used"
        );
        assert_eq!(rx.try_recv().map(|b| b.0).ok(), Some(vec![1]));
    }
}
