//! Every lesson true (issue 16): what the labs half-close, crash,
//! ipv6-mapped and coalesce say about Node, checked against Node itself.
//! Each Node counterpart is in tests/data/node/ and prints one JSON line
//! per observation; the wire is checked under `tcplab trace -- node FILE`,
//! and the lab's own sentences by running the lab.
//!
//! Node is needed (scripts/setup.sh installs nodejs): without it these
//! tests fail naming the fix, unless TCPLAB_ALLOW_NO_NODE=1 is set, in
//! which case they say on stderr that they were skipped.

mod common;

use std::process::Command;
use std::sync::OnceLock;

use common::{assert_success, can_capture, has, tcplab};
use serde_json::Value;

fn file(name: &str) -> String {
    format!("{}/tests/data/node/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// True if `node` runs; without it, fails naming the fix, or skips
/// loudly when TCPLAB_ALLOW_NO_NODE=1.
fn have_node(test: &str) -> bool {
    static VERSION: OnceLock<Option<String>> = OnceLock::new();
    let version = VERSION.get_or_init(|| {
        let out = Command::new("node").arg("--version").output().ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    });
    if version.is_some() {
        return true;
    }
    if std::env::var("TCPLAB_ALLOW_NO_NODE").as_deref() == Ok("1") {
        eprintln!("SKIPPED {test}: node is not installed (TCPLAB_ALLOW_NO_NODE=1)");
        return false;
    }
    panic!(
        "{test} runs Node's own programs (tests/data/node/): install Node 20 \
         (bash scripts/setup.sh, or apt-get install nodejs), or set TCPLAB_ALLOW_NO_NODE=1 \
         to skip the Node tests"
    );
}

/// `node FILE ARGS`: its JSON lines, after it exited 0.
fn node(name: &str, args: &[&str]) -> Vec<Value> {
    let out = Command::new("node")
        .arg(file(name))
        .args(args)
        .output()
        .expect("run node");
    assert!(
        out.status.success(),
        "node {name} {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    json_lines(&String::from_utf8_lossy(&out.stdout))
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l.trim()).ok())
        .filter(Value::is_object)
        .collect()
}

/// The first observation whose fields include all of `pairs`.
fn find<'a>(seen: &'a [Value], pairs: &[(&str, &str)]) -> Option<&'a Value> {
    seen.iter()
        .find(|v| pairs.iter().all(|(k, want)| v[*k].as_str() == Some(*want)))
}

fn must<'a>(seen: &'a [Value], pairs: &[(&str, &str)]) -> &'a Value {
    find(seen, pairs).unwrap_or_else(|| panic!("no {pairs:?} in {seen:#?}"))
}

/// `tcplab trace --format json -- node FILE ARGS`: the report; the
/// program's JSON lines are in it too (`program.output`).
fn traced(name: &str, args: &[&str]) -> Value {
    let out = tcplab()
        .args(["trace", "--format", "json", "--", "node"])
        .arg(file(name))
        .args(args)
        .output()
        .expect("run tcplab");
    assert_success(&out);
    serde_json::from_slice(&out.stdout).expect("trace prints valid JSON")
}

fn program_lines(r: &Value) -> Vec<Value> {
    let text: Vec<String> = r["program"]["output"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["line"].as_str().unwrap_or_default().to_string())
        .collect();
    json_lines(&text.join("\n"))
}

fn packets(r: &Value) -> &Vec<Value> {
    r["packets"].as_array().unwrap()
}

/// Sent by the side listening on the connection's server port.
fn from_port(p: &Value, port: &Value) -> bool {
    &p["sport"] == port
}

/// The server's port of a program's first connection (its SYN's destination).
fn server_port(r: &Value) -> Value {
    packets(r)
        .iter()
        .find(|p| common::flags(p) == "SYN")
        .map(|p| p["dport"].clone())
        .expect("a SYN")
}

fn payload_len(p: &Value) -> u64 {
    p["payload_len"].as_u64().unwrap_or(0)
}

/// One row of a text timeline: frame, flags, payload length, phase.
#[derive(Debug)]
struct Row {
    frame: u64,
    flags: String,
    len: u64,
    phase: String,
}

