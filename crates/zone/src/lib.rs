//! mailzone's zone model and readers. A zone is read into located records
//! (`hickory-proto` types plus a [`span::Span`]) by the master-file reader or
//! the TOML reader, and written back by the canonical writer. Readers collect
//! every error in one pass; nothing here touches the network or decides policy.

pub mod error;
pub mod handoff;
pub mod master;
pub mod rdata;
pub mod record;
pub mod scan;
pub mod span;
pub mod text;
pub mod toml_zone;
pub mod writer;

pub use error::{ErrorKind, ReadError};
pub use master::{
    MasterOptions, read_master_bytes, read_master_file, read_master_file_observed, read_master_str,
};
pub use record::{ReadResult, Zone, ZoneRecord};
pub use span::{FileId, SourceMap, Span};

/// Reads a zone file of either format: TOML when the name ends in `.toml`,
/// an RFC 1035 master file otherwise.
pub fn read_zone_file(path: &std::path::Path, opts: &MasterOptions) -> ReadResult {
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("toml"))
    {
        toml_zone::read_toml_file(path)
    } else {
        read_master_file(path, opts)
    }
}

/// [`read_zone_file`], handing each record to `observe` in the order of the
/// zone's records: as it is read from a master file; after the whole file
/// from a TOML zone (small by nature).
pub fn read_zone_file_observed(
    path: &std::path::Path,
    opts: &MasterOptions,
    observe: &mut master::Observer<'_>,
) -> ReadResult {
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("toml"))
    {
        let r = toml_zone::read_toml_file(path);
        for rec in &r.zone.records {
            observe(
                rec,
                u16::from(rec.rtype()),
                &record::name_to_wire_bytes(&rec.owner),
                &record::rdata_to_wire(&rec.rdata),
            );
        }
        r
    } else {
        read_master_file_observed(path, opts, observe)
    }
}
