//! The traced exchange behind `tcplab trace` and the one-connection labs:
//! bind the server's listener, open the capture filtered on its port, run
//! the exchange, and report.
//!
//! Order matters: the listener is bound first (so the port is known), the
//! capture is opened with its filter (libpcap captures everything after
//! `pcap_activate` returns), and only then does the client connect.

use std::net::SocketAddr;
use std::time::Instant;

use tokio::net::TcpListener;

use super::session::{capture_during, open_loopback};
use crate::capture::LiveCapture;
use crate::lab::{bind_listener, run_exchange, ExchangePlan};
use crate::render::{Connection, TraceReport};
use crate::{Error, Result};

/// Does the traced exchange and returns its report (which keeps every
/// frame's bytes) and the still open capture, for the caller to close
/// after printing (closing a packet socket waits for the kernel).
/// `buffer_size`: the kernel's capture buffer in bytes, if not the default.
pub async fn trace(
    bind: SocketAddr,
    plan: ExchangePlan,
    buffer_size: Option<usize>,
) -> Result<(TraceReport, LiveCapture)> {
    let listener =
        TcpListener::from_std(bind_listener(bind, &plan)?).map_err(|e| Error::io("listener", e))?;
    let server_addr = listener
        .local_addr()
        .map_err(|e| Error::io("listener address", e))?;
    let mut cap = open_loopback(server_addr.port(), buffer_size)?;
    let server_mode = plan.server.name();
    let clock = Instant::now();
    let exchange = tokio::spawn(async move { run_exchange(listener, &plan, clock).await });
    let work = async {
        exchange
            .await
            .map_err(|e| Error::Trace(format!("exchange task failed: {e}")))?
    };
    let (captured, exchange) = capture_during(&mut cap, work).await?;
    let connection = Connection {
        client: exchange.client_addr.into(),
        server: exchange.server_addr.into(),
        client_seen_by_server: (exchange.client_seen_by_server != exchange.client_addr)
            .then(|| exchange.client_seen_by_server.into()),
    };
    let report = captured.report(connection, exchange.client, exchange.server, server_mode);
    Ok((report, cap))
}