/// The rows of every timeline table in `text` (the wide headings, as
/// COLUMNS=100 makes them: `#  ms  dir  flags  seq  ack  len  win  phase`).
fn rows(text: &str) -> Vec<Row> {
    text.lines()
        .filter_map(|l| {
            let t: Vec<&str> = l.split_whitespace().collect();
            let frame = t.first()?.parse().ok()?;
            t.get(1)?.parse::<f64>().ok()?;
            if !matches!(t.get(2..5)?, ["c", "→", "s"] | ["s", "→", "c"]) {
                return None;
            }
            Some(Row {
                frame,
                flags: t.get(5)?.to_string(),
                len: t.get(8)?.parse().ok()?,
                phase: t.get(10)?.to_string(),
            })
        })
        .collect()
}

fn text_of(args: &[&str]) -> String {
    let out = tcplab()
        .args(args)
        .args(["--color", "never", "--hexdump", "none"])
        .output()
        .expect("run tcplab");
    assert_success(&out);
    String::from_utf8(out.stdout).unwrap()
}

fn lab_json(name: &str) -> Value {
    let out = tcplab()
        .args(["lab", name, "--check", "--format", "json"])
        .output()
        .expect("run tcplab");
    assert_success(&out);
    serde_json::from_slice(&out.stdout).expect("lab prints valid JSON")
}

fn said(lab: &Value, key: &str) -> String {
    lab[key]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect::<Vec<_>>()
        .join("\n")
}

const ENDED: &str = "This socket has been ended by the other party";

// ── half-close ───────────────────────────────────────────────────────────

/// The lab page and narrative: a default Node server may answer inside its
/// 'end' listener; a write after that fails with EPIPE and the message
/// above; allowHalfOpen: true lets it write later.
#[test]
fn a_default_node_server_answers_only_inside_end() {
    if !have_node("a_default_node_server_answers_only_inside_end") {
        return;
    }
    let now = node("half-close.mjs", &["default", "now"]);
    let cb = must(&now, &[("side", "server"), ("event", "write-callback")]);
    assert!(
        cb["error"].is_null(),
        "a write inside 'end' works: {now:#?}"
    );
    let got = must(&now, &[("side", "client"), ("event", "close")]);
    assert_eq!(got["received"], "Echo: HELLO", "{now:#?}");

    let later = node("half-close.mjs", &["default", "later"]);
    let cb = must(&later, &[("side", "server"), ("event", "write-callback")]);
    assert_eq!(cb["error"]["code"], "EPIPE", "{later:#?}");
    assert_eq!(cb["error"]["message"], ENDED, "{later:#?}");
    let got = must(&later, &[("side", "client"), ("event", "close")]);
    assert_eq!(
        got["received"], "",
        "nothing reached the client: {later:#?}"
    );
    let write = must(&later, &[("side", "server"), ("event", "write")]);
    assert_eq!(
        write["writableEnded"], true,
        "Node had ended the side: {later:#?}"
    );

    let allow = node("half-close.mjs", &["allow", "later"]);
    let cb = must(&allow, &[("side", "server"), ("event", "write-callback")]);
    assert!(
        cb["error"].is_null(),
        "allowHalfOpen: true writes later: {allow:#?}"
    );
    let got = must(&allow, &[("side", "client"), ("event", "close")]);
    assert_eq!(got["received"], "Echo: HELLO", "{allow:#?}");
}

