//! `flow::Defrag` against tshark 4.0 on every `captures/encap/*fragments*`
//! capture: the frames where tshark shows `ip.reassembled.length` (or
//! `ipv6.reassembled.length`) in `tests/fixtures/tshark/encap/<capture>.csv`
//! must be exactly the frames where `Defrag::add` completes a datagram,
//! with the same length and the same `ip.fragment.count`.
//!
//! The test reads each frame with tcplab's reader and takes the IP headers
//! apart with etherparse (Ethernet, then IPv4, or IPv6 with a Fragment
//! header right after the fixed header: the layouts
//! `scripts/make-fragment-captures.py` and `make-encap-captures.py` write).
//! It feeds what tshark enters: IPv4 pieces with MF or an offset, every IPv6
//! piece with a Fragment header; the cut ones are the table's to refuse.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use etherparse::{Ipv4HeaderSlice, Ipv6FragmentHeaderSlice, Ipv6HeaderSlice};
use tcplab::capture::{FileSource, PacketSource};
use tcplab::flow::{Defrag, DefragKey, Fragment, Outcome};

use common::parse_csv_line;

const ETHERNET_LEN: usize = 14;
const IPV6_LEN: usize = 40;
const IPV6_FRAGMENT_LEN: usize = 8;
const NEXT_HEADER_FRAGMENT: u8 = 44;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fragment's key and its place, read from an Ethernet frame; `None` for
/// anything that is not an IP fragment.
fn fragment_of(frame: &[u8], number: u64) -> Option<(DefragKey, Fragment<'_>)> {
    let ethertype = u16::from_be_bytes([*frame.get(12)?, *frame.get(13)?]);
    let ip = frame.get(ETHERNET_LEN..)?;
    match ethertype {
        0x0800 => ipv4_fragment(ip, number),
        0x86dd => ipv6_fragment(ip, number),
        _ => None,
    }
}

fn ipv4_fragment(ip: &[u8], number: u64) -> Option<(DefragKey, Fragment<'_>)> {
    let h = Ipv4HeaderSlice::from_slice(ip).ok()?;
    let offset = u32::from(h.fragments_offset().value()) * 8;
    if !h.more_fragments() && offset == 0 {
        return None;
    }
    let hdr = h.slice().len();
    let key = DefragKey::ipv4(
        h.source_addr(),
        h.destination_addr(),
        h.identification(),
        h.protocol().0,
    );
    let frag = Fragment {
        frame: number,
        offset,
        more: h.more_fragments(),
        declared_len: usize::from(h.total_len()).saturating_sub(hdr),
        data: &ip[hdr..],
    };
    Some((key, frag))
}

fn ipv6_fragment(ip: &[u8], number: u64) -> Option<(DefragKey, Fragment<'_>)> {
    let h = Ipv6HeaderSlice::from_slice(ip).ok()?;
    if h.next_header().0 != NEXT_HEADER_FRAGMENT {
        return None;
    }
    let f = Ipv6FragmentHeaderSlice::from_slice(ip.get(IPV6_LEN..)?).ok()?;
    let start = IPV6_LEN + IPV6_FRAGMENT_LEN;
    let frag = Fragment {
        frame: number,
        offset: u32::from(f.fragment_offset().value()) * 8,
        more: f.more_fragments(),
        declared_len: usize::from(h.payload_length()).saturating_sub(IPV6_FRAGMENT_LEN),
        data: ip.get(start..)?,
    };
    Some((
        DefragKey::ipv6(h.source_addr(), h.destination_addr(), f.identification()),
        frag,
    ))
}

/// Frame number -> (reassembled length, fragment count), as Defrag gives them.
fn ours(capture: &Path) -> BTreeMap<u64, (usize, usize)> {
    let mut src =
        FileSource::open(capture).unwrap_or_else(|e| panic!("{}: {e}", capture.display()));
    let (mut defrag, mut out, mut number) = (Defrag::new(), BTreeMap::new(), 0);
    while let Some(frame) = src.next_frame().expect("a readable capture") {
        number += 1;
        let raw = frame.as_raw();
        if let Some((key, frag)) = fragment_of(raw.data, number) {
            if let Outcome::Complete(r) = defrag.add(key, frag) {
                out.insert(number, (r.payload.len(), r.frames.len()));
            }
        }
    }
    out
}

/// The same, from tshark's fixture: the rows with a reassembled length.
fn tsharks(capture: &str) -> BTreeMap<u64, (usize, usize)> {
    let path = root()
        .join("tests/fixtures/tshark/encap")
        .join(format!("{capture}.csv"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines();
    let header = parse_csv_line(lines.next().expect("a header line")).unwrap();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h.as_deref() == Some(name))
            .unwrap()
    };
    let (num, v4) = (
        col("frame.number"),
        (col("ip.reassembled.length"), col("ip.fragment.count")),
    );
    let v6 = (col("ipv6.reassembled.length"), col("ipv6.fragment.count"));
    let mut out = BTreeMap::new();
    for line in lines {
        let row = parse_csv_line(line).unwrap();
        let value = |i: usize| row[i].as_deref().map(|v| v.parse::<usize>().unwrap());
        for (len, count) in [v4, v6] {
            if let (Some(len), Some(count)) = (value(len), value(count)) {
                out.insert(value(num).unwrap() as u64, (len, count));
            }
        }
    }
    out
}

#[test]
fn defrag_completes_where_tshark_reassembles() {
    let dir = root().join("captures/encap");
    let mut captures: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .contains("fragments")
        })
        .collect();
    captures.sort();
    assert_eq!(
        captures.len(),
        12,
        "the fragment captures in {}",
        dir.display()
    );
    let (mut failures, mut completions) = (Vec::new(), 0);
    for capture in &captures {
        let name = capture.file_stem().unwrap().to_string_lossy().into_owned();
        let (ours, theirs) = (ours(capture), tsharks(&name));
        completions += theirs.len();
        if ours != theirs {
            failures.push(format!("{name}: ours {ours:?}\n  tshark {theirs:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "(frame: (length, count))\n{}",
        failures.join("\n")
    );
    // Two per family in each of fragments, out-of-order, duplicate, overlap;
    // none in incomplete and snaplen: the comparison is not of empty maps.
    assert_eq!(completions, 16);
}
