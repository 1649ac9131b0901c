//! One traced exchange: a server accepts one connection, a client writes the
//! planned buffers, each side logs what its application saw, and the client
//! closes the way the plan says.
//!
//! The client waits for the server's replies by watching the server's own
//! byte counts (both ends live in this process), not by sleeping: it closes
//! once the server has read everything and the client has read every reply.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use super::ServerMode;
use crate::values::{EventKind, SocketLog};
use crate::{Error, Result};

/// How the client ends the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CloseMode {
    /// `socket.end()`: FIN after the replies arrived; the server ends too.
    End,
    /// `socket.destroy()` with zero linger: RST instead of FIN.
    Destroy,
    /// `end()` right after the writes: the server reads to the end, then
    /// still sends its replies over the half-open connection.
    Half,
}

/// What the exchange does.
#[derive(Debug, Clone)]
pub struct ExchangePlan {
    /// One client write each.
    pub writes: Vec<Vec<u8>>,
    pub server: ServerMode,
    pub close: CloseMode,
    /// TCP_NODELAY on both sockets.
    pub nodelay: bool,
    /// The client corks its socket (TCP_CORK) around its writes, so they
    /// leave as few full segments as the kernel can make.
    pub cork: bool,
    /// The server waits this long before its first read, so writes pile
    /// up in its receive buffer.
    pub server_read_delay: Duration,
    /// Give up if the exchange has not finished by then.
    pub timeout: Duration,
}

impl ExchangePlan {
    /// The plain exchange: these writes, Nagle on, no cork, a prompt
    /// reader, five seconds to finish.
    pub fn new(writes: &[&[u8]], server: ServerMode, close: CloseMode) -> Self {
        ExchangePlan {
            writes: writes.iter().map(|w| w.to_vec()).collect(),
            server,
            close,
            nodelay: false,
            cork: false,
            server_read_delay: Duration::ZERO,
            timeout: Duration::from_secs(5),
        }
    }
}

/// The outcome: addresses and each application's view.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// The client's local address (`socket.address()` on the client).
    pub client_addr: SocketAddr,
    pub server_addr: SocketAddr,
    /// The client's address as the server's accept() saw it (its
    /// `remoteAddress`): `::ffff:127.0.0.1` for an IPv4 client of an IPv6 socket.
    pub client_seen_by_server: SocketAddr,
    pub client: SocketLog,
    pub server: SocketLog,
}

/// The server's running byte counts, watched by the client.
#[derive(Debug, Clone, Copy, Default)]
struct Progress {
    read: u64,
    written: u64,
}

const READ_BUF: usize = 64 * 1024;

/// Runs the exchange against `listener`; `clock` is time zero of the events.
pub async fn run_exchange(
    listener: TcpListener,
    plan: &ExchangePlan,
    clock: Instant,
) -> Result<Exchange> {
    let server_addr = listener
        .local_addr()
        .map_err(|e| Error::io("listener address", e))?;
    let (progress_tx, progress_rx) = watch::channel(Progress::default());
    let server = tokio::spawn(serve_one(listener, plan.clone(), clock, progress_tx));
    let run = async {
        let (client_addr, client) = run_client(server_addr, plan, clock, progress_rx).await?;
        let (server, client_seen_by_server) = server
            .await
            .map_err(|e| Error::Trace(format!("server task failed: {e}")))??;
        Ok::<_, Error>(Exchange {
            client_addr,
            server_addr,
            client_seen_by_server,
            client,
            server,
        })
    };
    tokio::time::timeout(plan.timeout, run).await.map_err(|_| {
        Error::Trace(format!(
            "the exchange did not finish within {} ms",
            plan.timeout.as_millis()
        ))
    })?
}

async fn serve_one(
    listener: TcpListener,
    plan: ExchangePlan,
    clock: Instant,
    progress: watch::Sender<Progress>,
) -> Result<(SocketLog, SocketAddr)> {
    let mut log = SocketLog::default();
    let (mut sock, peer) = listener
        .accept()
        .await
        .map_err(|e| Error::io("accept", e))?;
    log.push(clock, EventKind::Connection);
    if plan.nodelay {
        sock.set_nodelay(true)
            .map_err(|e| Error::io("TCP_NODELAY", e))?;
    }
    let mut buf = vec![0u8; READ_BUF];
    let mut deferred: Vec<Vec<u8>> = Vec::new();
    let mut pending = super::modes::Pending::default();
    if !plan.server_read_delay.is_zero() {
        tokio::time::sleep(plan.server_read_delay).await;
    }
    loop {
        match sock.read(&mut buf).await {
            Ok(0) => {
                log.push(clock, EventKind::End);
                break;
            }
            Ok(n) => {
                log.data(clock, n);
                progress.send_modify(|p| p.read += n as u64);
                for reply in plan.server.replies(&mut pending, &buf[..n]) {
                    if plan.close == CloseMode::Half {
                        deferred.push(reply);
                    } else if !write_reply(&mut sock, &reply, &mut log, clock, &progress).await {
                        return Ok((log, peer));
                    }
                }
            }
            Err(e) => {
                log.error(clock, &e);
                log.push(clock, EventKind::Close);
                return Ok((log, peer));
            }
        }
    }
    for reply in deferred {
        if !write_reply(&mut sock, &reply, &mut log, clock, &progress).await {
            return Ok((log, peer));
        }
    }
    // Node's default (allowHalfOpen false): the server ends when the client does.
    if let Err(e) = sock.shutdown().await {
        log.error(clock, &e);
    }
    log.push(clock, EventKind::Close);
    Ok((log, peer))
}