/// On the wire: the default server's late answer never leaves (its FIN
/// follows the client's, no payload); with allowHalfOpen: true the answer
/// crosses after the client's FIN, and the timeline calls it data.
#[test]
fn on_the_wire_node_sends_after_the_fin_only_with_allow_half_open() {
    let test = "on_the_wire_node_sends_after_the_fin_only_with_allow_half_open";
    if !have_node(test) || !can_capture(test) {
        return;
    }
    let r = traced("half-close.mjs", &["default", "later"]);
    let port = server_port(&r);
    let client_fin = packets(&r)
        .iter()
        .position(|p| !from_port(p, &port) && has(p, "FIN"))
        .expect("the client's FIN");
    let late: Vec<&Value> = packets(&r)[client_fin..]
        .iter()
        .filter(|p| from_port(p, &port) && payload_len(p) > 0)
        .collect();
    assert!(
        late.is_empty(),
        "a default server sent after 'end': {late:?}"
    );
    assert!(
        packets(&r)[client_fin..]
            .iter()
            .any(|p| from_port(p, &port) && has(p, "FIN")),
        "the default server ended its side by itself"
    );

    let r = traced("half-close.mjs", &["allow", "later"]);
    let port = server_port(&r);
    let client_fin = packets(&r)
        .iter()
        .position(|p| !from_port(p, &port) && has(p, "FIN"))
        .expect("the client's FIN");
    let late = packets(&r)[client_fin..]
        .iter()
        .find(|p| from_port(p, &port) && payload_len(p) > 0)
        .expect("allowHalfOpen: true sends after the client's FIN");
    assert_eq!(late["payload_hex"], "4563686f3a2048454c4c4f"); // "Echo: HELLO"

    // The same program's timeline: that segment is data, not teardown.
    let text = text_of(&[
        "trace",
        "--",
        "node",
        &file("half-close.mjs"),
        "allow",
        "later",
    ]);
    let row = rows(&text)
        .into_iter()
        .find(|r| r.len == 11)
        .unwrap_or_else(|| panic!("no row of 11 bytes:\n{text}"));
    assert_eq!(row.phase, "data", "{row:?}\n{text}");
}

/// The lab and `trace --close half`: data after the client's FIN (and its
/// ACK) is in phase data; the FINs and the last ACK are teardown.
#[test]
fn data_after_a_fin_is_data_in_the_lab_and_in_trace() {
    if !can_capture("data_after_a_fin_is_data_in_the_lab_and_in_trace") {
        return;
    }
    for args in [
        &["lab", "half-close"][..],
        &[
            "trace", "--send", "hello", "--close", "half", "--server", "upper",
        ][..],
    ] {
        let text = text_of(args);
        let rows = rows(&text);
        let fin = rows
            .iter()
            .position(|r| r.flags.starts_with("FIN"))
            .unwrap_or_else(|| panic!("no FIN:\n{text}"));
        let data: Vec<&Row> = rows[fin..].iter().filter(|r| r.len > 0).collect();
        assert!(!data.is_empty(), "{args:?}: no data after the FIN:\n{text}");
        for r in &data {
            assert_eq!(r.phase, "data", "{args:?} frame {}:\n{text}", r.frame);
        }
        for r in rows.iter().filter(|r| r.flags.contains("FIN")) {
            assert_eq!(r.phase, "teardown", "{args:?} frame {}:\n{text}", r.frame);
        }
        let last = rows.last().unwrap();
        assert_eq!(
            (last.flags.as_str(), last.phase.as_str()),
            ("ACK", "teardown")
        );
    }
    let lab = lab_json("half-close");
    let words = said(&lab, "narrative") + &said(&lab, "happened");
    for claim in ["allowHalfOpen: false", "allowHalfOpen: true", "EPIPE"] {
        assert!(
            words.contains(claim),
            "the lab does not say {claim}:\n{words}"
        );
    }
    assert!(words.contains(ENDED), "{words}");
}

// ── crash ────────────────────────────────────────────────────────────────

/// The lab: a default Node client writing after the dead server's FIN
/// fails locally with EPIPE and sends nothing; with allowHalfOpen: true
/// its write goes out, the RST comes back, the next write fails (EPIPE,
/// "write EPIPE"), as the lab's own client does.
#[test]
fn a_node_client_writing_to_a_killed_server() {
    if !have_node("a_node_client_writing_to_a_killed_server") {
        return;
    }
    let seen = node("crash-write.mjs", &["default"]);
    must(&seen, &[("event", "end")]);
    for text in ["anyone there?", "hello?"] {
        let cb = must(&seen, &[("event", "write-callback"), ("text", text)]);
        assert_eq!(cb["error"]["code"], "EPIPE", "{seen:#?}");
        assert_eq!(cb["error"]["message"], ENDED, "{seen:#?}");
    }
    assert!(
        find(&seen, &[("event", "error")]).is_none(),
        "the default client had closed already: no 'error' event: {seen:#?}"
    );

    let seen = node("crash-write.mjs", &["allow"]);
    let first = must(
        &seen,
        &[("event", "write-callback"), ("text", "anyone there?")],
    );
    assert!(
        first["error"].is_null(),
        "the first write is taken: {seen:#?}"
    );
    let second = must(&seen, &[("event", "write-callback"), ("text", "hello?")]);
    assert_eq!(second["error"]["code"], "EPIPE", "{seen:#?}");
    assert_eq!(second["error"]["message"], "write EPIPE", "{seen:#?}");
    let error = must(&seen, &[("event", "error")]);
    assert_eq!(error["code"], "EPIPE", "{seen:#?}");
}

