//! One zone through the load pipeline, off the serving path: read, check,
//! apply the zone's policy, settle the SOA serial, compile. A zone that fails
//! any stage yields a [`Failure`] with every diagnostic located; nothing here
//! publishes, so the caller decides what keeps serving.

use hickory_proto::rr::{Name, RData};
use mailzone_check::checks::{Checking, check_zone_counting};
use mailzone_check::{Diagnostic, Severity, apply_policy};
use mailzone_config::{SerialPolicy, ZoneConfig};
use mailzone_engine::Snapshot;
use mailzone_engine::stream::CompileStream;
use mailzone_zone::{ErrorKind, MasterOptions, SourceMap, Zone};
use serde::{Deserialize, Serialize};
use std::hash::{BuildHasher, Hash, Hasher};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

/// Findings kept for `status` and the reload reply, per load.
const KEPT_DIAGNOSTICS: usize = 100;

/// A failed load or reload: why, and every error and warning with its location.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Failure {
    /// RFC 3339 time of the attempt.
    pub at: String,
    pub reason: String,
    /// `file:line:col: severity[ID]: message`, errors first (at most 100).
    pub diagnostics: Vec<String>,
}

impl Failure {
    pub fn new(reason: impl Into<String>, diagnostics: Vec<String>) -> Failure {
        Failure {
            at: rfc3339(SystemTime::now()),
            reason: reason.into(),
            diagnostics,
        }
    }
}

pub fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

/// The files a zone was read from, and a hash of the text that was read, so a
/// reload can tell whether anything changed without reading the zone again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inputs {
    pub files: Vec<PathBuf>,
    /// The keys directory of a signed zone: its key files are inputs too.
    keys: Option<(PathBuf, String)>,
    fingerprint: u64,
}

/// The names and contents of a zone's key files, as one value to hash.
fn key_state(keys: &Option<(PathBuf, String)>) -> u64 {
    let Some((dir, prefix)) = keys else { return 0 };
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.starts_with(prefix.as_str())
                .then(|| (name, std::fs::read(e.path()).unwrap_or_default()))
        })
        .collect();
    files.sort();
    foldhash::quality::FixedState::with_seed(0x6b65_7973).hash_one(&files)
}

impl Inputs {
    pub(crate) fn of(sources: &SourceMap, z: &ZoneConfig) -> Inputs {
        let files: Vec<PathBuf> = sources.files().map(|(_, f)| f.path.clone()).collect();
        let texts = sources.files().map(|(_, f)| f.text.as_str());
        let keys = z.dnssec.as_ref().map(|d| {
            let stem = z.name.trim_end_matches('.').to_ascii_lowercase();
            (d.keys.clone(), format!("{stem}+"))
        });
        Inputs {
            fingerprint: fingerprint(files.iter().zip(texts)) ^ key_state(&keys),
            files,
            keys,
        }
    }

    /// Whether any file now differs from what was read (or can now be read,
    /// or no longer can). Reads the files, but parses nothing.
    pub fn changed_on_disk(&self) -> bool {
        let texts: Vec<String> = self
            .files
            .iter()
            .map(|p| match std::fs::read(p) {
                // The readers decode the same way, and keep "" for a file
                // they could not read, so equal states hash equal.
                Ok(b) => String::from_utf8_lossy(&b).into_owned(),
                Err(_) => String::new(),
            })
            .collect();
        fingerprint(self.files.iter().zip(texts.iter().map(String::as_str))) ^ key_state(&self.keys)
            != self.fingerprint
    }
}

fn fingerprint<'a>(files: impl Iterator<Item = (&'a PathBuf, &'a str)>) -> u64 {
    let mut h = foldhash::quality::FixedState::with_seed(0x6d61_696c).build_hasher();
    for (p, t) in files {
        p.hash(&mut h);
        t.hash(&mut h);
    }
    h.finish()
}

/// A zone that loaded and may be published.
#[derive(Debug, Clone)]
pub struct Served {
    pub snapshot: Arc<Snapshot>,
    /// Hash of the records with the SOA serial left out: tells a real change
    /// from a comment edit, for the serial rules.
    pub content: Content,
    pub serial: u32,
    /// The serial written in the file (for the backwards check, since the
    /// served one may be the server's own).
    pub file_serial: u32,
    /// When the signatures must be made again (signed zones only).
    pub resign_at: Option<SystemTime>,
    pub loaded_at: SystemTime,
    pub records: usize,
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
    /// Things about this load the operator should know (serial not raised …).
    pub notes: Vec<String>,
}

