//! `tcplab serve` under pressure: the connection limit, the line limit, idle
//! timeouts, a chat client that does not read, a port in use, and a
//! graceful stop on SIGTERM.

mod serve_common;

use std::time::{Duration, Instant};

use serve_common::{arg, tcplab, temp_dir, Client, Server, WAIT};

#[test]
fn connections_over_the_limit_are_told_and_closed() {
    let server = Server::start("echo", &["--max-connections", "2"]);
    let mut a = server.connect();
    let mut b = server.connect();
    for c in [&mut a, &mut b] {
        c.send("ping\n");
        assert_eq!(c.line(), "ping");
    }
    let mut third = server.connect();
    assert_eq!(third.line(), "server busy: 2 connections, try later");
    third.expect_eof();
    let busy = server.wait_log("busy");
    assert!(busy.contains("turned away: 2 connections open"), "{busy}");

    // A place frees up: the next one is served.
    drop(a);
    server
        .log
        .wait_for(WAIT, |l| l.contains(" close ") && l.ends_with("· 1 active"))
        .expect("a's close in the log");
    let mut fourth = server.connect();
    fourth.send("again\n");
    assert_eq!(fourth.line(), "again");
    b.send("still here\n");
    assert_eq!(b.line(), "still here");
}

#[test]
fn json_messages_over_max_line_get_an_error_and_the_connection_goes_on() {
    let server = Server::start("json", &["--max-line", "64"]);
    let mut c = server.connect();
    let long = format!("{{\"text\":\"{}\"}}", "a".repeat(100));
    let reply: serde_json::Value = serde_json::from_str(&c.ask(&long)).unwrap();
    assert_eq!(reply["type"], "error");
    assert_eq!(reply["error"], "message longer than 64 bytes; discarded");
    let ok: serde_json::Value = serde_json::from_str(&c.ask(r#"{"short":true}"#)).unwrap();
    assert_eq!(ok["received"]["short"], true);
    let limit = server.wait_log("limit");
    assert!(limit.contains("line longer than 64 bytes"), "{limit}");
}

#[test]
fn kv_and_chat_lines_over_max_line_are_refused_not_stored() {
    let dir = temp_dir("kv-max-line");
    let data = dir.join("kv.json");
    let server = Server::start("kv", &["--max-line", "32", "--data", arg(&data)]);
    let mut c = server.connect();
    // 10 MB in one line: refused, with bounded memory, and the next line works.
    c.send("create big ");
    for _ in 0..10 {
        c.send(vec![b'x'; 1 << 20]);
    }
    assert_eq!(c.ask(""), "ERR line longer than 32 bytes; discarded");
    assert_eq!(c.ask("create small value"), "OK");
    assert_eq!(c.ask("list"), "  small = value");
    assert_eq!(c.line(), "OK 1 key");
    drop(server);

    let server = Server::start("chat", &["--max-line", "32"]);
    let mut a = server.connect();
    a.line();
    let mut b = server.connect();
    b.line();
    a.line();
    assert_eq!(
        b.ask(&"y".repeat(40)),
        "ERR line longer than 32 bytes; discarded"
    );
    b.send("short\n");
    assert_eq!(a.line(), "guest2: short");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn chunk_modes_read_at_most_max_line_bytes_at_a_time() {
    let server = Server::start("echo", &["--max-line", "16"]);
    let mut c = server.connect();
    let data: Vec<u8> = (0..100u8).collect();
    c.send(&data);
    assert_eq!(c.read_exact(100), data);
    c.end();
    c.expect_eof();
    server.wait_log("close ");
    let reads: Vec<usize> = server
        .log
        .all()
        .iter()
        .filter(|l| l.contains(" data "))
        .map(|l| {
            let n = l
                .split("data")
                .nth(1)
                .unwrap()
                .split_whitespace()
                .next()
                .unwrap();
            n.parse().unwrap()
        })
        .collect();
    assert_eq!(reads.iter().sum::<usize>(), 100);
    assert!(reads.iter().all(|&n| n <= 16), "{reads:?}");
}

#[test]
fn idle_connections_are_closed_with_a_log_line() {
    let server = Server::start("echo", &["--idle-timeout", "300ms"]);
    let start = Instant::now();
    let mut c = server.connect();
    // Activity resets the clock.
    std::thread::sleep(Duration::from_millis(200));
    c.send("x");
    assert_eq!(c.read_exact(1), b"x");
    c.expect_eof();
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_millis(450),
        "closed after {waited:?}"
    );
    let line = server.wait_log("timeout");
    assert!(line.contains("idle 300ms: closing"), "{line}");
    server.wait_log("read 1 · wrote 1 · 0 active");
}

#[test]
fn a_chat_client_that_does_not_read_is_disconnected() {
    let server = Server::start("chat", &["--max-line", "1024"]);
    let mut slow = server.connect();
    slow.line();
    let mut fast = server.connect();
    fast.line();
    let line = format!("{}\n", "z".repeat(1000));
    let batch = line.repeat(1000);
    // The slow client's socket buffers take several MB; its queue 256 KiB more.
    let mut sent = 0;
    while server
        .log
        .wait_for(Duration::ZERO, |l| l.contains("not reading"))
        .is_none()
    {
        assert!(sent < 200, "still connected after {sent} MB");
        fast.send(&batch);
        sent += 1;
    }
    assert_eq!(fast.line(), "* guest1 left #general (too slow)");
    let limit = server.wait_log("not reading");
    assert!(
        limit.contains("bytes queued for it; disconnected"),
        "{limit}"
    );
    // What the slow client has not read yet is in its buffers; then the end.
    slow.stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let rest = slow.read_to_end();
    assert!(rest.len() > 1000, "{} bytes", rest.len());
}

#[test]
fn a_port_in_use_is_one_line_and_exit_1() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let out = tcplab()
        .args(["serve", "echo", "--port", &port])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with(&format!("tcplab: cannot listen on 127.0.0.1:{port}: ")),
        "{stderr}"
    );
    assert!(stderr.to_lowercase().contains("in use"), "{stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn bad_limits_are_usage_errors() {
    for args in [["--max-line", "0"], ["--max-connections", "0"]] {
        let out = tcplab()
            .args(["serve", "echo", "--port", "0"])
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(&format!("{} must be at least 1", args[0])),
            "{stderr}"
        );
    }
}

