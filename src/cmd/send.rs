//! `tcplab send HOST:PORT`: the client of the lessons, with every reply
//! shown byte by byte as it arrives (`render::SendPrinter`) and the
//! failures named.

use std::io::Write;
use std::net::SocketAddr;
use std::time::Instant;

use tokio::net::TcpStream;
use tokio::runtime::Runtime;

use super::{load_writes, output_error};
use crate::cli::{resolve_color, terminal_width, ColorChoice, Format, Send};
use crate::lab::client::{self, Attempt, ClientEvent};
use crate::render::{Palette, SendEvent, SendPrinter};
use crate::values::SocketLog;
use crate::{Error, NetKind, Result};

/// Runs `send` and writes what happens to `out` as it happens.
pub fn run(args: &Send, color: ColorChoice, out: &mut dyn Write) -> Result<()> {
    let writes = load_writes(&args.writes)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("starting the runtime", e))?;
    let palette = Palette {
        enabled: resolve_color(color),
    };
    let json = args.format == Format::Json;
    let width = terminal_width().unwrap_or(100);
    let mut printer = SendPrinter::new(&args.target, json, palette, width);
    let addrs = rt.block_on(resolve(&args.target))?;
    let (sock, remote) = connect(&rt, args, &addrs, &mut printer, out)?;
    let (log, failure) = converse(&rt, args, sock, &writes, &mut printer, out);
    printer.socket(out, &log);
    printer.finish(out).map_err(output_error)?;
    match failure {
        None => Ok(()),
        Some((kind, detail)) => Err(Error::Net {
            addr: remote.to_string(),
            kind,
            detail,
        }),
    }
}

/// Connects as `--retry` and the rest say, showing each attempt; the
/// socket and the server's address.
fn connect(
    rt: &Runtime,
    args: &Send,
    addrs: &[SocketAddr],
    printer: &mut SendPrinter,
    out: &mut dyn Write,
) -> Result<(TcpStream, SocketAddr)> {
    let mut attempts = 0usize;
    let connected = rt.block_on(client::connect(addrs, &args.retry, |a: &Attempt| {
        attempts += 1;
        let failure = a.failure.as_ref().map(|(k, d)| (*k, d.as_str()));
        printer.attempt(out, a.number, a.addr, failure, a.retry_in);
    }));
    let sock = match connected {
        Ok(s) => s,
        Err((addr, kind, detail)) => {
            // The JSON object still goes out, with the attempts; in text the
            // attempt lines did, and the refusal outranks a failed write.
            let written = printer.finish(out);
            if args.format == Format::Json {
                written.map_err(output_error)?;
            }
            return Err(refused(addr, kind, &detail, attempts));
        }
    };
    let local = sock
        .local_addr()
        .map_err(|e| Error::io("local address", e))?;
    let remote = sock.peer_addr().map_err(|e| Error::io("peer address", e))?;
    if args.nodelay {
        sock.set_nodelay(true)
            .map_err(|e| Error::io("TCP_NODELAY", e))?;
    }
    printer.connected(out, local, remote, attempts);
    Ok((sock, remote))
}

/// The connect failure after the last attempt, with the count and a hint.
fn refused(addr: SocketAddr, kind: NetKind, detail: &str, attempts: usize) -> Error {
    Error::Net {
        addr: addr.to_string(),
        kind,
        detail: format!(
            "{detail}, {attempts} attempt{}{}",
            if attempts == 1 { "" } else { "s" },
            if kind == NetKind::Refused {
                "; is the server running?"
            } else {
                ""
            }
        ),
    }
}

/// Writes and reads (or, with `--interactive`, relays stdin), showing each
/// socket event; the socket log and the failure that ended it, if any.
fn converse(
    rt: &Runtime,
    args: &Send,
    sock: TcpStream,
    writes: &[Vec<u8>],
    printer: &mut SendPrinter,
    out: &mut dyn Write,
) -> (SocketLog, Option<(NetKind, String)>) {
    let clock = Instant::now();
    let idle = args.idle;
    let on_event = |e: &ClientEvent| printer.event(out, shown(e, idle));
    if args.interactive {
        let stdin = tokio::io::stdin();
        rt.block_on(client::interactive(sock, stdin, idle, clock, on_event))
    } else {
        let ending = args.ending;
        rt.block_on(client::converse(
            sock, writes, ending, idle, clock, on_event,
        ))
    }
}

/// A client event as the printer takes it.
fn shown(e: &ClientEvent, idle: std::time::Duration) -> SendEvent<'_> {
    match e {
        ClientEvent::Wrote(n) => SendEvent::Wrote(*n),
        ClientEvent::Data { t_ms, bytes } => SendEvent::Data { t_ms: *t_ms, bytes },
        ClientEvent::End => SendEvent::End,
        ClientEvent::SentFin => SendEvent::SentFin,
        ClientEvent::SentRst => SendEvent::SentRst,
        ClientEvent::Quiet => SendEvent::Quiet(idle),
        ClientEvent::Error(kind, detail) => SendEvent::Error(*kind, detail),
    }
}

/// HOST:PORT (its form checked by `cli`) to addresses: `127.0.0.1:8124`,
/// `[::1]:8124`, `localhost:8124`.
async fn resolve(target: &str) -> Result<Vec<SocketAddr>> {
    let usage = || {
        Error::Usage(format!(
            "'{target}' is not HOST:PORT (e.g. 127.0.0.1:8124, [::1]:8124, localhost:8124)"
        ))
    };
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
