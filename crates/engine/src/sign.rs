//! DNSSEC signing at compile time: a read zone and its keys in, the signed
//! zone out (DNSKEY, CDS and CDNSKEY at the apex, an NSEC or NSEC3 chain,
//! RRSIG over every authoritative RRset). The clock is an argument, as
//! everywhere in the engine; the cryptography is hickory's (ring).
//!
//! What is signed follows RFC 4035 §2: every RRset the zone is authoritative
//! for, and at a delegation only DS and the denial record; delegation NS and
//! glue are not. NSEC3 follows RFC 9276: SHA-1, no extra iterations, empty
//! salt, no opt-out, so every name (empty non-terminals too) is in the chain.

use hickory_proto::dnssec::rdata::{
    CDNSKEY, CDS, DNSKEY, DNSSECRData, DS, NSEC, NSEC3, NSEC3PARAM, RRSIG, SigInput,
};
use hickory_proto::dnssec::{DigestType, Nsec3HashAlgorithm, PublicKey, SigningKey, TBS, Verifier};
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType, SerialNumber};
use mailzone_zone::record::rdata_to_wire;
use mailzone_zone::{Span, Zone, ZoneRecord};
use std::collections::{BTreeMap, BTreeSet, HashSet};

/// A private key of the zone with its public DNSKEY. A key with the SEP flag
/// (257) is a KSK, or a CSK when it is the only kind present.
pub struct ZoneKey {
    pub key: Box<dyn SigningKey>,
    pub dnskey: DNSKEY,
    pub tag: u16,
}

impl ZoneKey {
    pub fn new(key: Box<dyn SigningKey>, sep: bool) -> Result<ZoneKey, String> {
        let public = key.to_public_key().map_err(|e| e.to_string())?;
        let dnskey = DNSKEY::with_flags(if sep { 257 } else { 256 }, public);
        let tag = dnskey.calculate_key_tag().map_err(|e| e.to_string())?;
        Ok(ZoneKey { key, dnskey, tag })
    }

    pub fn sep(&self) -> bool {
        self.dnskey.secure_entry_point()
    }

