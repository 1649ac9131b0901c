//! The labs whose traffic is more than one planned exchange: a refused
//! connect and its retries, a server that crashes under its clients, a chat
//! of three, a kv session. Each runs inside one capture.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

use super::facts::{first, from_server, has, streams};
use super::{Outcome, Part};
use crate::decode::Flags;
use crate::lab::client::{self, Ending, RetryPolicy};
use crate::lab::serve::{self, KvStore, Limits, ServeConfig, ServeMode, ServerEvent};
use crate::scenario::session::{capture_port, connection};
use crate::values::{EventKind, SocketLog};
use crate::{Error, Result};

/// A port nothing listens on right now.
pub(super) fn free_port() -> Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| Error::io("pick a port", e))?;
    Ok(l.local_addr()
        .map_err(|e| Error::io("pick a port", e))?
        .port())
}

pub(super) fn io(what: &'static str) -> impl Fn(std::io::Error) -> Error {
    move |e| Error::io(what, e)
}

pub(super) async fn refused() -> Result<Outcome> {
    let port = free_port()?;
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let late = Duration::from_millis(300);
    let work = async {
        // The server starts late: an echo on the same port after 300 ms.
        let server = tokio::spawn(async move {
            tokio::time::sleep(late).await;
            let l = TcpListener::bind(addr)
                .await
                .map_err(io("late server bind"))?;
            let (mut s, _) = l.accept().await.map_err(io("accept"))?;
            let mut buf = [0u8; 64];
            loop {
                let n = s.read(&mut buf).await.map_err(io("server read"))?;
                if n == 0 {
                    break;
                }
                s.write_all(&buf[..n]).await.map_err(io("server write"))?;
            }
            Ok::<_, Error>(())
        });
        let policy = RetryPolicy {
            retries: 8,
            first_delay: Duration::from_millis(40),
            max_delay: Duration::from_millis(640),
            connect_timeout: Duration::from_secs(2),
        };
        let mut attempts = Vec::new();
        let sock = client::connect(&[addr], &policy, |a| attempts.push(a.clone()))
            .await
            .map_err(|(a, k, d)| Error::Net {
                addr: a.to_string(),
                kind: k,
                detail: d,
            })?;
        let (log, failure) = client::converse(
            sock,
            &[b"hello".to_vec()],
            Ending::End,
            Duration::from_millis(100),
            Instant::now(),
            |_| {},
        )
        .await;
        server.await.map_err(|e| Error::Trace(e.to_string()))??;
        Ok((attempts, log, failure))
    };
    let (cap, (attempts, log, failure)) = capture_port(port, work).await?;
    let mut out = Outcome::default();
    let p = &cap.packets;
    let rst = first(p, |x| from_server(x) && has(x, Flags::RST | Flags::ACK));
    out.check("the first SYN is answered by RST-ACK", rst.is_some());
    let refused = attempts.iter().filter(|a| a.failure.is_some()).count();
    out.check("connect() was refused, then retried", refused >= 1);
    out.check(
        "a later attempt connected and the echo came back",
        failure.is_none() && log.bytes_read == 5,
    );
    let delays: Vec<String> = attempts
        .iter()
        .filter_map(|a| a.retry_in.map(|d| format!("{} ms", d.as_millis())))
        .collect();
    out.happened.push(format!(
        "{refused} attempt(s) refused (ECONNREFUSED: SYN answered by RST-ACK{}), waits doubling: {}; attempt {} connected after the server started at {} ms",
        rst.map(|f| format!(", first at frame {f}")).unwrap_or_default(),
        delays.join(", "),
        attempts.len(),
        late.as_millis()
    ));
    out.parts.push(Part::rows(
        "refused, backing off, then connected",
        cap.packets,
    ));
    Ok(out)
}

/// Runs a lesson server in-process and collects its events.
struct Lesson {
    addr: SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<()>>,
    events: Arc<Mutex<Vec<ServerEvent>>>,
}

async fn lesson(mode: ServeMode, store: Option<KvStore>) -> Result<Lesson> {
    let listener = TcpListener::bind("127.0.0.1:0").await.map_err(io("bind"))?;
    let addr = listener.local_addr().map_err(io("address"))?;
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink_events = Arc::clone(&events);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let config = ServeConfig {
        mode,
        store,
        limits: Limits::default(),
        keep_bytes: 0,
        safe: false,
    };
    let task = tokio::spawn(serve::run(
        listener,
        config,
        async move {
            let _ = stopped.await;
        },
        // Called from server tasks: a poisoned list (a panic elsewhere) is
        // still a whole list, and the sink must not panic in its turn.
        Arc::new(move |e| {
            sink_events
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(e)
        }),
    ));
    Ok(Lesson {
        addr,
        stop,
        task,
        events,
    })
}

impl Lesson {
    async fn stop(self) -> Result<Vec<ServerEvent>> {
        let _ = self.stop.send(());
        self.task.await.map_err(|e| Error::Trace(e.to_string()))??;
        Ok(std::mem::take(
            &mut *self.events.lock().unwrap_or_else(|p| p.into_inner()),
        ))
    }
}

/// Writes `line` and reads the reply: lines up to the one that starts with
/// OK or ERR (`list` answers with one line per key first). Returns the
/// reply and the bytes read.
async fn ask(r: &mut BufReader<TcpStream>, line: &str) -> Result<(String, usize)> {
    r.get_mut()
        .write_all(line.as_bytes())
        .await
        .map_err(io("write"))?;
    let mut lines = Vec::new();
    let mut read = 0;
    loop {
        let (l, n) = read_line_counted(r).await?;
        read += n;
        let last = l.starts_with("OK") || l.starts_with("ERR") || n == 0;
        lines.push(l);
        if last {
            return Ok((lines.join(" / "), read));
        }
    }
}

