//! `render::write_record` (the hand-written JSON that `replay --format
//! ndjson|json` and `capture --format ndjson` print) against the reference,
//! serde_json of `render::PacketRecord`, on every frame of every capture we
//! have: the committed ones and the tcpdump project's 830 test captures
//! (`tests/data/wild/`), damaged ones included. The bytes must be the same,
//! so a field added to `PacketRecord` and forgotten in `write_record` (or
//! put in another order) fails here.

mod common;

use std::path::PathBuf;

use tcplab::capture::SavefileReader;
use tcplab::flow::{Packet, Pipeline};
use tcplab::render::{write_record, PacketRecord};

fn files() -> Vec<PathBuf> {
    common::all_captures()
}

/// How often the corpus reached the record's rarer parts, so that a pass
/// means they were compared.
#[derive(Default, Debug)]
struct Seen {
    records: usize,
    ipv6: usize,
    error: usize,
    note: usize,
    sack: usize,
    dup_ack: usize,
    analysis: usize,
    no_tcp: usize,
}

#[test]
fn hand_written_records_are_serde_json_byte_for_byte() {
    let mut seen = Seen::default();
    let mut failures = Vec::new();
    let mut buf = Vec::new();
    for path in files() {
        let Ok(mut reader) = SavefileReader::new(std::fs::File::open(&path).unwrap()) else {
            continue;
        };
        let mut pipeline = Pipeline::new();
        let mut p = Packet::default();
        let mut number = 0;
        // A damaged file is compared up to where reading stops.
        while let Ok(Some(frame)) = reader.next_frame() {
            number += 1;
            pipeline.step_into(number, &frame, &mut p);
            // The replay default, none, and a cut inside a payload.
            for max_hex in [usize::MAX, 0, 3] {
                let want = serde_json::to_vec(&PacketRecord::of(&p, max_hex)).unwrap();
                buf.clear();
                buf.extend_from_slice(b"kept");
                write_record(&mut buf, &p, max_hex);
                if buf[4..] != want[..] && failures.len() < 10 {
                    failures.push(format!(
                        "{} frame {number} (max_hex {max_hex}):\n  want {}\n  got  {}",
                        path.display(),
                        String::from_utf8_lossy(&want),
                        String::from_utf8_lossy(&buf[4..])
                    ));
                }
            }
            let r = PacketRecord::of(&p, usize::MAX);
            seen.records += 1;
            seen.ipv6 += usize::from(r.ip_version == Some(6));
            seen.error += usize::from(r.error.is_some());
            seen.note += usize::from(r.note.is_some());
            seen.sack += usize::from(r.options.as_ref().is_some_and(|o| !o.sack.is_empty()));
            seen.dup_ack += usize::from(r.dup_ack_num.is_some());
            seen.analysis += usize::from(r.analysis.as_ref().is_some_and(|a| !a.is_empty()));
            seen.no_tcp += usize::from(r.flags.is_none());
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let Seen {
        records,
        ipv6,
        error,
        note,
        sack,
        dup_ack,
        analysis,
        no_tcp,
    } = seen;
    assert!(
        records > 10_000
            && [ipv6, error, note, sack, dup_ack, analysis, no_tcp]
                .iter()
                .all(|n| *n > 0),
        "the corpus should reach every kind of record: {seen:?}"
    );
}
