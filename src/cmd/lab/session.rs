//! Capturing around any piece of loopback traffic: the capture is open
//! before the work starts, and ends once every stream it saw is closed
//! (both FINs acknowledged, or a reset), with a grace period only as the
//! fallback. `trace` does the same for its one exchange.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use crate::capture::{loopback_interface, LiveCapture, LiveConfig};
use crate::cmd::trace::wire_totals;
use crate::flow::{CloseWatch, Packet, Pipeline};
use crate::render::{CaptureInfo, Connection, Sockets, TraceReport};
use crate::values::SocketLog;
use crate::Result;

/// Wait this long for the last packets once the work is done.
const GRACE: Duration = Duration::from_millis(1000);

/// What a capture around some work saw.
pub struct Captured {
    pub packets: Vec<Packet>,
    pub info: CaptureInfo,
}

/// Captures `tcp port PORT` on loopback while `work` runs.
pub async fn capture_during<T>(
    port: u16,
    work: impl Future<Output = Result<T>>,
) -> Result<(Captured, T)> {
    let mut cap = LiveCapture::open(LiveConfig::new(
        loopback_interface(),
        format!("tcp port {port}"),
    ))?;
    let mut pipeline = Pipeline::new();
    let mut watches: HashMap<u32, CloseWatch> = HashMap::new();
    let mut packets = Vec::new();
    let mut result = None;
    let mut grace = None;
    tokio::pin!(work);
    let all_closed =
        |w: &HashMap<u32, CloseWatch>| !w.is_empty() && w.values().all(CloseWatch::is_closed);
    loop {
        tokio::select! {
            frame = cap.next_frame() => {
                let Some(frame) = frame else { break };
                let packet = pipeline.push(&frame?.as_raw());
                if let (Some(seg), Some(info)) = (packet.segment(), packet.flow) {
                    watches.entry(info.stream).or_default().observe(&seg, info.direction);
                }
                packets.push(packet);
                if result.is_some() && all_closed(&watches) {
                    break;
                }
            }
            done = &mut work, if result.is_none() => {
                result = Some(done?);
                if all_closed(&watches) {
                    break;
                }
                grace = Some(tokio::time::Instant::now() + GRACE);
            }
            _ = sleep_until(grace), if grace.is_some() => break,
        }
    }
    let stats = cap.stats()?;
    let link = cap.link();
    let info = CaptureInfo {
        interface: cap.config().interface.clone(),
        link,
        snaplen: cap.config().snaplen as u32,
        dropped: stats.dropped + stats.if_dropped,
        stats,
    };
    let result = match result {
        Some(r) => r,
        // The capture ended first (libpcap closed it): the work still counts.
        None => work.await?,
    };
    Ok((Captured { packets, info }, result))
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

impl Captured {
    /// The trace report of one connection, for the trace renderer.
    pub fn report(
        self,
        client: SocketAddr,
        server: SocketAddr,
        client_log: SocketLog,
        server_log: SocketLog,
        server_mode: &'static str,
    ) -> TraceReport {
        TraceReport {
            connection: Connection {
                client: client.into(),
                server: server.into(),
                client_seen_by_server: None,
            },
            wire: wire_totals(&self.packets),
            packets: self.packets,
            sockets: Sockets {
                client: client_log,
                server: server_log,
            },
            capture: self.info,
            server_mode,
            warning: None,
        }
    }
}
