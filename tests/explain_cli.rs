//! `--explain` through the real binary: replay's `--frame`, the text view
//! at a projector's 100 columns and a narrow 60, trace and lab's JSON
//! `fields`.

mod common;

use common::*;

fn capture(name: &str) -> String {
    committed_capture(name)
}

fn replay(args: &[&str], columns: &str) -> std::process::Output {
    tcplab()
        .arg("replay")
        .args(args)
        .env("COLUMNS", columns)
        .env("NO_COLOR", "1")
        .output()
        .expect("run tcplab")
}

#[test]
fn replay_frame_4_explains_hello_field_by_field() {
    let file = capture("hello-ethernet.pcap");
    let out = replay(&[&file, "--frame", "4", "--explain"], "100");
    assert_success(&out);
    let text = String::from_utf8(out.stdout).unwrap();
    // One row (frame 4 only), then its fields, one per line.
    assert!(text.contains("10 frames read, 1 shown"), "{text}");
    for line in [
        "14     45                   version 4 · header length 5 × 4 = 20 bytes",
        "16-17  00 39                total length 57 = 20 IP + 32 TCP + 5 payload",
        "46-47  80 18                flags 0x018: PSH ACK",
        "50-51  fe 2d                checksum 0xfe2d (not filled in: loopback leaves it to offload)",
        "66-70  68 65 6c 6c 6f       payload 5 bytes: \"hello\"",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
    // The marker row under the dump's first line: two MACs and the type.
    assert!(
        text.contains("L──────────────── L───────────────── L──── I─ I─"),
        "{text}"
    );
}

#[test]
fn at_60_columns_no_explained_line_is_wider() {
    let file = capture("hello-ethernet.pcap");
    let out = replay(&[&file, "--explain"], "60");
    assert_success(&out);
    let text = String::from_utf8(out.stdout).unwrap();
    let widest = text.lines().map(|l| l.chars().count()).max().unwrap();
    assert!(widest <= 60, "a line of {widest} columns:\n{text}");
    assert_eq!(
        text.matches("  Ethernet · 14 bytes (0-13)").count(),
        10,
        "{text}"
    );
}

#[test]
fn ndjson_fields_carry_wireshark_names_offsets_and_values() {
    let file = capture("hello-ethernet.pcap");
    let out = replay(
        &[&file, "--frame", "1-2", "--explain", "--format", "ndjson"],
        "100",
    );
    assert_success(&out);
    let records: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 2);
    let field = |r: &serde_json::Value, abbrev: &str| {
        r["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["abbrev"] == abbrev)
            .cloned()
            .unwrap_or_else(|| panic!("no {abbrev}"))
    };
    let hl = field(&records[0], "ip.hdr_len");
    assert_eq!(
        (hl["offset"].as_u64(), hl["len"].as_u64()),
        (Some(14), Some(1))
    );
    assert_eq!(
        (hl["mask"].as_u64(), hl["value"].as_str()),
        (Some(15), Some("20"))
    );
    assert_eq!(field(&records[1], "tcp.flags")["value"], "0x0012");
    assert_eq!(field(&records[0], "tcp.options.mss_val")["value"], "65495");
    assert_eq!(field(&records[0], "ip.checksum.status")["value"], "1");
    // Without --explain, no fields.
    let plain = replay(&[&file, "--frame", "1", "--format", "ndjson"], "100");
    assert!(!String::from_utf8_lossy(&plain.stdout).contains("\"fields\""));
}

#[test]
fn frame_ranges_are_checked_and_explain_refuses_summary() {
    let file = capture("hello-ethernet.pcap");
    for (arg, says) in [
        ("0", "count from 1"),
        ("9-4", "backwards"),
        ("x", "not a frame number"),
    ] {
        let out = replay(&[&file, "--frame", arg], "100");
        assert_eq!(out.status.code(), Some(2), "--frame {arg}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(says),
            "--frame {arg}"
        );
    }
    let out = replay(&[&file, "--summary", "--explain"], "100");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--explain"));
}

#[test]
fn trace_explains_every_frame_in_text_and_json() {
    if !can_capture("trace_explains_every_frame_in_text_and_json") {
        return;
    }
    let r = trace_json(&["--send", "hello", "--explain"]);
    let packets = r["packets"].as_array().unwrap();
    assert!(packets.len() >= 8, "{r}");
    for p in packets {
        let fields = p["fields"].as_array().expect("fields on every packet");
        let names: Vec<&str> = fields
            .iter()
            .map(|f| f["abbrev"].as_str().unwrap())
            .collect();
        for want in [
            "eth.type",
            "ip.ttl",
            "tcp.srcport",
            "tcp.seq_raw",
            "tcp.hdr_len",
        ] {
            assert!(names.contains(&want), "{want} missing in {names:?}");
        }
        // Loopback fills in IPv4's checksum, not TCP's.
        let status = |a: &str| fields.iter().find(|f| f["abbrev"] == a).unwrap()["value"].clone();
        assert_eq!(status("ip.checksum.status"), "1");
        assert_eq!(status("tcp.checksum.status"), "0");
    }
    let out = tcplab()
        .args(["trace", "--send", "hello", "--explain"])
        .env("COLUMNS", "100")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_success(&out);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("Every field of every frame (--explain)"),
        "{text}"
    );
    assert!(text.contains("payload 5 bytes: \"hello\""), "{text}");
    // The timeline is still there, before the fields.
    let timeline = text.find("PSH-ACK").unwrap();
    assert!(timeline < text.find("Every field").unwrap(), "{text}");
}

#[test]
fn lab_explains_its_frames_in_json() {
    if !can_capture("lab_explains_its_frames_in_json") {
        return;
    }
    let out = tcplab()
        .args(["lab", "handshake", "--explain", "--format", "json"])
        .output()
        .unwrap();
    assert_success(&out);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let packets = doc["parts"][0]["trace"]["packets"].as_array().unwrap();
    assert!(!packets.is_empty(), "{doc}");
    for p in packets {
        let fields = p["fields"].as_array().expect("fields on every packet");
        assert!(fields.iter().any(|f| f["abbrev"] == "tcp.flags"), "{p}");
    }
}
