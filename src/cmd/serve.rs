//! `tcplab serve MODE`: a lesson server (see `lab::serve`), its events
//! printed one line each as they happen. The log's lines are rendered here,
//! not in `render`: they are `lab::serve::ServerEvent`s, and `render` knows
//! no lab type.
//!
//! The server runs on its own thread; this one prints. Events reach it
//! through a bounded queue: if the output cannot keep up (a terminal paused,
//! a pipe nobody reads) lines are dropped and counted, never queued without
//! bound, and the server keeps serving. If the output goes away altogether
//! the server keeps serving silently until Ctrl-C.

use std::io::Write;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::cli::{resolve_color, ColorChoice, Serve};
use crate::lab::serve::{
    self, EventSink, KvStore, Limit, Limits, ServeConfig, ServeMode, ServerEvent,
};
use crate::render::{hexdump, Paint, Palette, Span};
use crate::{Error, Result};

/// Events waiting to be printed, at most.
const LOG_QUEUE: usize = 1024;

/// With -v, each read's hex dump shows at most this many bytes.
const MAX_HEX: usize = 4096;

/// Hex dumps start under the event names.
const INDENT: &str = "                  ";

/// Runs the server until Ctrl-C or SIGTERM, logging to `out`.
pub fn run(args: &Serve, color: ColorChoice, out: &mut dyn Write) -> Result<()> {
    let store = match args.mode {
        ServeMode::Kv => Some(KvStore::open(&args.data)?),
        _ => None,
    };
    let addrs = resolve(&args.host, args.port)?;
    let limits = args.limits;
    let config = ServeConfig {
        mode: args.mode,
        store,
        limits,
        keep_bytes: if args.verbose { MAX_HEX } else { 0 },
        safe: args.safe,
    };
    let (tx, rx) = sync_channel::<ServerEvent>(LOG_QUEUE);
    let dropped = Arc::new(AtomicU64::new(0));
    let sink: EventSink = {
        let dropped = dropped.clone();
        Arc::new(move |event| {
            if tx.try_send(event).is_err() {
                dropped.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    let mut log = Log {
        out,
        palette: Palette {
            enabled: resolve_color(color),
        },
        start: Instant::now(),
        limits,
        mode: "note",
        dropped,
        reported: 0,
        broken: false,
    };
    std::thread::scope(|scope| {
        let server = scope.spawn(move || serve_on_own_thread(addrs, config, sink));
        log.print_all(rx);
        server
            .join()
            .unwrap_or_else(|_| Err(Error::Trace("the server thread panicked".to_string())))
    })
}

/// Resolves `--host` (an address or a name such as `localhost`).
fn resolve(host: &str, port: u16) -> Result<Vec<SocketAddr>> {
    let addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|e| Error::Usage(format!("--host {host}: cannot resolve it: {e}")))?
        .collect();
    if addrs.is_empty() {
        return Err(Error::Usage(format!("--host {host}: no address")));
    }
    Ok(addrs)
}

fn serve_on_own_thread(addrs: Vec<SocketAddr>, config: ServeConfig, sink: EventSink) -> Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("starting the runtime", e))?;
    rt.block_on(async move {
        let listener = bind(&addrs)?;
        // Signal handlers go in before the listening line is out: a SIGTERM
        // right after it must stop the server cleanly, not kill it.
        let shutdown = shutdown_signal()?;
        serve::run(listener, config, shutdown, sink).await
    })
}

/// Connections the kernel may queue before the server accepts them: Node's
/// default (`server.listen` uses 511), not std's 128, so a burst of connects
/// (a loop of 2,000, a class at once) waits in the queue while the server is
/// busy, instead of having its SYNs dropped and retried a second later.
const BACKLOG: u32 = 511;

/// Binds the first address that works (as Node's `listen` on a name).
fn bind(addrs: &[SocketAddr]) -> Result<tokio::net::TcpListener> {
    let mut first_error = None;
    for &addr in addrs {
        match listen(addr) {
            Ok(l) => return Ok(l),
            Err(source) => {
                first_error.get_or_insert(Error::Bind {
                    addr: addr.to_string(),
                    source,
                });
            }
        }
    }
    Err(first_error.unwrap_or_else(|| Error::Usage("no address to listen on".to_string())))
}

/// A listening socket on `addr`, with SO_REUSEADDR as std's `bind` sets it
/// (a restarted server gets its port back while old connections are in
/// TIME_WAIT). Must run inside the runtime.
fn listen(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let socket = match addr {
        SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}

/// Resolves at Ctrl-C (SIGINT) or SIGTERM; the handlers are installed now.
#[cfg(unix)]
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut int = signal(SignalKind::interrupt()).map_err(|e| Error::io("SIGINT handler", e))?;
    let mut term = signal(SignalKind::terminate()).map_err(|e| Error::io("SIGTERM handler", e))?;
    Ok(async move {
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
    })
}

#[cfg(not(unix))]
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}

