//! The one interface between a connection and a mode: [`Protocol`].
//!
//! The connection loop (`conn.rs`) owns the socket, the clocks and the
//! events; a protocol owns what the bytes mean. Each mode is one file that
//! implements [`Protocol`] and imports it from here; this module imports no
//! mode, so the modes and the loop never import each other.
//!
//! Every method is bounded: a protocol answers what it was given (one read,
//! or one kept line) and returns, so the loop can write each reply before it
//! asks for the next, and a peer that does not read stops being read.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use super::events::ConnId;
use super::inbox::Inbox;

/// Chunk modes read at most this much at a time (and at most `--max-line`);
/// framed modes read this much, and keep at most `--max-line` of it.
pub(crate) const READ_CHUNK: usize = 64 * 1024;

/// A long reply made a piece at a time as it is written (kv's `list`), so
/// a peer that reads slowly holds one piece, not the whole reply.
pub(crate) struct Body(pub(crate) Box<dyn Iterator<Item = Vec<u8>> + Send>);

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Body")
    }
}

/// What a protocol wants done after it handled some input.
#[derive(Debug, Default)]
pub(crate) struct Out {
    /// Each a separate write, in order.
    pub(crate) writes: Vec<Vec<u8>>,
    /// Written after `writes`, a piece per write.
    pub(crate) body: Option<Body>,
    /// Lines for the log.
    pub(crate) notes: Vec<String>,
    /// Lines or messages dropped for being longer than this.
    pub(crate) too_long: Option<usize>,
    /// Close the connection after the writes (chat's /quit).
    pub(crate) close: bool,
}

impl Out {
    pub(crate) fn write(&mut self, bytes: impl Into<Vec<u8>>) {
        self.writes.push(bytes.into());
    }

    pub(crate) fn note(&mut self, text: impl Into<String>) {
        self.notes.push(text.into());
    }

    /// The writes, then the body's pieces, taken out to be written in order.
    pub(crate) fn take_writes(&mut self) -> impl Iterator<Item = Vec<u8>> + Send {
        let body = self.body.take().map(|b| b.0);
        std::mem::take(&mut self.writes)
            .into_iter()
            .chain(body.into_iter().flatten())
    }
}

/// The answer of [`Protocol::step`]: true if it handled a kept unit (and
/// `out` may hold its reply), false if none is kept. Boxed, so protocols
/// can be chosen at run time; only kv really waits (for its file).
pub(crate) type Step<'a> = Pin<Box<dyn Future<Output = bool> + Send + 'a>>;

/// A `step` that is already done, for protocols that never wait.
pub(crate) fn done(handled: bool) -> Step<'static> {
    Box::pin(std::future::ready(handled))
}

/// Makes connection `id`'s protocol: what a mode is, for the server.
pub(crate) type NewProtocol = Arc<dyn Fn(ConnId) -> Box<dyn Protocol> + Send + Sync>;

/// What a mode does on one connection. The loop calls [`open`](Self::open)
/// once, then for each read [`data`](Self::data) and [`step`](Self::step)
/// until it returns false; at the peer's FIN [`end`](Self::end) and `step`
/// again; and [`close`](Self::close) last, however the connection ended.
pub(crate) trait Protocol: Send {
    /// Writes when the connection opens (greet's greeting, chat's welcome).
    fn open(&mut self, _out: &mut Out) {}

    /// A read's bytes. Chunk modes answer them at once in `out`; framed
    /// modes keep them (bounded) for [`step`](Self::step).
    fn data(&mut self, chunk: &[u8], out: &mut Out);

    /// Handles the next kept line or message. One at a time, so each reply
    /// is written before the next is made: a read full of short commands
    /// cannot pile up long replies.
    fn step<'a>(&'a mut self, _out: &'a mut Out) -> Step<'a> {
        done(false)
    }

    /// The peer will send nothing more: an unfinished last line is still a line.
    fn end(&mut self) {}

    /// True while part of a line or message is kept, waiting for its end.
    /// The idle clock is not reset by such reads: a client that trickles a
    /// byte a minute into a line that never ends is idle, and loses its slot
    /// after the idle time, as an HTTP server times out a slow header.
    fn holds_partial(&self) -> bool {
        false
    }

    /// The connection is going away, whatever the reason.
    fn close(&mut self) {}

    /// How much one read may take, given `--max-line`.
    fn read_size(&self, _max_line: usize) -> usize {
        READ_CHUNK
    }

    /// Messages other connections send to this one (chat), taken once.
    fn inbox(&mut self) -> Option<Inbox> {
        None
    }

    /// A last line for the peer when the server shuts down.
    fn shutdown_notice(&self) -> Option<&'static [u8]> {
        None
    }
}

/// Drives `protocol` through one read without a socket, as the connection
/// loop would: everything it wants done, writes in order.
#[cfg(test)]
pub(crate) async fn answer(protocol: &mut dyn Protocol, chunk: &[u8]) -> Out {
    let mut out = Out::default();
    protocol.data(chunk, &mut out);
    while protocol.step(&mut out).await {}
    out
}
