//! What an application sees of its socket: events and byte counts, and
//! I/O errors named as Node names them.

use std::time::{Instant, SystemTime};

use serde::Serialize;

use super::Timestamp;

/// Socket events, named as Node's `net` module names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    /// The client's connection is established (`socket.on('connect')`).
    Connect,
    /// The server accepted a connection (`server.on('connection')`).
    Connection,
    /// Bytes arrived (`'data'`), one event per read.
    Data,
    /// The peer sent its FIN (`'end'`).
    End,
    /// The socket is fully closed (`'close'`).
    Close,
    /// A socket error such as ECONNRESET (`'error'`).
    Error,
    /// The kernel's send buffer is full: it took `accepted` bytes of a
    /// write of `bytes` and refuses the rest for now. Not a Node event:
    /// Node then keeps the whole write in `writableLength`, and its
    /// `write()` returns false once that reaches `writableHighWaterMark`.
    Blocked,
    /// The kernel has taken the last byte of a write that was `blocked`
    /// (Node's `'drain'`, when its `write()` had returned false).
    Drain,
}

impl EventKind {
    /// The event's name as Node emits it.
    pub fn name(self) -> &'static str {
        match self {
            EventKind::Connect => "connect",
            EventKind::Connection => "connection",
            EventKind::Data => "data",
            EventKind::End => "end",
            EventKind::Close => "close",
            EventKind::Error => "error",
            EventKind::Blocked => "blocked",
            EventKind::Drain => "drain",
        }
    }
}

/// One event with its time since the exchange started.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SocketEvent {
    pub event: EventKind,
    pub t_ms: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes: Option<usize>,
    /// `blocked`: how many bytes of the write the kernel had taken.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accepted: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The wall clock when it happened, the clock capture timestamps
    /// use: the ladder places the event among the segments by it. `None`
    /// when the log was rebuilt after the fact (the time is not known).
    #[serde(skip)]
    pub at: Option<Timestamp>,
}

/// What the application asked of its socket, named as Node names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum CallKind {
    /// `socket.write(buf)`.
    Write,
    /// `socket.end()`: no more writes, send the FIN.
    End,
    /// `socket.resetAndDestroy()`: close with a RST (zero linger).
    ResetAndDestroy,
    /// `socket.destroy()`: close the socket (a FIN if none was sent).
    Destroy,
}

impl CallKind {
    /// The call as written in a program: `write()`, `end()`.
    pub fn name(self) -> &'static str {
        match self {
            CallKind::Write => "write()",
            CallKind::End => "end()",
            CallKind::ResetAndDestroy => "resetAndDestroy()",
            CallKind::Destroy => "destroy()",
        }
    }
}

/// One call the application made, logged as it began (before the kernel
/// sent anything for it).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Call {
    pub call: CallKind,
    pub t_ms: f64,
    /// A write's size.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes: Option<usize>,
    /// The call failed (`write()` after the peer reset: EPIPE); a failed
    /// write sent nothing.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub failed: bool,
    /// The wall clock as the call began (see [`SocketEvent::at`]).
    #[serde(skip)]
    pub at: Option<Timestamp>,
}

/// One side's view of the exchange.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SocketLog {
    pub bytes_written: u64,
    pub bytes_read: u64,
    pub events: Vec<SocketEvent>,
    /// The application's calls (`write()`, `end()`...) in order: not
    /// events, so not in `events`.
    pub calls: Vec<Call>,
}

/// Milliseconds since `clock` started, to the microsecond.
fn millis_since(clock: Instant) -> f64 {
    (clock.elapsed().as_secs_f64() * 1e3 * 1000.0).round() / 1000.0
}

impl SocketLog {
    pub(crate) fn push(&mut self, clock: Instant, event: EventKind) -> &mut SocketEvent {
        self.push_at(millis_since(clock), Some(SystemTime::now().into()), event)
    }

    /// An event that happened at `t_ms` on the log's clock, `at` on the
    /// wall clock: for a log rebuilt from another's reports.
    pub(crate) fn push_at(
        &mut self,
        t_ms: f64,
        at: Option<Timestamp>,
        event: EventKind,
    ) -> &mut SocketEvent {
        let i = self.events.len();
        self.events.push(SocketEvent {
            event,
            t_ms,
            bytes: None,
            accepted: None,
            message: None,
            at,
        });
        &mut self.events[i]
    }