/// Why a load failed; `Unreadable` matters to the caller (a config change
/// naming an unreadable zone is refused as a whole).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailKind {
    Unreadable,
    Read,
    Check,
    Serial,
    /// Keys missing, unreadable, or signing failed.
    Keys,
}

/// The result of one attempt: what was read (to skip an unchanged retry)
/// and either a zone to publish or the failure.
pub struct Attempt {
    pub inputs: Inputs,
    pub result: Result<Served, (FailKind, Failure)>,
}

/// Runs the pipeline for one zone. `prev` is what is served now (for the
/// serial rules); `force` accepts a serial that goes backwards; `resign`
/// says the server signs again by itself (a new serial even if nothing changed).
pub fn load_zone(z: &ZoneConfig, prev: Option<&Served>, force: bool, resign: bool) -> Attempt {
    load(z, prev, force, resign, false, None).0
}

/// What [`load_zone_publishing`] hands a snapshot to, to serve it at once.
pub type Publish<'a> = &'a dyn Fn(&Arc<Snapshot>);

/// [`load_zone`] that, when the zone is served whatever its checks find
/// (`on_error = "warn"`), hands the snapshot to `publish` as soon as it is
/// compiled, before the checks are done: a large zone answers seconds
/// sooner. The attempt still comes back with every finding, and holds the
/// same snapshot.
pub fn load_zone_publishing(
    z: &ZoneConfig,
    prev: Option<&Served>,
    force: bool,
    publish: Publish<'_>,
) -> Attempt {
    load(z, prev, force, false, false, Some(publish)).0
}

/// The zone as the server would serve it after a fresh start (signed when
/// configured), for `mailzone zone dump --config`, so outside tools can
/// verify exactly what is served.
pub fn served_zone(z: &ZoneConfig) -> Result<Zone, Failure> {
    match load(z, None, false, false, true, None) {
        (
            Attempt {
                result: Err((_, f)),
                ..
            },
            _,
        ) => Err(f),
        (_, zone) => zone.ok_or_else(|| Failure::new("no zone", Vec::new())),
    }
}