/// Writes one reply; on failure logs `error` and `close` and returns false.
async fn write_reply(
    sock: &mut TcpStream,
    reply: &[u8],
    log: &mut SocketLog,
    clock: Instant,
    progress: &watch::Sender<Progress>,
) -> bool {
    match sock.write_all(reply).await {
        Ok(()) => {
            log.bytes_written += reply.len() as u64;
            progress.send_modify(|p| p.written += reply.len() as u64);
            true
        }
        Err(e) => {
            log.error(clock, &e);
            log.push(clock, EventKind::Close);
            false
        }
    }
}

async fn run_client(
    server_addr: SocketAddr,
    plan: &ExchangePlan,
    clock: Instant,
    mut progress: watch::Receiver<Progress>,
) -> Result<(SocketAddr, SocketLog)> {
    let mut log = SocketLog::default();
    // A server on an IPv4-mapped IPv6 address is reached as IPv4 clients
    // reach dual-stack servers: at the plain IPv4 address.
    let target = match server_addr {
        SocketAddr::V6(v6) => match v6.ip().to_ipv4_mapped() {
            Some(v4) => SocketAddr::new(v4.into(), v6.port()),
            None => server_addr,
        },
        v4 => v4,
    };
    let mut sock = TcpStream::connect(target)
        .await
        .map_err(|e| Error::io(format!("connect to {server_addr}"), e))?;
    let local = sock
        .local_addr()
        .map_err(|e| Error::io("client address", e))?;
    log.push(clock, EventKind::Connect);
    if plan.nodelay {
        sock.set_nodelay(true)
            .map_err(|e| Error::io("TCP_NODELAY", e))?;
    }
    if plan.cork {
        set_cork(&sock, true)?;
    }
    for w in &plan.writes {
        sock.write_all(w)
            .await
            .map_err(|e| Error::io("client write", e))?;
        log.bytes_written += w.len() as u64;
    }
    if plan.cork {
        // Uncorking sends what was held at once.
        set_cork(&sock, false)?;
    }
    let mut buf = vec![0u8; READ_BUF];
    match plan.close {
        CloseMode::Half => {
            sock.shutdown()
                .await
                .map_err(|e| Error::io("client end()", e))?;
            read_to_end(&mut sock, &mut buf, &mut log, clock).await;
        }
        CloseMode::End => {
            if wait_for_replies(&mut sock, &mut buf, &mut log, clock, &mut progress).await {
                sock.shutdown()
                    .await
                    .map_err(|e| Error::io("client end()", e))?;
                read_to_end(&mut sock, &mut buf, &mut log, clock).await;
            }
        }
        CloseMode::Destroy => {
            if wait_for_replies(&mut sock, &mut buf, &mut log, clock, &mut progress).await {
                // Zero linger makes close() send RST and discard unsent data.
                sock.set_zero_linger()
                    .map_err(|e| Error::io("SO_LINGER", e))?;
                drop(sock);
                log.push(clock, EventKind::Close);
            }
        }
    }
    Ok((local, log))
}

fn set_cork(sock: &TcpStream, on: bool) -> Result<()> {
    socket2::SockRef::from(sock)
        .set_tcp_cork(on)
        .map_err(|e| Error::io("TCP_CORK", e))
}

/// Reads until the server has read all the client wrote and the client has
/// read all the server wrote. False if the connection ended first (logged).
async fn wait_for_replies(
    sock: &mut TcpStream,
    buf: &mut [u8],
    log: &mut SocketLog,
    clock: Instant,
    progress: &mut watch::Receiver<Progress>,
) -> bool {
    let mut server_gone = false;
    loop {
        let p = *progress.borrow_and_update();
        if p.read >= log.bytes_written && log.bytes_read >= p.written {
            return true;
        }
        let read = tokio::select! {
            r = sock.read(buf) => r,
            changed = progress.changed(), if !server_gone => {
                // A gone server has published its final counts already.
                server_gone = changed.is_err();
                continue;
            }
        };
        match read {
            Ok(0) => {
                log.push(clock, EventKind::End);
                log.push(clock, EventKind::Close);
                return false;
            }
            Ok(n) => log.data(clock, n),
            Err(e) => {
                log.error(clock, &e);
                log.push(clock, EventKind::Close);
                return false;
            }
        }
    }
}

async fn read_to_end(sock: &mut TcpStream, buf: &mut [u8], log: &mut SocketLog, clock: Instant) {
    loop {
        match sock.read(buf).await {
            Ok(0) => {
                log.push(clock, EventKind::End);
                break;
            }
            Ok(n) => log.data(clock, n),
            Err(e) => {
                log.error(clock, &e);
                break;
            }
        }
    }
    log.push(clock, EventKind::Close);
}
