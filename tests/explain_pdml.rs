//! `--explain`'s fields against tshark's packet-details pane, field by
//! field, on every frame of every capture in `captures/`.
//!
//! `tests/fixtures/pdml/<capture>.tsv` holds what `tshark -T pdml` placed
//! for each frame (made by `scripts/pdml-fixtures.py`, which says which
//! fields it keeps and why; tshark is not needed here). For each of them
//! the test looks for tcplab's field of the same name at the same offset
//! and compares its length and value. Every mismatch of a capture is
//! listed, then the test fails; 100% agreement is the only pass.

use std::collections::HashMap;
use std::path::PathBuf;

use tcplab::capture::{FileSource, PacketSource};
use tcplab::decode::Field;
use tcplab::flow::Pipeline;

/// As the fixture script keeps a long payload: its length and first bytes.
const PAYLOAD_KEPT: usize = 64;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Fields of tshark's reassembly pane, not of any header.
const REASSEMBLY_TREE: [&str; 8] = [
    "ip.fragments",
    "ip.fragment",
    "ip.fragment.error",
    "ipv6.fragment.error",
    "ip.reassembled.data",
    "ipv6.fragments",
    "ipv6.fragment",
    "ipv6.reassembled.data",
];

/// The real-world captures the fixtures also hold (scripts/pdml-fixtures.py).
const REAL: [&str; 4] = [
    "ssh.pcap",
    "bgp-4byte-asn.pcap",
    "of10_s4810.pcap",
    "resp_1_benchmark.pcap",
];

/// Each frame's fields, by (frame, abbrev, offset).
fn ours(path: &std::path::Path) -> HashMap<(u64, String, usize), Field> {
    let capture = path.display();
    let mut src = FileSource::open(path).unwrap_or_else(|e| panic!("{capture}: {e}"));
    let mut pipeline = Pipeline::new();
    let mut out = HashMap::new();
    while let Some(frame) = src
        .next_frame()
        .unwrap_or_else(|e| panic!("{capture}: {e}"))
    {
        let p = pipeline.push(&frame.as_raw());
        for f in p.fields() {
            out.insert((p.number, f.abbrev.to_string(), f.offset), f);
        }
    }
    out
}

fn shown(f: &Field) -> String {
    let payload = f.abbrev == "tcp.payload" || f.abbrev == "udp.payload";
    if payload && f.len > PAYLOAD_KEPT {
        format!("{}:{}", f.len, &f.value[..PAYLOAD_KEPT * 3 - 1])
    } else {
        f.value.clone()
    }
}

/// The mismatches of one capture, and how many fields were compared.
fn compare(path: &std::path::Path) -> (Vec<String>, usize) {
    let capture = path.file_name().unwrap().to_str().unwrap();
    let stem = capture.rsplit_once('.').map_or(capture, |(s, _)| s);
    // captures/encap/x.pcap has its fixture in tests/fixtures/pdml/encap/.
    let dir = match path.parent().and_then(|d| d.file_name()) {
        Some(d) if d == "encap" => "encap/",
        _ => "",
    };
    let fixture = root().join(format!("tests/fixtures/pdml/{dir}{stem}.tsv"));
    let text = std::fs::read_to_string(&fixture).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (scripts/pdml-fixtures.py makes it)",
            fixture.display()
        )
    });
    let ours = ours(path);
    let mut bad = Vec::new();
    let mut compared = 0;
    for line in text.lines() {
        let cols: Vec<&str> = line.splitn(5, '\t').collect();
        let [frame, abbrev, offset, len, value] = cols[..] else {
            panic!("{}: bad line {line:?}", fixture.display());
        };
        let key = (
            frame.parse().unwrap(),
            abbrev.to_string(),
            offset.parse().unwrap(),
        );
        // tshark's reassembly tree (which frames, the bytes they make) is
        // no header field; the size line and the record say it instead.
        if REASSEMBLY_TREE.contains(&abbrev) {
            continue;
        }
        // tshark 4.0 places PBB's EtherType at the I-tag's bytes 2-3 though
        // it reads the value 14 bytes later; tcplab places it where the
        // value is (docs/tshark-differences.md).
        if stem == "pbb" && abbrev == "ieee8021ah.etype" {
            continue;
        }
        compared += 1;
        match ours.get(&key) {
            None => bad.push(format!("frame {frame} {abbrev} at {offset}: missing")),
            Some(f) if f.len.to_string() != len || shown(f) != value => bad.push(format!(
                "frame {frame} {abbrev} at {offset}: ours len {} value {:?}, tshark len {len} value {value:?}",
                f.len,
                shown(f)
            )),
            Some(_) => {}
        }
    }
    (bad, compared)
}

#[test]
fn every_field_tshark_places_is_explained_with_its_bytes_and_value() {
    let mut captures: Vec<PathBuf> = std::fs::read_dir(root().join("captures"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "pcap" || x == "pcapng"))
        .collect();
    captures.sort();
    assert!(captures.len() >= 10, "captures/ holds {captures:?}");
    let mut encap: Vec<PathBuf> = std::fs::read_dir(root().join("captures/encap"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "pcap" || x == "pcapng"))
        .collect();
    encap.sort();
    assert!(encap.len() >= 24, "captures/encap holds {encap:?}");
    captures.extend(encap);
    captures.extend(REAL.iter().map(|n| root().join("tests/data/wild").join(n)));
    let mut report = String::new();
    let mut total = 0;
    let mut failed = 0;
    for c in &captures {
        let (bad, compared) = compare(c);
        total += compared;
        failed += bad.len();
        for b in bad.iter().take(40) {
            report.push_str(&format!("{}: {b}\n", c.display()));
        }
        if bad.len() > 40 {
            report.push_str(&format!("{}: … {} more\n", c.display(), bad.len() - 40));
        }
    }
    eprintln!("{total} fields compared, {failed} differ");
    assert!(
        failed == 0,
        "{failed} of {total} fields differ from tshark:\n{report}"
    );
}

/// Every frame of the tcpdump project's 830 test captures (many damaged on
/// purpose) explains without a panic, every field lies inside the frame
/// as captured.
#[test]
fn every_wild_frame_explains_inside_its_bytes() {
    let dir = root().join("tests/data/wild");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    let (mut frames, mut fields) = (0u64, 0usize);
    let mut bad = Vec::new();
    for path in &files {
        let Ok(mut src) = FileSource::open(path) else {
            continue; // not a capture libpcap or tcplab reads: the reader tests cover it
        };
        let mut pipeline = Pipeline::new();
        while let Ok(Some(frame)) = src.next_frame() {
            let p = pipeline.push(&frame.as_raw());
            frames += 1;
            let list = p.fields();
            fields += list.len();
            // A reassembled segment's fields count in its own bytes.
            let room = |f: &Field| match &p.reassembled {
                Some(r) if f.reassembled => r.payload.len(),
                _ => p.data.len(),
            };
            for f in &list {
                if f.offset + f.len > room(f) {
                    bad.push(format!(
                        "{} frame {}: {} at {}+{} past {} bytes",
                        path.display(),
                        p.number,
                        f.abbrev,
                        f.offset,
                        f.len,
                        p.data.len()
                    ));
                }
            }
        }
    }
    eprintln!("{} files, {frames} frames, {fields} fields", files.len());
    assert!(frames > 10_000, "only {frames} frames read");
    assert!(bad.is_empty(), "{}", bad[..bad.len().min(30)].join("\n"));
}
