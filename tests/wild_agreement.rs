//! Every TCP frame of the tcpdump project's 830 test captures
//! (`tests/data/wild/`) against tshark 4.0.17, without tshark.
//!
//! `tests/fixtures/tshark/wild-tcp.tsv` holds tshark's side of
//! `scripts/compare-tshark.py`: one line per frame tshark puts in a TCP
//! stream, with the stream, ports, flags, raw and relative seq, relative
//! ack, payload length, duplicate-ACK number, the scaled window and its
//! factor, `acks_frame`, `ack_rtt`, `bytes_in_flight`, `initial_rtt` and the
//! analysis flags (`scripts/wild-fixture.py` writes it; its doc says how each
//! column is read). This test runs every capture through tcplab's pipeline
//! (`FileSource` -> `Pipeline::push` -> `PacketRecord`, to the end of the
//! file or its damage, as `replay` does) and compares each fixture frame
//! with tcplab's record field by field; a frame tcplab puts in a TCP stream
//! and tshark does not is a mismatch too. Each mismatch prints as
//! `file frame N field: ours X, tshark Y`.
//!
//! `KNOWN` names the files whose differences docs/tshark-differences.md
//! explains ("What still differs"). Their frames are still compared and
//! counted, but they do not fail the test; a mismatch in any other file
//! does, and so does a KNOWN file that now agrees on every frame (remove it
//! from KNOWN), so the list shrinks as the decoder catches up.
//!
//! `flags` compares the eight flags a record names (docs/json.md: FIN ...
//! CWR); tshark's NS/AE bit (0x100) has no place in the record.
//!
//! `cargo test --test wild_agreement -- --nocapture` shows every mismatch
//! and the summary line even when the test passes.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use tcplab::capture::{FileSource, PacketSource};
use tcplab::flow::Pipeline;
use tcplab::render::PacketRecord;

use common::{flag_names, opt};

const FIXTURE: &str = "tests/fixtures/tshark/wild-tcp.tsv";

/// The fixture's columns, in order (scripts/compare-tshark.py's COLUMNS
/// between `file, frame` and `analysis`).
const COLUMNS: [&str; 18] = [
    "file",
    "frame",
    "stream",
    "sport",
    "dport",
    "flags",
    "seq_raw",
    "seq",
    "ack",
    "payload_len",
    "dup_ack_num",
    "window_size",
    "window_scale_factor",
    "acks_frame",
    "ack_rtt",
    "bytes_in_flight",
    "initial_rtt",
    "analysis",
];

// The rows of docs/tshark-differences.md, "What still differs".
const TUNNEL: &str = "What still differs: sFlow samples: tshark decodes the sampled frame's TCP";
const LINK: &str = "What still differs: Juniper Ethernet (LINKTYPE 178), skipped on purpose";
const MICROS: &str = "What still differs (analysis fields): a microsecond field of a \
                      million or more: tshark keeps the impossible fraction, tcplab \
                      carries it into the seconds";

/// Files whose differences docs/tshark-differences.md explains: (file,
/// the row of its table). Every one must still differ somewhere; the
/// comment is how many of its TCP frames differed when it was added.
const KNOWN: &[(&str, &str)] = &[
    ("bgp-aigp.pcap", LINK),                  // 1 (Juniper)
    ("sflow_expanded.pcap", TUNNEL),          // 1
    ("timestamp_invalid_micro.pcap", MICROS), // 1
    ("timestamp_invalid_nano.pcap", MICROS),  // 1
];

/// tshark's tcp.flags (hex) as the record's names: the low eight bits
/// only (the record has no name for AE; docs/tshark-differences.md).
fn low_flag_names(hex: &str) -> String {
    match u16::from_str_radix(hex.trim_start_matches("0x"), 16) {
        Ok(bits) => flag_names(&format!("0x{:x}", bits & 0xff)),
        Err(_) => format!("unreadable {hex:?}"),
    }
}

/// Our value of fixture column `col` (`file` and `frame` excluded).
fn ours(r: &PacketRecord, col: &str) -> String {
    match col {
        "stream" => opt(r.stream),
        "sport" => opt(r.sport),
        "dport" => opt(r.dport),
        "flags" => r.flags.as_ref().map(|f| f.join(" ")).unwrap_or_default(),
        "seq_raw" => opt(r.seq_raw),
        "seq" => opt(r.seq),
        "ack" => opt(r.ack),
        "payload_len" => opt(r.payload_len),
        "dup_ack_num" => opt(r.dup_ack_num),
        "window_size" => opt(r.window_size),
        "window_scale_factor" => opt(r.window_scale_factor),
        "acks_frame" => opt(r.acks_frame),
        // Seconds as text: both print 9 decimals.
        "ack_rtt" => opt(r.ack_rtt),
        "bytes_in_flight" => opt(r.bytes_in_flight),
        "initial_rtt" => opt(r.initial_rtt),
        "analysis" => r.analysis.as_ref().map(|a| a.join(" ")).unwrap_or_default(),
        other => panic!("no record field for fixture column {other:?}"),
    }
}

/// tshark's value of column `col`, as the record would print it.
fn theirs(row: &[String], col: usize) -> String {
    match COLUMNS[col] {
        "flags" => low_flag_names(&row[col]),
        _ => row[col].clone(),
    }
}

