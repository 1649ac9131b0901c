//! `tcplab serve` against the lessons' own clients: `nc` as seed 004 uses
//! it, and the seeds' Node programs (tests/fixtures/node/, as the lessons
//! give them). Some lessons' own Node servers run too, to show that tcplab
//! answers as they do.
//!
//! Needs `node` and netcat-openbsd's `nc`; without them the tests fail and
//! say what to install.

mod serve_common;

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serve_common::{Client, Lines, Server, WAIT};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/node")
        .join(name)
}

/// Fails the test with what to install if `node` cannot run.
fn require_node() {
    static OK: OnceLock<Result<(), String>> = OnceLock::new();
    let ok = OK.get_or_init(|| match Command::new("node").arg("--version").output() {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => Err(format!("`node --version` failed: {:?}", out.status)),
        Err(e) => Err(format!("cannot run node: {e}")),
    });
    if let Err(e) = ok {
        panic!(
            "this test runs the seed lessons' Node programs and needs Node.js ({e}); \
             install it: apt-get install nodejs"
        );
    }
}

/// Fails the test with what to install unless `nc` is netcat-openbsd.
fn require_nc() {
    static OK: OnceLock<Result<(), String>> = OnceLock::new();
    let ok = OK.get_or_init(|| match Command::new("nc").arg("-h").output() {
        Ok(out) => {
            let help = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            if help.contains("OpenBSD netcat") {
                Ok(())
            } else {
                Err("the nc found is not netcat-openbsd".to_string())
            }
        }
        Err(e) => Err(format!("cannot run nc: {e}")),
    });
    if let Err(e) = ok {
        panic!(
            "this test talks to tcplab serve with nc as seed 004 does ({e}); \
             install it: apt-get install netcat-openbsd"
        );
    }
}

/// A child process whose output is collected as it comes; killed on drop.
struct Proc {
    child: Child,
    out: Lines,
    err: Lines,
}

impl Proc {
    fn spawn(cmd: &mut Command) -> Proc {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
        let out = Lines::collect(child.stdout.take().unwrap());
        let err = Lines::collect(child.stderr.take().unwrap());
        Proc { child, out, err }
    }

    fn node(args: &[&str]) -> Proc {
        require_node();
        Proc::spawn(Command::new("node").args(args))
    }

