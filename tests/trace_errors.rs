//! Bad input and faults: one line on stderr, a documented exit code, never a
//! panic or a backtrace.

mod common;

use common::*;

/// Runs tcplab and returns (exit code, stdout, stderr).
fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let out = tcplab()
        .args(args)
        .env("RUST_BACKTRACE", "1")
        .output()
        .expect("run tcplab");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn assert_one_line(stderr: &str) {
    assert_eq!(stderr.lines().count(), 1, "one line expected: {stderr:?}");
    assert!(stderr.starts_with("tcplab: "), "{stderr:?}");
    assert!(!stderr.contains("panicked"), "{stderr:?}");
}

#[test]
fn bad_hex_is_a_usage_error_naming_the_character() {
    let (code, _, err) = run(&["trace", "--hex", "0c2g"]);
    assert_eq!(code, Some(2));
    assert_one_line(&err);
    assert!(err.contains("'g' at position 4"), "{err}");
}

#[test]
fn unknown_server_mode_is_a_usage_error() {
    let (code, _, err) = run(&["trace", "--server", "shout"]);
    assert_eq!(code, Some(2));
    assert_one_line(&err);
    assert!(err.contains("shout"), "{err}");
    assert!(err.contains("echo"), "names the choices: {err}");
}

#[test]
fn unknown_option_is_a_usage_error() {
    let (code, _, err) = run(&["trace", "--frobnicate"]);
    assert_eq!(code, Some(2));
    assert_one_line(&err);
}

#[test]
fn missing_file_cannot_be_opened() {
    let (code, _, err) = run(&["trace", "--file", "/nonexistent/tcplab-input"]);
    assert_eq!(code, Some(66));
    assert_one_line(&err);
    assert!(err.contains("/nonexistent/tcplab-input"), "{err}");
}

#[test]
fn help_lists_examples_and_exit_codes() {
    let (code, out, _) = run(&["trace", "--help"]);
    assert_eq!(code, Some(0));
    assert!(out.contains("Examples:"));
    assert!(out.contains("77 no permission to capture"));
}

#[test]
fn port_in_use_is_a_runtime_error() {
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port().to_string();
    let (code, _, err) = run(&["trace", "--port", &port]);
    assert_eq!(code, Some(1));
    assert_one_line(&err);
    assert!(err.contains("cannot listen on 127.0.0.1:"), "{err}");
    assert!(err.contains("--port"), "says what to do: {err}");
}

/// Without capture rights the run stops with exit 77 and names the fix.
/// As root the test drops to `nobody` with setpriv (util-linux), as a user
/// without the capability would be.
#[test]
fn no_capture_permission_exits_77_with_the_fix() {
    let out = common::without_capture_rights(&["trace", "--send", "hello"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(77), "{err}");
    assert_one_line(&err);
    assert!(
        err.contains("setcap cap_net_raw,cap_net_admin=eip"),
        "{err}"
    );
    assert!(err.contains("root"), "{err}");
}

#[test]
fn a_closed_stdout_pipe_exits_quietly() {
    if !can_capture("a_closed_stdout_pipe_exits_quietly") {
        return;
    }
    let bin = assert_cmd::cargo::cargo_bin("tcplab");
    let out = std::process::Command::new("bash")
        .args(["-o", "pipefail", "-c"])
        .arg(format!(
            "'{}' trace --send hello --hexdump frame | head -c 10 >/dev/null",
            bin.display()
        ))
        .output()
        .unwrap();
    assert!(out.status.success(), "{:?}", out.status);
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

/// A usage error names the help of the subcommand typed (issue 16), also
/// where clap gives no usage line (an invalid value).
#[test]
fn a_usage_error_names_the_subcommands_help() {
    for (args, help) in [
        (
            &["trace", "--close", "nope"][..],
            "(see 'tcplab trace --help')",
        ),
        (
            &["trace", "--frobnicate"][..],
            "(see 'tcplab trace --help')",
        ),
        (
            &["replay", "--format", "nope", "x.pcap"][..],
            "(see 'tcplab replay --help')",
        ),
        (&["nope"][..], "(see 'tcplab --help')"),
    ] {
        let (code, _, err) = run(args);
        assert_eq!(code, Some(2), "{args:?}");
        assert_one_line(&err);
        assert!(err.trim_end().ends_with(help), "{args:?}: {err}");
    }
}