/// The fixture: file -> frame -> the row's values (COLUMNS' order).
fn read_fixture(root: &Path) -> BTreeMap<String, BTreeMap<u64, Vec<String>>> {
    let path = root.join(FIXTURE);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run scripts/wild-fixture.py, needs tshark 4.0.17)",
            path.display()
        )
    });
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("a header line").split('\t').collect();
    assert_eq!(
        header, COLUMNS,
        "{FIXTURE}: columns changed; update COLUMNS and `ours` to match"
    );
    let mut out: BTreeMap<String, BTreeMap<u64, Vec<String>>> = BTreeMap::new();
    for (i, line) in lines.enumerate() {
        let row: Vec<String> = line.split('\t').map(str::to_string).collect();
        assert_eq!(
            row.len(),
            COLUMNS.len(),
            "{FIXTURE} line {}: {} values for {} columns",
            i + 2,
            row.len(),
            COLUMNS.len()
        );
        let frame: u64 = row[1]
            .parse()
            .unwrap_or_else(|e| panic!("{FIXTURE} line {}: frame {:?}: {e}", i + 2, row[1]));
        let old = out.entry(row[0].clone()).or_default().insert(frame, row);
        assert!(old.is_none(), "{FIXTURE} line {}: frame twice", i + 2);
    }
    out
}

/// tcplab's records of the frames it puts in a TCP stream, by frame number,
/// read to the end of the file or its damage (as `replay` does). A file
/// that does not open has none.
fn our_tcp_records(path: &Path) -> BTreeMap<u64, PacketRecord> {
    let mut out = BTreeMap::new();
    let Ok(mut src) = FileSource::open(path) else {
        return out;
    };
    let mut pipeline = Pipeline::new();
    while let Ok(Some(frame)) = src.next_frame() {
        let p = pipeline.push(&frame.as_raw());
        let r = PacketRecord::of(&p, 0);
        if r.stream.is_some() {
            out.insert(r.frame, r);
        }
    }
    out
}

/// What we show for a frame tcplab puts in no TCP stream.
fn no_stream(path: &Path, frame: u64) -> String {
    let Ok(mut src) = FileSource::open(path) else {
        return "none (the file does not open)".into();
    };
    let mut pipeline = Pipeline::new();
    while let Ok(Some(f)) = src.next_frame() {
        let p = pipeline.push(&f.as_raw());
        if p.number == frame {
            let r = PacketRecord::of(&p, 0);
            let why = r.error.or(r.note).unwrap_or_default();
            return format!("none ({why})");
        }
    }
    "none (frame not read)".into()
}

#[test]
fn every_tcp_frame_agrees_with_tshark() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let fixture = read_fixture(root);
    let captures = common::wild_captures();
    let names: BTreeSet<String> = captures
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    let mut problems = Vec::new();
    for name in fixture.keys().filter(|n| !names.contains(*n)) {
        problems.push(format!("{FIXTURE} names {name}, not in tests/data/wild"));
    }
    let mut seen = BTreeSet::new();
    for (file, why) in KNOWN {
        if !names.contains(*file) {
            problems.push(format!(
                "KNOWN names {file}, not in tests/data/wild ({why})"
            ));
        }
        if !seen.insert(*file) {
            problems.push(format!("KNOWN names {file} twice"));
        }
    }
    let known = |file: &str| KNOWN.iter().find(|(f, _)| *f == file).map(|(_, why)| *why);

    let empty = BTreeMap::new();
    let (mut frames, mut agree, mut known_differ) = (0, 0, 0);
    let mut known_files = BTreeSet::new();
    for path in &captures {
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let theirs_rows = fixture.get(&file).unwrap_or(&empty);
        let ours_rows = our_tcp_records(path);
        let numbers: BTreeSet<u64> = theirs_rows
            .keys()
            .chain(ours_rows.keys())
            .copied()
            .collect();
        let mut differing = 0;
        for n in numbers {
            frames += 1;
            let mut lines = Vec::new();
            match (ours_rows.get(&n), theirs_rows.get(&n)) {
                (Some(r), Some(t)) => {
                    for (col, name) in COLUMNS.iter().enumerate().skip(2) {
                        let (a, b) = (ours(r, name), theirs(t, col));
                        if a != b {
                            lines.push(format!("{file} frame {n} {name}: ours {a}, tshark {b}"));
                        }
                    }
                }
                (Some(r), None) => lines.push(format!(
                    "{file} frame {n} stream: ours {}, tshark none (tshark puts it in no TCP stream)",
                    opt(r.stream)
                )),
                (None, Some(t)) => lines.push(format!(
                    "{file} frame {n} stream: ours {}, tshark {}",
                    no_stream(path, n),
                    t[2]
                )),
                (None, None) => unreachable!(),
            }
            if lines.is_empty() {
                agree += 1;
                continue;
            }
            differing += 1;
            let label = match known(&file) {
                Some(_) => "KNOWN",
                None => "NEW",
            };
            for line in lines {
                eprintln!("{line}  [{label}]");
                if label == "NEW" {
                    problems.push(line);
                }
            }
        }
        match known(&file) {
            Some(_) if differing > 0 => {
                known_differ += differing;
                known_files.insert(file);
            }
            Some(why) => problems.push(format!(
                "{file} agrees with tshark on every TCP frame now: remove it from KNOWN ({why})"
            )),
            None => {}
        }
    }
    let summary = format!(
        "{agree} of {frames} TCP frames agree; {known_differ} differ in KNOWN files ({} files)",
        known_files.len()
    );
    eprintln!("{summary}");
    assert!(
        problems.is_empty(),
        "{} problems (a NEW difference, or a KNOWN entry that is wrong):\n{}\n{summary}\n\
         If tcplab is right, say why in docs/tshark-differences.md and add the file to KNOWN; \
         if tshark's side changed, rerun scripts/wild-fixture.py.",
        problems.len(),
        problems.join("\n")
    );
}