fn load(
    z: &ZoneConfig,
    prev: Option<&Served>,
    force: bool,
    resign: bool,
    keep: bool,
    early: Option<Publish<'_>>,
) -> (Attempt, Option<Zone>) {
    let started = Instant::now();
    let origin = crate::parse_origin(&z.name).ok();
    // The checks' name index and the snapshot (of an unsigned zone; a
    // signed one is compiled once signed) are built while the file is read,
    // from the wire forms the reader makes anyway: on threads of their own,
    // or on one CPU by the reader (see `CompileStream`).
    // (Master files run 50 to 70 bytes a record.)
    let guess = std::fs::metadata(&z.file).map_or(0, |m| (m.len() / 64) as usize);
    // A zone published before its checks end (`on_error = "warn"`, on a
    // start or a reload that publishes early) leaves its names to the
    // checks, after it answers, unless a second core has nothing else to do
    // during the read: on one CPU the reader would add them itself, and on
    // two the names thread took CPU from the compile thread beside it (the
    // 1M bench zone answered in 1.51 s with them streamed, 1.15 s without,
    // alternating runs). Where the checks are waited for, they need the
    // names as soon as the read ends.
    let checks_waited = !(z.check.serve_with_errors && early.is_some());
    let mut compiling = origin
        .as_ref()
        .filter(|_| z.dnssec.is_none() && CompileStream::pays(guess))
        .map(|o| CompileStream::start(o, guess));
    let compile_thread = compiling.as_ref().is_some_and(CompileStream::threaded);
    let mut stream = origin
        .as_ref()
        .filter(|_| {
            checks_waited || (mailzone_check::checks::NameStream::pays(guess) && !compile_thread)
        })
        .map(|o| {
            let s = mailzone_check::checks::NameStream::start(o, guess);
            // Beside a compile thread (the two share the second core) DKIM
            // keys and DMARC records wait for the checks.
            if compile_thread {
                s.without_read_ahead()
            } else {
                s
            }
        });
    let opts = MasterOptions {
        origin,
        ..MasterOptions::default()
    };
    let mut r = if stream.is_some() || compiling.is_some() {
        mailzone_zone::read_zone_file_observed(&z.file, &opts, &mut |rec, t, w, rd| {
            if let Some(s) = stream.as_mut() {
                s.observe(rec, t, w, rd);
            }
            if let Some(c) = compiling.as_mut() {
                c.observe(rec, t, w, rd);
            }
        })
    } else {
        mailzone_zone::read_zone_file(&z.file, &opts)
    };
    let mut names = stream.map(|s| s.finish());
    let name = z.name.as_str();
    if let Some(d) = &z.dnssec {
        create_key_if_none(&r.zone.origin, d);
    }
    let inputs = Inputs::of(&r.zone.sources, z);
    let fail = |kind, reason: String, diags: &[Diagnostic], sources: &SourceMap| {
        let a = Attempt {
            inputs: inputs.clone(),
            result: Err((kind, Failure::new(reason, kept(diags, sources)))),
        };
        (a, None)
    };
    if !r.is_ok() {
        let diags: Vec<Diagnostic> = r.errors.iter().map(Diagnostic::from).collect();
        log_findings(name, &diags, &[], &r.zone.sources);
        let unreadable = r.errors.iter().find(|e| e.kind == ErrorKind::Io);
        let (kind, reason) = match unreadable {
            None => (
                FailKind::Read,
                format!(
                    "{} read error{} in {}",
                    diags.len(),
                    plural(diags.len()),
                    z.file.display()
                ),
            ),
            Some(e) => (FailKind::Unreadable, e.message.clone()),
        };
        return fail(kind, reason, &diags, &r.zone.sources);
    }
    // The serial is settled first (no check reads it), so that signing and
    // compiling can run beside the checks: on a large zone they take about
    // as long as the checks do, and a load of the 1M-record bench zone
    // finished a fifth sooner on two cores. What they build is dropped when the checks or the serial rules
    // refuse the zone; refusals are reported in the same order as before.
    // The content hash (a pass over every record) decides the serial only
    // against a version served before, or under a serial the server sets;
    // on a first load under the file's serial it is worked out after the
    // load, by the thread that frees the zone read (see `Content`).
    let serial_needs_content = prev.is_some() || z.serial != SerialPolicy::File;
    let early_content = serial_needs_content.then(|| content_hash(&r.zone));
    let file_serial = soa_serial(&r.zone).unwrap_or(0);
    let settled = settle_serial(
        z,
        prev,
        force,
        resign,
        early_content.unwrap_or_default(),
        file_serial,
    );
    let new_serial = match &settled {
        Ok((serial, _)) if *serial != file_serial => Some(*serial),
        _ => None,
    };
    if let Some(serial) = new_serial {
        set_soa_serial(&mut r.zone, serial);
    }
    // The snapshot as it will be served: with who may transfer it and,
    // for IXFR, what changed since the version served now. Transfers are
    // refused by default; allowed to the listed prefixes, or, when only a
    // key is required, to whoever signs with it.
    let ready = |mut snapshot: Snapshot| -> Arc<Snapshot> {
        if !z.transfer.is_empty() {
            let acl = z.transfer.clone();
            snapshot.transfer =
                mailzone_engine::transfer::TransferPolicy(Some(Arc::new(move |ip| {
                    acl.iter().any(|p| p.contains(ip))
                })));
        } else if z.transfer_key.is_some() {
            snapshot.transfer = mailzone_engine::transfer::TransferPolicy(Some(Arc::new(|_| true)));
        }
        snapshot.transfer_key = z
            .transfer_key
            .as_deref()
            .and_then(|k| hickory_proto::rr::Name::from_ascii(k).ok());
        if let Some(p) = prev {
            snapshot.journal = mailzone_engine::transfer::extend_journal(&p.snapshot, &snapshot);
        }
        Arc::new(snapshot)
    };
    let build = || -> Option<Result<Built, String>> {
        settled.as_ref().ok()?;
        Some(match &z.dnssec {
            None => {
                let streamed = compiling
                    .and_then(|c| c.finish(&r.zone.origin, r.zone.records.len()))
                    .map(|mut s| {
                        if let Some(serial) = new_serial {
                            s.set_serial(serial);
                        }
                        s
                    });
                let snapshot = streamed.unwrap_or_else(|| Snapshot::compile(&r.zone));
                Ok((ready(snapshot), None, None))
            }
            Some(d) => sign(&r.zone, d)
                .map(|(signed, at)| (ready(Snapshot::compile(&signed)), Some(signed), Some(at))),
        })
    };
    let parallel = std::thread::available_parallelism().is_ok_and(|n| n.get() > 1);
    // Info findings are logged as counts, so only counted; ids the config
    // raises to errors are built in full.
    let raised: Vec<String> = z.check.raise.iter().map(|o| o.id.clone()).collect();
    let (mut diags, counted, built) =
        if let Some(early) = early.filter(|_| z.check.serve_with_errors) {
            // Nothing the checks find keeps this zone from being served, so it
            // is published as soon as it is compiled and the findings follow.
            // The compile has a core to itself: the checks start on the other
            // one beside it and this thread joins them once the zone is
            // published; on a single CPU they run after it.
            let checking = std::sync::OnceLock::new();
            let zone = &r.zone;
            std::thread::scope(|s| {
                let mut names = names.as_mut();
                let checks = parallel.then(|| {
                    let names = names.take();
                    let (checking, keep) = (&checking, raised.clone());
                    s.spawn(move || {
                        checking
                            .get_or_init(|| Checking::new(zone, names).counting_info(keep))
                            .work()
                    })
                });
                let built = build();
                if let Some(Ok((snapshot, _, _))) = &built {
                    early(snapshot);
                    tracing::info!(
                        zone = name,
                        ms = started.elapsed().as_millis() as u64,
                        "zone answering; its checks are still running"
                    );
                }
                let (diags, counted) = match checks {
                    Some(h) => {
                        // Joins once the index is built; a checks thread that
                        // ended without one (it panicked) is reported below.
                        while !h.is_finished() {
                            if let Some(c) = checking.get() {
                                c.work();
                                break;
                            }
                            std::thread::sleep(std::time::Duration::from_millis(1));
                        }
                        h.join().expect("a check family panicked");
                        checking
                            .get()
                            .map(|c| (c.finish(), c.counted()))
                            .unwrap_or_default()
                    }
                    None => check_zone_counting(&r.zone, names, raised),
                };
                (diags, counted, built)
            })
        } else {
            std::thread::scope(|s| {
                let built = s.spawn(|| {
                    // The checks decide when this zone is served; compiling
                    // beside them takes what CPU they leave (a reload runs
                    // at this priority already).
                    crate::lower_priority();
                    build()
                });
                let (diags, counted) = check_zone_counting(&r.zone, names.as_mut(), raised);
                // A panic while compiling or signing is our bug; let it surface.
                let built = built.join().expect("compiling the zone panicked");
                (diags, counted, built)
            })
        };
    let pairs = |v: &[mailzone_config::Override]| {
        v.iter()
            .map(|o| (o.id.clone(), o.reason.clone()))
            .collect::<Vec<_>>()
    };
    apply_policy(&mut diags, &pairs(&z.check.allow), &pairs(&z.check.raise));
    // Errors first, so the kept diagnostics are the ones that matter.
    diags.sort_by_key(|d| std::cmp::Reverse(d.severity));
    log_findings(name, &diags, &counted, &r.zone.sources);
    let count = |s| diags.iter().filter(|d| d.severity == s).count();
    let (errors, warnings, infos) = (
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Info) + counted.iter().map(|c| c.1).sum::<usize>(),
    );
    if errors > 0 && !z.check.serve_with_errors {
        return fail(
            FailKind::Check,
            format!(
                "{errors} check error{} (fix them, or set on_error = \"warn\" to serve the zone anyway)",
                plural(errors)
            ),
            &diags,
            &r.zone.sources,
        );
    }
    let (serial, notes) = match settled {
        Ok(s) => s,
        Err(reason) => return fail(FailKind::Serial, reason, &[], &r.zone.sources),
    };
    let (snapshot, signed_zone, resign_at) = match built {
        Some(Ok(b)) => b,
        Some(Err(e)) => {
            tracing::error!(zone = name, "{e}");
            return fail(FailKind::Keys, e, &[], &r.zone.sources);
        }
        None => unreachable!("the serial was settled, so the zone was built"),
    };
    for n in &notes {
        tracing::warn!(zone = name, "{n}");
    }
    tracing::info!(
        zone = name,
        records = snapshot.records,
        serial,
        errors,
        warnings,
        info = infos,
        ms = started.elapsed().as_millis() as u64,
        "zone loaded"
    );
    let (content, kept) = if keep {
        let h = early_content.unwrap_or_else(|| content_hash(&r.zone));
        (Content::known(h), Some(signed_zone.unwrap_or(r.zone)))
    } else {
        (Content::after(r.zone, early_content), None)
    };
    let a = Attempt {
        inputs,
        result: Ok(Served {
            records: snapshot.records,
            snapshot,
            content,
            serial,
            file_serial,
            resign_at,
            loaded_at: SystemTime::now(),
            errors,
            warnings,
            infos,
            notes,
        }),
    };
    (a, kept)
}

