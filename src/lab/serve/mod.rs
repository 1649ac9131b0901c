//! The lesson servers of `tcplab serve`: long-running tokio servers for
//! `nc`, telnet and the seeds' Node clients, one per mode (`echo`, `upper`,
//! `greet`, `json`, `chat`, `kv`, `discard`).
//!
//! [`run`] takes an already bound listener, a shutdown future and an event
//! sink: the caller decides the port, when to stop and what to do with the
//! [`ServerEvent`]s (the CLI prints them; tests collect them). Nothing here
//! prints.
//!
//! Memory is bounded per connection and in total: at most
//! [`Limits::max_connections`] at once (more get a one-line "busy" reply and
//! are closed), lines and messages of at most [`Limits::max_line`] bytes,
//! a bounded outgoing queue per chat client, and an idle timeout.
//!
//! | file | concern |
//! | --- | --- |
//! | `events.rs` | what the server reports |
//! | `limits.rs` | connection count, line length, idle time, queue sizes |
//! | `conn.rs` | one connection's life: read, answer, time out, close |
//! | `chunked.rs` | `echo`, `upper`, `greet`, `discard`: one answer per read |
//! | `lines.rs` | newline framing with a length limit |
//! | `json.rs` | `json`: a JSON reply to each JSON message |
//! | `chat.rs` | `chat`: broadcast, channels, nicks |
//! | `kv.rs`, `store.rs` | `kv`: commands, and the atomically saved file |

mod chat;
mod chunked;
mod conn;
mod events;
mod json;
mod kv;
mod limits;
mod lines;
mod store;

pub use chat::DEFAULT_CHANNEL;
pub use chunked::{GREETING, QUIT};
pub use events::{family, ConnId, EventSink, Limit, ServerEvent};
pub use limits::{busy_message, Limits};
pub use store::{Entries, KvStore, MAX_KEYS, MAX_STORE_BYTES};

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

use self::chat::ChatHub;
use self::chunked::Chunked;
use self::conn::{connection_event, serve_connection, Service, Shared};
use self::limits::ActiveCount;
use crate::values::describe_io_error;
use crate::{Error, Result};

/// How long open connections get to close after the shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// How long a turned-away connection gets to receive its "busy" line.
const BUSY_GRACE: Duration = Duration::from_secs(1);

/// What the server does with the bytes it reads.
#[derive(Debug, Clone)]
pub enum Mode {
    /// Writes back exactly what it reads (`client.pipe(client)`, seed 004).
    Echo,
    /// Replies `Echo: ` + the upper-cased text, one write per read (seed 003).
    Upper,
    /// Writes `Hello from the server!\n` on connect; answers each read with
    /// its text upper-cased, then `QUIT` as a second write (seed 004).
    Greet,
    /// A JSON reply to each JSON message (seed 000).
    Json,
    /// Lines broadcast to the other clients of a channel; /nick, /join, /who.
    Chat,
    /// create/read/update/delete/list, saved atomically to the store's file.
    Kv(KvStore),
    /// Reads and counts, never replies.
    Discard,
}

impl Mode {
    /// The mode's name on the command line.
    pub fn name(&self) -> &'static str {
        match self {
            Mode::Echo => "echo",
            Mode::Upper => "upper",
            Mode::Greet => "greet",
            Mode::Json => "json",
            Mode::Chat => "chat",
            Mode::Kv(_) => "kv",
            Mode::Discard => "discard",
        }
    }
}

/// How to serve.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub mode: Mode,
    pub limits: Limits,
    /// Put up to this many of the bytes of each read in its
    /// [`ServerEvent::Data`] (for hex dumps); 0 for none.
    pub keep_bytes: usize,
}

