//! Reloads: the config and every zone go through the load pipeline on the
//! reload thread, and only what loaded is published, by one atomic swap of
//! the catalog. Whatever fails leaves the zone serving what it served before,
//! and the failure (with every diagnostic) is kept for `mailzone status`.

use crate::load::{Attempt, FailKind, Failure, Inputs, Served, load_zone, rfc3339};
use crate::{Published, parse_origin};
use mailzone_check::Diagnostic;
use mailzone_config::{Config, ZoneConfig};
use mailzone_engine::Catalog;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};

/// What one reload did, zone by zone; the reply to `mailzone reload`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Outcome {
    /// Everything asked for was applied.
    pub ok: bool,
    /// Set when the config did not load (then nothing changed).
    pub config: Option<Failure>,
    pub zones: Vec<ZoneOutcome>,
    /// Changes that need a restart (listeners, limits, logging).
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ZoneOutcome {
    pub zone: String,
    /// `loaded`, `unchanged`, `failed`, `removed` or `not applied`.
    pub result: String,
    /// The serial served after this reload.
    pub serial: Option<u32>,
    pub message: String,
    pub diagnostics: Vec<String>,
}

/// The reply to `mailzone status`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Status {
    pub config: String,
    pub started: String,
    pub config_loaded: String,
    /// The last config that did not load, if any since the server started.
    pub config_failure: Option<Failure>,
    /// A reload is running now.
    pub reloading: bool,
    pub reloads: u64,
    pub zones: Vec<ZoneStatus>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ZoneStatus {
    pub name: String,
    pub file: String,
    pub served: bool,
    pub serial: Option<u32>,
    pub loaded_at: Option<String>,
    pub records: usize,
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
    /// Snapshots published for this zone since the server started.
    pub loads: u64,
    pub notes: Vec<String>,
    /// The latest attempt failed (the zone serves an older version, or nothing).
    pub failing: bool,
    /// The last failed load, kept after later successes.
    pub last_failure: Option<Failure>,
}

/// Which zones a reload covers.
#[derive(Debug, Clone)]
pub enum Scope {
    /// Read the config again, then every zone whose inputs changed.
    All,
    /// One zone of the current config.
    Zone(String),
}

#[derive(Clone)]
struct Slot {
    cfg: ZoneConfig,
    served: Option<Served>,
    /// What the last attempt read, and with which config: an unchanged
    /// retry is skipped, whatever its result was.
    attempted: Option<(ZoneConfig, Inputs)>,
    failing: bool,
    last_failure: Option<Failure>,
    loads: u64,
}

impl Slot {
    fn new(cfg: &ZoneConfig) -> Slot {
        Slot {
            cfg: cfg.clone(),
            served: None,
            attempted: None,
            failing: false,
            last_failure: None,
            loads: 0,
        }
    }
}

pub struct Reloader {
    config_path: PathBuf,
    config: Config,
    slots: Vec<Slot>,
    published: Published,
    status: Arc<Mutex<Status>>,
    started: SystemTime,
    config_loaded: SystemTime,
    config_failure: Option<Failure>,
    reloads: u64,
    /// The serial each zone's secondaries were last told of.
    notified: std::collections::HashMap<String, u32>,
}

/// Loads a config, its errors rendered as one located line each.
pub fn load_config(path: &Path) -> Result<Config, Failure> {
    mailzone_config::load(path, mailzone_check::known_id).map_err(|(errors, sources)| {
        let lines: Vec<String> = errors
            .iter()
            .map(|e| {
                let d = Diagnostic::from(e);
                format!(
                    "{}: error[{}]: {}",
                    sources.location(d.span),
                    d.id,
                    d.message
                )
            })
            .collect();
        for l in &lines {
            tracing::error!(config = %path.display(), "{l}");
        }
        Failure::new(
            format!("the config {} does not load", path.display()),
            lines,
        )
    })
}

