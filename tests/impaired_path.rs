//! The impaired path (`trace --loss/--drop/--delay/--reorder/--capture-at`),
//! for real: namespaces, veths and the forwarder, as root. Each test checks
//! what the path did against the capture (and, for --loss, against tshark),
//! and that nothing is left behind after a run, a failure or a kill.
//!
//! The tests that make namespaces run one at a time (`ONE_AT_A_TIME`), so
//! the check for leftover namespaces sees only its own run's.

mod common;

use std::collections::BTreeSet;
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use common::{can_capture, tcplab, without_capture_rights};

/// The impaired path needs root (namespaces), more than capture rights:
/// without it the test fails naming the fix, unless TCPLAB_ALLOW_NO_CAPTURE=1.
/// `scripts/test.sh` run by another user runs this file's tests through
/// sudo first and sets TCPLAB_ROOT_TESTS_RAN=1 for the run that follows.
fn can_impair(test: &str) -> bool {
    if std::env::var("TCPLAB_ROOT_TESTS_RAN").as_deref() == Ok("1") {
        eprintln!("SKIPPED {test}: scripts/test.sh ran it as root already");
        return false;
    }
    if !can_capture(test) {
        return false;
    }
    let out = tcplab()
        .args(["trace", "--send", "x", "--delay", "0"])
        .output()
        .unwrap();
    if out.status.code() != Some(77) {
        return true;
    }
    if std::env::var("TCPLAB_ALLOW_NO_CAPTURE").as_deref() == Ok("1") {
        eprintln!("SKIPPED {test}: the impaired path needs root (TCPLAB_ALLOW_NO_CAPTURE=1)");
        return false;
    }
    panic!("{test} needs root (network namespaces): run `bash scripts/test.sh` (it runs these through sudo), or the tests as root, or set TCPLAB_ALLOW_NO_CAPTURE=1 to skip");
}
use serde_json::Value;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner())
}

/// A file of `len` bytes in the test's temp dir (printable, so a failure's
/// output reads).
fn data_file(name: &str, len: usize) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("tcplab-{}-{name}", std::process::id()));
    let bytes: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
    std::fs::write(&path, bytes).unwrap();
    path
}

fn trace(args: &[&str]) -> Value {
    let out = tcplab()
        .arg("trace")
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap();
    common::assert_success(&out);
    serde_json::from_slice(&out.stdout).expect("trace prints JSON")
}

/// `trace --file F ARGS --format json` on a file of `len` bytes, one run at
/// a time; None when the test may not run (see [`can_impair`]).
fn trace_file(test: &str, len: usize, args: &[&str]) -> Option<Value> {
    if !can_impair(test) {
        return None;
    }
    let _one = serial();
    let file = data_file(test, len);
    let mut all = vec!["--file", file.to_str().unwrap()];
    all.extend(args);
    let r = trace(&all);
    let _ = std::fs::remove_file(&file);
    Some(r)
}

fn packets(r: &Value) -> &Vec<Value> {
    r["packets"].as_array().unwrap()
}

fn has_flag(p: &Value, name: &str) -> bool {
    p["analysis"].as_array().unwrap().iter().any(|a| a == name)
}

fn client_side(r: &Value, p: &Value) -> bool {
    p["src"] == r["connection"]["client"]["address"]
}

/// The forwarder's counts against the capture, each way. A capture at a
/// way's sending end saw every TCP frame the forwarder read of it, which it
/// passed or dropped; one at the receiving end saw the passed ones; less,
/// each, the frames that crossed after the capture's last (`after_capture`,
/// none unless `late` allows). The forwarder sends what it still holds
/// before it stops, and counts the frames that are not TCP apart (a `tcp
/// port` capture never shows them).
fn assert_forwarder_counts_match_capture(r: &Value, late: bool) {
    let at_client = r["path"]["capture_at"] == "client";
    for (way, from_client) in [("client_to_server", true), ("server_to_client", false)] {
        let captured = packets(r)
            .iter()
            .filter(|p| client_side(r, p) == from_client)
            .count() as u64;
        let passed = r["path"]["forwarded"][way].as_u64().unwrap();
        let dropped = r["path"]["dropped"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["direction"] == way)
            .count() as u64;
        let after = r["path"]["after_capture"][way].as_u64().unwrap();
        assert!(late || after == 0, "{way}: {after} after the capture");
        let (expected, side) = if at_client == from_client {
            (passed + dropped - after, "sending")
        } else {
            (passed - after, "receiving")
        };
        assert_eq!(
            captured, expected,
            "{way}, captured at the {side} end: {captured} frames, the forwarder passed \
             {passed} and dropped {dropped}, {after} after the capture ({})",
            r["path"]
        );
        assert!(
            r["path"]["not_tcp"][way].is_u64(),
            "frames that are not TCP are counted apart: {}",
            r["path"]
        );
    }
}

