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
//! | `protocol.rs` | the one interface a mode implements, and its output |
//! | `conn.rs` | one connection's life: read, answer, time out, close; names no mode, only the trait of `protocol.rs` |
//! | `inbox.rs` | messages one connection sends another (chat) |
//! | `mode.rs` | [`ServeMode`], and the one function that turns a mode into its protocol |
//! | `echo.rs`, `upper.rs`, `greet.rs`, `discard.rs` | one answer per read |
//! | `lines.rs` | newline framing with a length limit |
//! | `json.rs` | `json`: a JSON reply to each JSON message |
//! | `frames.rs` | `frames`: length-prefixed messages |
//! | `chat.rs` | `chat`: broadcast, channels, nicks |
//! | `kv.rs`, `store.rs` | `kv`: commands, and the atomically saved file |
//!
//! Modes import `protocol.rs`; `mode.rs` imports the modes; `conn.rs` imports
//! neither, so no file imports one that imports it back.

mod chat;
mod conn;
mod discard;
mod echo;
mod events;
mod frames;
mod greet;
mod inbox;
mod json;
mod kv;
mod limits;
mod lines;
mod mode;
mod protocol;
mod store;
mod upper;

pub use chat::DEFAULT_CHANNEL;
pub use events::{family, ConnId, EventSink, Limit, ServerEvent};
pub use frames::{frame, FRAME_HEADER};
pub use greet::{GREETING, QUIT};
pub use limits::{busy_message, Limits};
pub use mode::ServeMode;
pub use store::{Entries, KvStore, MAX_KEYS, MAX_STORE_BYTES};

pub(crate) use mode::protocols;
pub(crate) use protocol::{Out, Protocol};

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinError, JoinSet};

use self::conn::{connection_event, serve_connection, Shared};
use self::limits::{ActiveCount, ActiveSlot};
use crate::values::describe_io_error;
use crate::{Error, Result};

/// How long open connections get to close after the shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// How long a turned-away connection gets to receive its "busy" line.
const BUSY_GRACE: Duration = Duration::from_secs(1);

/// How to serve.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub mode: ServeMode,
    /// The kv mode's store (the other modes keep nothing).
    pub store: Option<KvStore>,
    pub limits: Limits,
    /// Put up to this many of the bytes of each read in its
    /// [`ServerEvent::Data`] (for hex dumps); 0 for none.
    pub keep_bytes: usize,
    /// chat and kv: spell out control bytes in what one client's text
    /// becomes on another's screen (`--safe`); otherwise it is relayed
    /// byte for byte, which is what the lesson shows.
    pub safe: bool,
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
    let protocols = protocols(config.mode, config.store.as_ref(), &limits, config.safe)?;
    sink(ServerEvent::Listening {
        addr,
        mode: config.mode.name(),
    });
    let store = config.store.as_ref();
    if let Some(store) = store {
        let text = store_note(store, "loaded from").await;
        sink(ServerEvent::Note { id: None, text });
    }
    let (stop_tx, stop_rx) = watch::channel(false);
    let shared = Arc::new(Shared {
        sink: sink.clone(),
        protocols,
        max_line: limits.max_line.max(1),
        idle: limits.idle_timeout.filter(|d| !d.is_zero()),
        keep_bytes: config.keep_bytes,
        stop: stop_rx,
    });
    let mut server = Server::new(shared, limits.max_connections.max(1));
    server.accept_until(&listener, shutdown).await;
    drop(listener);
    sink(ServerEvent::ShuttingDown {
        active: server.active.get(),
    });
    let _ = stop_tx.send(true);
    server.close_all().await;
    if let Some(store) = store {
        let text = store_note(store, "saved in").await;
        sink(ServerEvent::Note { id: None, text });
    }
    sink(ServerEvent::Stopped);
    Ok(())
}

/// The accept loop's state: the connection tasks and their count.
struct Server {
    shared: Arc<Shared>,
    max_connections: usize,
    active: ActiveCount,
    /// Turned-away connections still waiting for their "busy" line.
    turning_away: ActiveCount,
    tasks: JoinSet<()>,
    next_id: ConnId,
}

impl Server {
    fn new(shared: Arc<Shared>, max_connections: usize) -> Self {
        Server {
            shared,
            max_connections,
            active: ActiveCount::default(),
            turning_away: ActiveCount::default(),
            tasks: JoinSet::new(),
            next_id: 0,
        }
    }

    /// Accepts connections until `shutdown` resolves, reaping finished
    /// tasks as it goes so the set stays as large as the open connections.
    async fn accept_until(&mut self, listener: &TcpListener, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                biased;
                () = &mut shutdown => return,
                Some(joined) = self.tasks.join_next(), if !self.tasks.is_empty() => self.reaped(joined),
                accepted = listener.accept() => match accepted {
                    Ok((stream, peer)) => self.admit(stream, peer),
                    Err(e) => {
                        let message = format!("accept: {}", describe_io_error(&e));
                        self.shared.emit(ServerEvent::Error { id: None, message });
                        // Out of file descriptors, most likely: let some close.
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                },
            }
        }
    }

    /// A task ended; only a panic is news (its connection had no `close`).
    fn reaped(&self, joined: std::result::Result<(), JoinError>) {
        if let Err(e) = joined {
            if e.is_panic() {
                let message = format!("a connection task panicked: {e}");
                self.shared.emit(ServerEvent::Error { id: None, message });
            }
        }
    }

    /// Serves a new connection, or turns it away if the server is full.
    fn admit(&mut self, stream: TcpStream, peer: SocketAddr) {
        self.next_id += 1;
        let id = self.next_id;
        match self.active.acquire(self.max_connections) {
            Some(slot) => {
                self.shared
                    .emit(connection_event(id, peer, self.active.get()));
                let shared = self.shared.clone();
                self.tasks.spawn(serve_connection(stream, id, shared, slot));
            }
            None => {
                let n = self.active.get();
                let limit = Limit::Busy { peer, active: n };
                self.shared.emit(ServerEvent::Limit { id, limit });
                // At most as many waiting to be told as may be served;
                // beyond that, closed without a word.
                if let Some(slot) = self.turning_away.acquire(self.max_connections) {
                    self.tasks.spawn(turn_away(stream, n, slot));
                }
            }
        }
    }

    /// Waits for every connection to close (they were told to), at most
    /// [`SHUTDOWN_GRACE`]; then aborts the rest.
    async fn close_all(&mut self) {
        let tasks = &mut self.tasks;
        let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
            while tasks.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            self.tasks.abort_all();
            while self.tasks.join_next().await.is_some() {}
        }
    }
}

/// Tells a connection over the limit so, and closes it.
async fn turn_away(mut stream: TcpStream, active: usize, slot: ActiveSlot) {
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