impl Reloader {
    /// Loads every zone of a config that loaded, and publishes them.
    pub fn start(config_path: &Path, config: Config) -> (Reloader, Published) {
        let now = SystemTime::now();
        let published: Published = Arc::new(arc_swap::ArcSwap::from_pointee(Catalog::default()));
        let mut r = Reloader {
            config_path: config_path.to_path_buf(),
            config: config.clone(),
            slots: Vec::new(),
            published: published.clone(),
            status: Arc::default(),
            started: now,
            config_loaded: now,
            config_failure: None,
            reloads: 0,
            notified: Default::default(),
        };
        let mut outcome = Outcome::default();
        r.slots = config
            .zones
            .iter()
            .map(|z| {
                let mut slot = Slot::new(z);
                let attempt = load_zone(z, None, false, false);
                apply(&mut slot, attempt, &mut outcome);
                slot
            })
            .collect();
        // Secondaries learn of versions published from now on; at start
        // they find this one by their own refresh.
        r.notified = r
            .slots
            .iter()
            .filter_map(|s| Some((s.cfg.name.clone(), s.served.as_ref()?.serial)))
            .collect();
        r.publish();
        if r.slots.iter().all(|s| s.served.is_none()) {
            tracing::error!(
                "no zone is served: fix the zones and reload (SIGHUP or `mailzone reload`)"
            );
        }
        (r, published)
    }

    fn slot(&self, name: &str) -> Option<&Slot> {
        self.slots
            .iter()
            .find(|s| s.cfg.name.eq_ignore_ascii_case(name))
    }

    pub fn status_handle(&self) -> Arc<Mutex<Status>> {
        self.status.clone()
    }

    /// The files whose change should trigger a reload: the config and every
    /// file each zone was read from (or is configured to be read from).
    pub fn watched_files(&self) -> Vec<PathBuf> {
        let mut v = vec![self.config_path.clone()];
        for s in &self.slots {
            match &s.attempted {
                Some((_, i)) => v.extend(i.files.iter().cloned()),
                None => v.push(s.cfg.file.clone()),
            }
        }
        v.sort();
        v.dedup();
        v
    }

    /// The earliest time a served zone must be signed again.
    pub fn next_resign(&self) -> Option<SystemTime> {
        self.slots
            .iter()
            .filter_map(|s| s.served.as_ref()?.resign_at)
            .min()
    }

    /// Signs again, with a new serial, every zone whose time has come. The
    /// zone is read from its files again; if that fails the old signatures
    /// keep serving and another attempt follows in a minute.
    pub fn resign_due(&mut self) {
        let now = SystemTime::now();
        let mut outcome = Outcome::default();
        for slot in &mut self.slots {
            let Some(served) = &slot.served else { continue };
            if served.resign_at.is_none_or(|t| t > now) {
                continue;
            }
            let cfg = slot.cfg.clone();
            let old_serial = served.serial;
            let attempt = load_zone(&cfg, Some(served), false, true);
            if attempt.result.is_err()
                && let Some(s) = &mut slot.served
            {
                s.resign_at = Some(now + std::time::Duration::from_secs(60));
                tracing::error!(
                    zone = cfg.name,
                    "re-signing failed; the current signatures keep serving until they expire; retrying in 60 s"
                );
            }
            apply(slot, attempt, &mut outcome);
            if let Some(s) = &slot.served
                && s.serial != old_serial
            {
                tracing::info!(zone = cfg.name, serial = s.serial, "zone re-signed");
            }
        }
        self.publish();
    }

    pub fn set_reloading(&self, on: bool) {
        self.status.lock().unwrap().reloading = on;
    }

    /// One reload. `force` reloads zones whose inputs did not change and
    /// accepts a serial that goes backwards.
    pub fn reload(&mut self, scope: Scope, force: bool, trigger: &str) -> Outcome {
        let started = Instant::now();
        self.reloads += 1;
        tracing::info!(trigger, scope = ?scope, force, "reload");
        let outcome = match scope {
            Scope::All => self.reload_all(force),
            Scope::Zone(name) => self.reload_one(&name, force),
        };
        tracing::info!(
            ok = outcome.ok,
            ms = started.elapsed().as_millis() as u64,
            "reload done"
        );
        outcome
    }

