//! Reload on file change (`watch = true`). Editors save by writing a temp file
//! and renaming it over the old one, which replaces the inode a file watch
//! would follow; so the directories holding the config and the zone files
//! are watched, and events are filtered by name. A burst of events (truncate,
//! write, close; rename) waits for a quiet spell before one reload, and the
//! reload itself compares file contents, so an event that changed nothing
//! reloads nothing.

use crate::control::Job;
use notify::{RecursiveMode, Watcher};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// Quiet time after the last event before reloading.
const QUIET: Duration = Duration::from_millis(300);
/// A burst that never goes quiet still reloads after this long.
const MAX_WAIT: Duration = Duration::from_secs(3);

/// The files to watch, kept current by the reload thread after each reload.
pub type WatchList = Arc<Mutex<Vec<PathBuf>>>;

/// Starts the watcher thread; it ends when the job channel closes.
pub fn spawn(files: WatchList, jobs: std_mpsc::Sender<Job>) -> Result<(), String> {
    let (tx, rx) = std_mpsc::channel();
    let mut watcher = notify::recommended_watcher(move |ev: notify::Result<notify::Event>| {
        let _ = tx.send(ev);
    })
    .map_err(|e| format!("cannot watch files: {e}"))?;
    std::thread::Builder::new()
        .name("watch".into())
        .spawn(move || {
            let mut dirs: BTreeSet<PathBuf> = BTreeSet::new();
            let mut wanted: BTreeSet<PathBuf> = BTreeSet::new();
            loop {
                sync_watches(&mut watcher, &files, &mut dirs, &mut wanted);
                // Wait for an event about one of our files.
                let first = loop {
                    match rx.recv() {
                        Err(_) => return,
                        Ok(Ok(ev)) if touches(&ev, &wanted) => break Instant::now(),
                        Ok(Ok(_)) => {}
                        Ok(Err(e)) => tracing::warn!(error = %e, "file watch"),
                    }
                };
                // Let the burst settle.
                let mut last = first;
                loop {
                    let wait = (last + QUIET)
                        .min(first + MAX_WAIT)
                        .saturating_duration_since(Instant::now());
                    if wait.is_zero() {
                        break;
                    }
                    match rx.recv_timeout(wait) {
                        Ok(Ok(ev)) if touches(&ev, &wanted) => last = Instant::now(),
                        Ok(_) => {}
                        Err(std_mpsc::RecvTimeoutError::Timeout) => break,
                        Err(std_mpsc::RecvTimeoutError::Disconnected) => return,
                    }
                }
                let (reply, done) = oneshot::channel();
                let job = Job {
                    zone: None,
                    force: false,
                    refresh: false,
                    trigger: "file change",
                    reply: Some(reply),
                };
                if jobs.send(job).is_err() || done.blocking_recv().is_err() {
                    return;
                }
            }
        })
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// The path a watch event names, as the watched directory plus file name.
fn key(p: &Path) -> Option<PathBuf> {
    let dir = p.parent()?;
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    Some(std::fs::canonicalize(dir).ok()?.join(p.file_name()?))
}

fn touches(ev: &notify::Event, wanted: &BTreeSet<PathBuf>) -> bool {
    use notify::EventKind::*;
    matches!(ev.kind, Create(_) | Modify(_) | Remove(_) | Any)
        && ev
            .paths
            .iter()
            .any(|p| key(p).is_some_and(|k| wanted.contains(&k)))
}

/// Watches the directory of every listed file; stops watching directories
/// no longer needed.
fn sync_watches(
    w: &mut notify::RecommendedWatcher,
    files: &WatchList,
    dirs: &mut BTreeSet<PathBuf>,
    wanted: &mut BTreeSet<PathBuf>,
) {
    let list = files.lock().unwrap().clone();
    *wanted = list.iter().filter_map(|p| key(p)).collect();
    let need: BTreeSet<PathBuf> = wanted
        .iter()
        .filter_map(|p| p.parent().map(Path::to_path_buf))
        .collect();
    for d in dirs.difference(&need) {
        let _ = w.unwatch(d);
    }
    for d in need.difference(dirs) {
        if let Err(e) = w.watch(d, RecursiveMode::NonRecursive) {
            tracing::warn!(dir = %d.display(), error = %e, "cannot watch directory");
        }
    }
    *dirs = need;
}