    /// The exit status, if the process ends within `within`.
    fn wait(&mut self, within: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // Let the readers see the last lines.
                self.out.wait_for(Duration::from_secs(2), |_| false);
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn finished(&mut self) -> ExitStatus {
        let status = self.wait(WAIT).unwrap_or_else(|| {
            panic!(
                "{:?} did not finish within {WAIT:?}:\n{}\n{}",
                self.child,
                self.out.text(),
                self.err.text()
            )
        });
        assert!(
            status.success(),
            "{status:?}\n{}\n{}",
            self.out.text(),
            self.err.text()
        );
        status
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nobody listens on right now (for the lessons' servers, which
/// print no port).
fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// One of the lessons' Node servers on 127.0.0.1, once it is listening.
fn lesson_server(file: &str) -> (Proc, u16) {
    let port = free_port();
    let p = port.to_string();
    let server = Proc::node(&[fixture(file).to_str().unwrap(), &p, "127.0.0.1"]);
    if server
        .out
        .wait_for(WAIT, |l| l.contains("Waiting for connection..."))
        .is_none()
    {
        panic!("{file} did not start:\n{}", server.err.text());
    }
    (server, port)
}

/// `printf INPUT | nc FLAGS 127.0.0.1 PORT`: what nc printed.
fn nc(flags: &[&str], port: u16, input: &[u8]) -> Vec<u8> {
    require_nc();
    let mut child = Command::new("nc")
        .args(flags)
        .args(["127.0.0.1", &port.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("run nc");
    child.stdin.take().unwrap().write_all(input).unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = stdout.read_to_end(&mut out);
        out
    });
    let deadline = Instant::now() + WAIT;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() >= deadline {
            let _ = child.kill();
            panic!("nc {flags:?} did not finish within {WAIT:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    reader.join().unwrap()
}

#[test]
fn nc_gets_its_line_back_from_serve_echo() {
    let server = Server::start("echo", &[]);
    // -N: shut the socket down at the end of stdin (returns at once);
    // -q 1: quit a second after it, the way it is often typed.
    assert_eq!(nc(&["-N"], server.port(), b"hello\n"), b"hello\n");
    assert_eq!(nc(&["-q", "1"], server.port(), b"hello\n"), b"hello\n");
    let binary: Vec<u8> = (0..=255u8).collect();
    assert_eq!(nc(&["-N"], server.port(), &binary), binary);
    server.wait_log_count(3, " end ");
}

#[test]
fn seed004s_echo_server_echoes_twice_as_it_warns_and_tcplab_once() {
    let (_lesson, port) = lesson_server("seed004-echo-server.js");
    // "you'll receive your message twice because there are two echo implementations"
    assert_eq!(nc(&["-N"], port, b"hello\n"), b"hello\nhello\n");
    let server = Server::start("echo", &[]);
    assert_eq!(nc(&["-N"], server.port(), b"hello\n"), b"hello\n");
}

/// How seed 004's greeting client ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GreetOutcome {
    /// `QUIT` came alone: the client ended, the server ended too.
    Disconnected,
    /// `QUIT` came in the same read as the reply: the client printed both
    /// and never disconnected (the lesson's own code, on a byte stream).
    QuitInSameRead,
}

/// Runs seed 004's greeting client against `port` and checks what it saw.
fn greet_client(port: u16) -> GreetOutcome {
    let mut client = Proc::node(&[
        fixture("seed004-greet-client.js").to_str().unwrap(),
        &port.to_string(),
        "127.0.0.1",
    ]);
    let deadline = Instant::now() + WAIT;
    let outcome = loop {
        if let Some(status) = client.wait(Duration::from_millis(20)) {
            assert!(status.success(), "{status:?}: {}", client.err.text());
            break GreetOutcome::Disconnected;
        }
        if client.out.all().iter().any(|l| l == "QUIT") {
            // It printed QUIT, so it did not see QUIT alone: it will not end.
            // Give it a moment to prove that, then stop it.
            let ended = client.wait(Duration::from_millis(300));
            assert!(
                ended.is_none(),
                "ended after printing QUIT: {}",
                client.out.text()
            );
            break GreetOutcome::QuitInSameRead;
        }
        assert!(
            Instant::now() < deadline,
            "the greeting client neither ended nor printed QUIT:\n{}\n{}",
            client.out.text(),
            client.err.text()
        );
    };
    let text = client.out.text();
    assert!(text.starts_with("Connected to Server!\n"), "{text}");
    assert!(text.contains("Hello from the server!\n"), "{text}");
    match outcome {
        GreetOutcome::Disconnected => {
            assert!(text.contains("HELLO FROM THE CLIENT!\n"), "{text}");
            assert!(text.ends_with("Disconnected from server"), "{text}");
            assert!(!client.out.all().iter().any(|l| l == "QUIT"), "{text}");
        }
        GreetOutcome::QuitInSameRead => {
            assert!(text.contains("HELLO FROM THE CLIENT!\nQUIT"), "{text}");
            assert!(!text.contains("Disconnected from server"), "{text}");
        }
    }
    outcome
}

#[test]
fn seed004s_greeting_client_runs_unchanged_against_serve_greet() {
    let server = Server::start("greet", &[]);
    let mut outcomes = Vec::new();
    for _ in 0..4 {
        outcomes.push(greet_client(server.port()));
    }
    eprintln!("seed 004 client against tcplab serve greet: {outcomes:?}");
    // Every run connected, was greeted and answered, whatever TCP did with QUIT.
    server.wait_log_count(4, "connection  from");
    server.wait_log_count(4, "data        23 bytes");
    let ended = outcomes
        .iter()
        .filter(|&&o| o == GreetOutcome::Disconnected)
        .count();
    if ended > 0 {
        // The client's end() is the server's 'end', as in the lesson.
        server.wait_log_count(ended, " end ");
    }
}

#[test]
fn seed004s_greeting_client_behaves_alike_against_the_lessons_own_server() {
    let (_lesson, port) = lesson_server("seed004-greet-server.js");
    let mut outcomes = Vec::new();
    for _ in 0..4 {
        outcomes.push(greet_client(port));
    }
    eprintln!("seed 004 client against seed 004 server: {outcomes:?}");
}

/// What a plain client gets from a greeting server: the greeting, then for
/// each message the bytes up to and including `QUIT`, then the end.
fn greet_transcript(port: u16) -> Vec<Vec<u8>> {
    let mut c = Client::connect(([127, 0, 0, 1], port).into());
    let mut transcript = vec![c.read_exact(23)];
    for message in ["Hello from the client!\n", "grüße, straße! ñ\n", "x"] {
        c.send(message);
        let mut got = Vec::new();
        while !got.ends_with(b"QUIT") {
            let mut byte = c.read_exact(1);
            got.append(&mut byte);
        }
        transcript.push(got);
    }
    c.end();
    transcript.push(c.read_to_end());
    transcript
}

#[test]
fn serve_greet_answers_byte_for_byte_as_seed004s_server() {
    let (_lesson, port) = lesson_server("seed004-greet-server.js");
    let lesson = greet_transcript(port);
    let server = Server::start("greet", &[]);
    let tcplab = greet_transcript(server.port());
    assert_eq!(
        tcplab,
        lesson,
        "tcplab: {:?}\nlesson: {:?}",
        tcplab
            .iter()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .collect::<Vec<_>>(),
        lesson
            .iter()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .collect::<Vec<_>>()
    );
    assert_eq!(tcplab[2], "GRÜSSE, STRASSE! Ñ\nQUIT".as_bytes());
}

#[test]
fn seed003s_client_gets_its_uppercase_echo_from_serve_upper() {
    let server = Server::start("upper", &[]);
    let mut client = Proc::node(&[
        fixture("seed003-upper-client.mjs").to_str().unwrap(),
        &server.port().to_string(),
    ]);
    client.finished();
    let lines = client.out.all();
    let text = client.out.text();
    assert!(
        lines.contains(&"[client] Connected to server".to_string()),
        "{text}"
    );
    // What the 'data' events printed, between connecting and the properties.
    let mut received = Vec::new();
    for line in lines
        .iter()
        .skip_while(|l| !l.starts_with("[client] Response: "))
        .take_while(|l| !l.is_empty() && !l.starts_with("=== Socket"))
    {
        received.push(line.strip_prefix("[client] Response: ").unwrap_or(line));
    }
    let received = received.join("\n");
    // Two writes; the server may read them in one 'data' event and answer
    // once, and the client may read two answers in one 'data' event: TCP is
    // a byte stream (seed 003's key insight). The bytes tell which.
    let read = if received == "Echo: HELLO, TCP!\nEcho: STREAMS ARE POWERFUL" {
        45
    } else if received == "Echo: HELLO, TCP!\nSTREAMS ARE POWERFUL" {
        39
    } else {
        panic!("unexpected responses {received:?}:\n{text}");
    };
    let close = server.wait_log(" close ");
    assert!(
        close.contains(&format!("read 33 · wrote {read}")),
        "{close}"
    );
    // The close line comes after every data line.
    let server_reads = server
        .log
        .all()
        .iter()
        .filter(|l| l.contains(" data "))
        .count();
    assert_eq!(
        server_reads,
        if read == 45 { 2 } else { 1 },
        "{}",
        server.log.text()
    );
    assert!(
        lines.contains(&"[client] remoteAddress: 127.0.0.1".to_string()),
        "{text}"
    );
    assert!(
        lines.contains(&"[client] bytesWritten: 33".to_string()),
        "{text}"
    );
    assert!(
        lines.contains(&format!("[client] bytesRead: {read}")),
        "{text}"
    );
    assert!(text.ends_with("[client] Connection closed"), "{text}");
}

#[test]
fn seed000s_json_client_gets_a_json_reply_from_serve_json() {
    let server = Server::start("json", &[]);
    let mut client = Proc::node(&[
        fixture("seed000-json-client.js").to_str().unwrap(),
        &server.port().to_string(),
        "127.0.0.1",
    ]);
    client.finished();
    let lines = client.out.all();
    let text = client.out.text();
    assert_eq!(lines[0], "Connected to server", "{text}");
    let reply = lines
        .iter()
        .find_map(|l| l.strip_prefix("Received reply: "))
        .unwrap_or_else(|| panic!("no reply:\n{text}"));
    let reply: serde_json::Value = serde_json::from_str(reply).unwrap();
    assert_eq!(reply["type"], "reply");
    assert_eq!(
        reply["received"],
        serde_json::json!({"type": "greeting", "text": "Hello from the client!"})
    );
    assert!(text.ends_with("Server ended the connection"), "{text}");
    // No newline after the message: found by parsing, answered at once.
    server.wait_log("message 1 (51 bytes) answered");
}

/// `tcplab send` against the lesson's own greeting server: the greeting,
/// the upper-cased text and `QUIT` arrive, whatever reads they come in.
#[test]
fn tcplab_send_talks_to_seed004s_greeting_server() {
    require_node();
    let (_lesson, port) = lesson_server("seed004-greet-server.js");
    let out = Command::new(assert_cmd::cargo::cargo_bin("tcplab"))
        .args([
            "send",
            &format!("127.0.0.1:{port}"),
            "--send",
            "Hello from tcplab!\n",
        ])
        .args(["--idle", "300", "--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let got: Vec<u8> = v["replies"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| hex::decode(r["hex"].as_str().unwrap()).unwrap())
        .collect();
    assert_eq!(got, b"Hello from the server!\nHELLO FROM TCPLAB!\nQUIT");
}

/// And against the lesson's echo server (two echo paths: each byte twice).
#[test]
fn tcplab_send_talks_to_seed004s_echo_server() {
    require_node();
    let (_lesson, port) = lesson_server("seed004-echo-server.js");
    let out = Command::new(assert_cmd::cargo::cargo_bin("tcplab"))
        .args(["send", &format!("127.0.0.1:{port}"), "--hex", "0c22"])
        .args(["--idle", "300", "--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["socket"]["bytes_written"], 2);
    assert_eq!(
        v["socket"]["bytes_read"], 4,
        "the lesson warns: echoed twice"
    );
}