    fn reload_all(&mut self, force: bool) -> Outcome {
        let mut outcome = Outcome::default();
        let config = match load_config(&self.config_path) {
            Ok(c) => c,
            Err(f) => {
                tracing::error!("{}; nothing changed, the zones keep serving", f.reason);
                self.config_failure = Some(f.clone());
                outcome.config = Some(f);
                self.update_status();
                return outcome;
            }
        };
        let config_changed = config != self.config;
        if config.server != self.config.server || config.log != self.config.log {
            let identity_only = {
                let (mut a, mut b) = (config.server.clone(), self.config.server.clone());
                (a.identity, a.version) = (None, None);
                (b.identity, b.version) = (None, None);
                a == b && config.log == self.config.log
            };
            if !identity_only {
                let n = "changes to [server] listeners, limits, control_socket, watch or [log] take effect at the next restart".to_string();
                tracing::warn!("{n}");
                outcome.notes.push(n);
            }
        }
        // Load what changed, without applying anything yet.
        let staged: Vec<(Slot, Option<Attempt>)> = config
            .zones
            .iter()
            .map(|z| {
                let mut slot = self.slot(&z.name).cloned().unwrap_or_else(|| Slot::new(z));
                let attempt = needs_load(&slot, z, force)
                    .then(|| load_zone(z, slot.served.as_ref(), force, false));
                slot.cfg = z.clone();
                (slot, attempt)
            })
            .collect();
        // A changed config that names a zone file nobody can read is a
        // mistake in the config (a typo, a file not copied yet): refuse it whole.
        let unreadable: Vec<String> = staged
            .iter()
            .filter_map(|(_, a)| match a {
                Some(Attempt {
                    result: Err((FailKind::Unreadable, f)),
                    ..
                }) => Some(f.reason.clone()),
                _ => None,
            })
            .collect();
        if config_changed && !unreadable.is_empty() {
            let f = Failure::new(
                format!(
                    "the config {} names a zone file that cannot be read; nothing changed",
                    self.config_path.display()
                ),
                unreadable,
            );
            tracing::error!("{}: {}", f.reason, f.diagnostics.join("; "));
            self.config_failure = Some(f.clone());
            outcome.config = Some(f);
            self.update_status();
            return outcome;
        }
        for s in &self.slots {
            if !config
                .zones
                .iter()
                .any(|z| z.name.eq_ignore_ascii_case(&s.cfg.name))
            {
                tracing::info!(
                    zone = s.cfg.name,
                    "zone removed from the config; no longer served"
                );
                outcome.zones.push(ZoneOutcome {
                    zone: s.cfg.name.clone(),
                    result: "removed".into(),
                    serial: None,
                    message: "removed from the config; no longer served".into(),
                    diagnostics: Vec::new(),
                });
            }
        }
        self.slots = staged
            .into_iter()
            .map(|(mut slot, attempt)| {
                match attempt {
                    Some(a) => apply(&mut slot, a, &mut outcome),
                    None => outcome.zones.push(unchanged(&slot)),
                }
                slot
            })
            .collect();
        self.config = config;
        self.config_loaded = SystemTime::now();
        self.config_failure = None;
        self.publish();
        outcome.ok = outcome.zones.iter().all(|z| z.result != "failed");
        outcome
    }

    fn reload_one(&mut self, name: &str, force: bool) -> Outcome {
        let mut outcome = Outcome::default();
        let fq = parse_origin(name).map(|n| n.to_ascii()).unwrap_or_default();
        let Some(slot) = self
            .slots
            .iter_mut()
            .find(|s| s.cfg.name.eq_ignore_ascii_case(&fq))
        else {
            outcome.zones.push(ZoneOutcome {
                zone: name.to_string(),
                result: "failed".into(),
                serial: None,
                message: format!(
                    "no zone `{name}` in the config; to add one, edit the config and reload everything (`mailzone reload`)"
                ),
                diagnostics: Vec::new(),
            });
            return outcome;
        };
        let cfg = slot.cfg.clone();
        if needs_load(slot, &cfg, force) {
            let attempt = load_zone(&cfg, slot.served.as_ref(), force, false);
            apply(slot, attempt, &mut outcome);
        } else {
            outcome.zones.push(unchanged(slot));
        }
        self.publish();
        outcome.ok = outcome.zones.iter().all(|z| z.result != "failed");
        outcome
    }

    /// Builds the catalog of every served zone and swaps it in.
    fn publish(&mut self) {
        let mut cat = Catalog::new(
            self.slots
                .iter()
                .filter_map(|s| s.served.as_ref().map(|x| x.snapshot.clone())),
        );
        cat.identity = self.config.server.identity.clone();
        cat.version = self.config.server.version.clone();
        cat.tsig_keys = crate::keys::tsig_keys(&self.config.keys);
        let old = self.published.swap(Arc::new(cat));
        drop(old);
        release_memory();
        for s in &self.slots {
            let Some(served) = &s.served else { continue };
            if s.cfg.notify.is_empty() || self.notified.get(&s.cfg.name) == Some(&served.serial) {
                continue;
            }
            self.notified.insert(s.cfg.name.clone(), served.serial);
            crate::notify::send(
                s.cfg.name.clone(),
                served.snapshot.origin.to_vec(),
                served.serial,
                s.cfg.notify.clone(),
            );
        }
        self.update_status();
    }