/// Prints events as lines: time since start, connection, event, details.
struct Log<'a> {
    out: &'a mut dyn Write,
    palette: Palette,
    start: Instant,
    limits: Limits,
    /// The mode's name, from the listening event.
    mode: &'static str,
    /// Events the queue had no room for.
    dropped: Arc<AtomicU64>,
    reported: u64,
    /// The output failed: stop writing, keep serving.
    broken: bool,
}

impl Log<'_> {
    fn print_all(&mut self, rx: Receiver<ServerEvent>) {
        for event in rx {
            if self.broken {
                continue;
            }
            let elapsed = self.start.elapsed();
            let written = self
                .dropped_note(elapsed)
                .and_then(|()| self.event(&event, elapsed))
                .and_then(|()| self.out.flush());
            if written.is_err() {
                self.broken = true;
            }
        }
    }

    fn dropped_note(&mut self, elapsed: Duration) -> std::io::Result<()> {
        let dropped = self.dropped.load(Ordering::Relaxed);
        if dropped == self.reported {
            return Ok(());
        }
        let n = dropped - self.reported;
        self.reported = dropped;
        let text = format!("{n} log lines dropped: the output did not keep up");
        self.line(elapsed, None, "log", Paint::Warn, &text)
    }

    fn line(
        &mut self,
        elapsed: Duration,
        id: Option<u64>,
        name: &str,
        paint: Paint,
        text: &str,
    ) -> std::io::Result<()> {
        let id = id.map(|i| format!("#{i}")).unwrap_or_default();
        let name = self.palette.paint(paint, &format!("{name:<10}"));
        // Keys, nicks and commands are the clients' own bytes: escaped, so a
        // client cannot set the operator's terminal title or clear it.
        let text = crate::values::terminal_safe(text);
        let line = format!("{:>9.3}s  {id:<5} {name}  {text}", elapsed.as_secs_f64());
        writeln!(self.out, "{}", line.trim_end())
    }

    fn event(&mut self, event: &ServerEvent, t: Duration) -> std::io::Result<()> {
        use ServerEvent as E;
        match event {
            E::Listening { addr, mode } => self.listening(addr, mode),
            E::Connection {
                id,
                peer,
                family,
                active,
            } => {
                let text = format!("from {peer} ({family}) · {active} active");
                self.line(t, Some(*id), "connection", Paint::Good, &text)
            }
            E::Data { id, len, bytes } => self.data(t, *id, *len, bytes.as_deref()),
            // A write is what the server did, not what it saw: the log
            // stays one line per event, as Node's are.
            E::Write { .. } => Ok(()),
            E::End { id } => self.line(
                t,
                Some(*id),
                "end",
                Paint::Tcp,
                "the peer sent FIN; closing too",
            ),
            E::Timeout { id, after } => {
                let text = format!("idle {}: closing", seconds(*after));
                self.line(t, Some(*id), "timeout", Paint::Warn, &text)
            }
            E::Limit { id, limit } => {
                let (name, text) = limit_text(limit);
                self.line(t, Some(*id), name, Paint::Warn, &text)
            }
            // Notes are labelled with the mode that wrote them.
            E::Note { id, text } => self.line(t, *id, self.mode, Paint::Heading, text),
            E::Error { id, message } => self.line(t, *id, "error", Paint::Bad, message),
            E::Close {
                id,
                bytes_read,
                bytes_written,
                active,
            } => {
                let text = format!("read {bytes_read} · wrote {bytes_written} · {active} active");
                self.line(t, Some(*id), "close", Paint::Dim, &text)
            }
            E::ShuttingDown { active } => {
                let s = if *active == 1 { "" } else { "s" };
                let text = format!("no new connections; closing {active} connection{s}");
                self.line(t, None, "shutdown", Paint::Warn, &text)
            }
            E::Stopped => self.line(t, None, "stopped", Paint::Heading, "bye"),
        }
    }
}

