//! Every lab runs for real with --check: its point must show on the wire.
//! The ones that hang on timing run ten times in a row.

mod common;

use common::*;

fn lab_passes(name: &str) {
    let out = tcplab()
        .args(["lab", name, "--check", "--format", "json"])
        .output()
        .expect("run tcplab lab");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "lab {name}: no JSON: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert!(
        out.status.success(),
        "lab {name} failed its checks: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        serde_json::to_string_pretty(&v["checks"]).unwrap()
    );
    assert_eq!(v["passed"], true);
    assert!(
        !v["parts"].as_array().unwrap().is_empty(),
        "lab {name}: no traffic"
    );
    assert!(
        !v["happened"].as_array().unwrap().is_empty(),
        "lab {name}: nothing said"
    );
}

#[test]
fn every_lab_shows_its_point() {
    if !can_capture("every_lab_shows_its_point") {
        return;
    }
    for name in [
        "handshake",
        "hello",
        "buffer",
        "echo",
        "json",
        "framing",
        "half-close",
        "reset",
        "ipv6-mapped",
        "chat",
        "kv",
    ] {
        lab_passes(name);
    }
}

#[test]
fn timing_labs_pass_ten_times_in_a_row() {
    if !can_capture("timing_labs_pass_ten_times_in_a_row") {
        return;
    }
    for name in ["coalesce", "crash", "refused"] {
        for run in 0..10 {
            eprintln!("{name} run {}", run + 1);
            lab_passes(name);
        }
    }
}

#[test]
fn list_names_every_lab_and_its_seed() {
    let out = tcplab().args(["lab", "list"]).output().unwrap();
    assert_success(&out);
    let text = String::from_utf8(out.stdout).unwrap();
    for name in [
        "handshake",
        "hello",
        "buffer",
        "echo",
        "json",
        "coalesce",
        "framing",
        "half-close",
        "reset",
        "refused",
        "crash",
        "chat",
        "ipv6-mapped",
        "kv",
    ] {
        assert!(
            text.lines().any(|l| l.starts_with(name)),
            "{name} missing:\n{text}"
        );
    }
    assert!(text.contains("seed 002"));
}

#[test]
fn an_unknown_lab_is_a_usage_error() {
    let out = tcplab().args(["lab", "nope"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("tcplab lab list"));
}

#[test]
fn labs_draw_their_ladders() {
    if !can_capture("labs_draw_their_ladders") {
        return;
    }
    let out = tcplab()
        .args(["lab", "handshake", "--diagram", "--color", "never"])
        .output()
        .unwrap();
    assert_success(&out);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("SYN seq 0") && text.contains('▶') && text.contains('◀'),
        "{text}"
    );

    let dir = std::env::temp_dir().join(format!("tcplab-lab-svg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let svg = dir.join("reset.svg");
    let out = tcplab()
        .args([
            "lab",
            "reset",
            "--svg",
            svg.to_str().unwrap(),
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_success(&out);
    for file in [svg.clone(), dir.join("reset-2.svg")] {
        let body =
            std::fs::read_to_string(&file).unwrap_or_else(|_| panic!("{} missing", file.display()));
        assert!(
            body.starts_with("<svg") || body.starts_with("<?xml"),
            "{}",
            file.display()
        );
    }
    let out = tcplab()
        .args(["lab", "reset", "--mermaid"])
        .output()
        .unwrap();
    assert_success(&out);
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.matches("sequenceDiagram").count(), 2, "{text}");
    assert!(text.contains("RST"));
    std::fs::remove_dir_all(&dir).unwrap();
}