    fn update_status(&self) {
        let zones = self
            .slots
            .iter()
            .map(|s| {
                let sv = s.served.as_ref();
                ZoneStatus {
                    name: s.cfg.name.clone(),
                    file: s.cfg.file.display().to_string(),
                    served: sv.is_some(),
                    serial: sv.map(|x| x.serial),
                    loaded_at: sv.map(|x| rfc3339(x.loaded_at)),
                    records: sv.map_or(0, |x| x.records),
                    errors: sv.map_or(0, |x| x.errors),
                    warnings: sv.map_or(0, |x| x.warnings),
                    infos: sv.map_or(0, |x| x.infos),
                    loads: s.loads,
                    notes: sv.map(|x| x.notes.clone()).unwrap_or_default(),
                    failing: s.failing,
                    last_failure: s.last_failure.clone(),
                }
            })
            .collect();
        let mut st = self.status.lock().unwrap();
        *st = Status {
            config: self.config_path.display().to_string(),
            started: rfc3339(self.started),
            config_loaded: rfc3339(self.config_loaded),
            config_failure: self.config_failure.clone(),
            reloading: st.reloading,
            reloads: self.reloads,
            zones,
        };
    }
}

/// Whether a zone must go through the pipeline: its config entry or one of
/// its files changed since the last attempt, or the reload is forced.
fn needs_load(slot: &Slot, cfg: &ZoneConfig, force: bool) -> bool {
    force
        || match &slot.attempted {
            None => true,
            Some((c, inputs)) => c != cfg || inputs.changed_on_disk(),
        }
}

fn unchanged(slot: &Slot) -> ZoneOutcome {
    let (message, diagnostics) = match (&slot.failing, &slot.last_failure) {
        (true, Some(f)) => (
            format!(
                "unchanged since the last attempt, which failed: {}",
                f.reason
            ),
            f.diagnostics.clone(),
        ),
        _ => ("unchanged".to_string(), Vec::new()),
    };
    ZoneOutcome {
        zone: slot.cfg.name.clone(),
        result: if slot.failing { "failed" } else { "unchanged" }.into(),
        serial: slot.served.as_ref().map(|s| s.serial),
        message,
        diagnostics,
    }
}

/// Records an attempt in the slot: a zone that loaded replaces the one
/// served; a failure keeps it.
fn apply(slot: &mut Slot, attempt: Attempt, outcome: &mut Outcome) {
    slot.attempted = Some((slot.cfg.clone(), attempt.inputs));
    let name = slot.cfg.name.clone();
    match attempt.result {
        Ok(served) => {
            slot.failing = false;
            slot.loads += 1;
            outcome.zones.push(ZoneOutcome {
                zone: name,
                result: "loaded".into(),
                serial: Some(served.serial),
                message: if served.notes.is_empty() {
                    format!("{} records", served.records)
                } else {
                    format!("{} records; {}", served.records, served.notes.join("; "))
                },
                diagnostics: Vec::new(),
            });
            slot.served = Some(served);
        }
        Err((_, failure)) => {
            let still = match &slot.served {
                Some(s) => format!("still serving serial {}", s.serial),
                None => "zone not served".to_string(),
            };
            tracing::error!(zone = name, "load failed ({still}): {}", failure.reason);
            outcome.zones.push(ZoneOutcome {
                zone: name,
                result: "failed".into(),
                serial: slot.served.as_ref().map(|s| s.serial),
                message: format!("{} ({still})", failure.reason),
                diagnostics: failure.diagnostics.clone(),
            });
            slot.failing = true;
            slot.last_failure = Some(failure);
        }
    }
}

/// Hands memory freed by the old snapshot and the read model back to the
/// system, so the process returns to one snapshot's size after a reload.
fn release_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks glibc's own free lists.
    unsafe {
        libc::malloc_trim(0);
    }
}