    /// The application calls `call` (log it before the call is made).
    pub(crate) fn call(&mut self, clock: Instant, call: CallKind) -> &mut Call {
        self.calls.push(Call {
            call,
            t_ms: millis_since(clock),
            bytes: None,
            failed: false,
            at: Some(SystemTime::now().into()),
        });
        let last = self.calls.len() - 1;
        &mut self.calls[last]
    }

    /// The last call failed; `e` is logged as the `'error'` it gave.
    pub(crate) fn call_failed(&mut self, clock: Instant, e: &std::io::Error) {
        if let Some(c) = self.calls.last_mut() {
            c.failed = true;
        }
        self.error(clock, e);
    }

    /// A `write()` of `bytes` begins (log it before writing).
    pub(crate) fn write_call(&mut self, clock: Instant, bytes: usize) {
        self.call(clock, CallKind::Write).bytes = Some(bytes);
    }

    pub(crate) fn data(&mut self, clock: Instant, n: usize) {
        self.bytes_read += n as u64;
        self.push(clock, EventKind::Data).bytes = Some(n);
    }

    /// A write of `len` bytes the kernel refused after taking `accepted`.
    pub(crate) fn blocked(&mut self, clock: Instant, len: usize, accepted: usize) {
        let e = self.push(clock, EventKind::Blocked);
        e.bytes = Some(len);
        e.accepted = Some(accepted);
    }

    /// The blocked write of `len` bytes is all in the kernel now.
    pub(crate) fn drain(&mut self, clock: Instant, len: usize) {
        self.push(clock, EventKind::Drain).bytes = Some(len);
    }

    pub(crate) fn error(&mut self, clock: Instant, e: &std::io::Error) {
        self.push(clock, EventKind::Error).message = Some(describe_io_error(e));
    }

    /// The sizes of the `data` events, in order.
    pub fn reads(&self) -> Vec<usize> {
        self.events
            .iter()
            .filter(|e| e.event == EventKind::Data)
            .filter_map(|e| e.bytes)
            .collect()
    }
}

/// The errno name Node gives an I/O error (`ECONNREFUSED`...), if it has one.
/// The one errno table: clients, servers and the socket log all read it.
pub fn errno_code(e: &std::io::Error) -> Option<&'static str> {
    use std::io::ErrorKind::*;
    Some(match e.kind() {
        ConnectionReset => "ECONNRESET",
        ConnectionRefused => "ECONNREFUSED",
        ConnectionAborted => "ECONNABORTED",
        BrokenPipe => "EPIPE",
        TimedOut => "ETIMEDOUT",
        HostUnreachable => "EHOSTUNREACH",
        NetworkUnreachable => "ENETUNREACH",
        _ => return None,
    })
}

/// The errno name Node would show (`ECONNREFUSED`...), or the OS text.
pub fn errno_name(e: &std::io::Error) -> String {
    errno_code(e).map_or_else(|| e.to_string(), str::to_string)
}

/// An I/O error in the words Node uses (`ECONNRESET`, ...), plus the OS text.
pub fn describe_io_error(e: &std::io::Error) -> String {
    // Rust's "Connection refused (os error 111)": the number says again
    // what the code says, and Node never shows it.
    let text = e.to_string();
    let text = match text.rfind(" (os error ") {
        Some(i) if text.ends_with(')') => &text[..i],
        _ => &text,
    };
    match errno_code(e) {
        Some(code) => format!("{code}: {text}"),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::describe_io_error;

    #[test]
    fn an_error_is_named_as_node_names_it_without_rusts_errno() {
        let e = std::io::Error::from_raw_os_error(104);
        assert_eq!(
            describe_io_error(&e),
            "ECONNRESET: Connection reset by peer"
        );
        let e = std::io::Error::from_raw_os_error(32);
        assert_eq!(describe_io_error(&e), "EPIPE: Broken pipe");
        let e = std::io::Error::other("no (os error here");
        assert_eq!(describe_io_error(&e), "no (os error here");
    }
}