/// The same on the wire: the default client's late writes never leave (it
/// sends its own FIN, no data, no RST); with allowHalfOpen: true the
/// first one crosses after the server's FIN and the dead side answers RST.
#[test]
fn on_the_wire_only_an_allow_half_open_client_draws_the_rst() {
    let test = "on_the_wire_only_an_allow_half_open_client_draws_the_rst";
    if !have_node(test) || !can_capture(test) {
        return;
    }
    let r = traced("crash-write.mjs", &["default"]);
    let port = server_port(&r);
    let fin = packets(&r)
        .iter()
        .position(|p| from_port(p, &port) && has(p, "FIN"))
        .expect("the dead server's FIN");
    let after = &packets(&r)[fin..];
    assert!(
        !after.iter().any(|p| payload_len(p) > 0),
        "a default client sent data after 'end': {after:?}"
    );
    assert!(!after.iter().any(|p| has(p, "RST")), "no RST: {after:?}");
    assert!(
        after.iter().any(|p| !from_port(p, &port) && has(p, "FIN")),
        "the default client ended its side by itself: {after:?}"
    );

    let r = traced("crash-write.mjs", &["allow"]);
    let port = server_port(&r);
    let fin = packets(&r)
        .iter()
        .position(|p| from_port(p, &port) && has(p, "FIN"))
        .expect("the dead server's FIN");
    let after = &packets(&r)[fin..];
    let sent = after
        .iter()
        .position(|p| !from_port(p, &port) && payload_len(p) > 0)
        .unwrap_or_else(|| panic!("allowHalfOpen: true sends its late write: {after:?}"));
    assert_eq!(after[sent]["payload_hex"], "616e796f6e652074686572653f"); // "anyone there?"
    assert!(
        after[sent..]
            .iter()
            .any(|p| from_port(p, &port) && has(p, "RST")),
        "the dead side answers RST: {after:?}"
    );
    let seen = program_lines(&r);
    must(&seen, &[("event", "error"), ("code", "EPIPE")]);
}

/// The lab's client B is the allowHalfOpen kind: its bytes go out after
/// the FIN and the RST answers them; the lab says so, and says what a
/// default Node client does instead.
#[test]
fn the_crash_lab_says_which_client_is_which() {
    if !can_capture("the_crash_lab_says_which_client_is_which") {
        return;
    }
    let lab = lab_json("crash");
    let happened = said(&lab, "happened");
    assert!(
        happened.contains("B's bytes still went out at frame")
            && happened.contains("answered RST at frame"),
        "{happened}"
    );
    for claim in [
        "allowHalfOpen: false",
        "allowHalfOpen: true",
        ENDED,
        "write EPIPE",
    ] {
        assert!(
            happened.contains(claim),
            "the lab does not say {claim}:\n{happened}"
        );
    }
    let p = lab["parts"][0]["packets"].as_array().unwrap();
    let on_b: Vec<&Value> = p.iter().filter(|x| x["stream"] == 1).collect();
    let server = on_b[0]["dport"].clone();
    let fin = on_b
        .iter()
        .position(|x| from_port(x, &server) && has(x, "FIN"))
        .expect("the dead server's FIN to B");
    let sent = on_b[fin..]
        .iter()
        .position(|x| !from_port(x, &server) && payload_len(x) > 0)
        .expect("B's bytes after the FIN");
    assert!(
        on_b[fin + sent..]
            .iter()
            .any(|x| from_port(x, &server) && has(x, "RST")),
        "the RST after B's bytes"
    );
}

// ── ipv6-mapped ──────────────────────────────────────────────────────────

