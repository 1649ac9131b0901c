//! `tcplab trace` end to end: the real binary, a real capture on loopback.
//! These need capture privileges (root in CI); see `common::can_capture`.

mod common;

use common::*;
use serde_json::Value;

fn packets(r: &Value) -> &Vec<Value> {
    r["packets"].as_array().expect("packets array")
}

/// Asserts the report holds a complete connection: handshake first, the
/// final ACK of the teardown last, nothing dropped.
fn assert_complete(r: &Value) {
    let p = packets(r);
    let seq: Vec<String> = p.iter().map(flags).collect();
    assert!(p.len() >= 3, "too few packets: {seq:?}");
    assert_eq!(
        &seq[..3],
        ["SYN", "SYN-ACK", "ACK"],
        "handshake first: {seq:?}"
    );
    assert_eq!(r["capture"]["dropped"], 0);
    let last = p.last().unwrap();
    if !p.iter().any(|x| has(x, "RST")) {
        assert_eq!(flags(last), "ACK", "final ACK last: {seq:?}");
        let fins = p.iter().filter(|x| has(x, "FIN")).count();
        assert_eq!(fins, 2, "one FIN each way: {seq:?}");
    }
}

fn payloads_from(r: &Value, client: bool) -> String {
    packets(r)
        .iter()
        .filter(|p| from_client(r, p) == client)
        .filter_map(|p| p["payload_hex"].as_str())
        .collect()
}