/// A zone ready to serve: its snapshot, the signed zone when it is signed,
/// and when to sign it again.
type Built = (Arc<Snapshot>, Option<Zone>, Option<SystemTime>);

/// The serial to serve under the zone's serial policy, with notes for the
/// log; `Err` when the file's serial goes backwards and `force` is not set.
fn settle_serial(
    z: &ZoneConfig,
    prev: Option<&Served>,
    force: bool,
    resign: bool,
    content: u64,
    file_serial: u32,
) -> Result<(u32, Vec<String>), String> {
    let mut notes = Vec::new();
    let signed = z.dnssec.is_some();
    let serial = match (z.serial, prev) {
        (SerialPolicy::File, None) => file_serial,
        (SerialPolicy::File, Some(p)) => {
            if serial_lt(file_serial, p.file_serial) && !force {
                return Err(format!(
                    "the SOA serial goes backwards, from {} to {file_serial}: secondaries would keep the old zone; raise it, or reload with --force",
                    p.file_serial
                ));
            }
            if signed {
                // Every new set of signatures is a new version of the zone.
                if serial_lt(p.serial, file_serial) {
                    file_serial
                } else {
                    p.serial.wrapping_add(1)
                }
            } else {
                if file_serial == p.serial && content != p.content.get() {
                    notes.push(format!(
                        "the records changed but the SOA serial ({file_serial}) did not: secondaries will not notice; raise it, or set serial = \"unixtime\" for this zone"
                    ));
                }
                file_serial
            }
        }
        (policy, prev) => {
            let s = auto_serial(policy, prev, content, SystemTime::now());
            match prev {
                Some(p) if (resign || signed) && !serial_lt(p.serial, s) => {
                    p.serial.wrapping_add(1)
                }
                _ => s,
            }
        }
    };
    Ok((serial, notes))
}

