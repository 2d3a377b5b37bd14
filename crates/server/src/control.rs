//! The control channel: a Unix socket (mode 0600, never reachable from the
//! network) that `mailzone reload` and `mailzone status` talk to. One JSON
//! request per connection, one JSON reply; a reload replies when it is done,
//! so the new data is served by the time the command returns.

use crate::reload::{Outcome, Status};
use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixListener;
use tokio::sync::{oneshot, watch};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "lowercase")]
pub enum Request {
    /// Reload the config and every changed zone, or one zone.
    Reload {
        zone: Option<String>,
        #[serde(default)]
        force: bool,
    },
    Status,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "reply", rename_all = "lowercase")]
pub enum Reply {
    Reload(Outcome),
    Status(Status),
    Error { message: String },
}

/// A reload asked of the reload thread, with where to send what it did;
/// or, with `refresh`, a secondary zone to refresh from its primaries now.
pub struct Job {
    pub zone: Option<String>,
    pub force: bool,
    pub refresh: bool,
    pub trigger: &'static str,
    pub reply: Option<oneshot::Sender<Outcome>>,
}

/// The longest request line accepted.
const MAX_REQUEST: usize = 4096;

/// Binds the control socket: a stale socket file left by a server that is
/// gone is replaced; one a live server answers on is an error.
pub fn bind(path: &Path) -> Result<UnixListener, String> {
    if path.exists() {
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(format!(
                "control socket {}: another server is running on it",
                path.display()
            ));
        }
        std::fs::remove_file(path).map_err(|e| {
            format!(
                "control socket {}: cannot remove the stale file: {e}",
                path.display()
            )
        })?;
    }
    let l =
        UnixListener::bind(path).map_err(|e| format!("control socket {}: {e}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| format!("control socket {}: {e}", path.display()))?;
    Ok(l)
}

/// Answers control requests until `shutdown` turns true.
pub async fn serve(
    listener: UnixListener,
    jobs: mpsc::Sender<Job>,
    status: Arc<Mutex<Status>>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let stream = tokio::select! {
            r = listener.accept() => match r {
                Ok((s, _)) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "control accept");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => return,
        };
        let jobs = jobs.clone();
        let status = status.clone();
        tokio::spawn(async move {
            let (r, mut w) = stream.into_split();
            let mut line = String::new();
            let mut r = tokio::io::BufReader::new(r).take(MAX_REQUEST as u64);
            let reply = match r.read_line(&mut line).await {
                Err(e) => Reply::Error {
                    message: e.to_string(),
                },
                Ok(_) => match serde_json::from_str::<Request>(&line) {
                    Err(e) => Reply::Error {
                        message: format!("not a control request: {e}"),
                    },
                    Ok(Request::Status) => Reply::Status(status.lock().unwrap().clone()),
                    Ok(Request::Reload { zone, force }) => {
                        let (tx, rx) = oneshot::channel();
                        let job = Job {
                            zone,
                            force,
                            refresh: false,
                            trigger: "control",
                            reply: Some(tx),
                        };
                        match jobs.send(job) {
                            Err(_) => Reply::Error {
                                message: "the server is stopping".into(),
                            },
                            Ok(()) => match rx.await {
                                Ok(o) => Reply::Reload(o),
                                Err(_) => Reply::Error {
                                    message: "the reload was abandoned (the server is stopping)"
                                        .into(),
                                },
                            },
                        }
                    }
                },
            };
            let mut text = serde_json::to_string(&reply).unwrap_or_default();
            text.push('\n');
            let _ = w.write_all(text.as_bytes()).await;
        });
    }
}

/// Sends one request to a running server and waits for its reply. A reload
/// of a large zone takes as long as reading and checking it does.
pub fn request(socket: &Path, req: &Request, timeout: Duration) -> Result<Reply, String> {
    let mut s = std::os::unix::net::UnixStream::connect(socket).map_err(|e| {
        format!(
            "cannot reach the server's control socket {}: {e} (is `mailzone serve` running with this config?)",
            socket.display()
        )
    })?;
    s.set_read_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    let mut line = serde_json::to_string(req).map_err(|e| e.to_string())?;
    line.push('\n');
    s.write_all(line.as_bytes()).map_err(|e| e.to_string())?;
    let mut reply = String::new();
    BufReader::new(s)
        .read_line(&mut reply)
        .map_err(|e| format!("no reply from {}: {e}", socket.display()))?;
    serde_json::from_str(&reply).map_err(|e| format!("unreadable reply from the server: {e}"))
}
