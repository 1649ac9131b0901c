//! `trace -- CMD` with real Node programs (tests/data/node/, node installed
//! by scripts/setup.sh): seed 003's experiment, seed 002's sender against
//! tcplab's echo server, three connections, a crash, a program that never
//! exits, and tcplab's client against a program's server.

mod common;

use std::process::Output;

use common::{can_capture, tcplab};
use serde_json::Value;

fn node(file: &str) -> String {
    format!("{}/tests/data/node/{file}", env!("CARGO_MANIFEST_DIR"))
}

/// `trace ARGS -- node FILE EXTRA... --format json`: the output and its report.
fn run(args: &[&str], file: &str, extra: &[&str]) -> (Output, Value) {
    let out = tcplab()
        .arg("trace")
        .args(args)
        .args(["--format", "json", "--"])
        .arg("node")
        .arg(node(file))
        .args(extra)
        .output()
        .expect("run tcplab");
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON ({e}):\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out, report)
}

/// Every frame's payload in hex, in order, the empty ones left out.
fn payloads(r: &Value) -> Vec<&str> {
    r["packets"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["payload_hex"].as_str().filter(|h| !h.is_empty()))
        .collect()
}

fn lines(r: &Value) -> Vec<String> {
    r["program"]["output"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["line"].as_str().unwrap().to_string())
        .collect()
}

/// The number the program printed after `label`, e.g. `[client] bytesWritten: 33`.
fn printed(r: &Value, label: &str) -> u64 {
    lines(r)
        .iter()
        .find_map(|l| l.strip_prefix(label)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("the program printed no {label}: {:?}", lines(r)))
}

#[test]
fn seed_003s_experiment_agrees_with_node_the_wire_and_the_kernel() {
    if !can_capture("seed_003s_experiment_agrees_with_node_the_wire_and_the_kernel") {
        return;
    }
    let (out, r) = run(&[], "experiment.mjs", &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(r["program"]["exit_code"], 0);
    let conns = r["connections"].as_array().unwrap();
    assert_eq!(conns.len(), 1, "one connection: {conns:?}");
    let written = printed(&r, "[client] bytesWritten:");
    let read = printed(&r, "[client] bytesRead:");
    assert_eq!(
        (written, read),
        (33, 39),
        "seed 003's two lines and their echo"
    );
    let wire = &conns[0]["wire"];
    assert_eq!(wire["client_to_server"]["payload_bytes"], written);
    assert_eq!(wire["server_to_client"]["payload_bytes"], read);
    // The kernel: payload sent, and what it received (the peer's FIN is one).
    let k = &conns[0]["kernel"]["client"];
    assert_eq!(k["bytes_sent"], written, "{k}");
    assert_eq!(k["bytes_received"], read + 1, "{k}");
    let flags: Vec<String> = r["packets"]
        .as_array()
        .unwrap()
        .iter()
        .take(3)
        .map(common::flags)
        .collect();
    assert_eq!(flags, ["SYN", "SYN-ACK", "ACK"]);
    assert!(lines(&r)
        .iter()
        .any(|l| l == "[client] Connected to server"));
}

#[test]
fn seed_002s_sender_puts_0c_22_on_the_wire_to_tcplabs_echo() {
    if !can_capture("seed_002s_sender_puts_0c_22_on_the_wire_to_tcplabs_echo") {
        return;
    }
    // The seed's sender never ends its socket: --timeout stops it (124).
    let (out, r) = run(
        &["--server", "echo", "--port", "3099", "--timeout", "1s"],
        "sender.js",
        &[],
    );
    assert_eq!(
        out.status.code(),
        Some(124),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let payloads = payloads(&r);
    assert_eq!(
        payloads,
        ["0c22", "0c22"],
        "the two bytes, and tcplab's echo"
    );
    assert_eq!(r["program"]["timed_out"], true);
}

#[test]
fn three_connections_are_three_streams() {
    if !can_capture("three_connections_are_three_streams") {
        return;
    }
    let (out, r) = run(&[], "three.mjs", &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let conns = r["connections"].as_array().unwrap();
    assert_eq!(conns.len(), 3, "{conns:?}");
    for (i, c) in conns.iter().enumerate() {
        assert_eq!(c["stream"], i);
    }
}

#[test]
fn a_crash_mid_write_is_traced_up_to_its_reset() {
    if !can_capture("a_crash_mid_write_is_traced_up_to_its_reset") {
        return;
    }
    let (out, r) = run(&[], "crash.mjs", &[]);
    // Node exits 1 on an uncaught exception; tcplab passes it on.
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let packets = r["packets"].as_array().unwrap();
    assert!(
        packets.iter().any(|p| common::has(p, "RST")),
        "the kernel resets the connection with unread data"
    );
    assert!(packets.iter().any(|p| p["payload_len"].as_u64() > Some(0)));
}

#[test]
fn a_program_that_never_exits_is_stopped_by_timeout() {
    if !can_capture("a_program_that_never_exits_is_stopped_by_timeout") {
        return;
    }
    // Long enough for node to start and connect on a loaded machine (500 ms
    // was not, under CI's load: no connection yet when it was stopped).
    let (out, r) = run(&["--timeout", "3s"], "never.mjs", &[]);
    assert_eq!(out.status.code(), Some(124));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("still running after 3000 ms (--timeout)"),
        "{err}"
    );
    assert_eq!(r["connections"].as_array().unwrap().len(), 1);
}

#[test]
fn tcplabs_client_talks_to_the_programs_server_once_it_listens() {
    if !can_capture("tcplabs_client_talks_to_the_programs_server_once_it_listens") {
        return;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let (out, r) = run(
        &["--send", "hello", "--connect", &port],
        "server.mjs",
        &[&port],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let payloads = payloads(&r);
    assert_eq!(payloads, [hex::encode("hello"), hex::encode("HELLO")]);
    // No refused attempt before the program listened: one connection only.
    assert_eq!(r["connections"].as_array().unwrap().len(), 1);
}

#[test]
fn program_flags_without_a_program_are_refused() {
    let out = tcplab()
        .args(["trace", "--connect", "3099"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("after `--`"));
    let out = tcplab()
        .args(["trace", "--send", "x", "--", "node", "-e", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--connect PORT"));
}

#[test]
fn the_your_code_lab_passes_its_checks() {
    if !can_capture("the_your_code_lab_passes_its_checks") {
        return;
    }
    for run in 1..=5 {
        let out = tcplab()
            .args(["lab", "your-code", "--check"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "run {run}:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
