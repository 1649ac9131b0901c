//! The `send` client: connect with retries and exponential backoff, write
//! the planned buffers (or stdin's lines), read replies until the peer goes
//! quiet or closes, and close as asked. Events go to a callback as they
//! happen; nothing here prints.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::error::NetKind;
use crate::values::{CallKind, EventKind, SocketLog};

/// The failure of [`connect`] given no address.
const NO_ADDRESS: &str = "no address to connect to";

/// When to give up connecting.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub retries: u32,
    /// Delay before the first retry; doubles each time.
    pub first_delay: Duration,
    /// The delay never exceeds this.
    pub max_delay: Duration,
    /// Each attempt's own limit.
    pub connect_timeout: Duration,
}

impl RetryPolicy {
    /// The delay before retry number `n` (0-based): first × 2^n, capped.
    pub fn delay(&self, n: u32) -> Duration {
        let factor = 2u32.saturating_pow(n.min(30));
        self.first_delay.saturating_mul(factor).min(self.max_delay)
    }
}

/// One connection attempt and what came of it.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// 1-based.
    pub number: u32,
    pub addr: SocketAddr,
    /// `None` when it connected.
    pub failure: Option<(NetKind, String)>,
    /// The wait before the next attempt, if there is one.
    pub retry_in: Option<Duration>,
}

/// Connects to the first address that accepts, trying them all per attempt.
/// An empty `addrs` fails at once (reported as `0.0.0.0:0`, "no address
/// to connect to"): there is nothing to try, and nothing to retry.
pub async fn connect(
    addrs: &[SocketAddr],
    policy: &RetryPolicy,
    mut on_attempt: impl FnMut(&Attempt),
) -> Result<TcpStream, (SocketAddr, NetKind, String)> {
    let Some(&last_addr) = addrs.last() else {
        let nowhere = SocketAddr::from(([0, 0, 0, 0], 0));
        return Err((nowhere, NetKind::Other, NO_ADDRESS.to_string()));
    };
    let mut number = 0;
    let mut last = (last_addr, NetKind::Other, NO_ADDRESS.to_string());
    for retry in 0..=policy.retries {
        for &addr in addrs {
            number += 1;
            let result =
                tokio::time::timeout(policy.connect_timeout, TcpStream::connect(addr)).await;
            let failure = match result {
                Ok(Ok(stream)) => {
                    on_attempt(&Attempt {
                        number,
                        addr,
                        failure: None,
                        retry_in: None,
                    });
                    return Ok(stream);
                }
                Ok(Err(e)) => (NetKind::of(&e), crate::values::errno_name(&e)),
                Err(_) => (
                    NetKind::TimedOut,
                    format!("no answer within {} ms", policy.connect_timeout.as_millis()),
                ),
            };
            let retry_in =
                (retry < policy.retries && addr == last_addr).then(|| policy.delay(retry));
            on_attempt(&Attempt {
                number,
                addr,
                failure: Some(failure.clone()),
                retry_in,
            });
            last = (addr, failure.0, failure.1);
        }
        if retry < policy.retries {
            tokio::time::sleep(policy.delay(retry)).await;
        }
    }
    Err(last)
}

/// How the client ends the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// FIN once the replies went quiet, then read until the peer closes.
    End,
    /// RST (zero linger, Node's `resetAndDestroy()`) once the replies
    /// went quiet.
    Reset,
    /// FIN right after the writes, then read until the peer closes.
    Half,
}

/// Something that happened on the client's socket.
#[derive(Debug, Clone)]
pub enum ClientEvent {
    Wrote(usize),
    /// Bytes read, at `t_ms` since the connection.
    Data {
        t_ms: f64,
        bytes: Vec<u8>,
    },
    /// The peer's FIN.
    End,
    /// We sent our FIN.
    SentFin,
    /// We reset the connection.
    SentRst,
    /// The reply went quiet for the idle time.
    Quiet,
    Error(NetKind, String),
}