/// `create_keys`: when the directory holds no key of the zone, makes the
/// directory (mode 0700) and a CSK, and logs the DS the parent needs. Runs
/// before the zone's inputs are fingerprinted, so the new key file does not
/// make the next reload look like a change. A failure is logged; signing then
/// refuses the zone for want of a key.
fn create_key_if_none(origin: &Name, d: &mailzone_config::DnssecPolicy) {
    if !d.create_keys || crate::keys::has_keys(&d.keys, origin) {
        return;
    }
    if let Err(e) = create_key(origin, d) {
        tracing::error!(zone = %origin, "create_keys: {e}");
    }
}

fn create_key(origin: &Name, d: &mailzone_config::DnssecPolicy) -> Result<(), String> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&d.keys)
        .map_err(|e| format!("cannot create keys directory {}: {e}", d.keys.display()))?;
    let alg = crate::keys::algorithm_named(d.algorithm.as_deref().unwrap_or("ecdsap256sha256"))?;
    let (path, key) = crate::keys::generate(&d.keys, origin, alg, crate::keys::Role::Csk)?;
    let ds = key.ds(origin).map_or_else(
        |e| format!("(cannot compute the DS: {e})"),
        |ds| ds.to_string(),
    );
    tracing::info!(zone = %origin, file = %path.display(), "create_keys: no key found, generated a CSK; DS for the parent: {ds}");
    Ok(())
}