async fn read_line(r: &mut BufReader<TcpStream>) -> Result<String> {
    Ok(read_line_counted(r).await?.0)
}

/// One line without its newline, and the bytes it took on the stream.
async fn read_line_counted(r: &mut BufReader<TcpStream>) -> Result<(String, usize)> {
    let mut reply = String::new();
    let n = tokio::time::timeout(Duration::from_secs(2), r.read_line(&mut reply))
        .await
        .map_err(|_| Error::Trace("no reply within 2 s".into()))?
        .map_err(io("read"))?;
    Ok((reply.trim_end().to_string(), n))
}

pub(super) async fn chat() -> Result<Outcome> {
    let server = lesson(ServeMode::Chat, None).await?;
    let addr = server.addr;
    let work = async {
        let mut clients = Vec::new();
        for nick in ["ada", "linus", "grace"] {
            let s = TcpStream::connect(addr).await.map_err(io("connect"))?;
            let mut r = BufReader::new(s);
            r.get_mut()
                .write_all(format!("/nick {nick}\n").as_bytes())
                .await
                .map_err(io("write"))?;
            clients.push(r);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        clients[0]
            .get_mut()
            .write_all(b"hello everyone\n")
            .await
            .map_err(io("write"))?;
        let mut got = Vec::new();
        for c in clients.iter_mut().skip(1) {
            let mut seen = String::new();
            for _ in 0..10 {
                let line = read_line(c).await?;
                if line.contains("hello everyone") {
                    seen = line;
                    break;
                }
            }
            got.push(seen);
        }
        for c in clients.iter_mut() {
            let _ = c.get_mut().shutdown().await;
        }
        // Read to the end so each connection closes in order.
        for mut c in clients {
            let mut rest = Vec::new();
            let _ = tokio::time::timeout(Duration::from_secs(1), c.read_to_end(&mut rest)).await;
        }
        Ok(got)
    };
    let (cap, got) = capture_port(addr.port(), work).await?;
    server.stop().await?;
    let mut out = Outcome::default();
    out.check(
        "both other clients got the line",
        got.len() == 2 && got.iter().all(|l| l.contains("hello everyone")),
    );
    out.check(
        "three streams on the wire, interleaved",
        streams(&cap.packets) == 3,
    );
    for (nick, line) in ["linus", "grace"].iter().zip(&got) {
        out.happened.push(format!("{nick} received: {line}"));
    }
    out.happened.push("one write from ada became one write to each other connection: the server copies, TCP does not broadcast".into());
    out.parts
        .push(Part::rows("three clients, one line broadcast", cap.packets));
    Ok(out)
}

pub(super) async fn kv() -> Result<Outcome> {
    let dir = std::env::temp_dir().join(format!("tcplab-lab-kv-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(io("temp dir"))?;
    let store = KvStore::open(dir.join("store.json"))?;
    let server = lesson(ServeMode::Kv, Some(store)).await?;
    let addr = server.addr;
    let session = [
        "create lesson tcp",
        "read lesson",
        "update lesson sockets",
        "read lesson",
        "list",
        "delete lesson",
        "read lesson",
    ];
    let work = async {
        let s = TcpStream::connect(addr).await.map_err(io("connect"))?;
        let local = s.local_addr().map_err(io("address"))?;
        let mut r = BufReader::new(s);
        let mut log = SocketLog::default();
        let clock = Instant::now();
        log.push(clock, EventKind::Connect);
        let mut replies = Vec::new();
        for cmd in session {
            let line = format!("{cmd}\n");
            log.bytes_written += line.len() as u64;
            let (reply, n) = ask(&mut r, &line).await?;
            log.data(clock, n);
            replies.push((cmd, reply));
        }
        r.get_mut().shutdown().await.map_err(io("end"))?;
        let mut rest = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(1), r.read_to_end(&mut rest)).await;
        log.push(clock, EventKind::End);
        log.push(clock, EventKind::Close);
        Ok((local, log, replies))
    };
    let (cap, (local, client_log, replies)) = capture_port(addr.port(), work).await?;
    let events = server.stop().await?;
    let _ = std::fs::remove_dir_all(&dir);
    let mut out = Outcome::default();
    let reply = |i: usize| replies.get(i).map(|(_, r)| r.as_str()).unwrap_or("");
    out.check("create answered OK", reply(0).starts_with("OK"));
    out.check("read returns the value", reply(1).contains("tcp"));
    out.check(
        "update then read returns the new value",
        reply(3).contains("sockets"),
    );
    out.check(
        "after delete, read is an error",
        reply(6).starts_with("ERR"),
    );
    for (cmd, r) in &replies {
        out.happened.push(format!("{cmd} → {r}"));
    }
    // The server's own view, from the events it reported.
    let mut server_log = SocketLog::default();
    let clock = Instant::now();
    for e in events {
        match e {
            ServerEvent::Connection { .. } => {
                server_log.push(clock, EventKind::Connection);
            }
            ServerEvent::Data { len, .. } => {
                server_log.push(clock, EventKind::Data).bytes = Some(len);
            }
            ServerEvent::End { .. } => {
                server_log.push(clock, EventKind::End);
            }
            ServerEvent::Close {
                bytes_read,
                bytes_written,
                ..
            } => {
                server_log.push(clock, EventKind::Close);
                server_log.bytes_read = bytes_read;
                server_log.bytes_written = bytes_written;
            }
            _ => {}
        }
    }
    let report = cap.report(connection(local, addr), client_log, server_log, "kv");
    out.parts.push(Part::trace(
        "a CRUD session, one request and reply at a time",
        report,
    ));
    Ok(out)
}
