//! Traffic captured whole: the capture opens before the work starts, every
//! frame goes through the pipeline, and the capture ends once every stream
//! it saw is closed (both FINs acknowledged, or a reset) and the work is
//! done; the grace time is only the fallback. `trace` and every lab use it.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use crate::capture::{capture_around, loopback_interface, Ended, LiveCapture, LiveConfig, Verdict};
use crate::flow::{Closes, Packet, Pipeline};
use crate::render::{CaptureInfo, Connection, Sockets, TraceReport, Wire};
use crate::values::SocketLog;
use crate::Result;

/// How long to wait for the last teardown packets once the work is done;
/// reached only if the capture missed them.
pub const GRACE: Duration = Duration::from_millis(1000);

/// What a capture around some work saw.
pub struct Captured {
    pub packets: Vec<Packet>,
    pub info: CaptureInfo,
    /// Why the capture may be incomplete, if the teardown was not seen.
    pub warning: Option<String>,
}

/// Opens the loopback capture for `tcp port PORT`, with a kernel buffer of
/// `buffer_size` bytes if given: call before the work makes any traffic.
pub fn open_loopback(port: u16, buffer_size: Option<usize>) -> Result<LiveCapture> {
    let mut config = LiveConfig::new(loopback_interface(), format!("tcp port {port}"));
    if let Some(bytes) = buffer_size {
        config.buffer_size = bytes;
    }
    LiveCapture::open(config)
}

/// Captures on `cap` while `work` runs, every frame through the pipeline.
pub async fn capture_during<T>(
    cap: &mut LiveCapture,
    work: impl Future<Output = Result<T>>,
) -> Result<(Captured, T)> {
    let mut pipeline = Pipeline::new();
    let mut closes = Closes::new();
    let mut packets = Vec::new();
    tokio::pin!(work);
    let (done, ended) = capture_around(cap, work.as_mut(), GRACE, |frame| {
        let packet = pipeline.push(&frame.as_raw());
        closes.observe(&packet);
        packets.push(packet);
        Ok(if closes.all_closed() {
            Verdict::Settled
        } else {
            Verdict::Open
        })
    })
    .await?;
    // The capture ended first (libpcap closed it): the work still counts.
    let result = match done {
        Some(r) => r,
        None => work.await?,
    };
    let warning = (ended == Ended::Grace).then(|| {
        format!(
            "the teardown was not seen within {} ms after both programs finished; \
             the capture may have missed packets",
            GRACE.as_millis()
        )
    });
    let stats = cap.stats()?;
    let info = CaptureInfo {
        interface: cap.config().interface.clone(),
        link: cap.link(),
        snaplen: cap.config().snaplen as u32,
        dropped: stats.dropped + stats.if_dropped,
        stats,
    };
    Ok((
        Captured {
            packets,
            info,
            warning,
        },
        result,
    ))
}

impl Captured {
    /// The trace report of one connection, for the trace renderer.
    pub fn report(
        self,
        connection: Connection,
        client_log: SocketLog,
        server_log: SocketLog,
        server_mode: &'static str,
    ) -> TraceReport {
        TraceReport {
            connection,
            wire: Wire::of(&self.packets),
            packets: self.packets,
            sockets: Sockets {
                client: client_log,
                server: server_log,
            },
            capture: self.info,
            server_mode,
            warning: self.warning,
            path: None,
            kernel: None,
            lines: Vec::new(),
        }
    }
}

/// Both ends of a connection as the client saw them.
pub fn connection(client: SocketAddr, server: SocketAddr) -> Connection {
    Connection {
        client: client.into(),
        server: server.into(),
        client_seen_by_server: None,
    }
}

/// [`capture_during`] on a loopback capture of `tcp port PORT` opened
/// first, closed after.
pub async fn capture_port<T>(
    port: u16,
    work: impl Future<Output = Result<T>>,
) -> Result<(Captured, T)> {
    let mut cap = open_loopback(port, None)?;
    capture_during(&mut cap, work).await
}
