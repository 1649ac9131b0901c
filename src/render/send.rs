//! What `tcplab send` shows. For people: a line per failed attempt, the
//! connection, and each socket event as it happens, replies as hex dumps,
//! the socket log last. For programs (`--format json`): one JSON object at
//! the end with the attempts, the connection, the replies and the socket
//! log (only the attempts when no connection was made).
//!
//! Text lines are written and flushed as they happen; the first write that
//! fails stops the text and is returned by [`SendPrinter::finish`], so a
//! reader that went away does not interrupt the conversation.

use std::io::{self, Write};
use std::net::SocketAddr;
use std::time::Duration;

use super::{hexdump, Paint, Palette, Span};
use crate::values::SocketLog;
use crate::NetKind;

/// One thing the client's socket did, as `send` shows it (the lab's
/// client events, seen from here).
#[derive(Debug, Clone, Copy)]
pub enum SendEvent<'a> {
    /// The client wrote this many bytes.
    Wrote(usize),
    /// Reply bytes, at `t_ms` since the connection.
    Data {
        t_ms: f64,
        bytes: &'a [u8],
    },
    /// The server's FIN.
    End,
    SentFin,
    SentRst,
    /// No reply for this long: the reply is taken as complete.
    Quiet(Duration),
    Error(NetKind, &'a str),
}

/// Writes `send`'s output as it happens (text) or collects it (JSON).
pub struct SendPrinter {
    json: bool,
    palette: Palette,
    /// Bytes per hex-dump line.
    per_line: usize,
    report: serde_json::Value,
    replies: Vec<serde_json::Value>,
    /// The first text write that failed; nothing is written after it.
    failed: Option<io::Error>,
}

impl SendPrinter {
    /// A printer for `target`; `width` is the terminal's (16 bytes a hex
    /// line from 75 columns, 8 below).
    pub fn new(target: &str, json: bool, palette: Palette, width: usize) -> Self {
        SendPrinter {
            json,
            palette,
            per_line: if width >= 75 { 16 } else { 8 },
            report: serde_json::json!({"target": target, "attempts": [], "replies": []}),
            replies: Vec::new(),
            failed: None,
        }
    }

    /// One connection attempt: `failure` is `None` when it connected.
    pub fn attempt(
        &mut self,
        out: &mut dyn Write,
        number: u32,
        addr: SocketAddr,
        failure: Option<(NetKind, &str)>,
        retry_in: Option<Duration>,
    ) {
        if let Some(list) = self.report["attempts"].as_array_mut() {
            list.push(serde_json::json!({
                "attempt": number,
                "address": addr.to_string(),
                "error": failure.map(|(_, d)| d),
                "retry_in_ms": retry_in.map(|d| d.as_millis() as u64),
            }));
        }
        if let Some((kind, detail)) = failure {
            let mut line = format!("attempt {number}: {addr}: {kind} ({detail})");
            if let Some(d) = retry_in {
                line.push_str(&format!("; retrying in {} ms", d.as_millis()));
            }
            let line = self.palette.paint(Paint::Warn, &line);
            self.say(out, &line);
        }
    }

    /// The connection, made on attempt number `attempts`.
    pub fn connected(
        &mut self,
        out: &mut dyn Write,
        local: SocketAddr,
        remote: SocketAddr,
        attempts: usize,
    ) {
        let family = if remote.is_ipv4() { "IPv4" } else { "IPv6" };
        let line = format!("connected: {local} → {remote} ({family}), attempt {attempts}");
        let line = self.palette.paint(Paint::Heading, &line);
        self.say(out, &line);
        self.report["connection"] = serde_json::json!({
            "local": {"address": local.ip().to_string(), "port": local.port()},
            "remote": {"address": remote.ip().to_string(), "port": remote.port(), "family": family},
        });
    }

    /// One socket event.
    pub fn event(&mut self, out: &mut dyn Write, event: SendEvent<'_>) {
        let text = match event {
            SendEvent::Wrote(n) => format!("→ wrote {n} bytes"),
            SendEvent::Data { t_ms, bytes } => {
                self.replies.push(serde_json::json!({
                    "t_ms": (t_ms * 1000.0).round() / 1000.0,
                    "bytes": bytes.len(),
                    "hex": hex::encode(bytes),
                }));
                self.reply_text(t_ms, bytes)
            }
            SendEvent::End => "← end: the server closed its side (FIN)".to_string(),
            SendEvent::SentFin => "→ end(): FIN sent".to_string(),
            SendEvent::SentRst => "→ reset: RST sent (zero linger)".to_string(),
            SendEvent::Quiet(idle) => format!("  (no reply for {} ms)", idle.as_millis()),
            SendEvent::Error(kind, detail) => {
                let line = format!("error: {kind} ({detail})");
                self.palette.paint(Paint::Bad, &line)
            }
        };
        self.say(out, &text);
    }

    /// The socket log, last: a line of text, or the JSON's `socket`.
    pub fn socket(&mut self, out: &mut dyn Write, log: &SocketLog) {
        self.say(out, &stats_line(log));
        self.report["replies"] = std::mem::take(&mut self.replies).into();
        self.report["socket"] = serde_json::to_value(log).unwrap_or_default();
    }

    /// Ends the output: the first failed text write, or the JSON object.
    pub fn finish(&mut self, out: &mut dyn Write) -> io::Result<()> {
        if let Some(e) = self.failed.take() {
            return Err(e);
        }
        if self.json {
            serde_json::to_writer_pretty(&mut *out, &self.report)?;
            writeln!(out)?;
        }
        Ok(())
    }

    /// `← 5 bytes at 0.312 ms` and the bytes' hex dump under it.
    fn reply_text(&self, t_ms: f64, bytes: &[u8]) -> String {
        let mut dump = Vec::new();
        let spans = [Span {
            range: 0..bytes.len(),
            paint: Paint::Payload,
        }];
        let _ = hexdump(&mut dump, bytes, &spans, self.palette, self.per_line, "  ");
        format!(
            "← {} bytes at {t_ms:.3} ms\n{}",
            bytes.len(),
            String::from_utf8_lossy(&dump).trim_end()
        )
    }

    /// A line of text, now (nothing in JSON mode, nothing after a failure).
    fn say(&mut self, out: &mut dyn Write, text: &str) {
        if !self.json && self.failed.is_none() {
            if let Err(e) = writeln!(out, "{text}").and_then(|()| out.flush()) {
                self.failed = Some(e);
            }
        }
    }
}

/// `socket: wrote 5, read 5 · connect → data(5) → end → close`
fn stats_line(log: &SocketLog) -> String {
    let events: Vec<String> = log
        .events
        .iter()
        .map(|e| match e.bytes {
            Some(n) => format!("data({n})"),
            None => e.event.name().to_string(),
        })
        .collect();
    format!(
        "socket: wrote {}, read {} · {}",
        log.bytes_written,
        log.bytes_read,
        events.join(" → ")
    )
}