/// The lab page: Node's listen(0) with no host is on :: and takes both
/// families, an IPv4 client seen as ::ffff:127.0.0.1 (IPv6); a listener on
/// ::ffff:127.0.0.1 takes IPv4 only.
#[test]
fn node_listens_dual_stack_on_any() {
    if !have_node("node_listens_dual_stack_on_any") {
        return;
    }
    let seen = node("dual-stack.mjs", &[]);
    let any = must(&seen, &[("listener", "listen(0)")]);
    assert_eq!(any["address"]["address"], "::", "{seen:#?}");
    assert_eq!(any["address"]["family"], "IPv6", "{seen:#?}");
    let v4 = &seen[1];
    assert_eq!(v4["host"], "127.0.0.1");
    assert_eq!(
        v4["server_saw"]["remoteAddress"], "::ffff:127.0.0.1",
        "{seen:#?}"
    );
    assert_eq!(v4["server_saw"]["remoteFamily"], "IPv6", "{seen:#?}");
    assert_eq!(v4["client_local"]["family"], "IPv4", "{seen:#?}");
    let v6 = &seen[2];
    assert_eq!(v6["host"], "::1");
    assert_eq!(v6["server_saw"]["remoteAddress"], "::1", "{seen:#?}");
    assert_eq!(v6["server_saw"]["remoteFamily"], "IPv6", "{seen:#?}");

    let mapped = must(&seen, &[("listener", "listen(0, '::ffff:127.0.0.1')")]);
    assert_eq!(
        mapped["address"]["address"], "::ffff:127.0.0.1",
        "{seen:#?}"
    );
    assert_eq!(seen[4]["host"], "127.0.0.1");
    assert_eq!(seen[4]["server_saw"]["remoteAddress"], "::ffff:127.0.0.1");
    assert_eq!(seen[5]["host"], "::1");
    assert_eq!(seen[5]["error"], "ECONNREFUSED", "IPv4 only: {seen:#?}");
}

/// The lab does what Node's listen(port) does: one listener on ::, an
/// IPv4 client seen as ::ffff:127.0.0.1 with IPv4 on the wire, an IPv6
/// client with IPv6 on the wire.
#[test]
fn the_ipv6_mapped_lab_is_one_dual_stack_listener() {
    if !can_capture("the_ipv6_mapped_lab_is_one_dual_stack_listener") {
        return;
    }
    let lab = lab_json("ipv6-mapped");
    let parts = lab["parts"].as_array().unwrap();
    assert_eq!(parts.len(), 2);
    let (v4, v6) = (&parts[0]["trace"], &parts[1]["trace"]);
    for t in [v4, v6] {
        assert_eq!(t["connection"]["server"]["address"], "::");
    }
    assert_eq!(
        v4["connection"]["server"]["port"], v6["connection"]["server"]["port"],
        "one listener"
    );
    assert_eq!(v4["connection"]["client"]["address"], "127.0.0.1");
    assert_eq!(
        v4["connection"]["client_seen_by_server"]["address"],
        "::ffff:127.0.0.1"
    );
    assert_eq!(v6["connection"]["client"]["address"], "::1");
    let versions = |t: &Value| -> Vec<u64> {
        t["packets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["ip_version"].as_u64().unwrap())
            .collect()
    };
    assert!(versions(v4).iter().all(|&v| v == 4) && !versions(v4).is_empty());
    assert!(versions(v6).iter().all(|&v| v == 6) && !versions(v6).is_empty());
}

// ── coalesce ─────────────────────────────────────────────────────────────

/// The lab page's numbers: the control (paced writes, TCP_NODELAY, a
/// prompt reader) gives 10 reads of 10 segments, and the first run's
/// segments left one per write although Nagle was on, each with nothing
/// unacknowledged before it.
#[test]
fn the_coalesce_control_keeps_the_writes_apart() {
    if !can_capture("the_coalesce_control_keeps_the_writes_apart") {
        return;
    }
    for _ in 0..3 {
        let lab = lab_json("coalesce");
        let happened = said(&lab, "happened");
        assert!(
            happened.contains(
                "paced writes, the receiver reads at once: 10 writes → 10 segments → 10 reads"
            ),
            "{happened}"
        );
        assert!(
            happened.contains("the receiver reads late (100 ms): 10 writes → 10 segments")
                && happened.contains(
                    "10 of its 10 segments left with every byte before them acknowledged"
                ),
            "Nagle held nothing back on loopback:\n{happened}"
        );
    }
}
