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
use crate::flow::Packet;
use crate::lab::{bind_listener, run_exchange_with, ClientWay, ExchangePlan};
use crate::render::{Connection, KernelView, TraceReport};
use crate::scenario::kernel;
use crate::scenario::program::{client_and_server, SAMPLE_EVERY};
use crate::sockdiag::{Sampler, Samples, SocketId};
use crate::values::Timestamp;
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
    let report = trace_on(listener, &mut cap, plan, ClientWay::default()).await?;
    Ok((report, cap))
}

/// The exchange of `plan` on `listener`, captured on `cap` (opened on its
/// port): the client goes about it the way `way` says. The report has the
/// kernel's view of both sockets.
pub(crate) async fn trace_on(
    listener: TcpListener,
    cap: &mut LiveCapture,
    plan: ExchangePlan,
    way: ClientWay,
) -> Result<TraceReport> {
    // The kernel's view of the exchange's sockets, which are this
    // process's; without sock_diag the report has none, the trace goes on.
    let sampler = Sampler::of_own_sockets(SAMPLE_EVERY).ok();
    let server_mode = plan.server.name();
    let clock = Instant::now();
    let exchange =
        tokio::spawn(async move { run_exchange_with(listener, None, way, &plan, clock).await });
    let work = async {
        exchange
            .await
            .map_err(|e| Error::Trace(format!("exchange task failed: {e}")))?
    };
    let (captured, exchange) = capture_during(cap, work).await?;
    let connection = Connection {
        client: exchange.client_addr.into(),
        server: exchange.server_addr.into(),
        client_seen_by_server: (exchange.client_seen_by_server != exchange.client_addr)
            .then(|| exchange.client_seen_by_server.into()),
    };
    // Both sockets were freed by now (the exchange is over, the capture saw
    // the teardown): the last sample waits for their last words only.
    let ends = client_and_server(&captured.packets);
    let samples = sampler.map(|s| match ends {
        Some((client, server)) => s.stop_after(vec![
            SocketId::new(client, server),
            SocketId::new(server, client),
        ]),
        None => s.stop(),
    });
    let mut report = captured.report(connection, exchange.client, exchange.server, server_mode);
    report.kernel = samples.and_then(|s| kernel_view(&s, &report.packets));
    Ok(report)
}

/// Both sides' kernel view, by the ends the wire shows (the server's own
/// socket may report them IPv4-mapped: [`kernel::view`] tries both).
fn kernel_view(samples: &Samples, packets: &[Packet]) -> Option<KernelView> {
    let ends = client_and_server(packets)?;
    let t0 = packets.first()?.ts;
    let since = |ts: Timestamp| ts.secs_since(t0) * 1e3;
    let left = kernel::left_at_end(ends);
    Some(kernel::view(samples, ends, &left, &|_| false, &since))
}
