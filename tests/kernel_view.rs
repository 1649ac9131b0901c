//! The kernel's view in `trace`'s own exchanges (issue 15): each side's
//! TCP_INFO counts agree with what the application wrote and read and with
//! the wire, SYN and FIN counted as docs/kernel-view.md says; a reset
//! socket is named as one whose counters Linux cleared.

mod common;

use common::*;
use serde_json::Value;

fn side<'a>(report: &'a Value, who: &str) -> &'a Value {
    let s = &report["kernel"][who];
    assert!(
        s.is_object(),
        "no kernel view of the {who}: {}",
        report["kernel"]
    );
    s
}

fn n(v: &Value, key: &str) -> u64 {
    v[key]
        .as_u64()
        .unwrap_or_else(|| panic!("{key} missing: {v}"))
}

#[test]
fn hello_counts_agree_with_the_sockets_and_the_wire() {
    if !can_capture("hello_counts_agree_with_the_sockets_and_the_wire") {
        return;
    }
    for _ in 0..5 {
        let r = trace_json(&["--send", "hello"]);
        let (c, s) = (side(&r, "client"), side(&r, "server"));
        // 5 bytes each way; acknowledged counts the client's SYN and each
        // FIN, received the peer's FIN.
        assert_eq!(
            [
                n(c, "bytes_sent"),
                n(c, "bytes_acked"),
                n(c, "bytes_received")
            ],
            [5, 7, 6],
            "{c}"
        );
        assert_eq!(
            [
                n(s, "bytes_sent"),
                n(s, "bytes_acked"),
                n(s, "bytes_received")
            ],
            [5, 6, 6],
            "{s}"
        );
        assert_eq!(c["state"], "TIME_WAIT", "{c}");
        assert_eq!(s["state"], "CLOSED", "{s}");
        assert_eq!(
            n(c, "bytes_sent"),
            n(&r["sockets"]["client"], "bytes_written")
        );
        assert_eq!(
            n(c, "bytes_sent"),
            n(&r["wire"]["client_to_server"], "payload_bytes")
        );
    }
}

#[test]
fn the_text_writes_the_sums_and_kernel_lists_the_changes() {
    if !can_capture("the_text_writes_the_sums_and_kernel_lists_the_changes") {
        return;
    }
    let run = |extra: &[&str]| {
        let out = tcplab()
            .args(["trace", "--send", "hello", "--color", "never"])
            .args(extra)
            .env("COLUMNS", "200")
            .output()
            .unwrap();
        assert_success(&out);
        String::from_utf8(out.stdout).unwrap()
    };
    let plain = run(&[]);
    for said in [
        "the client's kernel says 5 bytes sent, 7 acknowledged = 5 + SYN + FIN, 6 received = 5 + FIN",
        "the server's kernel says 5 bytes sent, 6 acknowledged = 5 + FIN, 6 received = 5 + FIN",
    ] {
        assert!(plain.contains(said), "{said}\n{plain}");
    }
    assert!(!plain.contains("final counts:"), "{plain}");
    let listed = run(&["--kernel"]);
    assert!(
        listed.contains("CLOSED, freed · final counts: 5 bytes sent, 7 acknowledged"),
        "{listed}"
    );
}

#[test]
fn a_socket_that_sent_a_reset_has_no_final_counts() {
    if !can_capture("a_socket_that_sent_a_reset_has_no_final_counts") {
        return;
    }
    let r = trace_json(&["--send", "bye", "--close", "reset"]);
    let (c, s) = (side(&r, "client"), side(&r, "server"));
    assert_eq!(c["reset"], true, "{c}");
    assert_eq!(c["state"], "CLOSED", "{c}");
    // The peer that received the reset keeps its counters.
    assert_eq!(s["reset"], false, "{s}");
    assert_eq!(n(s, "bytes_received"), 3, "{s}");
    assert_eq!(n(s, "bytes_sent"), 3, "{s}");
}

#[test]
fn a_bulk_transfer_counts_every_byte_once_acknowledged() {
    if !can_capture("a_bulk_transfer_counts_every_byte_once_acknowledged") {
        return;
    }
    let file = std::env::temp_dir().join(format!("tcplab-kernel-{}.bin", std::process::id()));
    let size: u64 = 4 << 20;
    std::fs::write(&file, vec![b'x'; size as usize]).unwrap();
    let r = trace_json(&["--file", file.to_str().unwrap(), "--server", "discard"]);
    std::fs::remove_file(&file).ok();
    let (c, s) = (side(&r, "client"), side(&r, "server"));
    let fresh = n(c, "bytes_sent") - n(c, "bytes_retrans");
    assert_eq!(fresh, size, "{c}");
    assert_eq!(n(c, "bytes_acked"), size + 2, "{c}");
    assert_eq!(n(s, "bytes_received"), size + 1, "{s}");
    assert_eq!(n(&r["sockets"]["server"], "bytes_read"), size);
    // Sampled along the way: more than the last words.
    let changes = c["changes"].as_array().unwrap();
    assert!(changes.len() >= 2, "{c}");
    let times: Vec<f64> = changes
        .iter()
        .map(|c| c["t_ms"].as_f64().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
}
