//! One connection's life: greet, read, answer, watch the idle clock and the
//! shutdown signal, close, and report each step as an event. What the bytes
//! mean is the [`Protocol`]'s business: this file names no mode.
//!
//! Reads and writes are one at a time: a peer that does not read its
//! replies stops the server reading from it (TCP's own flow control), so a
//! connection never holds more than its read buffer, one read's unanswered
//! bytes, its unfinished line and one reply (or one batch of chat lines).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;

use super::events::{ConnId, EventSink, Limit, ServerEvent};
use super::inbox::Inbox;
use super::limits::ActiveSlot;
use super::protocol::{NewProtocol, Out, Protocol, READ_CHUNK};
use crate::values::{describe_io_error, Deadline};

/// How long a closing connection may take to get its last bytes and FIN out.
const CLOSE_GRACE: Duration = Duration::from_millis(500);

/// What every connection shares.
pub(crate) struct Shared {
    pub(crate) sink: EventSink,
    /// The mode: each connection's protocol.
    pub(crate) protocols: NewProtocol,
    pub(crate) max_line: usize,
    pub(crate) idle: Option<Duration>,
    pub(crate) keep_bytes: usize,
    pub(crate) stop: watch::Receiver<bool>,
}

impl Shared {
    pub(crate) fn emit(&self, event: ServerEvent) {
        (self.sink)(event);
    }
}

/// Why a connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ended {
    /// The peer sent FIN; we answered and closed too (Node's default,
    /// `allowHalfOpen: false`).
    Peer,
    /// A socket error; nothing more can be sent.
    Error,
    Timeout,
    Shutdown,
    /// The mode closed it (chat's /quit).
    Quit,
    /// A chat client too slow to read its messages.
    Kicked,
}

struct Conn {
    id: ConnId,
    stream: TcpStream,
    shared: Arc<Shared>,
    stop: watch::Receiver<bool>,
    kick: Option<watch::Receiver<bool>>,
    read: u64,
    written: u64,
    /// When the idle clock runs out (reset by every read and write).
    deadline: Deadline,
}

impl Conn {
    fn touch(&mut self) {
        self.deadline = Deadline::after_opt(self.shared.idle);
    }

    fn emit(&self, event: ServerEvent) {
        self.shared.emit(event);
    }

    fn timed_out(&self) -> Ended {
        self.emit(ServerEvent::Timeout {
            id: self.id,
            after: self.shared.idle.unwrap_or_default(),
        });
        Ended::Timeout
    }

    fn failed(&self, e: &std::io::Error) -> Ended {
        self.emit(ServerEvent::Error {
            id: Some(self.id),
            message: describe_io_error(e),
        });
        Ended::Error
    }

    /// Writes `bytes` in full, unless the peer stops reading for the idle
    /// time, the server shuts down, or chat drops this client.
    async fn send(&mut self, bytes: &[u8]) -> Result<(), Ended> {
        if bytes.is_empty() {
            return Ok(());
        }
        self.emit(ServerEvent::Write {
            id: self.id,
            len: bytes.len(),
        });
        let deadline = self.deadline;
        let result = tokio::select! {
            biased;
            () = stopped(&mut self.stop) => return Err(Ended::Shutdown),
            () = kicked(self.kick.as_mut()) => return Err(Ended::Kicked),
            () = deadline.reached() => None,
            r = self.stream.write_all(bytes) => Some(r),
        };
        match result {
            None => Err(self.timed_out()),
            Some(Err(e)) => Err(self.failed(&e)),
            Some(Ok(())) => {
                self.written += bytes.len() as u64;
                self.touch();
                Ok(())
            }
        }
    }

    /// Logs what the mode noted, then makes its writes.
    async fn flush(&mut self, mut out: Out) -> Result<(), Ended> {
        for text in std::mem::take(&mut out.notes) {
            self.emit(ServerEvent::Note {
                id: Some(self.id),
                text,
            });
        }
        if let Some(max) = out.too_long {
            self.emit(ServerEvent::Limit {
                id: self.id,
                limit: Limit::LineTooLong { max },
            });
        }
        for w in out.take_writes() {
            self.send(&w).await?;
        }
        if out.close {
            return Err(Ended::Quit);
        }
        Ok(())
    }

    /// Handles and answers every line or message kept from the last read.
    async fn answer_all(&mut self, protocol: &mut dyn Protocol) -> Result<(), Ended> {
        for n in 1u32.. {
            let mut out = Out::default();
            if !protocol.step(&mut out).await {
                return Ok(());
            }
            self.flush(out).await?;
            // Lines that write nothing back (chat) must not hog the thread.
            if n % 64 == 0 {
                tokio::task::yield_now().await;
            }
        }
        Ok(())
    }

