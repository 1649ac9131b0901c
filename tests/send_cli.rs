//! `tcplab send` against real servers on loopback (std sockets in threads).

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

use common::*;

/// An echo server for `n` connections; returns its port and a handle with
/// what each connection's read ended with.
fn echo_server(n: usize) -> (u16, thread::JoinHandle<Vec<String>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let h = thread::spawn(move || {
        let mut endings = Vec::new();
        for _ in 0..n {
            let (mut c, _) = accept_within(&l);
            c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut buf = [0u8; 4096];
            let ending = loop {
                match c.read(&mut buf) {
                    Ok(0) => break "eof".to_string(),
                    Ok(k) => {
                        let _ = c.write_all(&buf[..k]);
                    }
                    Err(e) => break format!("{:?}", e.kind()),
                }
            };
            endings.push(ending);
        }
        endings
    });
    (port, h)
}

/// Accepts one connection, failing the test after 10 s instead of hanging.
fn accept_within(l: &TcpListener) -> (TcpStream, std::net::SocketAddr) {
    l.set_nonblocking(true).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        match l.accept() {
            Ok((c, a)) => {
                c.set_nonblocking(false).unwrap();
                return (c, a);
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                assert!(
                    std::time::Instant::now() < deadline,
                    "no client came within 10 s"
                );
                thread::sleep(Duration::from_millis(5));
            }
            Err(e) => panic!("accept: {e}"),
        }
    }
}

