//! Inputs the fuzz targets (`fuzz/`) once crashed on, replayed through the
//! same code (`fuzz/harness.rs`, included by path) without the fuzzer.
//! The files are under `tests/fixtures/fuzz/`, named by target.

#[path = "../fuzz/harness.rs"]
#[allow(dead_code)]
mod harness;

use std::path::Path;

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/fuzz")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The committed captures go through both targets' paths whole.
#[test]
fn committed_captures_pass_both_targets() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("captures");
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        // captures/encap/ holds the re-wrapped captures (their own README).
        if !path.is_file() || path.extension().is_some_and(|e| e == "md") {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        harness::savefile(&bytes);
        // The first frames, in the frame target's layout, as every link type.
        let mut input = vec![7, 0x15];
        let mut reader =
            tcplab::capture::SavefileReader::new(std::io::Cursor::new(&bytes)).unwrap();
        while let Ok(Some(f)) = reader.next_frame() {
            if input.len() + f.data.len() > 4096 {
                break;
            }
            input.extend_from_slice(&(f.data.len() as u16).to_le_bytes());
            input.push(1);
            input.extend_from_slice(f.data);
        }
        harness::frame(&input);
    }
}

/// `frame`: two frames whose seconds are i64::MAX apart (a pcapng
/// `if_tsoffset` can say anything). `Timestamp::secs_since` subtracted in
/// i64 and overflowed in the timeline, the ladder and the summary.
#[test]
fn frame_timestamps_an_i64_apart_render() {
    let input = fixture("frame-secs-since-overflow.bin");
    harness::frame(&input);
    let (links, _, frames) = harness::split_frames(&input);
    assert_eq!(links.len(), 1);
    let (a, b) = (frames[0].0, frames[1].0);
    assert!(b.secs_since(a) < -9.2e18, "{a:?} {b:?}");
}

/// `savefile`: a pcapng interface with `if_tsoffset` = i64::MAX and an
/// enhanced packet block with the largest timestamp. The reader added the
/// offset in i64 and overflowed; the seconds now saturate.
#[test]
fn pcapng_tsoffset_past_i64_saturates() {
    let bytes = fixture("savefile-pcapng-tsoffset-overflow.pcapng");
    harness::savefile(&bytes);
    let mut reader = tcplab::capture::SavefileReader::new(std::io::Cursor::new(&bytes)).unwrap();
    let frame = reader.next_frame().unwrap().expect("one frame");
    assert_eq!(frame.ts.sec, i64::MAX);
    assert_eq!(frame.data, b"abcd");
}

/// `cli`: every duration, count and size option at its edges, and the
/// hex parser, through the fuzz target's path (clap, tcplab's value
/// parsers, a deadline from each duration that parses). A duration of
/// 1e19 s once parsed and panicked later adding it to the clock.
#[test]
fn cli_edges_parse_or_refuse_without_panicking() {
    let options: [(u8, &[&str], &str); 14] = [
        (0, &["--send", "x"], "--timeout-ms"),
        (0, &["--send", "x"], "--max-hex"),
        (0, &["--send", "x"], "--port"),
        (1, &["x.pcap"], "--stream"),
        (1, &["x.pcap"], "--max-hex"),
        (2, &[], "--duration"),
        (2, &[], "--count"),
        (3, &["echo"], "--idle-timeout"),
        (3, &["echo"], "--max-line"),
        (3, &["echo"], "--max-connections"),
        (4, &["127.0.0.1:9"], "--idle"),
        (4, &["127.0.0.1:9"], "--retry"),
        (4, &["127.0.0.1:9"], "--retry-max"),
        (4, &["127.0.0.1:9"], "--connect-timeout"),
    ];
    let values = [
        "0",
        "1",
        "-1",
        "1e19",
        "1e400",
        "nan",
        "inf",
        "-inf",
        "18446744073709551615",
        "18446744073709551616",
        "99999999999999999999h",
        "0.0000000001ms",
        "1.5m",
        "5x",
        "",
        " 3s ",
        "1..2",
        "٣",
        "4294967296",
        "65536",
    ];
    for (sub, before, option) in options {
        for value in values {
            let mut input = vec![sub];
            for arg in before.iter().chain([&option, &value]) {
                input.extend_from_slice(arg.as_bytes());
                input.push(0);
            }
            input.pop();
            harness::cli(&input);
        }
    }
    for hex in [
        "0c22",
        "0x",
        "0c 2",
        "ff".repeat(4096).as_str(),
        "\u{0}",
        "0xZZ",
    ] {
        harness::cli(&[[0u8].as_slice(), b"--hex\0", hex.as_bytes()].concat());
    }
}