impl Log<'_> {
    /// The first line: where, which mode, and the limits in force.
    fn listening(&mut self, addr: &SocketAddr, mode: &'static str) -> std::io::Result<()> {
        self.mode = mode;
        let heading = format!("tcplab serve {mode}");
        let limits = self.limits;
        let idle = match limits.idle_timeout {
            Some(d) => format!("idle {}", seconds(d)),
            None => "no idle timeout".to_string(),
        };
        writeln!(
            self.out,
            "{}: listening on {addr} ({}) · up to {} connections, {}-byte lines, {idle} · Ctrl-C stops",
            self.palette.paint(Paint::Heading, &heading),
            serve::family(addr),
            limits.max_connections,
            limits.max_line,
        )
    }

    /// `len` bytes read; with -v their hex dump (at most `MAX_HEX` kept).
    fn data(
        &mut self,
        t: Duration,
        id: u64,
        len: usize,
        bytes: Option<&[u8]>,
    ) -> std::io::Result<()> {
        let s = if len == 1 { "" } else { "s" };
        let text = format!("{len} byte{s}");
        self.line(t, Some(id), "data", Paint::Payload, &text)?;
        if let Some(bytes) = bytes {
            let spans = [Span {
                range: 0..bytes.len(),
                paint: Paint::Payload,
            }];
            hexdump(self.out, bytes, &spans, self.palette, 16, INDENT)?;
            if bytes.len() < len {
                writeln!(self.out, "{INDENT}... {} more bytes", len - bytes.len())?;
            }
        }
        Ok(())
    }
}

/// A limit's event name and what the server did, naming the option.
fn limit_text(limit: &Limit) -> (&'static str, String) {
    match limit {
        Limit::Busy { peer, active } => (
            "busy",
            format!("{peer} turned away: {active} connections open (--max-connections)"),
        ),
        Limit::LineTooLong { max } => (
            "limit",
            format!("line longer than {max} bytes (--max-line): error reply, dropped"),
        ),
        Limit::SlowReader { queued } => (
            "limit",
            format!("not reading: {queued} bytes queued for it; disconnected"),
        ),
    }
}

/// `300s`, `1.5s`, `250ms`.
fn seconds(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{}ms", d.as_millis())
    } else if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{:.3}s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_print_as_one_aligned_line_each() {
        let mut buf = Vec::new();
        let peer: SocketAddr = "127.0.0.1:50000".parse().unwrap();
        let mut log = Log {
            out: &mut buf,
            palette: Palette::PLAIN,
            start: Instant::now(),
            limits: Limits::default(),
            mode: "note",
            dropped: Arc::default(),
            reported: 0,
            broken: false,
        };
        let t = Duration::from_millis(1500);
        let events = [
            ServerEvent::Listening {
                addr: "127.0.0.1:8124".parse().unwrap(),
                mode: "kv",
            },
            ServerEvent::Connection {
                id: 1,
                peer,
                family: "IPv4",
                active: 1,
            },
            ServerEvent::Data {
                id: 1,
                len: 20,
                bytes: Some(b"create".to_vec()),
            },
            ServerEvent::Note {
                id: Some(1),
                text: "create a -> OK (saved)".into(),
            },
            ServerEvent::Timeout {
                id: 1,
                after: Duration::from_secs(300),
            },
            ServerEvent::Close {
                id: 1,
                bytes_read: 20,
                bytes_written: 3,
                active: 0,
            },
        ];
        for e in &events {
            log.event(e, t).unwrap();
        }
        let text = String::from_utf8(buf).unwrap();
        assert_eq!(
            text,
            "tcplab serve kv: listening on 127.0.0.1:8124 (IPv4) · up to 256 connections, \
             65536-byte lines, idle 300s · Ctrl-C stops\n    \
             1.500s  #1    connection  from 127.0.0.1:50000 (IPv4) · 1 active\n    \
             1.500s  #1    data        20 bytes\n                  \
             0000  63 72 65 61 74 65                                 create\n                  \
             ... 14 more bytes\n    \
             1.500s  #1    kv          create a -> OK (saved)\n    \
             1.500s  #1    timeout     idle 300s: closing\n    \
             1.500s  #1    close       read 20 · wrote 3 · 0 active\n"
        );
    }
}
