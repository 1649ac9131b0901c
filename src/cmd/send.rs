//! `tcplab send HOST:PORT`: the client of the lessons, with every reply
//! shown byte by byte as it arrives and the failures named.

use std::io::Write;
use std::net::SocketAddr;
use std::time::Instant;

use super::{load_writes, output_error};
use crate::cli::{resolve_color, terminal_width, ColorChoice, Format, Send};
use crate::lab::client::{self, Attempt, ClientEvent};
use crate::render::{hexdump, Paint, Palette, Span};
use crate::values::SocketLog;
use crate::{Error, NetKind, Result};

/// Runs `send` and writes what happens to `out` as it happens.
pub fn run(args: &Send, color: ColorChoice, out: &mut dyn Write) -> Result<()> {
    let writes = load_writes(&args.writes)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("starting the runtime", e))?;
    let pal = Palette {
        enabled: resolve_color(color),
    };
    let per_line = if terminal_width().unwrap_or(100) >= 75 {
        16
    } else {
        8
    };
    let json = args.format == Format::Json;
    let mut report = serde_json::json!({"target": args.target, "attempts": [], "replies": []});
    let mut io_error = None;
    let mut say = |out: &mut dyn Write, text: &str| {
        if !json && io_error.is_none() {
            if let Err(e) = writeln!(out, "{text}").and_then(|()| out.flush()) {
                io_error = Some(e);
            }
        }
    };

    let addrs = rt.block_on(resolve(&args.target))?;
    let policy = args.retry;
    let mut attempts = Vec::new();
    let connected = rt.block_on(client::connect(&addrs, &policy, |a: &Attempt| {
        attempts.push(a.clone());
        if let Some((kind, detail)) = &a.failure {
            let mut line = format!("attempt {}: {}: {kind} ({detail})", a.number, a.addr);
            if let Some(d) = a.retry_in {
                line.push_str(&format!("; retrying in {} ms", d.as_millis()));
            }
            say(out, &pal.paint(Paint::Warn, &line));
        }
    }));
    report["attempts"] = attempts
        .iter()
        .map(|a| {
            serde_json::json!({
                "attempt": a.number,
                "address": a.addr.to_string(),
                "error": a.failure.as_ref().map(|(_, d)| d.clone()),
                "retry_in_ms": a.retry_in.map(|d| d.as_millis() as u64),
            })
        })
        .collect();
    let sock = match connected {
        Ok(s) => s,
        Err((addr, kind, detail)) => {
            if json {
                write_json(out, &report)?;
            }
            return Err(Error::Net {
                addr: addr.to_string(),
                kind,
                detail: format!(
                    "{detail}, {} attempt{}{}",
                    attempts.len(),
                    if attempts.len() == 1 { "" } else { "s" },
                    if kind == NetKind::Refused {
                        "; is the server running?"
                    } else {
                        ""
                    }
                ),
            });
        }
    };
    let (local, remote) = (
        sock.local_addr()
            .map_err(|e| Error::io("local address", e))?,
        sock.peer_addr().map_err(|e| Error::io("peer address", e))?,
    );
    if args.nodelay {
        sock.set_nodelay(true)
            .map_err(|e| Error::io("TCP_NODELAY", e))?;
    }
    let family = if remote.is_ipv4() { "IPv4" } else { "IPv6" };
    say(
        out,
        &pal.paint(
            Paint::Heading,
            &format!(
                "connected: {local} → {remote} ({family}), attempt {}",
                attempts.len()
            ),
        ),
    );
    report["connection"] = serde_json::json!({
        "local": {"address": local.ip().to_string(), "port": local.port()},
        "remote": {"address": remote.ip().to_string(), "port": remote.port(), "family": family},
    });

    let clock = Instant::now();
    let idle = args.idle;
    let mut replies = Vec::new();
    let on_event = |e: &ClientEvent| {
        let text = match e {
            ClientEvent::Wrote(n) => format!("→ wrote {n} bytes"),
            ClientEvent::Data { t_ms, bytes } => {
                replies.push(serde_json::json!({"t_ms": (t_ms * 1000.0).round() / 1000.0, "bytes": bytes.len(), "hex": hex::encode(bytes)}));
                let mut dump = Vec::new();
                let spans = [Span {
                    range: 0..bytes.len(),
                    paint: Paint::Payload,
                }];
                let _ = hexdump(&mut dump, bytes, &spans, pal, per_line, "  ");
                format!(
                    "← {} bytes at {t_ms:.3} ms\n{}",
                    bytes.len(),
                    String::from_utf8_lossy(&dump).trim_end()
                )
            }
            ClientEvent::End => "← end: the server closed its side (FIN)".to_string(),
            ClientEvent::SentFin => "→ end(): FIN sent".to_string(),
            ClientEvent::SentRst => "→ destroy(): RST sent".to_string(),
            ClientEvent::Quiet => format!("  (no reply for {} ms)", idle.as_millis()),
            ClientEvent::Error(kind, detail) => {
                pal.paint(Paint::Bad, &format!("error: {kind} ({detail})"))
            }
        };
        say(out, &text);
    };
    let (log, failure) = if args.interactive {
        rt.block_on(client::interactive(
            sock,
            tokio::io::stdin(),
            idle,
            clock,
            on_event,
        ))
    } else {
        rt.block_on(client::converse(
            sock,
            &writes,
            args.ending,
            idle,
            clock,
            on_event,
        ))
    };
    say(out, &stats_line(&log));
    if let Some(e) = io_error {
        return Err(output_error(e));
    }
    if json {
        report["replies"] = replies.into();
        report["socket"] = serde_json::to_value(&log).unwrap_or_default();
        write_json(out, &report)?;
    }
    match failure {
        None => Ok(()),
        Some((kind, detail)) => Err(Error::Net {
            addr: remote.to_string(),
            kind,
            detail,
        }),
    }
}

fn write_json(out: &mut dyn Write, v: &serde_json::Value) -> Result<()> {
    serde_json::to_writer_pretty(&mut *out, v).map_err(|e| output_error(e.into()))?;
    writeln!(out).map_err(output_error)
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

/// HOST:PORT to addresses: `127.0.0.1:8124`, `[::1]:8124`, `localhost:8124`.
async fn resolve(target: &str) -> Result<Vec<SocketAddr>> {
    let usage = || {
        Error::Usage(format!(
            "'{target}' is not HOST:PORT (e.g. 127.0.0.1:8124, [::1]:8124, localhost:8124)"
        ))
    };
    let (_, port) = target.rsplit_once(':').ok_or_else(usage)?;
    port.parse::<u16>().map_err(|_| usage())?;
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host(target)
        .await
        .map_err(|e| Error::Net {
            addr: target.to_string(),
            kind: NetKind::Other,
            detail: format!("cannot resolve the name: {e}"),
        })?
        .collect();
    if addrs.is_empty() {
        return Err(usage());
    }
    Ok(addrs)
}
