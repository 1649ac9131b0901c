//! `tcplab replay` through the real binary on committed captures. No
//! privileges needed.

mod common;

use std::path::PathBuf;

use common::*;

fn capture(name: &str) -> String {
    committed_capture(name)
}

fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let out = tcplab().args(args).output().expect("run tcplab");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ndjson(args: &[&str]) -> Vec<serde_json::Value> {
    let (code, out, err) = run(args);
    assert_eq!(code, Some(0), "{err}");
    out.lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect()
}

#[test]
fn text_timeline_names_every_segment() {
    let (code, out, err) = run(&[
        "replay",
        &capture("hello-ethernet.pcap"),
        "--color",
        "never",
    ]);
    assert_eq!(code, Some(0), "{err}");
    for word in [
        "SYN",
        "SYN-ACK",
        "PSH-ACK",
        "FIN-ACK",
        "\"hello\"",
        "10 frames read",
    ] {
        assert!(out.contains(word), "missing {word}:\n{out}");
    }
}

#[test]
fn ndjson_has_one_record_per_frame() {
    let records = ndjson(&["replay", &capture("hello-sll2.pcap"), "--format", "ndjson"]);
    assert_eq!(records.len(), 10);
    assert_eq!(records[0]["link"], "linux_sll2");
    assert_eq!(records[0]["link_hdr_len"], 20);
    assert_eq!(records[3]["payload_hex"], "68656c6c6f");
    assert!(records.iter().all(|r| r["stream"] == 0));
}

#[test]
fn json_is_one_array() {
    let (code, out, _) = run(&["replay", &capture("reset.pcap"), "--format", "json"]);
    assert_eq!(code, Some(0));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 8);
}

#[test]
fn mixed_link_pcapng_reads_both_interfaces() {
    let records = ndjson(&[
        "replay",
        &capture("mixed-links.pcapng"),
        "--format",
        "ndjson",
    ]);
    assert_eq!(records.len(), 20);
    let links: std::collections::BTreeSet<&str> = records
        .iter()
        .map(|r| r["link"].as_str().unwrap())
        .collect();
    assert_eq!(links.into_iter().collect::<Vec<_>>(), ["ethernet", "raw"]);
    // The second copy of each segment is a retransmission or a duplicate ACK.
    assert!(records[10..].iter().any(|r| r["analysis"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a == "retransmission")));
}

#[test]
fn summary_counts_both_directions() {
    let (code, out, err) = run(&[
        "replay",
        &capture("half-close.pcap"),
        "--summary",
        "--format",
        "json",
    ]);
    assert_eq!(code, Some(0), "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let c = &v[0];
    assert_eq!(c["stream"], 0);
    assert_eq!(c["client_to_server"]["payload_bytes"], 5);
    assert_eq!(c["server_to_client"]["payload_bytes"], 11);
    assert_eq!(
        c["client_to_server"]["frames"].as_u64().unwrap()
            + c["server_to_client"]["frames"].as_u64().unwrap(),
        10
    );
    assert!(c["handshake_rtt"].as_f64().unwrap() > 0.0);
    let (code, text, _) = run(&["replay", &capture("half-close.pcap"), "--summary"]);
    assert_eq!(code, Some(0));
    assert!(text.contains("1 conversation;"), "{text}");
}

#[test]
fn follow_reassembles_each_direction() {
    let (code, out, err) = run(&[
        "replay",
        &capture("half-close.pcap"),
        "--follow",
        "--color",
        "never",
    ]);
    assert_eq!(code, Some(0), "{err}");
    let c2s = out.find("client → server").expect("client run");
    let s2c = out.find("server → client").expect("server run");
    assert!(c2s < s2c);
    assert!(out[c2s..s2c].contains("hello"));
    assert!(out[s2c..].contains("Echo: HELLO"));
}

#[test]
fn follow_puts_retransmitted_bytes_once() {
    // The second interface repeats every segment: the stream must not double.
    let (code, out, _) = run(&["replay", &capture("mixed-links.pcapng"), "--follow"]);
    assert_eq!(code, Some(0));
    assert_eq!(out.matches("hello").count(), 2, "{out}");
}

#[test]
fn filter_keeps_matching_frames_with_their_numbers() {
    let records = ndjson(&[
        "replay",
        &capture("hello-ethernet.pcap"),
        "--filter",
        "tcp[tcpflags] & tcp-syn != 0",
        "--format",
        "ndjson",
    ]);
    let frames: Vec<u64> = records
        .iter()
        .map(|r| r["frame"].as_u64().unwrap())
        .collect();
    assert_eq!(frames, [1, 2]);
}

#[test]
fn stream_selects_one_conversation() {
    let records = ndjson(&[
        "replay",
        &capture("hello-ethernet.pcap"),
        "--stream",
        "1",
        "--format",
        "ndjson",
    ]);
    assert!(records.is_empty());
    let records = ndjson(&[
        "replay",
        &capture("hello-ethernet.pcap"),
        "--stream",
        "0",
        "--format",
        "ndjson",
    ]);
    assert_eq!(records.len(), 10);
}

#[test]
fn bad_filter_is_a_usage_error() {
    let (code, _, err) = run(&[
        "replay",
        &capture("hello-ethernet.pcap"),
        "--filter",
        "tcp prot 80",
    ]);
    assert_eq!(code, Some(2));
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("--filter"), "{err}");
}

#[test]
fn missing_file_exits_66_and_not_a_capture_65() {
    let (code, _, err) = run(&["replay", "/nonexistent/x.pcap"]);
    assert_eq!(code, Some(66), "{err}");
    assert!(err.contains("/nonexistent/x.pcap"));
    let (code, _, err) = run(&[
        "replay",
        &PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("Cargo.toml")
            .display()
            .to_string(),
    ]);
    assert_eq!(code, Some(65), "{err}");
    assert!(err.contains("not a pcap or pcapng file"), "{err}");
    assert_eq!(err.lines().count(), 1);
}

