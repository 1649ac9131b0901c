//! Snapshots of what people read, with ports and times scrubbed. Layout
//! whitespace is collapsed too: column widths follow the times' digits.

mod common;

use common::*;

fn scrubbed(args: &[&str]) -> String {
    let out = tcplab()
        .arg("trace")
        .args(args)
        .args(["--color", "never"])
        // Wide enough that no cell wraps: wrapping would follow the times' digits.
        .env("COLUMNS", "200")
        .output()
        .expect("run tcplab");
    assert_success(&out);
    let text = String::from_utf8(out.stdout).expect("utf-8 output");
    let port = regex_lite_replace(&text);
    port.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Replaces `port N` with `port [PORT]` and `12.345` times with `[MS]`.
fn regex_lite_replace(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let mut words: Vec<String> = Vec::new();
        let mut prev_port = false;
        for w in line.split(' ') {
            let is_time = w.split_once('.').is_some_and(|(a, b)| {
                !a.is_empty()
                    && a.bytes().all(|c| c.is_ascii_digit())
                    && b.len() == 3
                    && b.bytes().all(|c| c.is_ascii_digit())
            });
            let scrubbed = if prev_port && w.bytes().all(|c| c.is_ascii_digit()) && !w.is_empty() {
                "[PORT]".to_string()
            } else if !w.is_empty() && w.chars().all(|c| c == '─') {
                // A rule as wide as the table, which follows the times' digits.
                "───".to_string()
            } else if is_time {
                "[MS]".to_string()
            } else {
                w.to_string()
            };
            prev_port = w == "port";
            words.push(scrubbed);
        }
        out.push_str(&words.join(" "));
        out.push('\n');
    }
    out
}

#[test]
fn snapshot_send_hello() {
    if !can_capture("snapshot_send_hello") {
        return;
    }
    insta::assert_snapshot!(scrubbed(&["--send", "hello"]));
}

#[test]
fn snapshot_hex_buffer_with_upper_server() {
    if !can_capture("snapshot_hex_buffer_with_upper_server") {
        return;
    }
    insta::assert_snapshot!(scrubbed(&["--hex", "0c22", "--server", "upper"]));
}

#[test]
fn snapshot_reset() {
    if !can_capture("snapshot_reset") {
        return;
    }
    insta::assert_snapshot!(scrubbed(&[
        "--send",
        "bye",
        "--close",
        "reset",
        "--hexdump",
        "none"
    ]));
}
