//! `--html FILE` in a real browser: Debian's headless Chromium opens the
//! page through the DevTools protocol (`tests/browser/page_probe.js`, run
//! by Node over `--remote-debugging-pipe`), clicks a row, puts the pointer
//! on a field and on a byte, presses → and `s` (step mode), and reports
//! what the page showed and every request it made. The page must make none
//! but its own load.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tcplab-html-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// What the probe saw on `page` after selecting `frame`, pointing at
/// `field` and at byte `byte`; with `pdf`, the page printed there too.
fn probe(
    page: &Path,
    shot: Option<&Path>,
    frame: u64,
    field: &str,
    byte: usize,
) -> serde_json::Value {
    probe_printing(page, shot, frame, field, byte, None)
}

fn probe_printing(
    page: &Path,
    shot: Option<&Path>,
    frame: u64,
    field: &str,
    byte: usize,
    pdf: Option<&Path>,
) -> serde_json::Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/page_probe.js");
    let shot = shot.map(|p| p.display().to_string()).unwrap_or_default();
    let mut node = Command::new("node");
    if let Some(pdf) = pdf {
        node.env("PROBE_PRINT", pdf);
    }
    let out = node
        .arg(script)
        .arg(page)
        .arg(shot)
        .args([frame.to_string(), field.to_string(), byte.to_string()])
        .env("CHROMIUM", chromium())
        .output()
        .expect("these tests need Node 20 and Chromium: run `bash scripts/setup.sh`");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "probe failed: {text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// The checks every page passes: its own load the only request, no
/// script error, the row and arrow of `frame` selected by a click, the
/// bytes of `field` lit, the field of `byte` named, → the next frame.
fn linked(v: &serde_json::Value, page: &Path, frame: u64, field: &str, field_bytes: &[u64]) {
    let own = format!("file://{}", page.canonicalize().unwrap().display());
    assert_eq!(v["requests"], serde_json::json!([own]), "{v}");
    assert_eq!(v["errors"], serde_json::json!([]), "{v}");
    assert_eq!(v["first"]["row"], "1", "{v}");
    assert_eq!(v["clicked"]["row"], frame.to_string(), "{v}");
    assert_eq!(v["clicked"]["arrow"], frame.to_string(), "{v}");
    assert!(v["fields"].as_u64().unwrap() > 30, "{v}");
    assert_eq!(v["fieldHover"]["field"], field, "{v}");
    assert_eq!(
        v["fieldHover"]["bytes"],
        serde_json::json!(field_bytes),
        "{v}"
    );
    assert_eq!(v["afterKey"]["row"], (frame + 1).to_string(), "{v}");
}

/// A page is whole in itself: a policy that forbids requests, nothing
/// fetched, no external address to load.
fn self_contained(page: &Path) -> String {
    let html = std::fs::read_to_string(page).unwrap();
    assert!(html.contains("Content-Security-Policy\" content=\"default-src 'none'"));
    for external in ["src=\"http", "href=\"http", "url(http", "@import"] {
        assert!(!html.contains(external), "{external} in the page");
    }
    html
}

#[test]
fn a_traced_hello_opens_offline_with_its_three_panes_linked() {
    if !can_capture("a_traced_hello_opens_offline_with_its_three_panes_linked") {
        return;
    }
    let dir = scratch("hello");
    let page = dir.join("hello.html");
    let out = tcplab()
        .args(["trace", "--send", "hello", "--html"])
        .arg(&page)
        .output()
        .unwrap();
    assert_success(&out);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("page of 10 frames written to"), "{said}");
    self_contained(&page);
    // Frame 4 is the PSH-ACK of "hello"; byte 47 is the low byte of the
    // TCP flags (34 bytes of Ethernet and IPv4, then 13 of TCP).
    let v = probe(&page, None, 4, "tcp.srcport", 47);
    linked(&v, &page, 4, "tcp.srcport", &[34, 35]);
    assert_eq!(v["rows"], 10, "{v}");
    assert_eq!(v["arrows"], 10, "{v}");
    assert_eq!(v["byteHover"]["field"], "tcp.flags", "{v}");
    assert_eq!(v["byteHover"]["bytes"], serde_json::json!([46, 47]), "{v}");
    assert!(
        v["clicked"]["size"]
            .as_str()
            .unwrap()
            .contains("+ 5 payload"),
        "{v}"
    );
    // Step mode at frame 5: rows and arrows 6-10, the teardown's bracket
    // and the totals are hidden.
    let stepped = &v["stepped"];
    assert_eq!(stepped["rows"], 5, "{v}");
    assert_eq!(stepped["arrows"], 5, "{v}");
    assert_eq!(stepped["phases"], 1, "{v}");
    assert_eq!(stepped["tail"], true, "{v}");
    // The heading would say how many segments there are.
    assert_eq!(stepped["heading"], true, "{v}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_replayed_lossy_capture_draws_only_the_rows_in_view() {
    let dir = scratch("lossy");
    let page = dir.join("lossy.html");
    let capture = Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/lossy-bulk.pcap");
    let out = tcplab()
        .arg("replay")
        .arg(&capture)
        .arg("--html")
        .arg(&page)
        .output()
        .unwrap();
    assert_success(&out);
    let html = self_contained(&page);
    // The analysis is in the rows, as the text view says it.
    assert!(html.contains("fast retransmission"));
    let pdf = dir.join("lossy.pdf");
    let v = probe_printing(&page, None, 20, "tcp.srcport", 47, Some(&pdf));
    linked(&v, &page, 20, "tcp.srcport", &[34, 35]);
    assert_eq!(v["frames"], 506, "{v}");
    let rows = v["rows"].as_u64().unwrap();
    assert!(rows > 10 && rows < 200, "{rows} of 506 rows in the page");
    // Printed, the ladder (44,676 units tall) is cut into pieces shorter
    // than a page of A4 or Letter (1.47 and 1.33 widths), between its
    // arrows, and put back whole after.
    let print = &v["print"];
    assert!(print["pieces"].as_u64().unwrap() > 10, "{v}");
    assert!(print["tallest"].as_f64().unwrap() < 1.3, "{v}");
    assert_eq!(print["crossed"], 0, "{v}");
    assert_eq!(print["after"], print["before"], "{v}");
    assert_eq!(print["left"], 0, "{v}");
    // The timeline's header row repeats at the top of each printed page.
    assert_eq!(print["head"], "table-header-group", "{v}");
    let pdf = std::fs::read(&pdf).unwrap();
    assert!(pdf.starts_with(b"%PDF"), "Chromium printed no PDF");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn every_lab_writes_a_page_that_opens_linked() {
    if !can_capture("every_lab_writes_a_page_that_opens_linked") {
        return;
    }
    let dir = scratch("labs");
    for lab in lab_names() {
        let page = dir.join(format!("{lab}.html"));
        let out = tcplab()
            .args(["lab", &lab, "--html"])
            .arg(&page)
            .output()
            .unwrap();
        assert_success(&out);
        self_contained(&page);
        // Every lab's first part has a frame 2 after its first: the SYN-ACK
        // or the RST that refuses, whose source port is bytes 34-35 on lo.
        let v = probe(&page, None, 1, "tcp.srcport", 47);
        linked(&v, &page, 1, "tcp.srcport", &[34, 35]);
        // Scrolled to a later run, the keys step that run.
        if let Some(at) = v["lastPart"].as_u64() {
            assert_eq!(v["lastPartAfterKey"], at + 1, "{lab}: {v}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
