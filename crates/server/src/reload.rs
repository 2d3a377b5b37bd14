//! Reloads: the config and every zone go through the load pipeline on the
//! reload thread, and only what loaded is published, by one atomic swap of
//! the catalog. Whatever fails leaves the zone serving what it served before,
//! and the failure (with every diagnostic) is kept for `mailzone status`.

use crate::load::{
    Attempt, FailKind, Failure, Inputs, Served, load_zone, load_zone_publishing, rfc3339,
};
use crate::{Published, parse_origin};
use mailzone_check::Diagnostic;
use mailzone_config::{Config, ZoneConfig};
use mailzone_engine::{Catalog, Snapshot};
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
    /// `loaded`, `unchanged`, `failed` or `removed`.
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
    /// `primary`, or `secondary` (fetched from `primaries`).
    pub role: String,
    pub primaries: Vec<String>,
    /// Secondary zones: the last transfer, when to ask the primaries next,
    /// when the zone stops being served without a successful refresh, and
    /// the last refresh error.
    pub last_transfer: Option<String>,
    pub next_refresh: Option<String>,
    pub expires: Option<String>,
    pub refresh_error: Option<String>,
}

/// Which zones a reload covers.
#[derive(Debug, Clone)]
pub enum Scope {
    /// Read the config again, then every zone whose inputs changed.
    All,
    /// One zone of the current config.
    Zone(String),
}

/// The refresh state of a secondary zone (RFC 1996 §3, RFC 1035 SOA timers).
#[derive(Clone)]
struct Sec {
    next_refresh: SystemTime,
    expire_at: Option<SystemTime>,
    last_transfer: Option<String>,
    last_error: Option<String>,
}

#[derive(Clone)]
struct Slot {
    cfg: ZoneConfig,
    sec: Option<Sec>,
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
            sec: (!cfg.primary.is_empty()).then(|| Sec {
                next_refresh: SystemTime::now(),
                expire_at: None,
                last_transfer: None,
                last_error: None,
            }),
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
    /// A reloader serving no zone yet (but the server's identity and
    /// keys), so that listeners can answer while [`Reloader::load_all`]
    /// loads.
    pub fn new(config_path: &Path, config: Config) -> Reloader {
        let now = SystemTime::now();
        let mut r = Reloader {
            config_path: config_path.to_path_buf(),
            config,
            slots: Vec::new(),
            published: Arc::new(arc_swap::ArcSwap::from_pointee(Catalog::default())),
            status: Arc::default(),
            started: now,
            config_loaded: now,
            config_failure: None,
            reloads: 0,
            notified: Default::default(),
        };
        r.publish();
        r
    }

    pub fn published(&self) -> Published {
        self.published.clone()
    }

    /// Adds one zone's new snapshot to the catalog served now, for
    /// [`load_zone_publishing`]. Only the reload thread publishes, so
    /// nothing else changes the catalog between the load and the swap.
    fn publish_early(published: Published) -> impl Fn(&Arc<Snapshot>) {
        move |s| {
            let mut cat = Catalog::clone(&published.load());
            cat.insert(s.clone());
            published.store(Arc::new(cat));
        }
    }

