//! Output edge cases: closed pipes, huge payloads, hostile bytes.

mod common;

use common::*;

fn capture(name: &str) -> String {
    format!("{}/captures/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn replay_into_a_closed_pipe_exits_quietly() {
    let bin = assert_cmd::cargo::cargo_bin("tcplab");
    for mode in ["", "--format ndjson", "--summary", "--follow"] {
        let out = std::process::Command::new("bash")
            .args(["-o", "pipefail", "-c"])
            .arg(format!(
                "'{}' replay '{}' {mode} | head -c 1 >/dev/null",
                bin.display(),
                capture("lossy-bulk.pcap")
            ))
            .output()
            .unwrap();
        assert!(out.status.success(), "{mode}: {:?}", out.status);
        assert_eq!(String::from_utf8_lossy(&out.stderr), "", "{mode}");
    }
}

/// Escape sequences and invalid UTF-8 in payloads are shown escaped: with
/// colour off, not one raw control byte reaches the terminal.
#[test]
fn hostile_payload_bytes_are_escaped() {
    if !can_capture("hostile_payload_bytes_are_escaped") {
        return;
    }
    // ESC [2J (clear screen), BEL, a lone 0xff, a broken UTF-8 sequence.
    let out = tcplab()
        .args([
            "trace",
            "--hex",
            "1b5b324a07ff e2 28 a1 00 7f",
            "--color",
            "never",
        ])
        .args(["--hexdump", "frame"])
        .env("COLUMNS", "200")
        .output()
        .unwrap();
    assert_success(&out);
    let text = String::from_utf8(out.stdout).expect("output is UTF-8 even for invalid payloads");
    for c in text.chars() {
        assert!(
            c == '\n' || !c.is_control(),
            "raw control {:?} in output",
            c
        );
    }
    // Mostly not text: the timeline previews it as hex.
    assert!(text.contains("1b 5b 32 4a 07 ff"), "{text}");
    // The follow view of a capture escapes the same way.
    let dir = std::env::temp_dir().join(format!("tcplab-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pcap = dir.join("h.pcap");
    let out = tcplab()
        .args([
            "trace",
            "--hex",
            "1b5b324a07ff",
            "--write",
            pcap.to_str().unwrap(),
        ])
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert_success(&out);
    let out = tcplab()
        .args([
            "replay",
            pcap.to_str().unwrap(),
            "--follow",
            "--color",
            "never",
        ])
        .output()
        .unwrap();
    assert_success(&out);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.chars().all(|c| c == '\n' || !c.is_control()),
        "{text:?}"
    );
    assert!(text.contains("\\x1b[2J"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn max_hex_cuts_huge_dumps_with_a_note() {
    let out = tcplab()
        .args([
            "replay",
            &capture("lossy-bulk.pcap"),
            "--hexdump",
            "payload",
            "--max-hex",
            "32",
        ])
        .args(["--stream", "0", "--color", "never"])
        .output()
        .unwrap();
    assert_success(&out);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("more bytes (--max-hex)"), "no cut note");
    // 32 bytes: two dump lines per payload at most.
    assert!(!text.contains("  0020  "), "a dump went past --max-hex");
    let out = tcplab()
        .args([
            "replay",
            &capture("lossy-bulk.pcap"),
            "--format",
            "ndjson",
            "--max-hex",
            "8",
        ])
        .output()
        .unwrap();
    assert_success(&out);
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        if let Some(h) = v["payload_hex"].as_str() {
            assert!(h.len() <= 16, "payload_hex longer than --max-hex: {h}");
        }
    }
}
