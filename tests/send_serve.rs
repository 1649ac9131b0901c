//! `tcplab send` against `tcplab serve`, every mode: both of our own ends,
//! real sockets on loopback.

mod serve_common;

use serve_common::{tcplab, temp_dir, Server};

/// Runs `tcplab send` to the server and returns the reply bytes.
fn send(server: &Server, args: &[&str]) -> Vec<u8> {
    send_idle(server, args, "200")
}

/// As [`send`], giving the replies `idle_ms` of quiet before ending.
fn send_idle(server: &Server, args: &[&str], idle_ms: &str) -> Vec<u8> {
    let out = tcplab()
        .args(["send", &format!("127.0.0.1:{}", server.port())])
        .args(args)
        .args(["--idle", idle_ms, "--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["replies"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| hex::decode(r["hex"].as_str().unwrap()).unwrap())
        .collect()
}

#[test]
fn every_mode_answers_send() {
    let s = Server::start("echo", &[]);
    assert_eq!(
        send(&s, &["--send", "hello", "--hex", "0c22"]),
        b"hello\x0c\x22"
    );

    let s = Server::start("upper", &[]);
    assert_eq!(
        send(&s, &["--send", "Hello, TCP!\n"]),
        b"Echo: HELLO, TCP!\n"
    );

    let s = Server::start("greet", &[]);
    let got = send(&s, &["--send", "Hello from the client!\n"]);
    assert_eq!(got, b"Hello from the server!\nHELLO FROM THE CLIENT!\nQUIT");

    let s = Server::start("json", &[]);
    let got = String::from_utf8(send(
        &s,
        &["--send", "{\"type\":\"greeting\",\"text\":\"hi\"}\n"],
    ))
    .unwrap();
    let reply: serde_json::Value = serde_json::from_str(got.trim()).expect("a JSON reply");
    assert_eq!(reply["received"]["text"], "hi", "{got}");

    let s = Server::start("discard", &[]);
    assert!(send(&s, &["--send", "into the void"]).is_empty());

    let dir = temp_dir("send-serve-kv");
    let data = dir.join("kv.json");
    let s = Server::start("kv", &["--data", data.to_str().unwrap()]);
    // kv answers after an fsync, which a loaded disk makes slow: give the
    // replies 5 s of quiet, not 200 ms (the test failed under load).
    let got = String::from_utf8(send_idle(
        &s,
        &[
            "--send",
            "create lesson tcp\nread lesson\n",
            "--close",
            "half",
        ],
        "5000",
    ))
    .unwrap();
    assert!(got.contains("OK") && got.contains("tcp"), "{got}");

    let s = Server::start("chat", &[]);
    let got = String::from_utf8(send(&s, &["--send", "/nick ada\n/who\n"])).unwrap();
    assert!(got.contains("ada"), "{got}");
}

/// 10 MB through `serve echo`: `send` reads the echo while it writes.
/// Writing the whole file first deadlocked once both kernel buffers were
/// full (8 MB still went through; 10 MB hung until killed).
#[test]
fn a_large_file_through_echo_does_not_deadlock() {
    let dir = temp_dir("send-large");
    let file = dir.join("10m.bin");
    let data: Vec<u8> = (0..10_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(&file, &data).unwrap();
    let s = Server::start("echo", &[]);
    let got = send(&s, &["--file", file.to_str().unwrap()]);
    assert_eq!(got.len(), data.len());
    assert!(got == data, "the echo differs from what was sent");
    std::fs::remove_dir_all(&dir).unwrap();
}