    /// Loads every zone of the config, publishing each as soon as it may be
    /// served, then publishes them all.
    pub fn load_all(&mut self) {
        let mut outcome = Outcome::default();
        let config = self.config.clone();
        let early = Self::publish_early(self.published.clone());
        self.slots = config
            .zones
            .iter()
            .map(|z| {
                let mut slot = Slot::new(z);
                if !awaiting_transfer(z) {
                    let attempt = load_zone_publishing(z, None, false, &early);
                    apply(&mut slot, attempt, &mut outcome);
                    // A secondary's copy on disk counts from when it was written.
                    let written = std::fs::metadata(&z.file).and_then(|m| m.modified()).ok();
                    if let (Some(sec), Some(sv), Some(at)) = (&mut slot.sec, &slot.served, written)
                    {
                        sec.expire_at = soa_timers(&sv.snapshot).map(|t| at + secs(t.2));
                    }
                }
                slot
            })
            .collect();
        // Secondaries learn of versions published from now on; at start
        // they find this one by their own refresh.
        self.notified = self
            .slots
            .iter()
            .filter_map(|s| Some((s.cfg.name.clone(), s.served.as_ref()?.serial)))
            .collect();
        self.publish();
        if self.slots.iter().all(|s| s.served.is_none()) {
            tracing::error!(
                "no zone is served: fix the zones and reload (SIGHUP or `mailzone reload`)"
            );
        }
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

    /// The next time the reload thread has work of its own: signatures to
    /// renew, a secondary to refresh, a secondary that expires.
    pub fn next_wakeup(&self) -> Option<SystemTime> {
        let resign = self
            .slots
            .iter()
            .filter_map(|s| s.served.as_ref()?.resign_at);
        let refresh = self
            .slots
            .iter()
            .filter_map(|s| Some(s.sec.as_ref()?.next_refresh));
        let expire = self
            .slots
            .iter()
            .filter(|s| s.served.is_some())
            .filter_map(|s| s.sec.as_ref()?.expire_at);
        resign.chain(refresh).chain(expire).min()
    }

    /// Does what the timers ask: re-signing, refreshes, expiry.
    pub fn timers_due(&mut self) {
        let now = SystemTime::now();
        if self.slots.iter().any(|s| {
            s.served
                .as_ref()
                .and_then(|x| x.resign_at)
                .is_some_and(|t| t <= now)
        }) {
            self.resign_due();
        }
        let due: Vec<String> = self
            .slots
            .iter()
            .filter(|s| s.sec.as_ref().is_some_and(|x| x.next_refresh <= now))
            .map(|s| s.cfg.name.clone())
            .collect();
        for z in due {
            self.refresh(&z, "refresh timer");
        }
        let mut expired = false;
        for s in &mut self.slots {
            let Some(sec) = &s.sec else { continue };
            if s.served.is_some() && sec.expire_at.is_some_and(|t| t <= now) {
                let f = Failure::new(
                    "expired: no successful refresh from the primaries within the SOA expire time; not served until one succeeds",
                    sec.last_error.iter().cloned().collect(),
                );
                tracing::error!(zone = s.cfg.name, "{}", f.reason);
                s.served = None;
                s.failing = true;
                s.last_failure = Some(f);
                expired = true;
            }
        }
        if expired {
            self.publish();
        }
    }

    /// Asks a secondary zone's primaries for a newer version and loads it
    /// (IXFR when we have a version, else AXFR). A version that fails the
    /// checks is refused per the zone's `on_error`; the old one keeps serving.
    pub fn refresh(&mut self, name: &str, trigger: &str) {
        let fq = parse_origin(name).map(|n| n.to_ascii()).unwrap_or_default();
        let Some(i) = self
            .slots
            .iter()
            .position(|s| s.cfg.name.eq_ignore_ascii_case(&fq) && s.sec.is_some())
        else {
            return;
        };
        let keys = crate::keys::tsig_keys(&self.config.keys);
        let slot = &mut self.slots[i];
        let cfg = slot.cfg.clone();
        let Ok(origin) = parse_origin(&cfg.name) else {
            return;
        };
        let key = cfg.primary_key.as_deref().and_then(|k| {
            keys.iter()
                .find(|x| x.name.to_ascii().eq_ignore_ascii_case(k))
        });
        let now = SystemTime::now();
        let (refresh, retry, expire) = slot
            .served
            .as_ref()
            .and_then(|s| soa_timers(&s.snapshot))
            // Nothing served yet: try again soon.
            .unwrap_or((3600, 5, 604_800));
        let ours = slot.served.as_ref().map(|s| s.serial);
        let mut errors = Vec::new();
        for &primary in &cfg.primary {
            let theirs = match crate::secondary::primary_serial(primary, &origin) {
                Ok(s) => s,
                Err(e) => {
                    errors.push(format!("{primary}: {e}"));
                    continue;
                }
            };
            let sec = slot.sec.as_mut().expect("a secondary");
            if ours.is_some_and(|o| !crate::load::serial_lt(o, theirs)) {
                sec.next_refresh = now + secs(refresh);
                sec.expire_at = Some(now + secs(expire));
                sec.last_error = None;
                tracing::debug!(zone = cfg.name, trigger, serial = theirs, "up to date");
                self.update_status();
                return;
            }
            // What we serve, to apply an IXFR to.
            let current = ours.and_then(|_| {
                let r = mailzone_zone::read_zone_file(
                    &cfg.file,
                    &mailzone_zone::MasterOptions {
                        origin: Some(origin.clone()),
                        ..Default::default()
                    },
                );
                r.is_ok().then_some(r.zone.records)
            });
            let have = ours.zip(current.as_deref());
            let fetched = crate::secondary::fetch(primary, &origin, key, have).or_else(|e| {
                if have.is_some() {
                    tracing::warn!(zone = cfg.name, %primary, "IXFR failed ({e}); trying AXFR");
                    crate::secondary::fetch(primary, &origin, key, None)
                } else {
                    Err(e)
                }
            });
            let f = match fetched {
                Ok(f) => f,
                Err(e) => {
                    errors.push(format!("{primary}: {e}"));
                    continue;
                }
            };
            // Load the new version from a file beside the zone's; only a
            // version that loads replaces the copy on disk.
            let tmp = cfg.file.with_extension("xfr-new");
            if let Some(dir) = cfg.file.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            if let Err(e) = std::fs::write(&tmp, &f.text) {
                errors.push(format!("cannot write {}: {e}", tmp.display()));
                break;
            }
            let mut tmp_cfg = cfg.clone();
            tmp_cfg.file = tmp.clone();
            let attempt = load_zone(&tmp_cfg, slot.served.as_ref(), false, false);
            let ok = attempt.result.is_ok();
            let mut outcome = Outcome::default();
            apply(slot, attempt, &mut outcome);
            let sec = slot.sec.as_mut().expect("a secondary");
            if ok && std::fs::rename(&tmp, &cfg.file).is_ok() {
                let mut sources = mailzone_zone::SourceMap::new();
                sources.add(&cfg.file, f.text.as_str());
                slot.attempted = Some((cfg.clone(), crate::load::Inputs::of(&sources, &cfg)));
                let (refresh, _, expire) = slot
                    .served
                    .as_ref()
                    .and_then(|s| soa_timers(&s.snapshot))
                    .unwrap_or((refresh, retry, expire));
                let what = format!(
                    "{} from {primary} at {}: serial {}, {} messages",
                    f.kind,
                    rfc3339(now),
                    f.serial,
                    f.messages
                );
                tracing::info!(zone = cfg.name, trigger, "zone transferred: {what}");
                sec.last_transfer = Some(what);
                sec.last_error = None;
                sec.next_refresh = now + secs(refresh);
                sec.expire_at = Some(now + secs(expire));
                self.publish();
            } else {
                let _ = std::fs::remove_file(&tmp);
                sec.last_error = outcome.zones.first().map(|z| z.message.clone());
                sec.next_refresh = now + secs(retry);
                self.update_status();
            }
            return;
        }
        let sec = slot.sec.as_mut().expect("a secondary");
        let e = errors.join("; ");
        tracing::warn!(
            zone = cfg.name,
            trigger,
            "refresh failed: {e}; retrying in {retry} s"
        );
        sec.last_error = Some(e);
        sec.next_refresh = now + secs(retry);
        self.update_status();
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
        // Load what changed, without applying anything yet. With the config
        // unchanged every zone that loads is applied, so one that may be
        // served whatever its checks find is published as soon as it is
        // compiled; a changed config is applied whole or not at all.
        let early = Self::publish_early(self.published.clone());
        let staged: Vec<(Slot, Option<Attempt>)> = config
            .zones
            .iter()
            .map(|z| {
                let mut slot = self.slot(&z.name).cloned().unwrap_or_else(|| Slot::new(z));
                let attempt = (!awaiting_transfer(z) && needs_load(&slot, z, force)).then(|| {
                    let prev = slot.served.as_ref();
                    if config_changed {
                        load_zone(z, prev, force, false)
                    } else {
                        load_zone_publishing(z, prev, force, &early)
                    }
                });
                if slot.sec.is_none() && !z.primary.is_empty() {
                    slot.sec = Slot::new(z).sec;
                }
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
        if !awaiting_transfer(&cfg) && needs_load(slot, &cfg, force) {
            let early = Self::publish_early(self.published.clone());
            let attempt = load_zone_publishing(&cfg, slot.served.as_ref(), force, &early);
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
        cat.secondaries = self
            .slots
            .iter()
            .filter(|s| !s.cfg.primary.is_empty())
            .filter_map(|s| {
                let origin = parse_origin(&s.cfg.name).ok()?;
                let key = mailzone_engine::snapshot::lower(
                    &mailzone_zone::record::name_to_wire_bytes(&origin),
                );
                Some((key, s.cfg.primary.iter().map(|p| p.ip()).collect()))
            })
            .collect();
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
                    role: if s.sec.is_some() {
                        "secondary"
                    } else {
                        "primary"
                    }
                    .into(),
                    primaries: s.cfg.primary.iter().map(|p| p.to_string()).collect(),
                    last_transfer: s.sec.as_ref().and_then(|x| x.last_transfer.clone()),
                    next_refresh: s.sec.as_ref().map(|x| rfc3339(x.next_refresh)),
                    expires: s.sec.as_ref().and_then(|x| x.expire_at.map(rfc3339)),
                    refresh_error: s.sec.as_ref().and_then(|x| x.last_error.clone()),
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

/// A secondary zone whose file the server has not written yet.
fn awaiting_transfer(z: &ZoneConfig) -> bool {
    !z.primary.is_empty() && !z.file.exists()
}

fn secs(n: u32) -> std::time::Duration {
    std::time::Duration::from_secs(u64::from(n))
}

/// The SOA's refresh, retry and expire (RFC 1035 §3.3.13).
fn soa_timers(z: &mailzone_engine::Snapshot) -> Option<(u32, u32, u32)> {
    let rd = z.soa()?.rdata.first()?.wire(&z.data);
    let p = mailzone_engine::snapshot::soa_serial_at(rd)? + 4;
    let u = |o: usize| {
        Some(u32::from_be_bytes(
            rd.get(p + o..p + o + 4)?.try_into().ok()?,
        ))
    };
    Some((u(0)?, u(4)?, u(8)?))
}