#[test]
fn sigterm_closes_connections_and_exits_0() {
    let mut server = Server::start("chat", &[]);
    let mut a = server.connect();
    a.line();
    let mut b = Client::connect(server.addr);
    b.line();
    a.line();
    let status = server.terminate();
    assert!(status.success(), "{status:?}\n{}", server.log.text());
    assert_eq!(a.line(), "* server shutting down");
    a.expect_eof();
    assert_eq!(b.line(), "* server shutting down");
    let shutdown = server.wait_log("shutdown");
    assert!(shutdown.contains("closing 2 connections"), "{shutdown}");
    server.wait_log("stopped");
    assert!(std::net::TcpStream::connect(server.addr).is_err());
}

#[test]
fn sigterm_stops_kv_with_everything_saved() {
    let dir = temp_dir("kv-sigterm");
    let data = dir.join("kv.json");
    let mut server = Server::start("kv", &["--data", arg(&data)]);
    let mut c = server.connect();
    assert_eq!(c.ask("create a 1"), "OK");
    let status = server.terminate();
    assert!(status.success(), "{status:?}");
    server.wait_log("store: 1 key saved in");
    let on_disk: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&data).unwrap()).unwrap();
    assert_eq!(on_disk["a"], "1");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_closed_stdout_does_not_stop_the_server() {
    use std::io::BufRead;
    use std::process::Stdio;
    let mut child = tcplab()
        .args(["serve", "echo", "--port", "0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    // The reader is gone (as `tcplab serve echo | head -1`): logging fails
    // with EPIPE from now on.
    let addr = serve_common::listening_addr(&first);
    for _ in 0..3 {
        let mut c = Client::connect(addr);
        c.send("still serving\n");
        assert_eq!(c.line(), "still serving");
    }
    let term = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let deadline = Instant::now() + WAIT;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("did not exit after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
}

/// The server's peak resident memory, in KiB (Linux).
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn pipelined_commands_are_answered_one_at_a_time_in_bounded_memory() {
    let dir = temp_dir("kv-pipelined");
    let data = dir.join("kv.json");
    let server = Server::start("kv", &["--data", arg(&data)]);
    let mut c = server.connect();
    let value = "v".repeat(60_000);
    for k in 0..10 {
        assert_eq!(c.ask(&format!("create k{k} {value}")), "OK");
    }
    let before = peak_rss_kib(server.child.id());
    // 200 lists in one write: 120 MB of replies if they were all made
    // before the first was written.
    c.send("list\n".repeat(200));
    for _ in 0..200 {
        for k in 0..10 {
            assert_eq!(c.line().len(), format!("  k{k} = ").len() + value.len());
        }
        assert_eq!(c.line(), "OK 10 keys");
    }
    let after = peak_rss_kib(server.child.id());
    assert!(
        after < before + 20 * 1024,
        "peak memory grew from {before} KiB to {after} KiB"
    );
    drop(server);
    std::fs::remove_dir_all(&dir).unwrap();
}
