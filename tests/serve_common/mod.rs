//! Helpers for the `tcplab serve` tests: the real binary on a free port,
//! its log read line by line as it runs, and blocking std clients. Every
//! wait is bounded; a server is killed when its handle is dropped.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use assert_cmd::cargo::CommandCargoExt;

/// How long any single wait may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(10);

/// The binary under test.
pub fn tcplab() -> Command {
    let mut cmd = Command::cargo_bin("tcplab").expect("binary built by cargo");
    cmd.env_remove("NO_COLOR").env("COLUMNS", "100");
    cmd
}

/// Lines of a child's output, collected by a thread as they come.
#[derive(Clone, Default)]
pub struct Lines(Arc<(Mutex<Collected>, Condvar)>);

/// The lines so far, and whether the stream has ended.
#[derive(Default)]
pub struct Collected(Vec<String>, bool);

impl Lines {
    /// Starts collecting `from` on a thread.
    pub fn collect(from: impl Read + Send + 'static) -> Lines {
        let lines = Lines::default();
        let sink = lines.clone();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(from);
            let mut buf = Vec::new();
            loop {
                buf.clear();
                match reader.read_until(b'\n', &mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        let line = String::from_utf8_lossy(&buf).trim_end().to_string();
                        let (lock, cv) = &*sink.0;
                        lock.lock().unwrap().0.push(line);
                        cv.notify_all();
                    }
                }
            }
            let (lock, cv) = &*sink.0;
            lock.lock().unwrap().1 = true;
            cv.notify_all();
        });
        lines
    }

    pub fn all(&self) -> Vec<String> {
        self.0 .0.lock().unwrap().0.clone()
    }

    pub fn text(&self) -> String {
        self.all().join("\n")
    }

    /// The first line (from the start) for which `pred` holds, waiting for it
    /// at most `within`; `None` if it did not come.
    pub fn wait_for(&self, within: Duration, pred: impl Fn(&str) -> bool) -> Option<String> {
        let deadline = Instant::now() + within;
        let (lock, cv) = &*self.0;
        let mut state = lock.lock().unwrap();
        loop {
            if let Some(l) = state.0.iter().find(|l| pred(l)) {
                return Some(l.clone());
            }
            let now = Instant::now();
            if state.1 || now >= deadline {
                return None;
            }
            state = cv.wait_timeout(state, deadline - now).unwrap().0;
        }
    }

    /// How many lines satisfy `pred`, once at least `n` do (or panics).
    pub fn wait_count(&self, n: usize, pred: impl Fn(&str) -> bool) -> usize {
        let deadline = Instant::now() + WAIT;
        let (lock, cv) = &*self.0;
        let mut state = lock.lock().unwrap();
        loop {
            let count = state.0.iter().filter(|l| pred(l)).count();
            if count >= n {
                return count;
            }
            let now = Instant::now();
            if state.1 || now >= deadline {
                panic!(
                    "expected {n} matching log lines, saw {count}:\n{}",
                    state.0.join("\n")
                );
            }
            state = cv.wait_timeout(state, deadline - now).unwrap().0;
        }
    }

    /// True once the stream ended (the child closed it or exited).
    pub fn closed(&self) -> bool {
        self.0 .0.lock().unwrap().1
    }
}

/// A running `tcplab serve`, killed when dropped.
pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
    pub log: Lines,
    pub stderr: Lines,
}

impl Server {
    /// `tcplab serve MODE --port 0 ARGS`, once its listening line is out.
    pub fn start(mode: &str, args: &[&str]) -> Server {
        Self::try_start(mode, args).unwrap_or_else(|e| panic!("{e}"))
    }