/// Signs a zone with the keys of its `[zone.dnssec]`; returns the signed zone
/// and when to sign it again. Signatures start an hour in the past, for
/// validators whose clocks run behind.
fn sign(zone: &Zone, d: &mailzone_config::DnssecPolicy) -> Result<(Zone, SystemTime), String> {
    let keys = crate::keys::load(&d.keys, &zone.origin, d.algorithm.as_deref())
        .map_err(|e| format!("zone refused: {e}"))?;
    let now = SystemTime::now();
    let secs = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|x| x.as_secs())
        .unwrap_or(0);
    let validity = mailzone_engine::sign::Validity {
        inception: secs.saturating_sub(3600) as u32,
        expiration: (secs + u64::from(d.validity)) as u32,
    };
    let denial = match d.denial {
        mailzone_config::DenialKind::Nsec => mailzone_engine::sign::Denial::Nsec,
        mailzone_config::DenialKind::Nsec3 => mailzone_engine::sign::Denial::Nsec3,
    };
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let signed = mailzone_engine::sign::sign_zone(zone, &keys, denial, validity, workers)
        .map_err(|e| format!("zone refused: signing failed: {e}"))?;
    let resign = now + std::time::Duration::from_secs(u64::from(d.validity - d.refresh));
    Ok((signed, resign))
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Errors and warnings as one line each, located: what `status` and the
/// reload reply show.
fn kept(diags: &[Diagnostic], sources: &SourceMap) -> Vec<String> {
    diags
        .iter()
        .filter(|d| d.severity >= Severity::Warning)
        .take(KEPT_DIAGNOSTICS)
        .map(|d| {
            format!(
                "{}: {}[{}]: {}",
                sources.location(d.span),
                d.severity.as_str(),
                d.id,
                d.message
            )
        })
        .collect()
}

