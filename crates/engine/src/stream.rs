//! Compiling a zone while it is read, from the wire forms the reader makes
//! anyway (see `mailzone_zone::read_zone_file_observed`): on two cores a
//! thread of its own takes batches of records, so the snapshot is ready
//! about when the read ends; on one CPU the reader compiles each batch
//! when it is full, which spares encoding every record's hickory form
//! again after the read. (A batch of 4,096 records at a time: compiling
//! each record as it was read took longer, as the reader, the names and
//! the compiler's tables took turns in the caches.)

use crate::snapshot::{Compiler, Shape, Snapshot};
use hickory_proto::rr::Name;
use mailzone_zone::ZoneRecord;
use mailzone_zone::handoff::{Batches, Handoff, Reuse};

/// Records handed over together, back to back: owner length (one byte), the
/// owner, type, TTL, [`Shape`] code, RDATA length (two bytes), the RDATA.
#[derive(Default)]
struct Batch {
    bytes: Vec<u8>,
    records: usize,
}

pub struct CompileStream {
    /// `None` once a record the batch format cannot carry was seen (or the
    /// compiler is gone): the zone is compiled after the read instead.
    sink: Option<Sink>,
    seen: usize,
    origin: Name,
}

enum Sink {
    Thread(Handoff<Batch, Snapshot>),
    /// One CPU: the reader compiles each batch when it is full.
    Here(Box<Compiler>, Batch),
}

impl CompileStream {
    /// Records per hand-over: the channel costs nothing per record, and the
    /// compiler starts long before the read ends.
    const BATCH: usize = 4096;

    /// Whether streaming pays for a zone of about `records` records.
    pub fn pays(records: usize) -> bool {
        records >= mailzone_zone::handoff::MIN_RECORDS
    }

    /// `records` is a guess at the zone's size, for the first allocations.
    /// On a thread of its own when there is a second core.
    pub fn start(origin: &Name, records: usize) -> CompileStream {
        Self::start_on(origin, records, mailzone_zone::handoff::pays(records))
    }

    fn start_on(origin: &Name, records: usize, thread: bool) -> CompileStream {
        let sink = if thread {
            let o = origin.clone();
            Sink::Thread(Handoff::start(
                "compile",
                move |mut batches: Batches<Batch>| {
                    let mut c = Compiler::new(&o, records);
                    while let Some(batch) = batches.next_batch() {
                        batch.compile_into(&mut c);
                    }
                    c.finish()
                },
            ))
        } else {
            Sink::Here(Box::new(Compiler::new(origin, records)), Batch::default())
        };
        CompileStream {
            sink: Some(sink),
            seen: 0,
            origin: origin.clone(),
        }
    }

    /// Whether a thread of its own compiles (it takes the second core).
    pub fn threaded(&self) -> bool {
        matches!(self.sink, Some(Sink::Thread(_)))
    }

    /// The next record read, with its owner's and its RDATA's uncompressed
    /// wire forms (case kept).
    pub fn observe(&mut self, r: &ZoneRecord, code: u16, owner_wire: &[u8], rdata_wire: &[u8]) {
        self.seen += 1;
        let Some(sink) = self.sink.as_mut() else {
            return;
        };
        let (Ok(n), Ok(len)) = (
            u8::try_from(owner_wire.len()),
            u16::try_from(rdata_wire.len()),
        ) else {
            // Not a record a reader lets through.
            self.sink = None;
            return;
        };
        let batch = match sink {
            Sink::Here(_, b) => b,
            Sink::Thread(handoff) => match handoff.batch() {
                Some(b) => b,
                None => return,
            },
        };
        let b = &mut batch.bytes;
        b.push(n);
        b.extend_from_slice(owner_wire);
        b.extend_from_slice(&code.to_le_bytes());
        b.extend_from_slice(&r.ttl.to_le_bytes());
        b.push(Shape::of(&r.rdata).code());
        b.extend_from_slice(&len.to_le_bytes());
        b.extend_from_slice(rdata_wire);
        batch.records += 1;
        if batch.records == Self::BATCH {
            match sink {
                Sink::Thread(handoff) => handoff.send(),
                Sink::Here(c, b) => {
                    b.compile_into(c);
                    b.clear();
                }
            }
        }
    }

