//! The slow reader: `trace --server-read-delay --rcvbuf` with more data
//! than the server's window and the client's send buffer hold, captured
//! for real (the server's window falls to 0, the client probes it, a
//! window update opens it, the client's write waits), the same exchange
//! without capture through the library, and `lab zero-window --check`.

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;
use tcplab::lab::{bind_listener, run_exchange, CloseMode, ExchangePlan, ServeMode};
use tcplab::values::EventKind;

/// Twice what the client's send buffer may grow to (tcp_wmem's max), at
/// least 8 MiB: the most the kernel takes at once is less, so the write
/// has to wait, whatever the machine's settings.
fn big_write() -> usize {
    let max = std::fs::read_to_string("/proc/sys/net/ipv4/tcp_wmem")
        .ok()
        .and_then(|t| t.split_whitespace().nth(2)?.parse::<usize>().ok())
        .unwrap_or(4 << 20);
    (2 * max).max(8 << 20)
}

/// A file of `len` bytes in a fresh temporary directory of the test `name`
/// (the tests run in parallel).
fn data_file(name: &str, len: usize) -> (std::path::PathBuf, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("tcplab-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("data.bin");
    let bytes: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
    std::fs::write(&file, bytes).unwrap();
    (dir, file)
}

fn analysed(p: &Value, flag: &str) -> bool {
    p["analysis"]
        .as_array()
        .is_some_and(|a| a.iter().any(|f| f == flag))
}

/// The event names of one side's socket log.
fn events(r: &Value, side: &str) -> Vec<String> {
    r["sockets"][side]["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_late_reader_closes_the_window_and_every_byte_still_arrives() {
    if !can_capture("a_late_reader_closes_the_window_and_every_byte_still_arrives") {
        return;
    }
    let len = big_write();
    let (dir, file) = data_file("late-reader", len);
    let r = trace_json(&[
        "--file",
        file.to_str().unwrap(),
        "--server",
        "discard",
        "--server-read-delay",
        "700",
        "--rcvbuf",
        "32768",
    ]);
    std::fs::remove_dir_all(&dir).unwrap();
    let packets = r["packets"].as_array().unwrap();
    let from_server = |p: &&Value| !from_client(&r, p);
    let zero = packets
        .iter()
        .filter(from_server)
        .position(|p| analysed(p, "zero_window") && p["window"] == 0);
    assert!(zero.is_some(), "no zero window from the server");
    // Linux probes a zero window with a keep-alive's shape (tshark's flag).
    let probes = packets
        .iter()
        .filter(|p| from_client(&r, p) && analysed(p, "keep_alive") && p["payload_len"] == 0)
        .count();
    assert!(probes >= 1, "no window probe");
    assert!(
        packets
            .iter()
            .filter(from_server)
            .any(|p| analysed(p, "window_update")),
        "no window update"
    );
    let (client, server) = (&r["sockets"]["client"], &r["sockets"]["server"]);
    assert_eq!(client["bytes_written"], len as u64);
    assert_eq!(server["bytes_read"], len as u64);
    // The server's last ACK covers every byte and the client's FIN.
    let last_ack = packets
        .iter()
        .filter(from_server)
        .filter_map(|p| p["ack"].as_u64())
        .max();
    assert_eq!(last_ack, Some(len as u64 + 2));
    let kinds = events(&r, "client");
    let blocked = kinds.iter().position(|k| k == "blocked");
    let drain = kinds.iter().position(|k| k == "drain");
    assert!(
        matches!((blocked, drain), (Some(b), Some(d)) if b < d),
        "the write should wait, then drain: {kinds:?}"
    );
    let b = &client["events"][blocked.unwrap()];
    assert_eq!(b["bytes"], len as u64);
    assert!(b["accepted"].as_u64().unwrap() < len as u64, "{b}");
}

#[test]
fn the_text_view_names_the_probes_and_the_writer_in_node_words() {
    if !can_capture("the_text_view_names_the_probes_and_the_writer_in_node_words") {
        return;
    }
    let (dir, file) = data_file("node-words", big_write());
    let out = tcplab()
        .args([
            "trace",
            "--file",
            file.to_str().unwrap(),
            "--server",
            "discard",
        ])
        .args(["--server-read-delay", "500", "--rcvbuf", "32768"])
        .args(["--hexdump", "none", "--color", "never"])
        .env("COLUMNS", "160")
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_success(&out);
    let text = String::from_utf8(out.stdout).unwrap();
    for said in [
        "zero window",
        "window probe (keep alive)",
        "window update (reopens)",
        "blocked(",
        "→ drain →",
        "socket.write() returns false",
        "'drain' fires once the kernel has the last byte",
    ] {
        assert!(text.contains(said), "{said:?} missing:\n{text}");
    }
}

/// The same exchange without capture: the client's log says it waited,
/// the server read everything after its delay.
#[tokio::test]
async fn the_writer_waits_for_a_late_reader_without_capture() {
    let len = big_write();
    let data = vec![7u8; len];
    let mut plan = ExchangePlan::new(&[&data], ServeMode::Discard, CloseMode::End);
    plan.server_read_delay = Duration::from_millis(300);
    plan.rcvbuf = Some(32 * 1024);
    let addr = "127.0.0.1:0".parse().unwrap();
    let listener = tokio::net::TcpListener::from_std(bind_listener(addr, &plan).unwrap()).unwrap();
    let x = run_exchange(listener, &plan, Instant::now()).await.unwrap();
    assert_eq!(x.client.bytes_written, len as u64);
    assert_eq!(x.server.bytes_read, len as u64);
    let kinds: Vec<EventKind> = x.client.events.iter().map(|e| e.event).collect();
    let b = kinds.iter().position(|k| *k == EventKind::Blocked).unwrap();
    let d = kinds.iter().position(|k| *k == EventKind::Drain).unwrap();
    assert!(b < d, "{kinds:?}");
    // The write finished only once the server had read for a while.
    assert!(x.client.events[d].t_ms >= 300.0, "{:?}", x.client.events[d]);
    let first_read = x.server.events.iter().find(|e| e.event == EventKind::Data);
    assert!(first_read.is_some_and(|e| e.t_ms >= 300.0));
    // Data sizes are only the reads, not the writer's events.
    assert_eq!(x.client.reads(), Vec::<usize>::new());
}

/// The committed slow-reader capture (captures/zero-window.pcap, tshark's
/// flags in tests/tshark_agreement.rs): the probes are known for what they
/// are, and the update that opens the window says so.
#[test]
fn the_committed_capture_tells_probes_and_the_reopening() {
    use tcplab::capture::{FileSource, PacketSource};
    use tcplab::flow::{Analysis, Pipeline};
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/zero-window.pcap");
    let mut src = FileSource::open(&path).unwrap();
    let mut pipeline = Pipeline::new();
    let mut probes = Vec::new();
    let mut reopened = Vec::new();
    while let Some(frame) = src.next_frame().unwrap() {
        let p = pipeline.push(&frame.as_raw());
        let f = p.findings();
        if f.flags.contains(Analysis::KEEP_ALIVE) && f.peer_window_zero {
            probes.push(p.number);
        }
        if f.reopens {
            reopened.push((p.number, f.flags.contains(Analysis::WINDOW_UPDATE)));
        }
    }
    assert_eq!(probes, [8, 10]);
    assert_eq!(reopened, [(11, true)]);
}

fn lab_passes() -> Value {
    let out = tcplab()
        .args(["lab", "zero-window", "--check", "--format", "json"])
        .output()
        .expect("run tcplab lab");
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("no JSON: {}", String::from_utf8_lossy(&out.stderr)));
    assert!(
        out.status.success(),
        "lab zero-window failed its checks: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        serde_json::to_string_pretty(&v["checks"]).unwrap()
    );
    v
}

#[test]
fn the_zero_window_lab_passes_ten_times_in_a_row() {
    if !can_capture("the_zero_window_lab_passes_ten_times_in_a_row") {
        return;
    }
    for run in 0..10 {
        eprintln!("zero-window run {}", run + 1);
        let v = lab_passes();
        assert_eq!(v["passed"], true);
        let happened: Vec<&str> = v["happened"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        for said in [
            "window is 0",
            "probed the closed window",
            "every byte arrived",
        ] {
            assert!(
                happened.iter().any(|h| h.contains(said)),
                "{said:?} not said: {happened:#?}"
            );
        }
    }
}
