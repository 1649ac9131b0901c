//! One traced exchange: a server accepts one connection, a client writes the
//! planned buffers, each side logs what its application saw, and the client
//! closes the way the plan says.
//!
//! The server is one of the lesson servers' protocols ([`ServeMode`]), with
//! their default limits, run on the one connection.
//!
//! The client waits for the server's replies by watching the server's own
//! byte counts (both ends live in this process), not by sleeping: it closes
//! once the server has read everything and the client has read every reply.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use socket2::{Domain, Socket, Type};
use tokio::io::{AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{watch, Notify};

use super::serve::{protocols, Limits, Out, Protocol, ServeMode};
use crate::values::{CallKind, EventKind, SocketLog};
use crate::{Error, Result};

/// How the client ends the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseMode {
    /// `socket.end()`: FIN after the replies arrived; the server ends too.
    End,
    /// `socket.resetAndDestroy()` (zero linger): RST instead of FIN.
    Reset,
    /// `end()` right after the writes: the server reads to the end, then
    /// still sends its replies over the half-closed connection (as a Node
    /// server does when it writes inside its `'end'` listener, or with
    /// `allowHalfOpen: true`).
    Half,
}

/// What the exchange does.
#[derive(Debug, Clone)]
pub struct ExchangePlan {
    /// One client write each.
    pub writes: Vec<Vec<u8>>,
    pub server: ServeMode,
    pub close: CloseMode,
    /// TCP_NODELAY on both sockets.
    pub nodelay: bool,
    /// The client corks its socket (TCP_CORK) around its writes, so they
    /// leave as few full segments as the kernel can make.
    pub cork: bool,
    /// The server waits this long before its first read, so writes pile
    /// up in its receive buffer.
    pub server_read_delay: Duration,
    /// The server's receive buffer (SO_RCVBUF, set on the listener before
    /// listen() so the accepted socket's window scale fits it), if not the
    /// kernel's default.
    pub rcvbuf: Option<usize>,
    /// Give up once no byte has moved (written or read, by either side)
    /// for this long.
    pub timeout: Duration,
}

impl ExchangePlan {
    /// The plain exchange: these writes, Nagle on, no cork, a prompt
    /// reader, five seconds to finish.
    pub fn new(writes: &[&[u8]], server: ServeMode, close: CloseMode) -> Self {
        ExchangePlan {
            writes: writes.iter().map(|w| w.to_vec()).collect(),
            server,
            close,
            nodelay: false,
            cork: false,
            server_read_delay: Duration::ZERO,
            rcvbuf: None,
            timeout: Duration::from_secs(5),
        }
    }
}

/// How the client goes about the plan, beyond what `tcplab trace` asks:
/// the labs' own choices.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClientWay {
    /// Connect here instead of the listener's own address: an IPv4 or an
    /// IPv6 client of one dual-stack listener on `::`.
    pub connect_to: Option<SocketAddr>,
    /// Make each write only once the server has read every byte before it,
    /// as a person typing one line at a time: a prompt reader then gets one
    /// write per read, whatever the scheduler does.
    pub paced: bool,
    /// The server's first read waits until the client has made all its
    /// writes, as in one Node process whose client writes in one tick: its
    /// server's `'data'` cannot run before that code returns. For writes
    /// the kernels' buffers hold (the server reads nothing meanwhile).
    pub writes_first: bool,
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

/// The client's running byte counts, for the message of a run that timed
/// out: it says which side was stuck where.
#[derive(Debug, Default)]
struct ClientCounts {
    written: AtomicU64,
    read: AtomicU64,
    /// Told once the client's writes are all made (or failed).
    wrote_all: Notify,
    /// Told each time the client reads.
    read_more: Notify,
}

/// A paced write's turn: the server has read (and answered) the `sent`
/// bytes before it, and the client has read every answer. A server gone
/// before reading it all: the write goes anyway, and fails as a write does.
async fn wait_for_turn(server: &mut watch::Receiver<Progress>, sent: u64, client: &ClientCounts) {
    loop {
        // Made before the counts are looked at, so no read is missed.
        let read = client.read_more.notified();
        tokio::pin!(read);
        read.as_mut().enable();
        let p = *server.borrow_and_update();
        if p.read >= sent && client.read.load(Ordering::Relaxed) >= p.written {
            return;
        }
        tokio::select! {
            changed = server.changed() => if changed.is_err() { return },
            () = read => {}
        }
    }
}