    /// The snapshot of every record observed, when it is the snapshot of
    /// `records` records under `origin`: the zone as read, every record
    /// handed over. `None` (compile the zone instead) otherwise, or when
    /// the compiler is gone.
    pub fn finish(self, origin: &Name, records: usize) -> Option<Snapshot> {
        if self.seen != records || *origin != self.origin {
            return None;
        }
        match self.sink? {
            Sink::Thread(handoff) => handoff.finish(),
            Sink::Here(mut c, batch) => {
                batch.compile_into(&mut c);
                Some(c.finish())
            }
        }
    }
}

impl Reuse for Batch {
    fn clear(&mut self) {
        self.bytes.clear();
        self.records = 0;
    }
}

impl Batch {
    fn compile_into(&self, c: &mut Compiler) {
        let mut b = self.bytes.as_slice();
        for _ in 0..self.records {
            let n = usize::from(b[0]);
            let (owner, rest) = b[1..].split_at(n);
            let t = u16::from_le_bytes([rest[0], rest[1]]);
            let ttl = u32::from_le_bytes([rest[2], rest[3], rest[4], rest[5]]);
            let shape = Shape::from_code(rest[6]);
            let len = usize::from(u16::from_le_bytes([rest[7], rest[8]]));
            let (rd, rest) = rest[9..].split_at(len);
            c.add(owner, t, ttl, shape, rd);
            b = rest;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mailzone_zone::{MasterOptions, read_zone_file, read_zone_file_observed};
    use std::fmt::Write;
    use std::path::{Path, PathBuf};
    use std::str::FromStr;

    /// Everything a snapshot serves from, in one deterministic text.
    fn describe(s: &Snapshot) -> String {
        let mut keys: Vec<_> = s.nodes.keys().collect();
        keys.sort();
        let mut out = format!(
            "origin {:?} serial {} records {} neg_ttl {} nsec {:?} nsec3 {:?}\n",
            s.origin, s.serial, s.records, s.neg_ttl, s.nsec, s.nsec3
        );
        for k in keys {
            let n = &s.nodes[k];
            let _ = writeln!(
                out,
                "{k:?} name {:?} cut {} below {}",
                n.owner(k),
                n.cut,
                n.below_cut_or_dname
            );
            for set in n.sets(&s.sets) {
                let _ = writeln!(out, "  type {} ttl {}", set.rtype, set.ttl);
                for d in &set.rdata {
                    let _ = writeln!(out, "    {:?} {:?} {}", d.wire(&s.data), d.target_at, d.ttl);
                }
            }
        }
        out
    }

    /// The zone compiled while read (by a thread, or by the reader: batches
    /// included) and after it.
    fn both_ways(path: &Path, origin: &Name, thread: bool) -> (String, String) {
        let opts = MasterOptions {
            origin: Some(origin.clone()),
            ..MasterOptions::default()
        };
        let mut stream = Some(CompileStream::start_on(origin, 0, thread));
        assert_eq!(stream.as_ref().unwrap().threaded(), thread);
        let r = read_zone_file_observed(path, &opts, &mut |rec, t, w, rd| {
            stream.as_mut().unwrap().observe(rec, t, w, rd)
        });
        assert!(r.is_ok(), "{}: {:?}", path.display(), r.errors);
        let streamed = stream
            .take()
            .unwrap()
            .finish(&r.zone.origin, r.zone.records.len())
            .expect("every record was handed over");
        (describe(&streamed), describe(&Snapshot::compile(&r.zone)))
    }

    /// Over ten batches of records of every shape: names in mixed case,
    /// MX, NS at the apex and below it (a cut, glue, occluded data), SRV,
    /// DNAME, a wildcard, empty non-terminals, duplicates, RRsets whose
    /// TTLs differ, MX written in the generic syntax, and a record outside
    /// the origin.
    fn generated() -> String {
        let mut z = String::from(
            "$ORIGIN Gen.Test.\n$TTL 300\n@ SOA ns1 host 7 2 3 4 60\n@ NS ns1\nns1 A 192.0.2.1\n* TXT \"wild\"\nd DNAME example.net.\nout.example. A 192.0.2.9\nx TYPE15 \\# 3 000a00\n",
        );
        for i in 0..45_000 {
            let _ = match i % 9 {
                0 => writeln!(z, "H{i}.a.B IN MX 10 mx{i}.Example.NET."),
                1 => writeln!(z, "h{}.a.b 60 MX 20 mx.gen.test.", i - 1),
                2 => writeln!(z, "_sip._tcp.s{i} SRV 0 5 5060 Sip{i}.gen.test."),
                3 => writeln!(
                    z,
                    "c{i} NS ns.c{i}\nns.c{i} A 192.0.2.3\nx.c{i} TXT \"below a cut\""
                ),
                4 => writeln!(
                    z,
                    "t{i} TXT \"v=spf1 -all\" \"two\"\nt{i} TXT \"v=spf1 -all\" \"two\""
                ),
                5 => writeln!(z, "a{i} 100 A 10.0.0.1\na{i} 200 A 10.0.0.2"),
                6 => writeln!(z, "w{i} CNAME t{}", i - 2),
                7 => writeln!(z, "deep.er.e{i} AAAA 2001:db8::1"),
                _ => writeln!(z, "p{i} PTR host.example."),
            };
        }
        z
    }

    fn scratch(name: &str, text: &str) -> PathBuf {
        let p = std::env::temp_dir().join(format!("mailzone-stream-{}-{name}", std::process::id()));
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn streamed_compile_is_the_compile_of_the_zone_read() {
        let p = scratch("gen.zone", &generated());
        for thread in [true, false] {
            let (streamed, after) = both_ways(&p, &Name::from_str("gen.test.").unwrap(), thread);
            assert!(streamed.contains("type 15"), "the generated zone has MX");
            assert_eq!(streamed, after, "compiled on a thread: {thread}");
        }
        let _ = std::fs::remove_file(&p);
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut files = vec![(
            root.join("zones/example.com.zone"),
            Name::from_str("example.com.").unwrap(),
        )];
        for e in std::fs::read_dir(root.join("tests/corpus/valid")).unwrap() {
            let path = e.unwrap().path();
            if path.extension().is_none_or(|x| x != "zone") {
                continue; // $INCLUDE files, read through the zones naming them
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let origin = text
                .lines()
                .next()
                .and_then(|l| l.strip_prefix("; origin "));
            files.push((
                path.clone(),
                Name::from_str(origin.unwrap().trim()).unwrap(),
            ));
        }
        assert!(files.len() > 30);
        for (path, origin) in files {
            for thread in [true, false] {
                let (streamed, after) = both_ways(&path, &origin, thread);
                assert_eq!(streamed, after, "{} (thread: {thread})", path.display());
            }
        }
    }

    #[test]
    fn a_serial_set_after_compiling_is_the_serial_compiled() {
        let text =
            "$ORIGIN s.test.\n$TTL 300\n@ SOA ns1 host 7 2 3 4 60\n@ NS ns1\nns1 A 192.0.2.1\n";
        let p = scratch("serial.zone", text);
        let opts = MasterOptions {
            origin: Some(Name::from_str("s.test.").unwrap()),
            ..MasterOptions::default()
        };
        let mut r = read_zone_file(&p, &opts);
        let _ = std::fs::remove_file(&p);
        assert!(r.is_ok(), "{:?}", r.errors);
        // Two SOA RDATA that differ only in their serial become one (the
        // reader refuses a second SOA; the model can hold one).
        let mut second = r.zone.records[0].clone();
        if let hickory_proto::rr::RData::SOA(s) = &mut second.rdata {
            s.serial = 8;
        }
        r.zone.records.push(second);
        let mut patched = Snapshot::compile(&r.zone);
        assert_eq!(patched.soa().unwrap().rdata.len(), 2);
        patched.set_serial(2_026_120_301);
        for rec in &mut r.zone.records {
            if let hickory_proto::rr::RData::SOA(s) = &mut rec.rdata {
                s.serial = 2_026_120_301;
            }
        }
        assert_eq!(describe(&patched), describe(&Snapshot::compile(&r.zone)));
        assert_eq!(patched.soa().unwrap().rdata.len(), 1);
    }

    #[test]
    fn a_stream_that_missed_records_gives_nothing() {
        let origin = Name::from_str("gen.test.").unwrap();
        for thread in [true, false] {
            let s = CompileStream::start_on(&origin, 0, thread);
            assert!(s.finish(&origin, 1).is_none());
            let s = CompileStream::start_on(&origin, 0, thread);
            assert!(
                s.finish(&Name::from_str("other.test.").unwrap(), 0)
                    .is_none()
            );
        }
    }
}
