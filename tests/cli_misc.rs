//! Completions and the man page come from the CLI definition.

mod common;

use common::*;

#[test]
fn completions_name_every_subcommand() {
    for shell in ["bash", "zsh", "fish"] {
        let out = tcplab().args(["completions", shell]).output().unwrap();
        assert_success(&out);
        let text = String::from_utf8(out.stdout).unwrap();
        for sub in ["trace", "replay", "capture", "serve", "send"] {
            assert!(text.contains(sub), "{shell} completion lacks {sub}");
        }
    }
}

#[test]
fn man_page_is_roff() {
    let out = tcplab().arg("man").output().unwrap();
    assert_success(&out);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains(".TH tcplab 1"), "{text}");
    assert!(text.contains(".SH NAME"));
}

/// Usage errors found by the CLI: exit 2, one line on stderr, nothing run.
fn usage_error(args: &[&str]) -> String {
    let out = tcplab().args(args).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{args:?}");
    assert!(out.stdout.is_empty(), "{args:?}");
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("tcplab: "), "{err}");
    err
}

#[test]
fn mermaid_with_a_terminal_ladder_is_a_conflict_with_the_why() {
    let hello = "captures/hello-ethernet.pcap";
    for args in [
        ["replay", hello, "--mermaid", "--diagram"],
        ["replay", hello, "--step", "--mermaid"],
    ] {
        let err = usage_error(&args);
        assert!(err.contains("cannot be used with"), "{err}");
        assert!(err.contains("run once with --mermaid"), "{err}");
    }
}

#[test]
fn terminal_diagrams_with_json_are_refused_before_anything_runs() {
    // trace would need a capture: the refusal comes first, even unprivileged.
    let err = usage_error(&["trace", "--send", "hi", "--format", "json", "--diagram"]);
    assert!(err.contains("cannot be mixed with JSON output"), "{err}");
    let err = usage_error(&["lab", "reset", "--format", "json", "--step"]);
    assert!(err.contains("use --svg FILE"), "{err}");
}

#[test]
fn zero_is_refused_where_it_means_nothing() {
    let err = usage_error(&["capture", "--count", "0"]);
    assert!(err.contains("--count must be at least 1"), "{err}");
    let err = usage_error(&["serve", "echo", "--port", "0", "--max-line", "0"]);
    assert!(err.contains("--max-line must be at least 1"), "{err}");
}

/// Durations past what the clock holds are a usage error at parse time
/// (`from_secs_f64` once panicked with exit 101).
#[test]
fn huge_durations_are_refused_not_a_panic() {
    for args in [
        &["serve", "echo", "--idle-timeout", "18446744073709551615"][..],
        &["capture", "--duration", "99999999999999999999"][..],
    ] {
        let err = usage_error(args);
        assert!(err.contains("is too long"), "{args:?}: {err}");
    }
}

/// A file name is the user's bytes: escapes in it are spelled out, never
/// sent raw to the terminal.
#[test]
fn a_file_name_with_escapes_is_printed_escaped() {
    let out = tcplab()
        .args(["replay", "/nonexistent/\x1b[2J\x07x.pcap"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(66), "{err}");
    assert!(err.contains("\\x1b[2J\\x07x.pcap"), "{err}");
    assert!(!err.contains('\x1b') && !err.contains('\x07'), "{err:?}");
}

/// `--file /dev/zero` once grew `send` to the address-space limit and a
/// FIFO blocked without a word: only a regular file is read, in one line
/// of refusal otherwise, before anything connects.
#[test]
fn file_must_be_a_regular_file() {
    let fifo = std::env::temp_dir().join(format!("tcplab-fifo-{}", std::process::id()));
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    for args in [
        vec!["send", "127.0.0.1:9", "--file", "/dev/zero"],
        vec!["trace", "--file", fifo.to_str().unwrap()],
    ] {
        let err = usage_error(&args);
        assert!(err.contains("not a regular file"), "{args:?}: {err}");
    }
    std::fs::remove_file(&fifo).unwrap();
}

/// Flags the chosen view would silently ignore are refused, one line each
/// (they once printed something else and exited 0); `lab list` honours
/// `--format json`.
#[test]
fn flags_a_view_would_ignore_are_refused() {
    let file = format!(
        "{}/captures/hello-ethernet.pcap",
        env!("CARGO_MANIFEST_DIR")
    );
    for (extra, why) in [
        (&["--follow", "--format", "json"][..], "--follow prints"),
        (
            &["--summary", "--format", "ndjson"][..],
            "ndjson is for packet records",
        ),
        (
            &["--summary", "--hexdump", "payload"][..],
            "nothing to dump",
        ),
    ] {
        let mut args = vec!["replay", file.as_str()];
        args.extend_from_slice(extra);
        let err = usage_error(&args);
        assert!(err.contains(why), "{args:?}: {err}");
    }
    let out = tcplab()
        .args(["lab", "list", "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let labs: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(labs[0]["name"], "handshake");
    assert_eq!(labs.as_array().unwrap().len(), 15);
}

/// clap's several lines become one that reads as a sentence, naming the
/// command's own help (it read "not provided:; <FILE> (see 'tcplab --help')").
#[test]
fn a_missing_argument_reads_as_one_sentence() {
    for (cmd, arg) in [
        ("replay", "<FILE>"),
        ("send", "<HOST:PORT>"),
        ("serve", "<MODE>"),
    ] {
        let err = usage_error(&[cmd]);
        assert_eq!(
            err.trim_end(),
            format!(
                "tcplab: the following required arguments were not provided: {arg} \
                 (see 'tcplab {cmd} --help')"
            )
        );
    }
}
