//! The labs whose traffic is more than one planned exchange: a refused
//! connect and its retries, a server that crashes under its clients, a chat
//! of three, a kv session. Each runs inside one capture.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::facts::{count, first, from_server, has, streams};
use super::{Outcome, Part};
use crate::decode::Flags;
use crate::lab::client::{self, Ending, RetryPolicy};
use crate::lab::logged::{server_logs, LoggedStream, Stamped};
use crate::lab::serve::{self, KvStore, Limits, ServeConfig, ServeMode};
use crate::render::{ConnectionLogs, Folding};
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
        // Each refused attempt is a connection of its own on the wire; its
        // application saw 'error' then 'close'.
        let mut refusals = Vec::new();
        let clock = Instant::now();
        let sock = client::connect(&[addr], &policy, |a| {
            if let Some((_, errno)) = &a.failure {
                let mut log = SocketLog::default();
                log.push(clock, EventKind::Error).message = Some(errno.clone());
                log.push(clock, EventKind::Close);
                refusals.push(log);
            }
            attempts.push(a.clone());
        })
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
            clock,
            |_| {},
        )
        .await;
        server.await.map_err(|e| Error::Trace(e.to_string()))??;
        Ok((attempts, refusals, log, failure))
    };
    let (cap, (attempts, refusals, log, failure)) = capture_port(port, work).await?;
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
        "{} refused (ECONNREFUSED: SYN answered by RST-ACK{}), waits doubling: {}; attempt {} connected after the server started at {} ms",
        count(refused, "attempt"),
        rst.map(|f| format!(", first at frame {f}")).unwrap_or_default(),
        delays.join(", "),
        attempts.len(),
        late.as_millis()
    ));
    // The streams in order: each refused attempt, then the connection.
    let logs = refusals
        .into_iter()
        .chain([log])
        .map(|client| ConnectionLogs {
            client,
            server: SocketLog::default(),
        })
        .collect();
    out.parts.push(Part::rows_with(
        "refused, backing off, then connected",
        cap.packets,
        logs,
    ));
    Ok(out)
}

/// Runs a lesson server in-process and collects its events.
struct Lesson {
    addr: SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<()>>,
    events: Arc<Mutex<Vec<Stamped>>>,
    /// When the server started: its logs' times count from here.
    clock: Instant,
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
            let stamped = (SystemTime::now(), Instant::now(), e);
            sink_events
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(stamped)
        }),
    ));
    Ok(Lesson {
        addr,
        stop,
        task,
        events,
        clock: Instant::now(),
    })
}

impl Lesson {
    /// Stops the server; returns each connection's log, in the order
    /// they were accepted.
    async fn stop(self) -> Result<Vec<SocketLog>> {
        let _ = self.stop.send(());
        self.task.await.map_err(|e| Error::Trace(e.to_string()))??;
        let events = std::mem::take(&mut *self.events.lock().unwrap_or_else(|p| p.into_inner()));
        Ok(server_logs(&events, self.clock).into_values().collect())
    }
}

/// Writes `line` and reads the reply: lines up to the one that starts with
/// OK or ERR (`list` answers with one line per key first).
async fn ask(c: &mut LoggedStream, line: &str) -> Result<String> {
    c.write(line.as_bytes()).await.map_err(io("write"))?;
    let mut lines = Vec::new();
    loop {
        let Some(l) = c.read_line(Duration::from_secs(2)).await else {
            return Err(Error::Trace("no reply within 2 s".into()));
        };
        let last = l.starts_with("OK") || l.starts_with("ERR");
        lines.push(l);
        if last {
            return Ok(lines.join(" / "));
        }
    }
}

/// Reads lines until one holds `what`; an error if none does within 2 s.
async fn read_until(c: &mut LoggedStream, what: &str) -> Result<String> {
    while let Some(line) = c.read_line(Duration::from_secs(2)).await {
        if line.contains(what) {
            return Ok(line);
        }
    }
    Err(Error::Trace(format!("no line with {what:?} within 2 s")))
}

pub(super) async fn chat() -> Result<Outcome> {
    let server = lesson(ServeMode::Chat, None).await?;
    let addr = server.addr;
    let work = async {
        let clock = Instant::now();
        let mut clients: Vec<LoggedStream> = Vec::new();
        // One at a time, as people join a class chat: each newcomer reads
        // its welcome and its new name, and those already there read the
        // news, before the next connects. So a run is the same picture
        // every time, not three connections racing.
        for nick in ["ada", "linus", "grace"] {
            let mut c = LoggedStream::connect(addr, clock)
                .await
                .map_err(io("connect"))?;
            read_until(&mut c, "* welcome").await?;
            for other in clients.iter_mut() {
                read_until(other, " joined #").await?;
            }
            c.write(format!("/nick {nick}\n").as_bytes())
                .await
                .map_err(io("write"))?;
            read_until(&mut c, "* you are now").await?;
            for other in clients.iter_mut() {
                read_until(other, " is now ").await?;
            }
            clients.push(c);
        }
        clients[0]
            .write(b"hello everyone\n")
            .await
            .map_err(io("write"))?;
        let mut got = Vec::new();
        for c in clients.iter_mut().skip(1) {
            let mut seen = String::new();
            while let Some(line) = c.read_line(Duration::from_secs(2)).await {
                if line.contains("hello everyone") {
                    seen = line;
                    break;
                }
            }
            got.push(seen);
        }
        // Each leaves in turn: end(), read to the server's FIN, and those
        // still there read that it left.
        let mut logs = Vec::new();
        let mut clients = std::collections::VecDeque::from(clients);
        while let Some(mut c) = clients.pop_front() {
            let _ = c.end().await;
            c.read_to_end(Duration::from_secs(1)).await;
            logs.push(c.close());
            for other in clients.iter_mut() {
                read_until(other, " left #").await?;
            }
        }
        Ok::<_, Error>((got, logs))
    };
    let (cap, (got, client_logs)) = capture_port(addr.port(), work).await?;
    let server_logs = server.stop().await?;
    let logs = client_logs
        .into_iter()
        .zip(
            server_logs
                .into_iter()
                .chain(std::iter::repeat_with(SocketLog::default)),
        )
        .map(|(client, server)| ConnectionLogs { client, server })
        .collect();
    let mut out = Outcome {
        // 60 frames, FOLD_OVER: one ACK fewer would unfold the table.
        folding: Folding::Always,
        ..Outcome::default()
    };
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
    out.parts.push(Part::rows_with(
        "three clients, one line broadcast",
        cap.packets,
        logs,
    ));
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
        let mut c = LoggedStream::connect(addr, Instant::now())
            .await
            .map_err(io("connect"))?;
        let local = c.local_addr().map_err(io("address"))?;
        let mut replies = Vec::new();
        for cmd in session {
            let reply = ask(&mut c, &format!("{cmd}\n")).await?;
            replies.push((cmd, reply));
        }
        c.end().await.map_err(io("end"))?;
        c.read_to_end(Duration::from_secs(1)).await;
        Ok((local, c.close(), replies))
    };
    let (cap, (local, client_log, replies)) = capture_port(addr.port(), work).await?;
    let logs = server.stop().await?;
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
    // The server's own view, from the events it reported as they came.
    let server_log = logs.into_iter().next().unwrap_or_default();
    let report = cap.report(connection(local, addr), client_log, server_log, "kv");
    out.parts.push(Part::trace(
        "a CRUD session, one request and reply at a time",
        report,
    ));
    Ok(out)
}
