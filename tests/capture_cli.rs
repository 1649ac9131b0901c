//! `tcplab capture` live on loopback: it watches real exchanges, stops on
//! --count, Ctrl-C (SIGINT) and SIGTERM with a complete pcap file.

mod common;

use std::io::BufRead;
use std::process::Child;
use std::time::{Duration, Instant};

use common::*;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `tcplab capture ARGS` and waits for its "listening on" line.
/// A running capture whose stdout is drained as it comes (a full pipe
/// would stall it).
struct Running {
    child: Child,
    stdout: std::thread::JoinHandle<Vec<u8>>,
}

impl Running {
    fn id(&self) -> u32 {
        self.child.id()
    }
}

fn start_capture(args: &[&str]) -> Running {
    let (mut child, mut err) = spawn_capture(args);
    // Keep draining stderr and stdout so the child never blocks on them.
    std::thread::spawn(move || {
        let mut rest = String::new();
        while err.read_line(&mut rest).unwrap_or(0) > 0 {}
    });
    let mut out = child.stdout.take().unwrap();
    let stdout = std::thread::spawn(move || {
        let mut all = Vec::new();
        let _ = std::io::Read::read_to_end(&mut out, &mut all);
        all
    });
    Running { child, stdout }
}

fn trace_on(port: u16) {
    let out = tcplab()
        .args([
            "trace",
            "--send",
            "hello",
            "--port",
            &port.to_string(),
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_success(&out);
}

fn signal(child: &Running, sig: &str) {
    let ok = std::process::Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill {sig}");
}

fn wait_within(mut run: Running, limit: Duration) -> std::process::Output {
    let start = Instant::now();
    let status = loop {
        if let Some(status) = run.child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > limit {
            let _ = run.child.kill();
            panic!("capture did not stop within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    std::process::Output {
        status,
        stdout: run.stdout.join().unwrap(),
        stderr: Vec::new(),
    }
}

/// Every frame of a pcap file through libpcap (as tcpdump reads it): the
/// count, or the error that stopped it.
fn libpcap_frames(path: &std::path::Path) -> Result<usize, String> {
    let mut cap = pcap::Capture::from_file(path).map_err(|e| e.to_string())?;
    let mut n = 0;
    loop {
        match cap.next_packet() {
            Ok(_) => n += 1,
            Err(pcap::Error::NoMorePackets) => return Ok(n),
            Err(e) => return Err(format!("after {n} frames: {e}")),
        }
    }
}

#[test]
fn count_stops_after_watching_a_whole_exchange() {
    if !can_capture("count_stops_after_watching_a_whole_exchange") {
        return;
    }
    let port = free_port();
    let child = start_capture(&[
        "--port",
        &port.to_string(),
        "--count",
        "10",
        "--format",
        "ndjson",
    ]);
    trace_on(port);
    let out = wait_within(child, Duration::from_secs(10));
    assert!(out.status.success());
    let records: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 10);
    assert_eq!(records[0]["flags"], serde_json::json!(["SYN"]));
    assert_eq!(records[9]["flags"], serde_json::json!(["ACK"]));
    assert!(records.iter().any(|r| r["payload_hex"] == "68656c6c6f"));
}

#[test]
fn each_stopping_signal_leaves_a_complete_file() {
    if !can_capture("each_stopping_signal_leaves_a_complete_file") {
        return;
    }
    let dir = std::env::temp_dir().join(format!("tcplab-capture-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (i, sig) in ["-INT", "-TERM", "-HUP", "-USR1", "-ALRM"]
        .into_iter()
        .enumerate()
    {
        let port = free_port();
        let path = dir.join(format!("stop{i}.pcap"));
        let child = start_capture(&[
            "--port",
            &port.to_string(),
            "--write",
            path.to_str().unwrap(),
            "--format",
            "ndjson",
        ]);
        for _ in 0..3 {
            trace_on(port);
        }
        signal(&child, sig);
        let out = wait_within(child, Duration::from_secs(10));
        assert!(out.status.success(), "{sig}: {:?}", out.status);
        assert_eq!(
            libpcap_frames(&path),
            Ok(30),
            "{sig}: every frame of three exchanges"
        );
        let rows = String::from_utf8(out.stdout).unwrap();
        assert_eq!(rows.lines().count(), 30, "{rows}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn duration_stops_a_quiet_capture() {
    if !can_capture("duration_stops_a_quiet_capture") {
        return;
    }
    let child = start_capture(&["--port", &free_port().to_string(), "--duration", "300ms"]);
    let out = wait_within(child, Duration::from_secs(5));
    assert!(out.status.success());
}

#[test]
fn capture_without_privileges_exits_77() {
    let bin = assert_cmd::cargo::cargo_bin("tcplab");
    let is_root = std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(2) == Some("0"));
    let mut cmd = if is_root {
        let mut c = std::process::Command::new("setpriv");
        c.args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
            .args(["--inh-caps=-all", "--bounding-set=-all"])
            .arg(&bin);
        c
    } else {
        let copy = std::env::temp_dir().join(format!("tcplab-nocap-cap-{}", std::process::id()));
        std::fs::copy(&bin, &copy).unwrap();
        std::process::Command::new(copy)
    };
    let out = cmd.args(["capture", "--count", "1"]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(77),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("setcap"));
}

#[test]
fn count_watches_a_send() {
    if !can_capture("count_watches_a_send") {
        return;
    }
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        use std::io::{Read, Write};
        let (mut c, _) = listener.accept().unwrap();
        let mut buf = [0u8; 64];
        while let Ok(n) = c.read(&mut buf) {
            if n == 0 {
                break;
            }
            c.write_all(&buf[..n]).unwrap();
        }
    });
    let child = start_capture(&[
        "--port",
        &port.to_string(),
        "--count",
        "4",
        "--format",
        "ndjson",
    ]);
    let sent = tcplab()
        .args([
            "send",
            &format!("127.0.0.1:{port}"),
            "--send",
            "hello",
            "--idle",
            "100",
        ])
        .output()
        .unwrap();
    assert_success(&sent);
    let out = wait_within(child, Duration::from_secs(10));
    server.join().unwrap();
    let records: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let flags: Vec<String> = records.iter().map(flags).collect();
    assert_eq!(flags, ["SYN", "SYN-ACK", "ACK", "PSH-ACK"]);
    assert_eq!(records[3]["payload_hex"], "68656c6c6f");
}

/// `--user` (tcpdump's -Z): the capture keeps working after root is dropped.
#[test]
fn user_drops_root_after_opening_the_capture() {
    if !can_capture("user_drops_root_after_opening_the_capture") {
        return;
    }
    let is_root = std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(2) == Some("0"));
    if !is_root {
        panic!("dropping privileges needs root: run the tests as root (CI does)");
    }
    let port = free_port();
    let child = start_capture(&[
        "--port",
        &port.to_string(),
        "--count",
        "10",
        "--user",
        "nobody",
        "--format",
        "ndjson",
    ]);
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap();
    let uid_line = status
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .unwrap()
        .to_string();
    assert!(
        uid_line.split_whitespace().skip(1).all(|u| u != "0"),
        "still root after --user: {uid_line}"
    );
    trace_on(port);
    let out = wait_within(child, Duration::from_secs(10));
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout).unwrap().lines().count(), 10);
}

#[test]
fn an_unknown_user_is_a_usage_error() {
    if !can_capture("an_unknown_user_is_a_usage_error") {
        return;
    }
    let out = tcplab()
        .args(["capture", "--count", "1", "--user", "no-such-user-tcplab"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such user"));
}

/// SIGINT or SIGTERM at a random moment while traffic flows: the file is
/// always whole for tcpdump -r (fixed seed, 10 stops).
#[test]
fn stops_at_random_moments_leave_readable_files() {
    if !can_capture("stops_at_random_moments_leave_readable_files") {
        return;
    }
    let dir = std::env::temp_dir().join(format!("tcplab-capture-rand-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let big = dir.join("payload.bin");
    std::fs::write(&big, vec![0x5au8; 256 * 1024]).unwrap();
    let mut seed = 0x2545_f491_u64;
    for i in 0..10 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let wait_ms = 20 + seed % 300;
        let sig = if i % 2 == 0 { "-INT" } else { "-TERM" };
        let port = free_port();
        let path = dir.join(format!("rand{i}.pcap"));
        let child = start_capture(&[
            "--port",
            &port.to_string(),
            "--write",
            path.to_str().unwrap(),
            "--format",
            "ndjson",
        ]);
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let traffic = {
            let stop = stop.clone();
            let big = big.clone();
            std::thread::spawn(move || {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let _ = tcplab()
                        .args([
                            "trace",
                            "--port",
                            &port.to_string(),
                            "--file",
                            big.to_str().unwrap(),
                        ])
                        .args(["--format", "json", "--timeout-ms", "2000"])
                        .output();
                }
            })
        };
        std::thread::sleep(Duration::from_millis(wait_ms));
        signal(&child, sig);
        let out = wait_within(child, Duration::from_secs(10));
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        traffic.join().unwrap();
        assert!(
            out.status.success(),
            "stop {i} ({sig} after {wait_ms} ms): {:?}",
            out.status
        );
        let frames = libpcap_frames(&path).unwrap_or_else(|e| panic!("stop {i}: libpcap: {e}"));
        let tcpdump = std::process::Command::new("tcpdump")
            .args(["-nn", "-r"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            tcpdump.status.success(),
            "stop {i}: tcpdump -r: {}",
            String::from_utf8_lossy(&tcpdump.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&tcpdump.stdout).lines().count(),
            frames,
            "stop {i}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A `--write` file that cannot take the data (a full disk; /dev/full) is
/// exit 1 naming the file, not 66 "cannot be opened", and the counts are
/// said. (On a full tmpfs the file is cut back to its last whole record:
/// docs/reliability.md.)
#[test]
fn a_full_disk_is_a_runtime_failure_naming_the_file() {
    if !can_capture("a_full_disk_is_a_runtime_failure_naming_the_file") {
        return;
    }
    let out = tcplab()
        .args(["capture", "--write", "/dev/full", "--count", "1"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("writing /dev/full: No space left on device"),
        "{err}"
    );
}
