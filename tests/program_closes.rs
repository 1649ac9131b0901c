//! `trace -- CMD` finds connections too short for its sampler (issue 15):
//! a Node program's ten connections of about a millisecond each, to a
//! server outside its tree, are all the program's. They are named by the
//! task that closed them, from the `sock:inet_sock_set_state` tracepoint,
//! read through a tracefs instance in a private mount namespace: root
//! only, as the impaired path's tests (`scripts/test.sh` runs this file
//! through sudo for another user).

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;

use common::{assert_success, can_capture, tcplab};
use serde_json::Value;

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// An echo server in this test's process: not the traced program's.
fn outside_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut conn = conn;
                let mut buf = [0u8; 64];
                while let Ok(n) = conn.read(&mut buf) {
                    if n == 0 || conn.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            });
        }
    });
    port
}

#[test]
fn ten_millisecond_connections_are_all_the_programs() {
    let test = "ten_millisecond_connections_are_all_the_programs";
    if std::env::var("TCPLAB_ROOT_TESTS_RAN").as_deref() == Ok("1") {
        eprintln!("SKIPPED {test}: scripts/test.sh ran it as root already");
        return;
    }
    if !can_capture(test) {
        return;
    }
    if !is_root() {
        if std::env::var("TCPLAB_ALLOW_NO_CAPTURE").as_deref() == Ok("1") {
            eprintln!("SKIPPED {test}: the tracepoint needs root (TCPLAB_ALLOW_NO_CAPTURE=1)");
            return;
        }
        panic!("{test} needs root (tracefs): run `bash scripts/test.sh` (it runs this through sudo), or the tests as root, or set TCPLAB_ALLOW_NO_CAPTURE=1 to skip");
    }
    let filesystems = std::fs::read_to_string("/proc/filesystems").unwrap();
    assert!(
        filesystems.contains("tracefs"),
        "this kernel has no tracefs (CONFIG_TRACING): the tracepoint cannot be read"
    );
    let port = outside_server().to_string();
    let script = format!("{}/tests/data/node/quick.mjs", env!("CARGO_MANIFEST_DIR"));
    for run in 0..3 {
        let out = tcplab()
            .args(["trace", "--format", "json", "--", "node", &script, &port])
            .output()
            .unwrap();
        assert_success(&out);
        let r: Value = serde_json::from_slice(&out.stdout).unwrap();
        let found = r["connections"].as_array().unwrap().len();
        assert_eq!(
            (found, r["other_connections"].as_u64()),
            (10, Some(0)),
            "run {run}: {found} connections found"
        );
        // The kernel's view has the final words of the program's sockets.
        let client = &r["connections"][9]["kernel"]["client"];
        assert_eq!(client["bytes_sent"], 2, "{client}");
    }
    // The tracefs instance is gone with the run (instances outlive any
    // mount: looked at through a private one, as tcplab does).
    let ls = std::process::Command::new("unshare")
        .args(["--mount", "sh", "-c"])
        .arg("T=/sys/kernel/tracing; [ -e $T/instances ] || mount -t tracefs nodev $T; ls $T/instances")
        .output()
        .unwrap();
    assert_success(&ls);
    let left = String::from_utf8_lossy(&ls.stdout).into_owned();
    assert!(
        !left.contains("tcplab-"),
        "a tracefs instance was left behind: {left}"
    );
}
