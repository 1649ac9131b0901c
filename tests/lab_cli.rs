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
        "zero-window",
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

/// `tcplab serve echo` processes whose parent is gone (PPID 1) and that run
/// as `uid`: what a lab that fails after spawning its server leaves behind.
fn orphan_servers(uid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let cmdline = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
        let status = std::fs::read_to_string(e.path().join("status")).unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u32>().ok())
        };
        let serving = cmdline.windows(11).any(|w| w == b"serve\0echo\0-");
        if serving && field("PPid:") == Some(1) && field("Uid:") == Some(uid) {
            out.push(pid);
        }
    }
    out
}

/// Without capture rights `lab crash` exits 77 and leaves no server behind:
/// the capture opens before the server process exists, and a guard kills
/// the child on every path.
#[test]
fn crash_without_capture_rights_leaves_no_server() {
    let nobody = 65534;
    let before = orphan_servers(nobody);
    let out = common::without_capture_rights(&["lab", "crash"]);
    assert_eq!(
        out.status.code(),
        Some(77),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::thread::sleep(std::time::Duration::from_millis(200));
    let left: Vec<u32> = orphan_servers(nobody)
        .into_iter()
        .filter(|p| !before.contains(p))
        .collect();
    for pid in &left {
        let _ = std::process::Command::new("kill")
            .arg(pid.to_string())
            .status();
    }
    assert!(left.is_empty(), "orphaned tcplab serve echo: {left:?}");
}

#[test]
fn check_quiet_prints_the_verdict_alone_and_write_saves_every_part() {
    if !can_capture("check_quiet_prints_the_verdict_alone_and_write_saves_every_part") {
        return;
    }
    let dir = std::env::temp_dir().join(format!("tcplab-lab-write-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("reset.pcap");
    let out = tcplab()
        .args(["lab", "reset", "--check", "--quiet", "--write"])
        .arg(&file)
        .output()
        .unwrap();
    assert_success(&out);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(
        stdout.starts_with("✓ lab reset: the point showed (3 of 3 checks held)"),
        "{stdout}"
    );
    // Both parts are in the file, one after the other, as the JSON counts them.
    let json = tcplab()
        .args(["lab", "reset", "--format", "json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let parts = v["parts"].as_array().unwrap();
    assert_eq!(parts.len(), 2);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("frames to") && stderr.contains("#1-#"),
        "{stderr}"
    );
    let replay = tcplab()
        .args(["replay", "--summary"])
        .arg(&file)
        .output()
        .unwrap();
    assert_success(&replay);
    let summary = String::from_utf8(replay.stdout).unwrap();
    assert!(summary.contains("2 conversations"), "{summary}");
    // Without --check, --quiet is refused; with JSON too.
    for args in [
        &["lab", "reset", "--quiet"][..],
        &["lab", "reset", "--check", "--quiet", "--format", "json"],
    ] {
        let out = tcplab().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
    // The verdict closes a full --check report.
    let out = tcplab().args(["lab", "hello", "--check"]).output().unwrap();
    assert_success(&out);
    let text = String::from_utf8(out.stdout).unwrap();
    let last = text.lines().last().unwrap();
    assert!(last.starts_with("✓ lab hello: the point showed"), "{last}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_lab_dumps_the_start_of_its_first_payloads_and_names_the_rest() {
    if !can_capture("a_lab_dumps_the_start_of_its_first_payloads_and_names_the_rest") {
        return;
    }
    // zero-window sends 8 MiB in 16 and 32 KiB segments: its dumps were
    // thousands of lines before the cap.
    let out = tcplab()
        .args(["lab", "zero-window", "--color", "never"])
        .env("COLUMNS", "100")
        .output()
        .unwrap();
    assert_success(&out);
    let text = String::from_utf8(out.stdout).unwrap();
    let dumps: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("  #") && l.contains("bytes of payload"))
        .collect();
    assert!(!dumps.is_empty() && dumps.len() <= 10, "{dumps:?}");
    // 128 bytes shown of each, in 8 lines of 16.
    let cut = text.matches("more bytes not shown (a lab shows the start of each)");
    assert_eq!(cut.count(), dumps.len(), "{text}");
    assert!(text.lines().count() < 400, "{} lines", text.lines().count());
    // --every-row unfolds the rows and the ladder.
    let out = tcplab()
        .args([
            "lab",
            "zero-window",
            "--every-row",
            "--diagram",
            "--hexdump",
            "none",
        ])
        .env("COLUMNS", "100")
        .output()
        .unwrap();
    assert_success(&out);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains("folded"), "{text}");
}