    /// As `start`, but the error text if the server did not come up.
    pub fn try_start(mode: &str, args: &[&str]) -> Result<Server, String> {
        let mut child = tcplab()
            .args(["serve", mode, "--port", "0", "--color", "never"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run tcplab serve");
        let log = Lines::collect(child.stdout.take().unwrap());
        let stderr = Lines::collect(child.stderr.take().unwrap());
        let Some(line) = log.wait_for(WAIT, |l| l.contains("listening on ")) else {
            let _ = child.kill();
            let status = child.wait().ok();
            stderr.wait_for(Duration::from_secs(2), |_| false);
            return Err(format!(
                "tcplab serve {mode} did not start ({status:?}):\n{}\n{}",
                log.text(),
                stderr.text()
            ));
        };
        Ok(Server {
            addr: listening_addr(&line),
            child,
            log,
            stderr,
        })
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn connect(&self) -> Client {
        Client::connect(self.addr)
    }

    /// The first log line containing `needle`, waiting for it (or panics).
    pub fn wait_log(&self, needle: &str) -> String {
        self.log
            .wait_for(WAIT, |l| l.contains(needle))
            .unwrap_or_else(|| {
                panic!(
                    "no log line with {needle:?} within {WAIT:?}:\n{}\nstderr:\n{}",
                    self.log.text(),
                    self.stderr.text()
                )
            })
    }

    /// Waits until `n` log lines contain `needle`.
    pub fn wait_log_count(&self, n: usize, needle: &str) {
        self.log.wait_count(n, |l| l.contains(needle));
    }

    /// Sends SIGTERM and waits for the exit (or panics after WAIT).
    pub fn terminate(&mut self) -> ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM failed");
        self.wait_exit()
    }

    /// Waits for the process to exit by itself (or panics after WAIT).
    pub fn wait_exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for tcplab") {
                return status;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                panic!(
                    "tcplab serve did not exit within {WAIT:?}:\n{}",
                    self.log.text()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// SIGKILL, at once.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The address in a `... listening on 127.0.0.1:PORT (IPv4) ...` line.
pub fn listening_addr(line: &str) -> SocketAddr {
    let rest = &line[line.find("listening on ").expect("listening line") + 13..];
    let addr = rest.split_whitespace().next().unwrap();
    addr.parse()
        .unwrap_or_else(|e| panic!("bad address {addr:?} in {line:?}: {e}"))
}

/// A blocking client whose reads give up after WAIT.
pub struct Client {
    pub stream: TcpStream,
    reader: BufReader<TcpStream>,
}

impl Client {
    pub fn connect(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect_timeout(&addr, WAIT).expect("connect to tcplab serve");
        stream.set_read_timeout(Some(WAIT)).unwrap();
        stream.set_write_timeout(Some(WAIT)).unwrap();
        let reader = BufReader::new(stream.try_clone().unwrap());
        Client { stream, reader }
    }

    pub fn send(&mut self, bytes: impl AsRef<[u8]>) {
        self.stream
            .write_all(bytes.as_ref())
            .expect("write to server");
    }

    /// One line, without its newline (panics on EOF or timeout).
    pub fn line(&mut self) -> String {
        let mut buf = Vec::new();
        match self.reader.read_until(b'\n', &mut buf) {
            Ok(_) if buf.ends_with(b"\n") => {
                buf.pop();
                String::from_utf8(buf).expect("UTF-8 line")
            }
            Ok(_) => panic!(
                "connection ended before a full line; got {:?}",
                String::from_utf8_lossy(&buf)
            ),
            Err(e) => panic!(
                "no full line within {WAIT:?} ({e}); got {:?}",
                String::from_utf8_lossy(&buf)
            ),
        }
    }

    /// Sends `line` and a newline, and returns the reply line.
    pub fn ask(&mut self, line: &str) -> String {
        self.send(format!("{line}\n"));
        self.line()
    }

    pub fn read_exact(&mut self, n: usize) -> Vec<u8> {
        let mut buf = vec![0; n];
        self.reader
            .read_exact(&mut buf)
            .unwrap_or_else(|e| panic!("reading {n} bytes: {e}"));
        buf
    }

    /// Everything up to the server's FIN.
    pub fn read_to_end(&mut self) -> Vec<u8> {
        let mut buf = Vec::new();
        self.reader
            .read_to_end(&mut buf)
            .unwrap_or_else(|e| panic!("reading to the end: {e}; got {buf:?}"));
        buf
    }

    /// The server closed the connection and sent nothing more.
    pub fn expect_eof(&mut self) {
        let rest = self.read_to_end();
        assert!(
            rest.is_empty(),
            "expected the end, got {:?}",
            String::from_utf8_lossy(&rest)
        );
    }

    /// `socket.end()`: FIN, keep reading.
    pub fn end(&mut self) {
        self.stream.shutdown(Shutdown::Write).unwrap();
    }
}

/// A fresh directory under the system's temp dir, for one test.
pub fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("tcplab-serve-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A path as a `&str` argument.
pub fn arg(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}
