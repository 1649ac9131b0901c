//! What a lesson server reports while it runs: one [`ServerEvent`] per thing
//! that happened, named as Node's `net` module names it where Node has a
//! name (`connection`, `data`, `end`, `close`, `error`, `timeout`).
//!
//! The server never prints: it hands each event to a sink the caller chose
//! (the CLI prints lines, tests collect them).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// Connections are numbered from 1 in the order they were accepted.
pub type ConnId = u64;

/// One thing that happened in the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerEvent {
    /// The server is accepting connections (`server.on('listening')`).
    Listening {
        addr: SocketAddr,
        /// The mode's name (`echo`, `kv`, ...).
        mode: &'static str,
    },
    /// A connection was accepted (`server.on('connection')`).
    Connection {
        id: ConnId,
        /// `socket.remoteAddress` and `remotePort`.
        peer: SocketAddr,
        /// `socket.remoteFamily`: `IPv4` or `IPv6`.
        family: &'static str,
        /// Connections open now, this one included (`server.getConnections`).
        active: usize,
    },
    /// Bytes arrived (`'data'`), one event per read.
    Data {
        id: ConnId,
        len: usize,
        /// The first bytes, when the server was asked to keep them
        /// ([`ServeConfig::keep_bytes`](super::ServeConfig)); for hex dumps.
        bytes: Option<Vec<u8>>,
    },
    /// The server is about to write `len` bytes (`socket.write()`): not a
    /// Node event, and `tcplab serve` does not print it; the labs' ladders
    /// draw it.
    Write { id: ConnId, len: usize },
    /// The peer sent its FIN (`'end'`): it will send nothing more.
    End { id: ConnId },
    /// No bytes either way for `after` (`'timeout'`); the server closes.
    Timeout { id: ConnId, after: Duration },
    /// A limit was reached; what the server did about it is in the text.
    Limit { id: ConnId, limit: Limit },
    /// What the mode made of the bytes: a kv command and its reply, a chat
    /// join, a JSON message answered. `id` is `None` for the whole server.
    Note { id: Option<ConnId>, text: String },
    /// A socket error (`'error'`), in Node's words (`ECONNRESET: ...`).
    /// `id` is `None` for the listening socket.
    Error { id: Option<ConnId>, message: String },
    /// The connection is closed (`'close'`), with its byte counts
    /// (`socket.bytesRead`, `socket.bytesWritten`).
    Close {
        id: ConnId,
        bytes_read: u64,
        bytes_written: u64,
        /// Connections still open.
        active: usize,
    },
    /// The shutdown signal arrived: no new connections; open ones are closed.
    ShuttingDown { active: usize },
    /// Every connection is closed; `run` returns.
    Stopped,
}

/// The limits a lesson server enforces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Limit {
    /// `--max-connections` were open: the newcomer was told so and closed.
    Busy { peer: SocketAddr, active: usize },
    /// A line or message longer than `--max-line`: error reply, bytes dropped.
    LineTooLong { max: usize },
    /// A chat client read too slowly: its queue passed `queued` bytes, so it
    /// was disconnected instead of letting the queue grow.
    SlowReader { queued: usize },
}

/// Where events go. Called from the server's tasks: keep it quick (push to
/// a channel), it must not block.
pub type EventSink = Arc<dyn Fn(ServerEvent) + Send + Sync>;

/// `IPv4` or `IPv6`, as Node's `remoteFamily` (an IPv4-mapped IPv6 address
/// such as `::ffff:127.0.0.1` is `IPv6`, as in seed 001).
pub fn family(addr: &SocketAddr) -> &'static str {
    match addr {
        SocketAddr::V4(_) => "IPv4",
        SocketAddr::V6(_) => "IPv6",
    }
}
