//! The zone's DNSSEC keys on disk: one PKCS#8 PEM file per private key,
//! mode 0600, named `<zone>+<algorithm number>+<key tag>.<role>.pem` (role
//! `csk`, `ksk` or `zsk`) in the directory `[zone.dnssec] keys` names.
//! `mailzone keygen` writes them; every load of the zone reads them.

use hickory_proto::dnssec::crypto::{EcdsaSigningKey, Ed25519SigningKey, signing_key_from_der};
use hickory_proto::dnssec::{Algorithm, SigningKey};
use hickory_proto::rr::Name;
use mailzone_engine::sign::ZoneKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Combined signing key: signs everything, its DS goes to the parent.
    Csk,
    Ksk,
    Zsk,
}

impl Role {
    fn as_str(self) -> &'static str {
        match self {
            Role::Csk => "csk",
            Role::Ksk => "ksk",
            Role::Zsk => "zsk",
        }
    }
}

pub fn algorithm_named(s: &str) -> Result<Algorithm, String> {
    match s.to_ascii_lowercase().as_str() {
        "ecdsap256sha256" | "13" => Ok(Algorithm::ECDSAP256SHA256),
        "ed25519" | "15" => Ok(Algorithm::ED25519),
        "rsasha256" | "8" => Ok(Algorithm::RSASHA256),
        other => Err(format!(
            "`{other}` is not an algorithm mailzone signs with (ecdsap256sha256, ed25519, rsasha256)"
        )),
    }
}

fn file_stem(zone: &Name) -> String {
    let z = zone.to_lowercase().to_ascii();
    z.trim_end_matches('.').to_string()
}

/// Generates a key pair and writes the private key (mode 0600, never
/// overwriting a file). Returns the path and the key.
pub fn generate(
    dir: &Path,
    zone: &Name,
    alg: Algorithm,
    role: Role,
) -> Result<(PathBuf, ZoneKey), String> {
    let pkcs8 = match alg {
        Algorithm::ECDSAP256SHA256 => EcdsaSigningKey::generate_pkcs8(alg),
        Algorithm::ED25519 => Ed25519SigningKey::generate_pkcs8(),
        Algorithm::RSASHA256 => {
            // 2048 bits (RFC 8624 §3.1; NIST SP 800-57).
            use rsa::pkcs8::EncodePrivateKey;
            let k = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 2048)
                .map_err(|e| format!("cannot generate an RSA key: {e}"))?;
            let der = k
                .to_pkcs8_der()
                .map_err(|e| format!("cannot encode the RSA key: {e}"))?;
            Ok(PrivatePkcs8KeyDer::from(der.as_bytes().to_vec()))
        }
        other => return Err(format!("unsupported algorithm {other:?}")),
    }
    .map_err(|e| format!("cannot generate a key: {e}"))?;
    let der = pkcs8.secret_pkcs8_der().to_vec();
    let key = signing_key_from_der(
        &PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(der.clone())),
        alg,
    )
    .map_err(|e| e.to_string())?;
    let zk = ZoneKey::new(key, role != Role::Zsk)?;
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let path = dir.join(format!(
        "{}+{:03}+{:05}.{}.pem",
        file_stem(zone),
        u8::from(alg),
        zk.tag,
        role.as_str()
    ));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let b64 = data_encoding::BASE64.encode(&der);
    let mut pem = String::from("-----BEGIN PRIVATE KEY-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        pem.push('\n');
    }
    pem.push_str("-----END PRIVATE KEY-----\n");
    f.write_all(pem.as_bytes())
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok((path, zk))
}

/// Reads every key of a zone from its keys directory. A zone configured for
/// signing with no readable key is an error, never silently unsigned.
/// Whether the directory holds any key file of the zone (a missing directory holds none).
pub fn has_keys(dir: &Path, zone: &Name) -> bool {
    let prefix = format!("{}+", file_stem(zone));
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries.filter_map(Result::ok).any(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".pem"))
        })
    })
}

pub fn load(dir: &Path, zone: &Name, want: Option<&str>) -> Result<Vec<ZoneKey>, String> {
    let prefix = format!("{}+", file_stem(zone));
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("keys directory {}: {e}", dir.display()))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".pem"))
        })
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(format!(
            "no key for {zone} in {} (expected {prefix}<alg>+<tag>.<role>.pem; run `mailzone keygen {zone} --dir {}`)",
            dir.display(),
            dir.display()
        ));
    }
    let want = want.map(algorithm_named).transpose()?;
    let mut keys = Vec::new();
    for p in files {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        // <zone>+<alg>+<tag>.<role>.pem
        let rest = &name[prefix.len()..name.len() - 4];
        let (alg_tag, role) = rest.rsplit_once('.').unwrap_or((rest, ""));
        let alg_num = alg_tag.split('+').next().unwrap_or_default();
        let bad = |why: String| format!("{}: {why}", p.display());
        let alg = algorithm_named(alg_num.trim_start_matches('0'))
            .map_err(|e| bad(format!("the name says algorithm {alg_num}: {e}")))?;
        if let Some(w) = want
            && w != alg
        {
            return Err(bad(format!(
                "algorithm {alg:?} is not the configured {w:?}"
            )));
        }
        let sep = match role {
            "csk" | "ksk" => true,
            "zsk" => false,
            other => return Err(bad(format!("role `{other}` is not csk, ksk or zsk"))),
        };
        let der = PrivatePkcs8KeyDer::from_pem_file(&p)
            .map_err(|e| bad(format!("not a PKCS#8 PEM private key ({e})")))?;
        let key: Box<dyn SigningKey> = signing_key_from_der(&PrivateKeyDer::Pkcs8(der), alg)
            .map_err(|e| bad(format!("cannot use the key: {e}")))?;
        keys.push(ZoneKey::new(key, sep).map_err(bad)?);
    }
    if !keys.iter().any(|k| k.sep()) {
        return Err(format!(
            "only zone-signing keys for {zone} in {}: add a KSK or CSK (`mailzone keygen {zone}`)",
            dir.display()
        ));
    }
    Ok(keys)
}

/// The config's TSIG keys in the engine's form.
pub fn tsig_keys(
    keys: &[mailzone_config::TsigKeyConfig],
) -> Vec<mailzone_engine::transfer::TsigKey> {
    use hickory_proto::rr::rdata::tsig::TsigAlgorithm;
    keys.iter()
        .filter_map(|k| {
            let algorithm = match k.algorithm.as_str() {
                "hmac-sha256" => TsigAlgorithm::HmacSha256,
                "hmac-sha384" => TsigAlgorithm::HmacSha384,
                "hmac-sha512" => TsigAlgorithm::HmacSha512,
                _ => return None,
            };
            Some(mailzone_engine::transfer::TsigKey {
                name: Name::from_ascii(&k.name).ok()?,
                algorithm,
                secret: k.secret.clone(),
            })
        })
        .collect()
}