/// Logs a zone's findings once: errors and warnings one line each (the first
/// hundred), info findings as counts per id (with those only `counted`), by id.
pub fn log_findings(
    zone: &str,
    diags: &[Diagnostic],
    counted: &[(&'static str, usize)],
    sources: &SourceMap,
) {
    for (shown, d) in diags
        .iter()
        .filter(|d| d.severity >= Severity::Warning)
        .enumerate()
    {
        if shown == KEPT_DIAGNOSTICS {
            tracing::warn!(
                zone,
                "… and more findings; run `mailzone check` for all of them"
            );
            break;
        }
        let at = sources.location(d.span);
        match d.severity {
            Severity::Error => tracing::error!(zone, id = d.id, at = %at, "{}", d.message),
            _ => tracing::warn!(zone, id = d.id, at = %at, "{}", d.message),
        }
    }
    let mut infos: Vec<(&str, usize)> = counted.to_vec();
    for d in diags.iter().filter(|d| d.severity == Severity::Info) {
        match infos.iter_mut().find(|(id, _)| *id == d.id) {
            Some(e) => e.1 += 1,
            None => infos.push((d.id, 1)),
        }
    }
    // By id: counted findings come in the order the checks ran.
    infos.sort_unstable();
    if !infos.is_empty() {
        let list: Vec<String> = infos.iter().map(|(id, n)| format!("{id}×{n}")).collect();
        tracing::info!(zone, "info findings: {}", list.join(" "));
    }
}

/// A zone's [`content_hash`], which only the next load's serial rules read.
/// A first load under the file's serial has no use for it, so it is worked
/// out after the load, at background priority, by the thread that then frees
/// the zone read. (On the 100k bench zone the hash alone was 6% of a load's
/// instructions, and freeing the read zone came before the catalog was
/// published.)
#[derive(Clone)]
pub struct Content(Arc<std::sync::Mutex<Pending>>);

enum Pending {
    Known(u64),
    Hashing(Option<std::thread::JoinHandle<u64>>),
}

impl Content {
    pub fn known(hash: u64) -> Content {
        Content(Arc::new(std::sync::Mutex::new(Pending::Known(hash))))
    }

    /// Frees `zone` on a thread of its own, hashing it first unless the hash
    /// is `known`.
    fn after(zone: Zone, known: Option<u64>) -> Content {
        // Shared so that it is still here when no thread can be had; the
        // thread holds the last reference once this one is dropped.
        let zone = Arc::new(zone);
        let theirs = Arc::clone(&zone);
        let spawned = std::thread::Builder::new()
            .name("zone-free".into())
            .spawn(move || {
                crate::lower_priority();
                known.unwrap_or_else(|| content_hash(&theirs))
            });
        match (spawned, known) {
            (Ok(_), Some(h)) => Content::known(h),
            (Ok(handle), None) => Content(Arc::new(std::sync::Mutex::new(Pending::Hashing(Some(
                handle,
            ))))),
            (Err(e), _) => {
                tracing::debug!("no thread to free the zone on: {e}");
                Content::known(known.unwrap_or_else(|| content_hash(&zone)))
            }
        }
    }

    /// The hash, waiting for it when it is still being worked out.
    pub fn get(&self) -> u64 {
        let mut p = self.0.lock().unwrap_or_else(|e| e.into_inner());
        match &mut *p {
            Pending::Known(h) => *h,
            Pending::Hashing(handle) => {
                let h = handle
                    .take()
                    .map(|j| j.join().expect("hashing a zone panicked"))
                    .unwrap_or_default();
                *p = Pending::Known(h);
                h
            }
        }
    }
}

impl std::fmt::Debug for Content {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.try_lock().as_deref() {
            Ok(Pending::Known(h)) => write!(f, "Content({h:#x})"),
            _ => f.write_str("Content(pending)"),
        }
    }
}

/// Order-independent hash of the records, the SOA serial left out.
fn content_hash(zone: &Zone) -> u64 {
    use mailzone_zone::record::{name_to_wire_into, rdata_to_wire_into};
    let state = foldhash::quality::FixedState::with_seed(0x7a6f_6e65);
    // One buffer for every record: a 1M-record zone made three allocations a
    // record here.
    let mut buf = Vec::new();
    let mut hashes: Vec<u64> = zone
        .records
        .iter()
        .map(|r| {
            let mut h = state.build_hasher();
            name_to_wire_into(&r.owner, &mut buf);
            // Label lengths are at most 63, below `A`: only letters change.
            buf.make_ascii_lowercase();
            buf.hash(&mut h);
            u16::from(r.class).hash(&mut h);
            r.ttl.hash(&mut h);
            match &r.rdata {
                RData::SOA(soa) => {
                    let mut soa = soa.clone();
                    soa.serial = 0;
                    rdata_to_wire_into(&RData::SOA(soa), &mut buf);
                }
                other => {
                    u16::from(other.record_type()).hash(&mut h);
                    rdata_to_wire_into(other, &mut buf);
                }
            }
            buf.hash(&mut h);
            h.finish()
        })
        .collect();
    hashes.sort_unstable();
    state.hash_one(&hashes)
}

fn soa_serial(zone: &Zone) -> Option<u32> {
    zone.records.iter().find_map(|r| match &r.rdata {
        RData::SOA(s) => Some(s.serial),
        _ => None,
    })
}

fn set_soa_serial(zone: &mut Zone, serial: u32) {
    for r in &mut zone.records {
        if let RData::SOA(s) = &mut r.rdata {
            s.serial = serial;
        }
    }
}

pub use mailzone_engine::snapshot::serial_lt;

/// The serial the server sets: from the clock, but always after the one
/// served before, and unchanged when only comments or layout changed.
pub fn auto_serial(
    policy: SerialPolicy,
    prev: Option<&Served>,
    content: u64,
    now: SystemTime,
) -> u32 {
    if let Some(p) = prev
        && p.content.get() == content
    {
        return p.serial;
    }
    let candidate = match policy {
        SerialPolicy::Date => {
            // "2026-12-03T13:21:17Z" → 2026120300
            let day: String = rfc3339(now)
                .chars()
                .take(10)
                .filter(char::is_ascii_digit)
                .collect();
            day.parse::<u32>().unwrap_or(0).saturating_mul(100)
        }
        _ => now
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs() as u32)
            .unwrap_or(0),
    };
    match prev {
        Some(p) if !serial_lt(p.serial, candidate) => p.serial.wrapping_add(1),
        _ => candidate,
    }
}
