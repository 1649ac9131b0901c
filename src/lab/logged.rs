//! A lab's own client socket that logs what its application did and saw,
//! as the exchange's client does: each call as it begins, each read as an
//! event. The multi-connection labs (crash, chat) drive these by hand.
//!
//! Also the other direction: a lesson server's reported events turned
//! back into one socket log per connection, stamped when they were reported.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::serve::{ConnId, ServerEvent};
use crate::values::{Call, CallKind, EventKind, SocketLog, Timestamp};

/// A client socket and its log.
pub struct LoggedStream {
    sock: TcpStream,
    log: SocketLog,
    clock: Instant,
    /// Bytes read and not yet taken by [`LoggedStream::read_line`].
    pending: Vec<u8>,
}

impl LoggedStream {
    /// Connects to `addr`; the log's times count from `clock`.
    pub async fn connect(addr: SocketAddr, clock: Instant) -> std::io::Result<LoggedStream> {
        let sock = TcpStream::connect(addr).await?;
        let mut log = SocketLog::default();
        log.push(clock, EventKind::Connect);
        Ok(LoggedStream {
            sock,
            log,
            clock,
            pending: Vec::new(),
        })
    }

    /// `socket.write(bytes)`, waiting until the kernel took them all.
    pub async fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.log.write_call(self.clock, bytes.len());
        match self.sock.write_all(bytes).await {
            Ok(()) => {
                self.log.bytes_written += bytes.len() as u64;
                Ok(())
            }
            Err(e) => {
                self.log.call_failed(self.clock, &e);
                Err(e)
            }
        }
    }

    /// One read, logged as `'data'` (or `'end'` for 0 bytes).
    pub async fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self.sock.read(buf).await {
            Ok(0) => {
                self.log.push(self.clock, EventKind::End);
                Ok(0)
            }
            Ok(n) => {
                self.log.data(self.clock, n);
                Ok(n)
            }
            Err(e) => Err(self.failed(e)),
        }
    }

    /// The next line (without its newline), reading as needed within
    /// `limit`; `None` on the end of the stream, an error or the time
    /// running out. Reads stay whole reads in the log, as `'data'` events.
    pub async fn read_line(&mut self, limit: Duration) -> Option<String> {
        let deadline = tokio::time::Instant::now() + limit;
        let mut buf = [0u8; 4096];
        loop {
            if let Some(nl) = self.pending.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.pending.drain(..=nl).collect();
                return Some(String::from_utf8_lossy(&line).trim_end().to_string());
            }
            let read = tokio::time::timeout_at(deadline, self.read(&mut buf)).await;
            match read {
                Ok(Ok(n)) if n > 0 => self.pending.extend_from_slice(&buf[..n]),
                _ => return None,
            }
        }
    }

    /// Reads until the peer's FIN, an error, or `limit` of waiting.
    pub async fn read_to_end(&mut self, limit: Duration) {
        let mut buf = [0u8; 4096];
        while let Ok(Ok(n)) = tokio::time::timeout(limit, self.read(&mut buf)).await {
            if n == 0 {
                break;
            }
        }
    }

    /// `socket.end()`: our FIN.
    pub async fn end(&mut self) -> std::io::Result<()> {
        self.log.call(self.clock, CallKind::End);
        self.sock.shutdown().await.map_err(|e| self.failed(e))
    }

    /// The socket's local address.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.sock.local_addr()
    }

    /// `socket.destroy()`: closes the socket (its FIN, unless `end()`
    /// sent it); the log ends with `'close'`.
    pub fn close(mut self) -> SocketLog {
        self.log.call(self.clock, CallKind::Destroy);
        drop(self.sock);
        self.log.push(self.clock, EventKind::Close);
        self.log
    }

    fn failed(&mut self, e: std::io::Error) -> std::io::Error {
        self.log.error(self.clock, &e);
        e
    }
}

/// A server event as reported, with the wall clock and the instant it came.
pub type Stamped = (SystemTime, Instant, ServerEvent);

/// One socket log per connection of a lesson server, from its events:
/// `'connection'`, `'data'`, `'end'`, `'error'`, `'close'` and the byte
/// counts, each at the time it was reported (times count from `clock`).
/// Its writes are the logs' calls.
pub fn server_logs(events: &[Stamped], clock: Instant) -> BTreeMap<ConnId, SocketLog> {
    let mut logs: BTreeMap<ConnId, SocketLog> = BTreeMap::new();
    for (wall, instant, e) in events {
        let t_ms = instant.saturating_duration_since(clock).as_secs_f64() * 1e3;
        let at = Some(Timestamp::from(*wall));
        let (id, kind) = match e {
            ServerEvent::Connection { id, .. } => (*id, EventKind::Connection),
            ServerEvent::Data { id, .. } => (*id, EventKind::Data),
            ServerEvent::Write { id, len } => {
                logs.entry(*id).or_default().calls.push(Call {
                    call: CallKind::Write,
                    t_ms,
                    bytes: Some(*len),
                    failed: false,
                    at,
                });
                continue;
            }
            ServerEvent::End { id } => (*id, EventKind::End),
            ServerEvent::Error { id: Some(id), .. } => (*id, EventKind::Error),
            ServerEvent::Close { id, .. } => (*id, EventKind::Close),
            _ => continue,
        };
        let log = logs.entry(id).or_default();
        let event = log.push_at(t_ms, at, kind);
        match e {
            ServerEvent::Data { len, .. } => event.bytes = Some(*len),
            ServerEvent::Error { message, .. } => event.message = Some(message.clone()),
            ServerEvent::Close {
                bytes_read,
                bytes_written,
                ..
            } => {
                log.bytes_read = *bytes_read;
                log.bytes_written = *bytes_written;
            }
            _ => {}
        }
    }
    logs
}
