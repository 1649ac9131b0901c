//! The crash lab: two clients of a `tcplab serve echo` process that gets
//! kill -9. The server runs as a child process so it can be killed, and a
//! guard owns it: whatever path the lab takes (an error, a missing
//! capture right, a panic), the child is killed and reaped, never left
//! listening as an orphan.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::custom::{free_port, io};
use super::facts::{first, from_client, from_server, has};
use super::{Outcome, Part};
use crate::decode::Flags;
use crate::flow::Packet;
use crate::lab::logged::LoggedStream;
use crate::render::ConnectionLogs;
use crate::scenario::session::{capture_during, open_loopback};
use crate::{Error, Result};

/// A `tcplab serve echo` child on a given port, killed and reaped on drop.
struct ServerChild {
    child: Child,
    addr: SocketAddr,
}

impl ServerChild {
    fn spawn(port: u16) -> Result<ServerChild> {
        let exe = std::env::current_exe().map_err(io("find tcplab"))?;
        let child = Command::new(exe)
            .args([
                "serve",
                "echo",
                "--port",
                &port.to_string(),
                "--color",
                "never",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(io("start tcplab serve"))?;
        // The guard exists before the first read, so a failure below kills it.
        let mut server = ServerChild {
            child,
            addr: ([127, 0, 0, 1], port).into(),
        };
        // Its first line says it listens; read it before connecting.
        let Some(stdout) = server.child.stdout.take() else {
            return Err(Error::Trace("the server's output is not piped".into()));
        };
        let mut first_line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut first_line)
            .map_err(io("read the server's first line"))?;
        if !first_line.contains(&format!(":{port}")) {
            return Err(Error::Trace(format!(
                "the server did not listen on port {port}: {}",
                first_line.trim()
            )));
        }
        Ok(server)
    }

    /// SIGKILL, then reap: no code of the server runs again.
    fn kill(&mut self) -> std::io::Result<()> {
        self.child.kill()?;
        self.child.wait().map(drop)
    }
}

impl Drop for ServerChild {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What client B's late write did, frame by frame: its bytes after the
/// dead server's FIN, the RST that answered them, the error of the next write.
fn late_write(p: &[Packet], b_end: &str) -> String {
    // B is the second stream: it connected after A.
    let on_b = |x: &Packet| x.stream() == Some(1);
    let fin = first(p, |x| on_b(x) && from_server(x) && has(x, Flags::FIN));
    let rst = first(p, |x| on_b(x) && from_server(x) && has(x, Flags::RST));
    let sent = first(p, |x| {
        on_b(x) && from_client(x) && x.payload_len > 0 && fin.is_some_and(|f| x.number > f)
    });
    match (fin, sent, rst) {
        (Some(f), Some(d), Some(r)) => format!(
            "client B, writing after the crash: the dead server's FIN came at frame {f}, B's \
             bytes still went out at frame {d}, the dead side's kernel answered RST at frame \
             {r}, and B's next write failed: {b_end}"
        ),
        _ => format!("client B, writing after the crash: {b_end}"),
    }
}

pub(super) async fn crash() -> Result<Outcome> {
    // The capture opens first, on a port picked for the server: without
    // capture rights the lab stops here, before any process exists.
    let port = free_port()?;
    let mut cap = open_loopback(port, None)?;
    let server = ServerChild::spawn(port)?;
    let addr = server.addr;
    let child = Arc::new(Mutex::new(server));
    let killer = Arc::clone(&child);
    let work = async move {
        let clock = Instant::now();
        let mut a = LoggedStream::connect(addr, clock)
            .await
            .map_err(io("client A connect"))?;
        let mut b = LoggedStream::connect(addr, clock)
            .await
            .map_err(io("client B connect"))?;
        a.write(b"hi").await.map_err(io("client A write"))?;
        let mut buf = [0u8; 64];
        let echoed = a.read(&mut buf).await.map_err(io("client A read"))?;
        // B's echo too: the server has accepted B (a connection still in
        // the listener's queue would get an RST at the kill, not a FIN).
        b.write(b"hey").await.map_err(io("client B write"))?;
        let b_echoed = b.read(&mut buf).await.map_err(io("client B read"))?;
        // SIGKILL: no code of the server runs again; its kernel closes the sockets.
        killer
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .kill()
            .map_err(io("kill the server"))?;
        let a_end = match tokio::time::timeout(Duration::from_secs(2), a.read(&mut buf)).await {
            Ok(Ok(0)) => "end (the server's kernel sent FIN)".to_string(),
            Ok(Ok(n)) => format!("{n} more bytes"),
            Ok(Err(e)) => crate::values::describe_io_error(&e),
            Err(_) => "nothing within 2 s".to_string(),
        };
        // B reads the FIN too, then writes anyway: its socket is still open
        // for writing (it did not shut down its side, as Node's
        // allowHalfOpen: true), the dead side's kernel answers RST, and B's
        // next write fails.
        let _ = tokio::time::timeout(Duration::from_secs(2), b.read(&mut buf)).await;
        let first = b.write(b"anyone there?").await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        let second = b.write(b"hello?").await;
        let b_end = match (first, second) {
            (Err(e), _) | (Ok(()), Err(e)) => crate::values::describe_io_error(&e),
            (Ok(()), Ok(())) => "both writes accepted".to_string(),
        };
        // The server was a child process, killed: its side has no log.
        let logs: Vec<ConnectionLogs> = [a.close(), b.close()]
            .into_iter()
            .map(|client| ConnectionLogs {
                client,
                ..ConnectionLogs::default()
            })
            .collect();
        Ok((echoed, b_echoed, a_end, b_end, logs))
    };
    let (cap, (echoed, b_echoed, a_end, b_end, logs)) = capture_during(&mut cap, work).await?;
    let mut out = Outcome::default();
    let p = &cap.packets;
    out.check(
        "both echoes arrived before the crash",
        echoed == 2 && b_echoed == 3,
    );
    out.check(
        "client A saw the connection end (FIN from the dead server)",
        a_end.starts_with("end"),
    );
    out.check(
        "client B's write after the crash drew an RST, its next write failed",
        b_end.starts_with("ECONNRESET") || b_end.starts_with("EPIPE"),
    );
    out.check(
        "the wire shows the server's FIN and then an RST",
        first(p, |x| from_server(x) && has(x, Flags::FIN)).is_some()
            && first(p, |x| from_server(x) && has(x, Flags::RST)).is_some(),
    );
    out.happened
        .push(format!("client A, idle when the server died: {a_end}"));
    out.happened.push(late_write(p, &b_end));
    out.happened.push("a killed process runs no code, but its kernel closes its sockets: FIN for quiet ones, RST for data that arrives after".into());
    out.happened.push(
        "A and B are tcplab's own clients: plain sockets, which stay open for writing after the \
         peer's FIN (Node's allowHalfOpen: true does the same: its late write goes out, the RST \
         comes back, the next write fails with EPIPE, \"write EPIPE\"). A default Node client \
         (allowHalfOpen: false) ends its side right after 'end': its FIN goes out, and a later \
         write() fails at once with EPIPE (\"This socket has been ended by the other party\") \
         and sends nothing, so no RST comes"
            .into(),
    );
    out.parts.push(Part::rows_with(
        "two clients, then kill -9 the server",
        cap.packets,
        logs,
    ));
    Ok(out)
}