const READ_BUF: usize = 64 * 1024;

/// Binds the exchange's listener at `addr` with the plan's receive buffer.
/// A plain std listener: it may be made on another thread (one in another
/// network namespace) and registered with the runtime later.
pub fn bind_listener(addr: SocketAddr, plan: &ExchangePlan) -> Result<std::net::TcpListener> {
    let bind_err = |source| Error::Bind {
        addr: addr.to_string(),
        source,
    };
    let sock = Socket::new(
        Domain::for_address(addr),
        Type::STREAM,
        Some(socket2::Protocol::TCP),
    )
    .map_err(|e| Error::io("listener socket", e))?;
    // As tokio's bind: SO_REUSEADDR, the kernel's IPV6_V6ONLY default.
    sock.set_reuse_address(true).map_err(bind_err)?;
    if let Some(bytes) = plan.rcvbuf {
        sock.set_recv_buffer_size(bytes)
            .map_err(|e| Error::io("SO_RCVBUF", e))?;
    }
    sock.bind(&addr.into()).map_err(bind_err)?;
    sock.listen(128).map_err(bind_err)?;
    sock.set_nonblocking(true).map_err(bind_err)?;
    Ok(sock.into())
}

/// Runs the exchange against `listener`; `clock` is time zero of the events.
/// A mode that needs more than one connection's worth of setup (kv and its
/// store file) is refused before anything connects.
pub async fn run_exchange(
    listener: TcpListener,
    plan: &ExchangePlan,
    clock: Instant,
) -> Result<Exchange> {
    run_exchange_from(listener, None, plan, clock).await
}

/// [`run_exchange`], the client connecting from `client` if given: a socket
/// made (not yet connected) in the client's network namespace.
pub async fn run_exchange_from(
    listener: TcpListener,
    client: Option<TcpSocket>,
    plan: &ExchangePlan,
    clock: Instant,
) -> Result<Exchange> {
    run_exchange_with(listener, client, ClientWay::default(), plan, clock).await
}

