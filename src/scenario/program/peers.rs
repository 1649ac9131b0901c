//! tcplab's side of a traced program's connections, when it has one: a
//! lesson server for a client-only program (`--server MODE --port N`), or
//! a client for a server-only one (`--connect PORT` with `--send`), which
//! connects once the program listens (so no refused attempt litters the
//! capture).

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

use crate::lab::serve::{self, Limits, ServeConfig};
use crate::lab::{CloseMode, ServeMode};
use crate::{Error, Result};

/// tcplab's lesson server, serving until [`OwnServer::stop`].
pub struct OwnServer {
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<()>>,
}

impl OwnServer {
    /// Binds 127.0.0.1:`port` before the program starts, so it finds it.
    pub async fn start(port: u16, mode: ServeMode) -> Result<OwnServer> {
        let addr = SocketAddr::new(Ipv4Addr::LOCALHOST.into(), port);
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| Error::Bind {
                addr: addr.to_string(),
                source,
            })?;
        let config = ServeConfig {
            mode,
            store: None,
            limits: Limits::default(),
            keep_bytes: 0,
            safe: false,
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown = async move {
            let _ = stopped.await;
        };
        let sink: serve::EventSink = Arc::new(|_| {});
        let task = tokio::spawn(serve::run(listener, config, shutdown, sink));
        Ok(OwnServer { stop, task })
    }

    /// Stops accepting and closes its connections (the program is gone).
    pub async fn stop(self) -> Result<()> {
        let _ = self.stop.send(());
        self.task
            .await
            .map_err(|e| Error::Trace(format!("tcplab's server failed: {e}")))?
    }
}

/// What tcplab's client does against the program's server.
#[derive(Debug)]
pub struct ClientPlan {
    pub port: u16,
    pub writes: Vec<Vec<u8>>,
    pub close: CloseMode,
}

/// How long to read the program's replies once the client has ended.
const READ_IDLE: Duration = Duration::from_secs(2);

/// Waits until `listening` says the program listens on the port (checked
/// every 5 ms, until `deadline`), then connects, writes, and closes.
pub async fn run_client(
    plan: &ClientPlan,
    listening: impl Fn() -> Vec<u16>,
    deadline: Instant,
) -> Result<SocketAddr> {
    while !listening().contains(&plan.port) {
        if Instant::now() >= deadline {
            return Err(Error::Trace(format!(
                "the program never listened on port {} (--connect)",
                plan.port
            )));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let addr = SocketAddr::new(Ipv4Addr::LOCALHOST.into(), plan.port);
    let mut sock = TcpStream::connect(addr)
        .await
        .map_err(|e| Error::io(format!("connect to the program on {addr}"), e))?;
    let local = sock
        .local_addr()
        .map_err(|e| Error::io("tcplab's client address", e))?;
    for w in &plan.writes {
        sock.write_all(w)
            .await
            .map_err(|e| Error::io("tcplab's client write", e))?;
    }
    if plan.close == CloseMode::Reset {
        sock.set_zero_linger()
            .map_err(|e| Error::io("SO_LINGER", e))?;
        return Ok(local);
    }
    sock.shutdown()
        .await
        .map_err(|e| Error::io("tcplab's client end()", e))?;
    let mut buf = vec![0u8; 64 * 1024];
    // The program's replies until it closes, or falls silent for READ_IDLE.
    while let Ok(Ok(n)) = tokio::time::timeout(READ_IDLE, sock.read(&mut buf)).await {
        if n == 0 {
            break;
        }
    }
    Ok(local)
}