#[test]
fn send_hello_shows_handshake_payload_and_stats() {
    if !can_capture("send_hello_shows_handshake_payload_and_stats") {
        return;
    }
    let r = trace_json(&["--send", "hello"]);
    assert_complete(&r);
    let p = packets(&r);
    let syn = &p[0];
    assert_eq!(syn["link"], "ethernet");
    assert_eq!(syn["link_hdr_len"], 14);
    assert_eq!(syn["ip_version"], 4);
    assert_eq!(syn["ip_hdr_len"], 20);
    assert_eq!(syn["tcp_hdr_len"], 40);
    assert_eq!(syn["frame_len"], 74);
    assert_eq!(syn["seq"], 0);
    assert_eq!(syn["options"]["mss"], 65495);
    assert!(from_client(&r, syn));
    let data = p
        .iter()
        .find(|x| x["payload_len"] == 5 && from_client(&r, x))
        .expect("the client's PSH-ACK");
    assert_eq!(flags(data), "PSH-ACK");
    assert_eq!(data["payload_hex"], "68656c6c6f");
    assert_eq!(data["frame_len"], 14 + 20 + 32 + 5);
    assert_eq!(data["seq"], 1);
    assert_eq!(payloads_from(&r, false), "68656c6c6f", "the echo");
    for side in ["client", "server"] {
        assert_eq!(r["sockets"][side]["bytes_written"], 5, "{side}");
        assert_eq!(r["sockets"][side]["bytes_read"], 5, "{side}");
    }
    assert_eq!(r["wire"]["client_to_server"]["payload_bytes"], 5);
    assert_eq!(r["wire"]["server_to_client"]["payload_bytes"], 5);
    assert_eq!(r["connection"]["server"]["family"], "IPv4");
    assert_eq!(r["connection"]["client"]["address"], "127.0.0.1");
    let events: Vec<&str> = r["sockets"]["client"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(events, ["connect", "data", "end", "close"]);
}

#[test]
fn hex_bytes_go_out_as_they_are() {
    if !can_capture("hex_bytes_go_out_as_they_are") {
        return;
    }
    let r = trace_json(&["--hex", "0c22"]);
    assert_complete(&r);
    assert_eq!(payloads_from(&r, true), "0c22");
    assert_eq!(payloads_from(&r, false), "0c22");
}

#[test]
fn two_sends_are_two_writes_in_order() {
    if !can_capture("two_sends_are_two_writes_in_order") {
        return;
    }
    let r = trace_json(&["--send", "first", "--hex", "0x0c,0x22", "--send", "last"]);
    assert_complete(&r);
    assert_eq!(
        payloads_from(&r, true),
        format!("{}0c22{}", hex::encode("first"), hex::encode("last"))
    );
    assert_eq!(r["sockets"]["client"]["bytes_written"], 11);
    assert_eq!(r["sockets"]["server"]["bytes_read"], 11);
}

#[test]
fn close_reset_resets_without_a_client_fin() {
    if !can_capture("close_reset_resets_without_a_client_fin") {
        return;
    }
    let r = trace_json(&["--send", "hello", "--close", "reset"]);
    assert_complete(&r);
    let p = packets(&r);
    assert!(
        p.iter().any(|x| has(x, "RST") && from_client(&r, x)),
        "an RST from the client"
    );
    assert!(
        !p.iter().any(|x| has(x, "FIN") && from_client(&r, x)),
        "no FIN from the client"
    );
    let server_events = r["sockets"]["server"]["events"].as_array().unwrap();
    assert!(
        server_events.iter().any(|e| e["event"] == "error"
            && e["message"].as_str().unwrap().contains("ECONNRESET")),
        "the server saw ECONNRESET: {server_events:?}"
    );
}

#[test]
fn close_half_sends_the_client_fin_before_the_servers_data() {
    if !can_capture("close_half_sends_the_client_fin_before_the_servers_data") {
        return;
    }
    let r = trace_json(&["--send", "hello", "--close", "half", "--server", "upper"]);
    assert_complete(&r);
    let p = packets(&r);
    let fin = p
        .iter()
        .position(|x| has(x, "FIN") && from_client(&r, x))
        .expect("client FIN");
    let reply = p
        .iter()
        .position(|x| x["payload_len"].as_u64() > Some(0) && !from_client(&r, x))
        .expect("server data");
    assert!(
        fin < reply,
        "client FIN (#{fin}) before server data (#{reply})"
    );
    assert_eq!(
        payloads_from(&r, false),
        hex::encode("Echo: HELLO"),
        "the upper server's reply"
    );
    assert_eq!(r["sockets"]["client"]["bytes_read"], 11);
}

#[test]
fn ipv6_has_a_40_byte_ip_header() {
    if !can_capture("ipv6_has_a_40_byte_ip_header") {
        return;
    }
    let r = trace_json(&["--send", "hello", "--ipv6"]);
    assert_complete(&r);
    let syn = &packets(&r)[0];
    assert_eq!(syn["ip_version"], 6);
    assert_eq!(syn["ip_hdr_len"], 40);
    assert_eq!(syn["src"], "::1");
    assert_eq!(syn["frame_len"], 14 + 40 + 40);
    assert_eq!(r["connection"]["client"]["family"], "IPv6");
}

#[test]
fn discard_server_never_replies() {
    if !can_capture("discard_server_never_replies") {
        return;
    }
    let r = trace_json(&["--send", "into the void", "--server", "discard"]);
    assert_complete(&r);
    assert_eq!(payloads_from(&r, false), "");
    assert_eq!(r["sockets"]["server"]["bytes_read"], 13);
    assert_eq!(r["sockets"]["server"]["bytes_written"], 0);
}

#[test]
fn json_has_the_spec_keys() {
    if !can_capture("json_has_the_spec_keys") {
        return;
    }
    let r = trace_json(&["--send", "hi"]);
    let keys: Vec<&str> = r.as_object().unwrap().keys().map(|k| k.as_str()).collect();
    for k in ["connection", "packets", "sockets", "wire", "capture"] {
        assert!(keys.contains(&k), "missing {k}: {keys:?}");
    }
    let record = &packets(&r)[3];
    for k in [
        "frame",
        "ts",
        "frame_len",
        "cap_len",
        "link",
        "link_hdr_len",
        "ip_version",
        "ip_hdr_len",
        "src",
        "dst",
        "sport",
        "dport",
        "stream",
        "flags",
        "seq",
        "ack",
        "seq_raw",
        "ack_raw",
        "tcp_hdr_len",
        "payload_len",
        "window",
        "options",
        "analysis",
        "payload_hex",
    ] {
        assert!(record.get(k).is_some(), "record lacks {k}: {record}");
    }
    assert!(
        record["ts"]
            .as_str()
            .unwrap()
            .split('.')
            .nth(1)
            .unwrap()
            .len()
            == 9
    );
    for k in ["interface", "link", "snaplen", "dropped"] {
        assert!(r["capture"].get(k).is_some(), "capture lacks {k}");
    }
    for k in ["frames", "bytes", "payload_bytes"] {
        assert!(r["wire"]["client_to_server"].get(k).is_some());
    }
}

#[test]
fn fifty_traces_back_to_back_are_all_complete() {
    if !can_capture("fifty_traces_back_to_back_are_all_complete") {
        return;
    }
    for run in 0..50 {
        let r = trace_json(&["--send", "hello"]);
        assert_complete(&r);
        assert_eq!(payloads_from(&r, true), "68656c6c6f", "run {run}");
        assert_eq!(payloads_from(&r, false), "68656c6c6f", "run {run}");
        assert_eq!(packets(&r).len(), 10, "run {run}");
    }
}

#[test]
fn write_saves_a_pcap_of_what_was_captured() {
    if !can_capture("write_saves_a_pcap_of_what_was_captured") {
        return;
    }
    let dir = std::env::temp_dir().join(format!("tcplab-write-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("hello.pcap");
    let r = trace_json(&["--send", "hello", "--write", path.to_str().unwrap()]);
    let mut src = tcplab::capture::FileSource::open(&path).expect("our pcap opens in libpcap");
    use tcplab::capture::PacketSource;
    let mut n = 0;
    while let Some(frame) = src.next_frame().unwrap() {
        let rec = &packets(&r)[n];
        assert_eq!(
            u64::from(frame.orig_len),
            rec["frame_len"].as_u64().unwrap()
        );
        let ts = frame.ts.display(src.precision()).to_string();
        assert_eq!(ts, rec["ts"].as_str().unwrap());
        n += 1;
    }
    assert_eq!(n, packets(&r).len());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn no_line_is_wider_than_the_terminal() {
    if !can_capture("no_line_is_wider_than_the_terminal") {
        return;
    }
    for width in [24, 30, 40, 60, 80, 100, 150] {
        for color in ["never", "always"] {
            let out = tcplab()
                .args([
                    "trace",
                    "--send",
                    "hello\tworld, a longer payload",
                    "--raw-seq",
                ])
                .args(["--hexdump", "frame", "--color", color])
                .env("COLUMNS", width.to_string())
                .output()
                .unwrap();
            assert_success(&out);
            let text = String::from_utf8(out.stdout).unwrap();
            for line in text.lines() {
                let visible = tcplab::render::visible_width(line);
                assert!(
                    visible <= width,
                    "{visible} > {width} columns ({color}): {line:?}"
                );
            }
            assert!(text.contains("SYN"), "{text}");
        }
    }
}

/// 8 MiB of bytes that do not repeat, in a scratch file named for `name`.
fn bulk_file(name: &str, mib: usize) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("tcplab-{name}-{}.bin", std::process::id()));
    let mut x = 0x9e37_79b9_7f4a_7c15_u64;
    let bytes: Vec<u8> = (0..mib << 20)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    std::fs::write(&path, bytes).unwrap();
    path
}

/// A bulk trace is folded for reading (issue 11): the handshake, the
/// teardown and the first and last data stay as rows, runs between are one
/// line each with their counts, and no line is wider than the terminal;
/// `--every-row` shows every frame. The socket events fold their runs.
#[test]
fn a_bulk_trace_is_folded_and_every_row_unfolds_it() {
    if !can_capture("a_bulk_trace_is_folded_and_every_row_unfolds_it") {
        return;
    }
    let file = bulk_file("fold", 8);
    let run = |extra: &[&str], width: usize| {
        let out = tcplab()
            .args([
                "trace",
                "--file",
                file.to_str().unwrap(),
                "--hexdump",
                "none",
            ])
            .args(extra)
            .env("COLUMNS", width.to_string())
            .output()
            .unwrap();
        assert_success(&out);
        String::from_utf8(out.stdout).unwrap()
    };
    for width in [60, 100] {
        let text = run(&[], width);
        for line in text.lines() {
            assert!(tcplab::render::visible_width(line) <= width, "{line:?}");
        }
        // Rows start with their frame number and time; wrapped details (a
        // hex preview's "79 cf ea …" too) do not.
        let rows = text
            .lines()
            .take_while(|l| !l.contains("rows folded"))
            .filter(|l| {
                let mut words = l.split_whitespace();
                words.next().is_some_and(|w| w.parse::<u32>().is_ok())
                    && words
                        .next()
                        .is_some_and(|w| w.contains('.') && w.parse::<f64>().is_ok())
            })
            .count();
        assert!(rows < 45, "{rows} rows at {width}:\n{text}");
        assert!(text.contains("folded"), "{text}");
        for kept in ["SYN-ACK", "FIN-ACK", "handshake 3/3"] {
            assert!(
                width < 100 || text.contains(kept),
                "{kept} at {width}:\n{text}"
            );
        }
        assert!(text.contains("--every-row"), "{text}");
        assert!(
            text.contains("data(65536) ×") || text.contains("data ×"),
            "{text}"
        );
    }
    let every = run(&["--every-row"], 100);
    let frames = every
        .lines()
        .filter(|l| l.contains(" c → s ") || l.contains(" s → c "))
        .count();
    assert!(!every.contains("folded"), "{every}");
    let summary = every.lines().find(|l| l.starts_with("capture: ")).unwrap();
    let n: usize = summary["capture: ".len()..]
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(frames, n, "a row per frame with --every-row");
    std::fs::remove_file(&file).unwrap();
}

/// When the kernel drops frames (here a 256 KiB buffer for 8 MiB), the
/// trace says so above the timeline and at the end, and says what it means
/// for the analysis. It once said it only in its last line.
#[test]
fn drops_are_said_at_the_top_and_at_the_bottom() {
    if !can_capture("drops_are_said_at_the_top_and_at_the_bottom") {
        return;
    }
    let file = bulk_file("drops", 8);
    let out = tcplab()
        .args([
            "trace",
            "-B",
            "256",
            "--file",
            file.to_str().unwrap(),
            "--hexdump",
            "none",
        ])
        .output()
        .unwrap();
    std::fs::remove_file(&file).unwrap();
    assert_success(&out);
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let warning = |l: &&str| l.starts_with("warning: the kernel dropped");
    let at: Vec<usize> = (0..lines.len()).filter(|&i| warning(&lines[i])).collect();
    assert_eq!(at.len(), 2, "{text}");
    let table = lines.iter().position(|l| l.starts_with('─')).unwrap();
    assert!(
        at[0] < table && at[1] + 6 > lines.len(),
        "{at:?} of {}\n{text}",
        lines.len()
    );
    // (Wrapped: the words of a sentence may meet a line's end anywhere.)
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        joined.contains("may be frames the capture missed, not segments the network lost"),
        "{text}"
    );
}

/// `--close destroy`, the old name, still resets, and says the new one.
#[test]
fn close_destroy_is_the_old_name_of_reset_and_warns() {
    if !can_capture("close_destroy_is_the_old_name_of_reset_and_warns") {
        return;
    }
    let out = tcplab()
        .args([
            "trace", "--send", "x", "--close", "destroy", "--format", "json",
        ])
        .output()
        .unwrap();
    assert_success(&out);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--close destroy is now --close reset"),
        "{err}"
    );
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(packets(&r)
        .iter()
        .any(|x| has(x, "RST") && from_client(&r, x)));
    let help = tcplab().args(["trace", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    // The old name is hidden: only `reset` is listed.
    assert!(
        help.contains("- reset:") && !help.contains("- destroy"),
        "{help}"
    );
}