/// Serves `listener` until `shutdown` resolves, then stops accepting,
/// closes every connection (waiting up to 2 s for them), and returns.
/// Every event goes to `sink`, from [`ServerEvent::Listening`] to
/// [`ServerEvent::Stopped`].
pub async fn run(
    listener: TcpListener,
    config: ServeConfig,
    shutdown: impl Future<Output = ()>,
    sink: EventSink,
) -> Result<()> {
    let addr = listener
        .local_addr()
        .map_err(|e| Error::io("listener address", e))?;
    let limits = config.limits;
    let max_connections = limits.max_connections.max(1);
    let service = match &config.mode {
        Mode::Echo => Service::Chunked(Chunked::Echo),
        Mode::Upper => Service::Chunked(Chunked::Upper),
        Mode::Greet => Service::Chunked(Chunked::Greet),
        Mode::Discard => Service::Chunked(Chunked::Discard),
        Mode::Json => Service::Json,
        Mode::Chat => Service::Chat(Arc::new(ChatHub::new(limits.chat_queue_bytes()))),
        Mode::Kv(store) => Service::Kv(store.clone()),
    };
    sink(ServerEvent::Listening {
        addr,
        mode: config.mode.name(),
    });
    if let Mode::Kv(store) = &config.mode {
        sink(ServerEvent::Note {
            id: None,
            text: store_note(store, "loaded from").await,
        });
    }
    let (stop_tx, stop_rx) = watch::channel(false);
    let shared = Arc::new(Shared {
        sink: sink.clone(),
        service,
        max_line: limits.max_line.max(1),
        idle: limits.idle_timeout.filter(|d| !d.is_zero()),
        keep_bytes: config.keep_bytes,
        stop: stop_rx,
    });
    let active = ActiveCount::default();
    // Turned-away connections still waiting for their "busy" line.
    let turning_away = ActiveCount::default();
    let mut tasks = JoinSet::new();
    let mut next_id: ConnId = 0;
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            biased;
            () = &mut shutdown => break,
            Some(joined) = tasks.join_next(), if !tasks.is_empty() => {
                if let Err(e) = joined {
                    if e.is_panic() {
                        sink(ServerEvent::Error { id: None, message: format!("a connection task panicked: {e}") });
                    }
                }
            }
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        sink(ServerEvent::Error { id: None, message: format!("accept: {}", describe_io_error(&e)) });
                        // Out of file descriptors, most likely: let some close.
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                next_id += 1;
                let id = next_id;
                match active.acquire(max_connections) {
                    Some(slot) => {
                        sink(connection_event(id, peer, active.get()));
                        tasks.spawn(serve_connection(stream, id, shared.clone(), slot));
                    }
                    None => {
                        let n = active.get();
                        sink(ServerEvent::Limit { id, limit: Limit::Busy { peer, active: n } });
                        // At most as many waiting to be told as may be served;
                        // beyond that, closed without a word.
                        if let Some(slot) = turning_away.acquire(max_connections) {
                            tasks.spawn(turn_away(stream, n, slot));
                        }
                    }
                }
            }
        }
    }
    drop(listener);
    sink(ServerEvent::ShuttingDown {
        active: active.get(),
    });
    let _ = stop_tx.send(true);
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tasks.abort_all();
        while tasks.join_next().await.is_some() {}
    }
    if let Mode::Kv(store) = &config.mode {
        sink(ServerEvent::Note {
            id: None,
            text: store_note(store, "saved in").await,
        });
    }
    sink(ServerEvent::Stopped);
    Ok(())
}

/// Tells a connection over the limit so, and closes it.
async fn turn_away(mut stream: TcpStream, active: usize, slot: limits::ActiveSlot) {
    let _ = tokio::time::timeout(BUSY_GRACE, async {
        stream.write_all(busy_message(active).as_bytes()).await?;
        stream.shutdown().await
    })
    .await;
    drop(slot);
}

async fn store_note(store: &KvStore, verb: &str) -> String {
    let n = store.read(|e| e.len()).await;
    let s = if n == 1 { "" } else { "s" };
    format!("store: {n} key{s} {verb} {}", store.path().display())
}