/// [`run_exchange_from`], the client going about it the way `way` says.
pub async fn run_exchange_with(
    listener: TcpListener,
    client: Option<TcpSocket>,
    way: ClientWay,
    plan: &ExchangePlan,
    clock: Instant,
) -> Result<Exchange> {
    let server_addr = listener
        .local_addr()
        .map_err(|e| Error::io("listener address", e))?;
    // A traced exchange keeps no store: kv is refused here, before connecting.
    let protocol = protocols(plan.server, None, &Limits::default(), false)?(1);
    let (progress_tx, progress_rx) = watch::channel(Progress::default());
    let server_counts = progress_rx.clone();
    let client_counts = Arc::new(ClientCounts::default());
    let writes_first = way.writes_first.then(|| Arc::clone(&client_counts));
    let server = tokio::spawn(serve_one(
        listener,
        plan.clone(),
        protocol,
        clock,
        (progress_tx, writes_first),
    ));
    let run = async {
        let counts = Arc::clone(&client_counts);
        let (client_addr, client) =
            run_client(server_addr, client, way, plan, clock, progress_rx, &counts).await?;
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
    // A watchdog on progress, not on the total time: 256 MiB may take
    // seconds, and it fails only when no byte moves for a whole period.
    let moved = || {
        let server = *server_counts.borrow();
        let client = client_counts.written.load(Ordering::Relaxed)
            + client_counts.read.load(Ordering::Relaxed);
        client + server.read + server.written
    };
    tokio::pin!(run);
    let mut last = moved();
    loop {
        tokio::select! {
            done = &mut run => return done,
            () = tokio::time::sleep(plan.timeout) => {
                let now = moved();
                if now == last {
                    return Err(stalled(plan, &client_counts, *server_counts.borrow()));
                }
                last = now;
            }
        }
    }
}

/// Where each side stood when no byte had moved for a whole period.
fn stalled(plan: &ExchangePlan, client: &ClientCounts, server: Progress) -> Error {
    let total: usize = plan.writes.iter().map(Vec::len).sum();
    Error::Trace(format!(
        "the exchange stalled: no byte moved for {} ms (--timeout-ms); the client wrote {} of \
         {total} bytes and read {}, the server read {} and wrote {}",
        plan.timeout.as_millis(),
        client.written.load(Ordering::Relaxed),
        client.read.load(Ordering::Relaxed),
        server.read,
        server.written,
    ))
}

async fn serve_one(
    listener: TcpListener,
    plan: ExchangePlan,
    mut protocol: Box<dyn Protocol>,
    clock: Instant,
    (progress, writes_first): (watch::Sender<Progress>, Option<Arc<ClientCounts>>),
) -> Result<(SocketLog, SocketAddr)> {
    let (sock, peer) = listener
        .accept()
        .await
        .map_err(|e| Error::io("accept", e))?;
    let mut server = ServerSide {
        sock,
        log: SocketLog::default(),
        clock,
        progress,
        half: plan.close == CloseMode::Half,
        deferred: Vec::new(),
    };
    server.log.push(clock, EventKind::Connection);
    if plan.nodelay {
        server
            .sock
            .set_nodelay(true)
            .map_err(|e| Error::io("TCP_NODELAY", e))?;
    }
    if !plan.server_read_delay.is_zero() {
        tokio::time::sleep(plan.server_read_delay).await;
    }
    if let Some(client) = writes_first {
        client.wrote_all.notified().await;
    }
    let served = server.serve(&mut *protocol).await;
    protocol.close();
    if served {
        server.finish().await;
    }
    Ok((server.log, peer))
}

/// The server's socket and what its application saw.
struct ServerSide {
    sock: TcpStream,
    log: SocketLog,
    clock: Instant,
    progress: watch::Sender<Progress>,
    /// The client half-closes: replies wait until its FIN has been read,
    /// then go out over the half-closed connection.
    half: bool,
    deferred: Vec<Vec<u8>>,
}

impl ServerSide {
    /// Reads and answers until the client's FIN; false if the connection
    /// failed (logged, closed) or the protocol closed it.
    async fn serve(&mut self, protocol: &mut dyn Protocol) -> bool {
        let mut out = Out::default();
        protocol.open(&mut out);
        if !self.answer(protocol, out).await {
            return false;
        }
        let mut buf = vec![0u8; protocol.read_size(READ_BUF)];
        loop {
            match self.sock.read(&mut buf).await {
                Ok(0) => {
                    self.log.push(self.clock, EventKind::End);
                    protocol.end();
                    return self.answer(protocol, Out::default()).await;
                }
                Ok(n) => {
                    self.log.data(self.clock, n);
                    let mut out = Out::default();
                    protocol.data(&buf[..n], &mut out);
                    let answered = self.answer(protocol, out).await;
                    // Counted as read once answered: a client that waits
                    // for the server to have read everything must not end
                    // between the read and its reply (the reply then raced
                    // the client's FIN).
                    self.progress.send_modify(|p| p.read += n as u64);
                    if !answered {
                        return false;
                    }
                }
                Err(e) => {
                    self.log.error(self.clock, &e);
                    self.log.push(self.clock, EventKind::Close);
                    return false;
                }
            }
        }
    }

    /// Writes (or keeps) `out`'s replies, then those of every unit the
    /// protocol kept, one at a time; false if a write failed or the
    /// protocol closed the connection.
    async fn answer(&mut self, protocol: &mut dyn Protocol, mut out: Out) -> bool {
        loop {
            for reply in out.take_writes() {
                if !self.reply(reply).await {
                    return false;
                }
            }
            if out.close {
                self.finish().await;
                return false;
            }
            if !protocol.step(&mut out).await {
                return true;
            }
        }
    }

    async fn reply(&mut self, reply: Vec<u8>) -> bool {
        if self.half {
            self.deferred.push(reply);
            return true;
        }
        self.write_reply(&reply).await
    }

    /// Writes one reply; on failure logs `error` and `close` and returns false.
    async fn write_reply(&mut self, reply: &[u8]) -> bool {
        self.log.write_call(self.clock, reply.len());
        let (log, clock, progress) = (&mut self.log, self.clock, &self.progress);
        let written = write_logged(&mut self.sock, reply, |step| match step {
            WriteStep::Took(n) => progress.send_modify(|p| p.written += n as u64),
            WriteStep::Blocked { accepted } => log.blocked(clock, reply.len(), accepted),
            WriteStep::Drained => log.drain(clock, reply.len()),
        })
        .await;
        match written {
            Ok(()) => {
                self.log.bytes_written += reply.len() as u64;
                true
            }
            Err(e) => {
                self.log.call_failed(self.clock, &e);
                self.log.push(self.clock, EventKind::Close);
                false
            }
        }
    }

    /// The replies kept for after the FIN, then the server's own FIN.
    async fn finish(&mut self) {
        for reply in std::mem::take(&mut self.deferred) {
            if !self.write_reply(&reply).await {
                return;
            }
        }
        // Node's default (allowHalfOpen false): the server ends when the
        // client does, right after its 'end' listener ran.
        self.log.call(self.clock, CallKind::End);
        if let Err(e) = self.sock.shutdown().await {
            self.log.error(self.clock, &e);
        }
        self.log.push(self.clock, EventKind::Close);
    }
}

async fn run_client(
    server_addr: SocketAddr,
    socket: Option<TcpSocket>,
    way: ClientWay,
    plan: &ExchangePlan,
    clock: Instant,
    mut progress: watch::Receiver<Progress>,
    counts: &ClientCounts,
) -> Result<(SocketAddr, SocketLog)> {
    let mut log = SocketLog::default();
    // A server on an IPv4-mapped IPv6 address is reached as IPv4 clients
    // reach dual-stack servers: at the plain IPv4 address.
    let target = way.connect_to.unwrap_or(match server_addr {
        SocketAddr::V6(v6) => match v6.ip().to_ipv4_mapped() {
            Some(v4) => SocketAddr::new(v4.into(), v6.port()),
            None => server_addr,
        },
        v4 => v4,
    });
    let connect_err = |e| Error::io(format!("connect to {target}"), e);
    let socket = match socket {
        Some(s) => s,
        None if target.is_ipv4() => TcpSocket::new_v4().map_err(connect_err)?,
        None => TcpSocket::new_v6().map_err(connect_err)?,
    };
    let mut sock = socket.connect(target).await.map_err(connect_err)?;
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
    let mut buf = vec![0u8; READ_BUF];
    let pace = way.paced.then(|| progress.clone());
    let wrote = write_all_reading(&mut sock, plan, pace, &mut buf, &mut log, clock, counts).await;
    // A permit kept for a server not yet waiting.
    counts.wrote_all.notify_one();
    if !wrote? {
        return Ok((local, log)); // the server ended the connection mid-write
    }
    if plan.cork {
        // Uncorking sends what was held at once.
        set_cork(&sock, false)?;
    }
    match plan.close {
        CloseMode::Half => {
            log.call(clock, CallKind::End);
            sock.shutdown()
                .await
                .map_err(|e| Error::io("client end()", e))?;
            read_to_end(&mut sock, &mut buf, &mut log, clock, counts).await;
        }
        CloseMode::End => {
            if wait_for_replies(&mut sock, &mut buf, &mut log, clock, &mut progress, counts).await {
                log.call(clock, CallKind::End);
                sock.shutdown()
                    .await
                    .map_err(|e| Error::io("client end()", e))?;
                read_to_end(&mut sock, &mut buf, &mut log, clock, counts).await;
            }
        }
        CloseMode::Reset => {
            if wait_for_replies(&mut sock, &mut buf, &mut log, clock, &mut progress, counts).await {
                // Zero linger makes close() send RST and discard unsent data.
                log.call(clock, CallKind::ResetAndDestroy);
                sock.set_zero_linger()
                    .map_err(|e| Error::io("SO_LINGER", e))?;
                drop(sock);
                log.push(clock, EventKind::Close);
            }
        }
    }
    Ok((local, log))
}

/// Writes every planned write while reading what comes back, as a Node
/// client's event loop does: a client that wrote everything before reading
/// would deadlock with a server whose replies fill the client's receive
/// buffer (both sides blocked in write). With `pace`, each write waits
/// until the server has read all before it. False if the server ended the
/// connection first (logged).
async fn write_all_reading(
    sock: &mut TcpStream,
    plan: &ExchangePlan,
    mut pace: Option<watch::Receiver<Progress>>,
    buf: &mut [u8],
    log: &mut SocketLog,
    clock: Instant,
    counts: &ClientCounts,
) -> Result<bool> {
    let finished = {
        let (mut rd, mut wr) = sock.split();
        // Both the writes and the reads log events; neither holds the log
        // across an await (the lock is never contended: select! polls one
        // branch at a time; a Mutex because the future must be Send).
        let shared = Mutex::new(&mut *log);
        let logged = || shared.lock().unwrap_or_else(PoisonError::into_inner);
        let writes = async {
            let mut sent = 0u64;
            for w in &plan.writes {
                if let Some(server) = pace.as_mut() {
                    wait_for_turn(server, sent, counts).await;
                }
                sent += w.len() as u64;
                logged().write_call(clock, w.len());
                write_logged(&mut wr, w, |step| match step {
                    WriteStep::Took(n) => {
                        counts.written.fetch_add(n as u64, Ordering::Relaxed);
                    }
                    WriteStep::Blocked { accepted } => {
                        logged().blocked(clock, w.len(), accepted);
                    }
                    WriteStep::Drained => logged().drain(clock, w.len()),
                })
                .await?;
            }
            Ok::<_, std::io::Error>(())
        };
        tokio::pin!(writes);
        loop {
            tokio::select! {
                // What has come is read before the next write, as Node's
                // event loop runs 'data' before the code after the await:
                // a paced client reads each reply as it comes.
                biased;
                read = rd.read(buf) => match read {
                    Ok(0) => {
                        logged().push(clock, EventKind::End);
                    }
                    Ok(n) => {
                        logged().data(clock, n);
                        counts.read.fetch_add(n as u64, Ordering::Relaxed);
                        counts.read_more.notify_waiters();
                        continue;
                    }
                    Err(e) => logged().error(clock, &e),
                },
                done = &mut writes => {
                    done.map_err(|e| Error::io("client write", e))?;
                    break true;
                }
            }
            logged().push(clock, EventKind::Close);
            break false;
        }
    };
    log.bytes_written = counts.written.load(Ordering::Relaxed);
    Ok(finished)
}

/// What a logged write reports as it goes.
enum WriteStep {
    /// The kernel took this many more bytes.
    Took(usize),
    /// The kernel refused the rest (its send buffer is full) after taking
    /// `accepted` bytes of this write.
    Blocked { accepted: usize },
    /// A write that was blocked is all in the kernel now.
    Drained,
}

/// `write_all`, telling `step` what happens: a write the kernel cannot take
/// whole waits (the socket is not writable: tokio's `Pending`) until the
/// peer's ACKs free the send buffer. Node keeps such a write in
/// `writableLength` until then; this is where its `write()` returns false
/// and its `'drain'` comes, so the socket view can say so.
async fn write_logged<W: AsyncWrite + Unpin>(
    w: &mut W,
    buf: &[u8],
    mut step: impl FnMut(WriteStep),
) -> std::io::Result<()> {
    let mut done = 0;
    let mut blocked = false;
    while done < buf.len() {
        let n = std::future::poll_fn(|cx| {
            let poll = Pin::new(&mut *w).poll_write(cx, &buf[done..]);
            if poll.is_pending() && !blocked {
                blocked = true;
                step(WriteStep::Blocked { accepted: done });
            }
            poll
        })
        .await?;
        if n == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        done += n;
        step(WriteStep::Took(n));
    }
    if blocked {
        step(WriteStep::Drained);
    }
    Ok(())
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
    counts: &ClientCounts,
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
            Ok(n) => {
                log.data(clock, n);
                counts.read.fetch_add(n as u64, Ordering::Relaxed);
            }
            Err(e) => {
                log.error(clock, &e);
                log.push(clock, EventKind::Close);
                return false;
            }
        }
    }
}

async fn read_to_end(
    sock: &mut TcpStream,
    buf: &mut [u8],
    log: &mut SocketLog,
    clock: Instant,
    counts: &ClientCounts,
) {
    loop {
        match sock.read(buf).await {
            Ok(0) => {
                log.push(clock, EventKind::End);
                break;
            }
            Ok(n) => {
                log.data(clock, n);
                counts.read.fetch_add(n as u64, Ordering::Relaxed);
            }
            Err(e) => {
                log.error(clock, &e);
                break;
            }
        }
    }
    log.push(clock, EventKind::Close);
}