fn send_json(args: &[&str]) -> (Option<i32>, serde_json::Value, String) {
    let out = tcplab()
        .arg("send")
        .args(args)
        .args(["--format", "json", "--idle", "150"])
        .output()
        .unwrap();
    let v = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (
        out.status.code(),
        v,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn replies_hex(v: &serde_json::Value) -> String {
    v["replies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["hex"].as_str().unwrap())
        .collect()
}

#[test]
fn text_hex_and_file_go_out_in_order_and_come_back() {
    let (port, h) = echo_server(1);
    let file = std::env::temp_dir().join(format!("tcplab-send-{}", std::process::id()));
    std::fs::write(&file, b"from a file").unwrap();
    let target = format!("127.0.0.1:{port}");
    let (code, v, err) = send_json(&[
        &target,
        "--send",
        "hi ",
        "--hex",
        "0c22",
        "--file",
        file.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        replies_hex(&v),
        format!("{}0c22{}", hex::encode("hi "), hex::encode("from a file"))
    );
    assert_eq!(v["socket"]["bytes_written"], 16);
    assert_eq!(v["socket"]["bytes_read"], 16);
    assert_eq!(v["connection"]["remote"]["family"], "IPv4");
    assert_eq!(h.join().unwrap(), ["eof"]);
    std::fs::remove_file(file).unwrap();
}

#[test]
fn text_output_shows_hex_dumps_and_socket_stats() {
    let (port, h) = echo_server(1);
    let out = tcplab()
        .args([
            "send",
            &format!("127.0.0.1:{port}"),
            "--send",
            "hello",
            "--idle",
            "150",
            "--color",
            "never",
        ])
        .output()
        .unwrap();
    assert_success(&out);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("← 5 bytes at"), "{text}");
    assert!(text.contains("68 65 6c 6c 6f"), "{text}");
    assert!(text.contains("socket: wrote 5, read 5"), "{text}");
    h.join().unwrap();
}

#[test]
fn close_reset_resets_the_server_side() {
    let (port, h) = echo_server(1);
    let (code, _, err) = send_json(&[
        &format!("127.0.0.1:{port}"),
        "--send",
        "bye",
        "--close",
        "reset",
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(h.join().unwrap(), ["ConnectionReset"]);
}

#[test]
fn half_close_still_reads_what_the_server_sends_after_the_fin() {
    // A server that answers only once the client has finished (reads to EOF).
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let h = thread::spawn(move || {
        let (mut c, _) = accept_within(&l);
        let mut all = Vec::new();
        c.read_to_end(&mut all).unwrap();
        c.write_all(&all.to_ascii_uppercase()).unwrap();
        c.shutdown(Shutdown::Write).unwrap();
    });
    let (code, v, err) = send_json(&[
        &format!("127.0.0.1:{port}"),
        "--send",
        "later",
        "--close",
        "half",
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(replies_hex(&v), hex::encode("LATER"));
    h.join().unwrap();
}

#[test]
fn refused_is_named_and_exits_3_after_every_retry() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = tcplab()
        .args([
            "send",
            &format!("127.0.0.1:{port}"),
            "--send",
            "x",
            "--retry",
            "2",
            "--retry-delay",
            "20",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("attempt 1") && text.contains("retrying in 20 ms"),
        "{text}"
    );
    assert!(
        text.contains("retrying in 40 ms"),
        "backoff doubles: {text}"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("connection refused") && err.contains("3 attempts"),
        "{err}"
    );
}

#[test]
fn retry_reaches_a_server_that_starts_late() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let h = thread::spawn(move || {
        thread::sleep(Duration::from_millis(400));
        let l = TcpListener::bind(("127.0.0.1", port)).unwrap();
        let (mut c, _) = accept_within(&l);
        let mut buf = [0u8; 16];
        let n = c.read(&mut buf).unwrap();
        c.write_all(&buf[..n]).unwrap();
    });
    let (code, v, err) = send_json(&[
        &format!("127.0.0.1:{port}"),
        "--send",
        "late",
        "--retry",
        "8",
        "--retry-delay",
        "50",
    ]);
    assert_eq!(code, Some(0), "{err}");
    let attempts = v["attempts"].as_array().unwrap();
    assert!(attempts.len() >= 2, "{attempts:?}");
    assert!(attempts.last().unwrap()["error"].is_null());
    assert_eq!(replies_hex(&v), hex::encode("late"));
    h.join().unwrap();
}

#[test]
fn reset_by_peer_exits_4() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let h = thread::spawn(move || {
        let (c, _) = accept_within(&l);
        // Close with the client's bytes unread: Linux answers with RST.
        thread::sleep(Duration::from_millis(100));
        drop(c);
    });
    let (code, _, err) = send_json(&[&format!("127.0.0.1:{port}"), "--send", "x"]);
    h.join().unwrap();
    assert_eq!(code, Some(4), "{err}");
    assert!(err.contains("reset by peer"), "{err}");
}

#[test]
fn interactive_sends_stdin_lines_and_prints_replies() {
    let (port, h) = echo_server(1);
    let mut child = tcplab()
        .args([
            "send",
            &format!("127.0.0.1:{port}"),
            "-i",
            "--idle",
            "200",
            "--format",
            "json",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"one\ntwo\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(replies_hex(&v), hex::encode("one\ntwo\n"));
    assert_eq!(h.join().unwrap(), ["eof"]);
}

#[test]
fn a_bad_target_is_a_usage_error() {
    let out = tcplab()
        .args(["send", "nowhere", "--send", "x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("HOST:PORT"));
}

/// `send -i` sends what it reads byte for byte: bytes that are not UTF-8
/// (and what follows them), CR LF, and a last line without its newline.
/// Reading lines as text once ended the input at `\xff`, turned CRLF into
/// LF, and added a newline at the end.
#[test]
fn interactive_sends_the_bytes_exactly_as_read() {
    let (port, h) = echo_server(1);
    let mut child = tcplab()
        .args(["send", &format!("127.0.0.1:{port}"), "-i", "--idle", "200"])
        .args(["--format", "json"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let input: &[u8] = b"crlf\r\n\xff\xfe binary\nafter\nno newline";
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(replies_hex(&v), hex::encode(input));
    assert_eq!(h.join().unwrap(), ["eof"]);
}