    /// The DS record (SHA-256) a parent publishes for this key.
    pub fn ds(&self, origin: &Name) -> Result<DS, String> {
        let digest = self
            .dnskey
            .to_digest(origin, DigestType::SHA256)
            .map_err(|e| e.to_string())?;
        Ok(DS::new(
            self.tag,
            self.dnskey.algorithm(),
            DigestType::SHA256,
            digest.as_ref().to_vec(),
        ))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denial {
    Nsec,
    Nsec3,
}

/// When signatures start and end (seconds since 1970; RFC 1982 arithmetic
/// makes the 2106 wrap harmless).
#[derive(Debug, Clone, Copy)]
pub struct Validity {
    pub inception: u32,
    pub expiration: u32,
}

/// Types the signer owns: dropped from the input and written anew.
fn generated(t: RecordType, at_apex: bool) -> bool {
    matches!(
        t,
        RecordType::RRSIG | RecordType::NSEC | RecordType::NSEC3 | RecordType::NSEC3PARAM
    ) || (at_apex
        && matches!(
            t,
            RecordType::DNSKEY | RecordType::CDS | RecordType::CDNSKEY
        ))
}

struct Set {
    ttl: u32,
    rdata: Vec<RData>,
}

/// Signs a zone with a key made for the occasion and then forgotten (an
/// ECDSA P-256 CSK): for tests and benchmarks, which need a signed zone,
/// not a key to keep.
pub fn sign_with_new_key(zone: &Zone, denial: Denial, validity: Validity) -> Result<Zone, String> {
    use hickory_proto::dnssec::Algorithm;
    use hickory_proto::dnssec::crypto::EcdsaSigningKey;
    let alg = Algorithm::ECDSAP256SHA256;
    let pkcs8 = EcdsaSigningKey::generate_pkcs8(alg).map_err(|e| e.to_string())?;
    let key = EcdsaSigningKey::from_pkcs8(&pkcs8, alg).map_err(|e| e.to_string())?;
    let keys = vec![ZoneKey::new(Box::new(key), true)?];
    sign_zone(zone, &keys, denial, validity, 2)
}

/// Signs a zone. Records outside the origin are dropped (they are never
/// served); existing signatures and chains are replaced. Signatures are
/// made on `workers` scoped threads (none outlives the call; 1 signs on the
/// caller's thread).
pub fn sign_zone(
    zone: &Zone,
    keys: &[ZoneKey],
    denial: Denial,
    validity: Validity,
    workers: usize,
) -> Result<Zone, String> {
    if keys.is_empty() {
        return Err("no keys to sign with".into());
    }
    let origin = zone.origin.to_lowercase();
    // Names in canonical order (hickory's `Name` orders canonically,
    // case-insensitively), each with its RRsets by type.
    let mut names: BTreeMap<Name, BTreeMap<u16, Set>> = BTreeMap::new();
    let mut kept = Vec::new();
    for r in &zone.records {
        if !origin.zone_of(&r.owner) {
            continue;
        }
        let at_apex = r.owner.eq(&origin);
        if generated(r.rtype(), at_apex) {
            continue;
        }
        kept.push(r.clone());
        let sets = names.entry(r.owner.clone()).or_default();
        let set = sets.entry(u16::from(r.rtype())).or_insert(Set {
            ttl: r.ttl,
            rdata: Vec::new(),
        });
        set.ttl = set.ttl.min(r.ttl);
        let wire = rdata_to_wire(&r.rdata);
        if !set.rdata.iter().any(|d| rdata_to_wire(d) == wire) {
            set.rdata.push(r.rdata.clone());
        }
    }
    let (soa_ttl, neg_ttl) = names
        .get(&origin)
        .and_then(|s| s.get(&u16::from(RecordType::SOA)))
        .and_then(|s| match s.rdata.first() {
            Some(RData::SOA(soa)) => Some((s.ttl, s.ttl.min(soa.minimum))),
            _ => None,
        })
        .ok_or("the zone has no SOA at its origin")?;

    // Keys at the apex: DNSKEY, and CDS/CDNSKEY for the keys a parent trusts.
    let apex = names.entry(origin.clone()).or_default();
    let mut add = |t: RecordType, rd: RData| {
        apex.entry(u16::from(t))
            .or_insert(Set {
                ttl: soa_ttl,
                rdata: Vec::new(),
            })
            .rdata
            .push(rd)
    };
    for k in keys {
        add(
            RecordType::DNSKEY,
            RData::DNSSEC(DNSSECRData::DNSKEY(k.dnskey.clone())),
        );
    }
    let sep_keys: Vec<&ZoneKey> = keys.iter().filter(|k| k.sep()).collect();
    let (ksks, zsks): (Vec<&ZoneKey>, Vec<&ZoneKey>) = if sep_keys.is_empty() {
        (keys.iter().collect(), keys.iter().collect())
    } else if sep_keys.len() == keys.len() {
        (sep_keys.clone(), sep_keys.clone())
    } else {
        (sep_keys.clone(), keys.iter().filter(|k| !k.sep()).collect())
    };
    for k in &ksks {
        let ds = k.ds(&origin)?;
        add(
            RecordType::CDS,
            RData::DNSSEC(DNSSECRData::CDS(CDS::new(
                ds.key_tag(),
                Some(ds.algorithm()),
                DigestType::SHA256,
                ds.digest().to_vec(),
            ))),
        );
        add(
            RecordType::CDNSKEY,
            RData::DNSSEC(DNSSECRData::CDNSKEY(CDNSKEY::with_flags(
                k.dnskey.flags(),
                Some(k.dnskey.algorithm()),
                k.dnskey.public_key().public_bytes().to_vec(),
            ))),
        );
    }

    // Delegations, and the names below them (glue, occluded data).
    let cuts: HashSet<Name> = names
        .iter()
        .filter(|(n, s)| **n != origin && s.contains_key(&u16::from(RecordType::NS)))
        .map(|(n, _)| n.clone())
        .collect();
    let below_cut = |n: &Name| {
        let mut a = n.base_name();
        while a.num_labels() > origin.num_labels() {
            if cuts.contains(&a) {
                return true;
            }
            a = a.base_name();
        }
        false
    };
    let authoritative: Vec<Name> = names.keys().filter(|n| !below_cut(n)).cloned().collect();

    let mut out: Vec<ZoneRecord> = kept;
    let push = |out: &mut Vec<ZoneRecord>, owner: &Name, ttl: u32, rdata: RData| {
        out.push(ZoneRecord {
            owner: owner.clone(),
            class: DNSClass::IN,
            ttl,
            rdata,
            span: Span::default(),
        })
    };
    // The generated apex records.
    for t in [RecordType::DNSKEY, RecordType::CDS, RecordType::CDNSKEY] {
        if let Some(set) = names[&origin].get(&u16::from(t)) {
            for rd in &set.rdata {
                push(&mut out, &origin, set.ttl, rd.clone());
            }
        }
    }
    let signed_types = |n: &Name, sets: &BTreeMap<u16, Set>| -> Vec<u16> {
        if cuts.contains(n) {
            sets.keys()
                .copied()
                .filter(|&t| t == u16::from(RecordType::DS))
                .collect()
        } else {
            sets.keys().copied().collect()
        }
    };
    let types_of = |sets: &BTreeMap<u16, Set>| -> Vec<RecordType> {
        sets.keys().map(|&t| RecordType::from(t)).collect()
    };

    // Denial of existence.
    let mut denial_sets: Vec<(Name, RData)> = Vec::new();
    match denial {
        Denial::Nsec => {
            for (i, n) in authoritative.iter().enumerate() {
                let next = &authoritative[(i + 1) % authoritative.len()];
                let sets = &names[n];
                let mut types = types_of(sets);
                if cuts.contains(n) {
                    types.retain(|t| matches!(t, RecordType::NS | RecordType::DS));
                }
                denial_sets.push((
                    n.clone(),
                    RData::DNSSEC(DNSSECRData::NSEC(NSEC::new_cover_self(next.clone(), types))),
                ));
            }
        }
        Denial::Nsec3 => {
            // Every authoritative name and every empty non-terminal above one.
            let mut all: BTreeSet<Name> = authoritative.iter().cloned().collect();
            for n in &authoritative {
                let mut a = n.clone();
                while a.num_labels() > origin.num_labels() {
                    a = a.base_name();
                    all.insert(a.clone());
                }
            }
            let mut hashed: Vec<(Vec<u8>, Name)> = all
                .into_iter()
                .map(|n| {
                    Nsec3HashAlgorithm::SHA1
                        .hash(&[], &n.to_lowercase(), 0)
                        .map(|h| (h.as_ref().to_vec(), n))
                        .map_err(|e| e.to_string())
                })
                .collect::<Result<_, _>>()?;
            hashed.sort();
            for (i, (h, n)) in hashed.iter().enumerate() {
                let next = &hashed[(i + 1) % hashed.len()].0;
                let mut types: Vec<RecordType> = Vec::new();
                if let Some(sets) = names.get(n) {
                    types = types_of(sets);
                    if cuts.contains(n) {
                        types.retain(|t| matches!(t, RecordType::NS | RecordType::DS));
                    }
                    if !signed_types(n, sets).is_empty() {
                        types.push(RecordType::RRSIG);
                    }
                }
                if *n == origin {
                    types.push(RecordType::NSEC3PARAM);
                }
                let owner = hashed_owner(h, &origin)?;
                denial_sets.push((
                    owner,
                    RData::DNSSEC(DNSSECRData::NSEC3(NSEC3::new(
                        Nsec3HashAlgorithm::SHA1,
                        false,
                        0,
                        Vec::new(),
                        next.clone(),
                        types,
                    ))),
                ));
            }
            denial_sets.push((
                origin.clone(),
                RData::DNSSEC(DNSSECRData::NSEC3PARAM(NSEC3PARAM::new(
                    Nsec3HashAlgorithm::SHA1,
                    false,
                    0,
                    Vec::new(),
                ))),
            ));
        }
    }

    // Signatures.
    let sign_set = |out: &mut Vec<ZoneRecord>,
                    owner: &Name,
                    t: RecordType,
                    ttl: u32,
                    rdata: &[RData]|
     -> Result<(), String> {
        let by = if matches!(
            t,
            RecordType::DNSKEY | RecordType::CDS | RecordType::CDNSKEY
        ) {
            &ksks
        } else {
            &zsks
        };
        let records: Vec<Record> = rdata
            .iter()
            .map(|rd| Record::from_rdata(owner.clone(), ttl, rd.clone()))
            .collect();
        for k in by {
            let input = SigInput {
                type_covered: t,
                algorithm: k.dnskey.algorithm(),
                num_labels: owner.num_labels(),
                original_ttl: ttl,
                sig_expiration: SerialNumber::new(validity.expiration),
                sig_inception: SerialNumber::new(validity.inception),
                key_tag: k.tag,
                signer_name: origin.clone(),
            };
            let tbs = TBS::from_input(owner, DNSClass::IN, &input, records.iter())
                .map_err(|e| e.to_string())?;
            let sig = k
                .key
                .sign(&tbs)
                .map_err(|e| format!("signing {owner} {t}: {e}"))?;
            push(
                out,
                owner,
                ttl,
                RData::DNSSEC(DNSSECRData::RRSIG(RRSIG::from_sig(input, sig))),
            );
        }
        Ok(())
    };
    let mut jobs: Vec<(&Name, RecordType, u32, &[RData])> = Vec::new();
    for n in &authoritative {
        let sets = &names[n];
        for t in signed_types(n, sets) {
            let set = &sets[&t];
            jobs.push((n, RecordType::from(t), set.ttl, &set.rdata));
        }
    }
    for (owner, rd) in &denial_sets {
        push(&mut out, owner, neg_ttl, rd.clone());
        jobs.push((owner, rd.record_type(), neg_ttl, std::slice::from_ref(rd)));
    }
    let per = jobs.len().div_ceil(workers.max(1)).max(1);
    let signed: Vec<Result<Vec<ZoneRecord>, String>> = std::thread::scope(|sc| {
        let handles: Vec<_> = jobs
            .chunks(per)
            .map(|chunk| {
                let sign_set = &sign_set;
                sc.spawn(move || {
                    let mut v = Vec::with_capacity(chunk.len());
                    for (owner, t, ttl, rdata) in chunk {
                        sign_set(&mut v, owner, *t, *ttl, rdata)?;
                    }
                    Ok(v)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("a signing thread panicked".into()))
            })
            .collect()
    });
    for part in signed {
        out.extend(part?);
    }
    Ok(Zone {
        origin: zone.origin.clone(),
        class: zone.class,
        records: out,
        sources: zone.sources.clone(),
    })
}

/// `<base32hex of the hash>.<origin>`, lowercase (RFC 5155 §3).
pub fn hashed_owner(hash: &[u8], origin: &Name) -> Result<Name, String> {
    let label = data_encoding::BASE32HEX_NOPAD
        .encode(hash)
        .to_ascii_lowercase();
    Name::from_ascii(&label)
        .and_then(|l| l.append_domain(origin))
        .map_err(|e| e.to_string())
}