/// Reads until EOF, an error, or `idle` of silence. True if the peer closed.
async fn read_replies(
    sock: &mut TcpStream,
    idle: Duration,
    clock: Instant,
    log: &mut SocketLog,
    on_event: &mut impl FnMut(&ClientEvent),
) -> Result<bool, NetKind> {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match tokio::time::timeout(idle, sock.read(&mut buf)).await {
            Err(_) => {
                on_event(&ClientEvent::Quiet);
                return Ok(false);
            }
            Ok(Ok(0)) => {
                log.push(clock, EventKind::End);
                on_event(&ClientEvent::End);
                return Ok(true);
            }
            Ok(Ok(n)) => {
                log.data(clock, n);
                let t_ms = clock.elapsed().as_secs_f64() * 1e3;
                on_event(&ClientEvent::Data {
                    t_ms,
                    bytes: buf[..n].to_vec(),
                });
            }
            Ok(Err(e)) => {
                log.error(clock, &e);
                let kind = NetKind::of(&e);
                on_event(&ClientEvent::Error(kind, crate::values::errno_name(&e)));
                return Err(kind);
            }
        }
    }
}

/// Writes `writes` one write each, reads the replies, and ends as asked.
/// Returns the socket log and the first failure, if any.
pub async fn converse(
    mut sock: TcpStream,
    writes: &[Vec<u8>],
    ending: Ending,
    idle: Duration,
    clock: Instant,
    mut on_event: impl FnMut(&ClientEvent),
) -> (SocketLog, Option<(NetKind, String)>) {
    let mut log = SocketLog::default();
    log.push(clock, EventKind::Connect);
    let fail = |log: &mut SocketLog, e: std::io::Error| {
        log.error(clock, &e);
        Some((NetKind::of(&e), crate::values::errno_name(&e)))
    };
    let mut buf = vec![0u8; 64 * 1024];
    let mut peer_closed = false;
    for w in writes {
        let mut reader = Reader {
            buf: &mut buf,
            clock,
            log: &mut log,
            peer_closed: &mut peer_closed,
        };
        reader.log.write_call(clock, w.len());
        if let Err(e) = reader.write_reading(&mut sock, w, &mut on_event).await {
            let f = fail(&mut log, e);
            log.push(clock, EventKind::Close);
            return (log, f);
        }
        log.bytes_written += w.len() as u64;
        on_event(&ClientEvent::Wrote(w.len()));
    }
    let result = if peer_closed {
        end_after_peer(&mut sock, ending, clock, &mut log, &mut on_event).await
    } else {
        finish(&mut sock, ending, idle, clock, &mut log, &mut on_event).await
    };
    log.push(clock, EventKind::Close);
    (log, result.err().map(|k| (k, k.errno().to_string())))
}

/// What a client reads while it writes.
struct Reader<'a> {
    buf: &'a mut [u8],
    clock: Instant,
    log: &'a mut SocketLog,
    /// Set once the peer's FIN was read.
    peer_closed: &'a mut bool,
}

impl Reader<'_> {
    /// Writes `bytes` while reading what arrives meanwhile, as Node's event
    /// loop does: writing a large file before reading any reply deadlocks
    /// with an echoing server once both kernel buffers are full.
    async fn write_reading(
        &mut self,
        sock: &mut TcpStream,
        bytes: &[u8],
        on_event: &mut impl FnMut(&ClientEvent),
    ) -> std::io::Result<()> {
        let (mut rd, mut wr) = sock.split();
        let write = wr.write_all(bytes);
        tokio::pin!(write);
        loop {
            tokio::select! {
                done = &mut write => return done,
                read = rd.read(self.buf), if !*self.peer_closed => match read? {
                    0 => {
                        *self.peer_closed = true;
                        self.log.push(self.clock, EventKind::End);
                        on_event(&ClientEvent::End);
                    }
                    n => {
                        self.log.data(self.clock, n);
                        let t_ms = self.clock.elapsed().as_secs_f64() * 1e3;
                        on_event(&ClientEvent::Data {
                            t_ms,
                            bytes: self.buf[..n].to_vec(),
                        });
                    }
                },
            }
        }
    }
}

/// Ends a connection whose peer already sent its FIN: our FIN (end and
/// half-close alike), or a reset.
async fn end_after_peer(
    sock: &mut TcpStream,
    ending: Ending,
    clock: Instant,
    log: &mut SocketLog,
    on_event: &mut impl FnMut(&ClientEvent),
) -> Result<(), NetKind> {
    match ending {
        Ending::Half | Ending::End => shutdown(sock, clock, log, on_event).await,
        Ending::Reset => {
            log.call(clock, CallKind::ResetAndDestroy);
            sock.set_zero_linger().map_err(|e| NetKind::of(&e))?;
            on_event(&ClientEvent::SentRst);
            Ok(())
        }
    }
}