    /// A last write and FIN, given little time: the connection is closing.
    async fn last_words(&mut self, notice: Option<&[u8]>) {
        let stream = &mut self.stream;
        let written = &mut self.written;
        let _ = tokio::time::timeout(CLOSE_GRACE, async {
            if let Some(bytes) = notice {
                if stream.write_all(bytes).await.is_ok() {
                    *written += bytes.len() as u64;
                }
            }
            let _ = stream.shutdown().await;
        })
        .await;
    }
}

/// Serves one accepted connection until it ends; `slot` is its place in the
/// connection count, given back before the `close` event.
pub(crate) async fn serve_connection(
    stream: TcpStream,
    id: ConnId,
    shared: Arc<Shared>,
    slot: ActiveSlot,
) {
    let mut protocol = (shared.protocols)(id);
    let mut inbox = protocol.inbox();
    let read_size = protocol.read_size(shared.max_line);
    let mut conn = Conn {
        id,
        stream,
        stop: shared.stop.clone(),
        kick: inbox.as_ref().map(|i| i.kicked.clone()),
        shared,
        read: 0,
        written: 0,
        deadline: Deadline::NEVER,
    };
    conn.touch();
    let ended = run_connection(&mut conn, &mut *protocol, &mut inbox, read_size).await;
    protocol.close();
    match ended {
        Ended::Error => {}
        Ended::Shutdown => conn.last_words(protocol.shutdown_notice()).await,
        Ended::Kicked => {
            let queued = inbox.as_ref().map_or(0, Inbox::queued);
            conn.emit(ServerEvent::Limit {
                id,
                limit: Limit::SlowReader { queued },
            });
            // Its messages stay unsent: it is not reading them anyway.
        }
        Ended::Peer | Ended::Timeout | Ended::Quit => conn.last_words(None).await,
    }
    let active = slot.release();
    conn.emit(ServerEvent::Close {
        id,
        bytes_read: conn.read,
        bytes_written: conn.written,
        active,
    });
}

async fn run_connection(
    conn: &mut Conn,
    protocol: &mut dyn Protocol,
    inbox: &mut Option<Inbox>,
    read_size: usize,
) -> Ended {
    let mut out = Out::default();
    protocol.open(&mut out);
    if let Err(ended) = conn.flush(out).await {
        return ended;
    }
    let mut buf = vec![0u8; read_size];
    loop {
        let deadline = conn.deadline;
        let step = tokio::select! {
            biased;
            () = stopped(&mut conn.stop) => return Ended::Shutdown,
            () = kicked(conn.kick.as_mut()) => return Ended::Kicked,
            message = next_message(inbox) => Step::Message(message),
            r = conn.stream.read(&mut buf) => Step::Read(r),
            () = deadline.reached() => return conn.timed_out(),
        };
        let mut out = Out::default();
        match step {
            Step::Message(None) => return Ended::Kicked,
            Step::Message(Some(first)) => {
                let Some(inbox) = inbox.as_mut() else {
                    continue;
                };
                let batch = inbox.batch(first, READ_CHUNK);
                let sent = conn.send(&batch).await;
                inbox.sent(batch.len());
                if let Err(ended) = sent {
                    return ended;
                }
                continue;
            }
            Step::Read(Err(e)) => return conn.failed(&e),
            Step::Read(Ok(0)) => {
                conn.emit(ServerEvent::End { id: conn.id });
                protocol.end();
                return conn.answer_all(protocol).await.err().unwrap_or(Ended::Peer);
            }
            Step::Read(Ok(n)) => {
                conn.read += n as u64;
                conn.emit(ServerEvent::Data {
                    id: conn.id,
                    len: n,
                    bytes: (conn.shared.keep_bytes > 0)
                        .then(|| buf[..n.min(conn.shared.keep_bytes)].to_vec()),
                });
                protocol.data(&buf[..n], &mut out);
            }
        }
        if let Err(ended) = conn.flush(out).await {
            return ended;
        }
        if let Err(ended) = conn.answer_all(protocol).await {
            return ended;
        }
        // Progress is a read that left no unit unfinished (see holds_partial).
        if !protocol.holds_partial() {
            conn.touch();
        }
    }
}

enum Step {
    Message(Option<Arc<[u8]>>),
    Read(std::io::Result<usize>),
}

/// Resolves once the server is shutting down (or gone).
pub(crate) async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|&s| s).await;
}

/// Resolves once chat dropped this client; never without chat.
async fn kicked(kick: Option<&mut watch::Receiver<bool>>) {
    match kick {
        Some(k) => {
            let _ = k.wait_for(|&s| s).await;
        }
        None => std::future::pending().await,
    }
}

async fn next_message(inbox: &mut Option<Inbox>) -> Option<Arc<[u8]>> {
    match inbox {
        Some(inbox) => inbox.recv().await,
        None => std::future::pending().await,
    }
}

/// The `connection` event of an accepted peer (family as Node's
/// `remoteFamily`).
pub(crate) fn connection_event(id: ConnId, peer: SocketAddr, active: usize) -> ServerEvent {
    ServerEvent::Connection {
        id,
        peer,
        family: super::events::family(&peer),
        active,
    }
}