/// Cut a capture at every byte: never a panic, exit 0 or 65, and every
/// frame before the cut still reported.
#[test]
fn truncated_files_report_the_frames_before_the_damage() {
    let bytes = std::fs::read(capture("hello-ethernet.pcap")).unwrap();
    let dir = std::env::temp_dir().join(format!("tcplab-trunc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("cut.pcap");
    // Record boundaries: 24-byte file header, then 16 + caplen each.
    let mut ends = vec![24usize];
    while *ends.last().unwrap() < bytes.len() {
        let at = *ends.last().unwrap();
        let caplen = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().unwrap()) as usize;
        ends.push(at + 16 + caplen);
    }
    for cut in 0..bytes.len() {
        std::fs::write(&path, &bytes[..cut]).unwrap();
        let out = tcplab()
            .args(["replay", path.to_str().unwrap(), "--format", "ndjson"])
            .output()
            .unwrap();
        let code = out.status.code();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "cut {cut}: {err}");
        let whole = ends.iter().filter(|&&e| e <= cut && e > 24).count();
        let lines = String::from_utf8_lossy(&out.stdout).lines().count();
        if ends.contains(&cut) && cut >= 24 {
            assert_eq!(code, Some(0), "cut {cut} at a record boundary: {err}");
        } else {
            assert_eq!(code, Some(65), "cut {cut}: {err}");
            assert!(err.contains("cut.pcap"), "{err}");
        }
        assert_eq!(lines, whole, "cut {cut}: frames before the damage");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn every_wild_capture_is_survived() {
    let mut seen = 0;
    for p in common::wild_captures() {
        for mode in [
            &["--format", "ndjson"][..],
            &["--summary"][..],
            &["--follow"][..],
        ] {
            let out = tcplab().arg("replay").arg(&p).args(mode).output().unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            // --follow of a capture without TCP: stream 0 is not there (exit 2).
            let no_stream = mode == ["--follow"] && err.contains("stream 0 is not in");
            assert!(
                matches!(out.status.code(), Some(0) | Some(65)) || no_stream,
                "{} {mode:?}: exit {:?}: {err}",
                p.display(),
                out.status.code()
            );
            assert!(!err.contains("panicked"), "{}: {err}", p.display());
        }
        seen += 1;
    }
    assert_eq!(seen, common::WILD_CAPTURES);
}

/// A stream that is not in the capture is exit 2 with one line on stderr,
/// for --follow as for a ladder (it once printed on stdout and exited 0),
/// and a filter libpcap cannot compile is exit 2 in capture as in replay.
#[test]
fn a_missing_stream_and_a_bad_filter_are_usage_errors_everywhere() {
    let out = tcplab()
        .args([
            "replay",
            &capture("hello-ethernet.pcap"),
            "--follow",
            "--stream",
            "5",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(out.stdout.is_empty());
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("stream 5 is not in"), "{err}");
    for args in [
        vec![
            "replay".to_string(),
            capture("hello-ethernet.pcap"),
            "--filter".into(),
            "tcp port".into(),
        ],
        vec![
            "capture".into(),
            "--filter".into(),
            "tcp port".into(),
            "--count".into(),
            "1".into(),
        ],
    ] {
        if args[0] == "capture" && !can_capture("bad filter in capture") {
            continue;
        }
        let out = tcplab().args(&args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("--filter 'tcp port'"), "{err}");
    }
}

/// `replay -` reads standard input, as `tcpdump -r -`, so
/// `tcpdump -w - | tcplab replay -` works; a file that is no capture says
/// it broke in its header, not "after frame 0".
#[test]
fn a_dash_reads_standard_input() {
    let file = std::fs::File::open(capture("hello-ethernet.pcap")).unwrap();
    let out = tcplab()
        .args(["replay", "-", "--format", "ndjson"])
        .stdin(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let from_stdin = String::from_utf8(out.stdout).unwrap();
    let from_file = tcplab()
        .args([
            "replay",
            &capture("hello-ethernet.pcap"),
            "--format",
            "ndjson",
        ])
        .output()
        .unwrap();
    assert_eq!(from_stdin, String::from_utf8(from_file.stdout).unwrap());

    let mut child = tcplab()
        .args(["replay", "-"])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), b"not a capture").unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(65), "{err}");
    assert!(
        err.contains("(standard input)") && err.contains("in the file header"),
        "{err}"
    );
    assert!(!err.contains("after frame 0"), "{err}");
}

/// A pcapng block whose trailing length differs from its leading one ends
/// the read there, as libpcap and tcpdump end it: the frames before it are
/// reported, then one line names the block (exit 65). It was read on.
#[test]
fn a_pcapng_block_with_a_wrong_trailing_length_stops_the_read() {
    let mut bytes = std::fs::read(capture("hello-pcapng.pcapng")).unwrap();
    // Blocks: section header, interface, then packets; break the third packet.
    let mut at = 0;
    for _ in 0..4 {
        at += u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap()) as usize;
    }
    let len = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap()) as usize;
    bytes[at + len - 4..at + len].copy_from_slice(&(len as u32 + 4).to_le_bytes());
    let dir = std::env::temp_dir().join(format!("tcplab-trailer-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("trailer.pcapng");
    std::fs::write(&file, &bytes).unwrap();
    let out = tcplab()
        .args(["replay", file.to_str().unwrap(), "--format", "ndjson"])
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(65), "{err}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 2);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(&format!(
            "ends with length {}, not the {len} it began with",
            len + 4
        )) && err.contains("after frame 2"),
        "{err}"
    );
}