/// Lines from `input` are written as they come, byte for byte (a CR, bytes
/// that are not UTF-8 and a last line without its newline go out exactly as
/// read), while replies are printed as they arrive; at the end of input the
/// client half-closes, like `nc -N`, and reads until the peer closes or
/// goes quiet.
pub async fn interactive(
    mut sock: TcpStream,
    input: impl AsyncRead + Unpin,
    idle: Duration,
    clock: Instant,
    mut on_event: impl FnMut(&ClientEvent),
) -> (SocketLog, Option<(NetKind, String)>) {
    let mut log = SocketLog::default();
    log.push(clock, EventKind::Connect);
    let mut input = BufReader::new(input);
    // Kept across iterations: read_until keeps what it read when another
    // branch of the select wins, and continues on the next call.
    let mut line = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    let outcome = loop {
        tokio::select! {
            read = input.read_until(b'\n', &mut line) => match read {
                // Not the count: a call cut short by the other branch left
                // its bytes in `line`, and the next call may return 0 at EOF.
                Ok(_) if !line.is_empty() => {
                    log.write_call(clock, line.len());
                    if let Err(e) = sock.write_all(&line).await {
                        log.error(clock, &e);
                        break Err(NetKind::of(&e));
                    }
                    log.bytes_written += line.len() as u64;
                    on_event(&ClientEvent::Wrote(line.len()));
                    line.clear();
                }
                // End of input (or unreadable input): half-close and drain.
                _ => break finish(&mut sock, Ending::Half, idle, clock, &mut log, &mut on_event).await,
            },
            read = sock.read(&mut buf) => match read {
                Ok(0) => {
                    log.push(clock, EventKind::End);
                    on_event(&ClientEvent::End);
                    break Ok(());
                }
                Ok(n) => {
                    log.data(clock, n);
                    let t_ms = clock.elapsed().as_secs_f64() * 1e3;
                    on_event(&ClientEvent::Data { t_ms, bytes: buf[..n].to_vec() });
                }
                Err(e) => {
                    log.error(clock, &e);
                    let kind = NetKind::of(&e);
                    on_event(&ClientEvent::Error(kind, crate::values::errno_name(&e)));
                    break Err(kind);
                }
            },
        }
    };
    log.push(clock, EventKind::Close);
    (log, outcome.err().map(|k| (k, k.errno().to_string())))
}

async fn finish(
    sock: &mut TcpStream,
    ending: Ending,
    idle: Duration,
    clock: Instant,
    log: &mut SocketLog,
    on_event: &mut impl FnMut(&ClientEvent),
) -> Result<(), NetKind> {
    match ending {
        Ending::Half => {
            shutdown(sock, clock, log, on_event).await?;
            read_replies(sock, idle, clock, log, on_event).await?;
        }
        Ending::End => {
            if !read_replies(sock, idle, clock, log, on_event).await? {
                shutdown(sock, clock, log, on_event).await?;
                read_replies(sock, idle, clock, log, on_event).await?;
            }
        }
        Ending::Reset => {
            read_replies(sock, idle, clock, log, on_event).await?;
            // Zero linger turns close() into a RST.
            log.call(clock, CallKind::ResetAndDestroy);
            sock.set_zero_linger().map_err(|e| NetKind::of(&e))?;
            on_event(&ClientEvent::SentRst);
        }
    }
    Ok(())
}

async fn shutdown(
    sock: &mut TcpStream,
    clock: Instant,
    log: &mut SocketLog,
    on_event: &mut impl FnMut(&ClientEvent),
) -> Result<(), NetKind> {
    log.call(clock, CallKind::End);
    sock.shutdown().await.map_err(|e| NetKind::of(&e))?;
    on_event(&ClientEvent::SentFin);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn no_address_is_an_error_not_a_panic() {
        let policy = RetryPolicy {
            retries: 3,
            first_delay: Duration::from_secs(10),
            max_delay: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(10),
        };
        let mut attempts = 0;
        let err = connect(&[], &policy, |_| attempts += 1).await.unwrap_err();
        assert_eq!(err.1, NetKind::Other);
        assert_eq!(err.2, "no address to connect to");
        assert_eq!(attempts, 0);
    }
}