/// Every network namespace some task is in now (their inode numbers).
fn namespaces() -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for proc_ in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(tasks) = std::fs::read_dir(proc_.path().join("task")) else {
            continue;
        };
        for t in tasks.flatten() {
            if let Ok(link) = std::fs::read_link(t.path().join("ns/net")) {
                out.insert(link.to_string_lossy().into_owned());
            }
        }
    }
    out
}

/// Waits (a little) for the namespaces to be those of `before` again.
fn assert_no_namespace_left(before: &BTreeSet<String>, when: &str) {
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let extra: Vec<String> = namespaces().difference(before).cloned().collect();
        if extra.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{when}: namespaces left behind: {extra:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn five_percent_loss_delivers_every_byte_and_tshark_agrees() {
    let pcap = std::env::temp_dir().join(format!("tcplab-{}-loss5.pcap", std::process::id()));
    let test = "five_percent_loss_delivers_every_byte_and_tshark_agrees";
    let Some(r) = trace_file(
        test,
        2 << 20,
        &[
            "--server",
            "discard",
            "--loss",
            "5",
            "--seed",
            "7",
            "--write",
            pcap.to_str().unwrap(),
            "--hexdump",
            "none",
        ],
    ) else {
        return;
    };
    assert_eq!(
        r["sockets"]["server"]["bytes_read"],
        2 << 20,
        "every byte delivered"
    );
    let dropped = r["path"]["dropped"].as_array().unwrap();
    assert!(dropped.len() > 20, "5% of ~2,000 frames: {}", dropped.len());
    let resent = packets(&r)
        .iter()
        .filter(|p| has_flag(p, "retransmission") || has_flag(p, "fast_retransmission"))
        .count();
    assert!(resent > 0, "the retransmissions are flagged");
    // Drops both ways, so an end may still resend after the teardown.
    assert_forwarder_counts_match_capture(&r, true);
    // tshark, run here, against tcplab's analysis of the written file.
    let out = Command::new("python3")
        .args(["scripts/compare-tshark.py", pcap.to_str().unwrap()])
        .env("TCPLAB", assert_cmd::cargo::cargo_bin("tcplab"))
        .output()
        .expect("python3 runs scripts/compare-tshark.py (Debian: apt install python3 tshark)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("tshark") || text.contains("frames differ"),
        "compare-tshark needs tshark (Debian: sudo apt install tshark): {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let total = packets(&r).len();
    assert!(
        text.contains(&format!("0 of {total} frames differ")),
        "tshark disagrees: {text}"
    );
    let _ = std::fs::remove_file(pcap);
}

#[test]
fn drop_3_drops_exactly_the_third_data_segment_once() {
    let Some(r) = trace_file(
        "drop_3_drops_exactly_the_third_data_segment_once",
        20_000,
        &["--server", "discard", "--drop", "3"],
    ) else {
        return;
    };
    let dropped = r["path"]["dropped"].as_array().unwrap();
    assert_eq!(dropped.len(), 1, "{dropped:?}");
    assert_eq!(dropped[0]["reason"], "drop 3");
    let data: Vec<&Value> = packets(&r)
        .iter()
        .filter(|p| client_side(&r, p) && p["payload_len"].as_u64() > Some(0))
        .collect();
    let third = data[2];
    assert_eq!(
        dropped[0]["frame"], third["frame"],
        "the third data segment, as captured"
    );
    assert_eq!(dropped[0]["seq"], third["seq"]);
    let resend = data[3..]
        .iter()
        .find(|p| p["seq"] == third["seq"])
        .expect("a resend");
    // tshark calls a resend within an RTT of the newest segment out of order.
    let resent = ["retransmission", "fast_retransmission", "out_of_order"];
    assert!(resent.iter().any(|f| has_flag(resend, f)), "{resend}");
    let notes = &r["path"]["notes"];
    let mark = notes[third["frame"].to_string()].as_str().unwrap();
    assert!(
        mark.contains("dropped here on purpose (--drop 3)"),
        "{mark}"
    );
    let how = notes[resend["frame"].to_string()].as_str().unwrap();
    assert!(
        how.contains('↻'),
        "the resend says how TCP found out: {how}"
    );
    assert_eq!(r["sockets"]["server"]["bytes_read"], 20_000);
    assert_forwarder_counts_match_capture(&r, false);
}

#[test]
fn the_forwarder_counts_what_the_capture_saw_every_run() {
    // The loss lab's second run (3 segments, the last dropped, 10 ms each
    // way), three times: its counts once varied with the last ACK still on
    // the path and with a new link's IPv6 frames.
    let test = "the_forwarder_counts_what_the_capture_saw_every_run";
    for _ in 0..3 {
        let args = ["--server", "discard", "--drop", "3", "--delay", "10"];
        let Some(r) = trace_file(test, 3 * 1448, &args) else {
            return;
        };
        assert_forwarder_counts_match_capture(&r, false);
    }
}

#[test]
fn drop_reply_drops_the_servers_first_data_segment() {
    let Some(r) = trace_file(
        "drop_reply_drops_the_servers_first_data_segment",
        6000,
        &["--drop", "1", "--drop-reply"],
    ) else {
        return;
    };
    let dropped = r["path"]["dropped"].as_array().unwrap();
    assert_eq!(dropped.len(), 1, "{dropped:?}");
    assert_eq!(dropped[0]["direction"], "server_to_client");
    // Captured at the client: the dropped reply never arrived there.
    assert!(dropped[0]["frame"].is_null());
    assert_eq!(
        r["sockets"]["client"]["bytes_read"], 6000,
        "the echo came back whole"
    );
    assert_forwarder_counts_match_capture(&r, false);
}

#[test]
fn delay_20_makes_the_handshake_rtt_40_ms() {
    if !can_impair("delay_20_makes_the_handshake_rtt_40_ms") {
        return;
    }
    let _one = serial();
    let r = trace(&["--send", "hello", "--delay", "20"]);
    let p = packets(&r);
    let t = |i: usize| p[i]["ts"].as_str().unwrap().parse::<f64>().unwrap();
    let rtt_ms = (t(1) - t(0)) * 1e3;
    assert!(
        (39.0..50.0).contains(&rtt_ms),
        "SYN to SYN-ACK took {rtt_ms:.3} ms"
    );
    assert_eq!(p[1]["flags"], serde_json::json!(["SYN", "ACK"]));
    assert_forwarder_counts_match_capture(&r, false);
}

#[test]
fn captured_at_the_server_a_drop_is_a_gap() {
    let Some(r) = trace_file(
        "captured_at_the_server_a_drop_is_a_gap",
        20_000,
        &[
            "--server",
            "discard",
            "--drop",
            "3",
            "--capture-at",
            "server",
        ],
    ) else {
        return;
    };
    assert_eq!(r["path"]["capture_at"], "server");
    let dropped = &r["path"]["dropped"][0];
    assert!(dropped["frame"].is_null(), "the server's side never saw it");
    let gap = packets(&r)
        .iter()
        .find(|p| has_flag(p, "lost_segment"))
        .expect("a gap");
    let mark = r["path"]["notes"][gap["frame"].to_string()]
        .as_str()
        .unwrap_or("");
    assert!(
        mark.contains("dropped on purpose"),
        "the gap's row says why: {mark:?}"
    );
    assert_eq!(r["sockets"]["server"]["bytes_read"], 20_000);
    assert_forwarder_counts_match_capture(&r, false);
}

#[test]
fn reorder_swaps_segments_and_loses_nothing() {
    let Some(r) = trace_file(
        "reorder_swaps_segments_and_loses_nothing",
        100_000,
        &[
            "--server",
            "discard",
            "--reorder",
            "20",
            "--seed",
            "3",
            "--capture-at",
            "server",
        ],
    ) else {
        return;
    };
    let swapped = r["path"]["reordered"]["client_to_server"].as_u64().unwrap();
    assert!(swapped > 0, "20% of ~70 segments held back");
    assert!(packets(&r).iter().any(|p| has_flag(p, "out_of_order")));
    assert_eq!(r["sockets"]["server"]["bytes_read"], 100_000);
    // Reordered, the client may resend after the teardown the capture waits
    // for (a spurious retransmission, and the server's duplicate ACK).
    assert_forwarder_counts_match_capture(&r, true);
}

#[test]
fn nothing_is_left_after_a_run_a_failure_or_a_kill() {
    if !can_impair("nothing_is_left_after_a_run_a_failure_or_a_kill") {
        return;
    }
    let _one = serial();
    let before = namespaces();
    trace(&["--send", "x", "--delay", "1"]);
    assert_no_namespace_left(&before, "after a run");
    // A failure after the path is up: the exchange stalls (no byte in 50 ms).
    let out = tcplab()
        .args([
            "trace",
            "--send",
            "x",
            "--delay",
            "200",
            "--timeout-ms",
            "50",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_no_namespace_left(&before, "after a failure");
    // Killed mid-run, with the path up and frames held in the forwarder.
    let mut child = tcplab()
        .args(["trace", "--send", "x", "--delay", "300", "--format", "json"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while namespaces().len() < before.len() + 3 {
        assert!(Instant::now() < deadline, "the path never came up");
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert_no_namespace_left(&before, "after SIGKILL");
}

#[test]
fn without_root_it_exits_77_and_names_the_fix() {
    let out = without_capture_rights(&["trace", "--send", "x", "--delay", "5"]);
    assert_eq!(out.status.code(), Some(77));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("sudo"), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
}

#[test]
fn the_loss_and_delay_labs_pass_ten_times_in_a_row() {
    if !can_impair("the_loss_and_delay_labs_pass_ten_times_in_a_row") {
        return;
    }
    let _one = serial();
    for lab in ["loss", "delay"] {
        for run in 1..=10 {
            let out = tcplab().args(["lab", lab, "--check"]).output().unwrap();
            assert!(
                out.status.success(),
                "lab {lab} run {run}:\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

#[test]
fn the_ladder_draws_a_dropped_segment_stopping_half_way() {
    if !can_impair("the_ladder_draws_a_dropped_segment_stopping_half_way") {
        return;
    }
    let _one = serial();
    let file = data_file("ladder", 4344);
    let f = file.to_str().unwrap();
    let run = |extra: &[&str]| {
        let out = tcplab()
            .args([
                "trace",
                "--file",
                f,
                "--server",
                "discard",
                "--drop",
                "3",
                "--hexdump",
                "none",
            ])
            .args(["--color", "never"])
            .args(extra)
            .env("COLUMNS", "100")
            .output()
            .unwrap();
        common::assert_success(&out);
        String::from_utf8(out.stdout).unwrap()
    };
    let mermaid = run(&["--mermaid"]);
    let lost: Vec<&str> = mermaid.lines().filter(|l| l.contains("C-xS")).collect();
    assert_eq!(lost.len(), 1, "{mermaid}");
    assert!(lost[0].contains("seq 2897:4345"), "{}", lost[0]);
    let text = run(&["--diagram"]);
    let row = text
        .lines()
        .find(|l| l.contains("dropped here on purpose: it never arrived"))
        .expect("the lost arrow's note");
    // The line ends in ✗ before the middle and the server's lifeline.
    let inner = row.split('│').nth(1).unwrap();
    let cross = inner.chars().position(|c| c == '✗').expect("a cross");
    assert!(cross <= inner.chars().count() / 2 + 1, "{row}");
    assert!(
        inner.trim_end().ends_with('✗'),
        "nothing after the cross: {row}"
    );
    let svg = std::env::temp_dir().join(format!("tcplab-{}-lost.svg", std::process::id()));
    run(&["--svg-page", "--svg", svg.to_str().unwrap()]);
    let doc = std::fs::read_to_string(&svg).unwrap();
    assert_eq!(doc.matches("class=\"lost\"").count(), 1);
    let _ = std::fs::remove_file(svg);
}
