//! The traced exchange through an impaired path (`trace --loss/--drop/
//! --delay/--reorder`, the loss and delay labs): the client and the server
//! in namespaces of their own, the capture on the side asked for, and the
//! report's [`PathReport`]: what the forwarder dropped, marked on the rows,
//! and each retransmission's row saying how TCP found out.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Instant;

use tokio::net::{TcpListener, TcpSocket};

use super::session::capture_during;
use crate::capture::{LiveCapture, LiveConfig};
use crate::impair::{frame_hash, Counters, Dropped, ImpairedPath, Impairment, Log, Way, Why};
use crate::lab::{bind_listener, run_exchange_from, ExchangePlan};
use crate::render::{Connection, DropMark, Kernels, Marks, PathReport, TraceReport, WayCounts};
use crate::values::Timestamp;
use crate::{Error, Result};

mod words;

/// Which end of the path the capture watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CaptureAt {
    /// The sender's view: a dropped segment and its retransmission both show.
    #[default]
    Client,
    /// The receiver's view: a dropped segment is a gap.
    Server,
}

impl CaptureAt {
    pub fn name(self) -> &'static str {
        match self {
            CaptureAt::Client => "client",
            CaptureAt::Server => "server",
        }
    }
}

/// The path a trace runs through.
#[derive(Debug, Clone, Default)]
pub struct PathPlan {
    pub impairment: Impairment,
    pub capture_at: CaptureAt,
    pub ipv6: bool,
    pub port: u16,
    /// Turns the client's tail-loss probes off (its namespace's
    /// `net.ipv4.tcp_early_retrans` = 0), so a lost last segment waits for
    /// the classic retransmission timeout (the loss lab's third run).
    pub no_tail_loss_probe: bool,
}

/// Runs `plan` through an impaired path; returns the report and the open
/// capture, as [`super::trace::trace`] does.
pub async fn trace_impaired(
    plan: ExchangePlan,
    path_plan: &PathPlan,
    buffer_size: Option<usize>,
) -> Result<(TraceReport, LiveCapture)> {
    let path = ImpairedPath::build(path_plan.impairment.clone(), path_plan.ipv6)?;
    if path_plan.no_tail_loss_probe {
        // Per namespace: written from the client's thread, it is the client's.
        path.in_client(|| std::fs::write("/proc/sys/net/ipv4/tcp_early_retrans", "0"))?
            .map_err(|e| Error::io("net.ipv4.tcp_early_retrans", e))?;
    }
    let bind = SocketAddr::new(path.server_end.addr, path_plan.port);
    let for_bind = plan.clone();
    let listener = path.in_server(move || bind_listener(bind, &for_bind))??;
    let listener = TcpListener::from_std(listener).map_err(|e| Error::io("listener", e))?;
    let port = listener
        .local_addr()
        .map_err(|e| Error::io("listener address", e))?
        .port();
    let mut config = LiveConfig::new(
        match path_plan.capture_at {
            CaptureAt::Client => path.client_end.ifname,
            CaptureAt::Server => path.server_end.ifname,
        },
        format!("tcp port {port}"),
    );
    if let Some(bytes) = buffer_size {
        config.buffer_size = bytes;
    }
    let mut cap = match path_plan.capture_at {
        CaptureAt::Client => path.in_client(move || LiveCapture::open(config))??,
        CaptureAt::Server => path.in_server(move || LiveCapture::open(config))??,
    };
    let v6 = path_plan.ipv6;
    let socket = path
        .in_client(move || {
            if v6 {
                TcpSocket::new_v6()
            } else {
                TcpSocket::new_v4()
            }
        })?
        .map_err(|e| Error::io("client socket", e))?;
    let server_mode = plan.server.name();
    let clock = Instant::now();
    let exchange =
        tokio::spawn(async move { run_exchange_from(listener, Some(socket), &plan, clock).await });
    let work = async {
        exchange
            .await
            .map_err(|e| Error::Trace(format!("exchange task failed: {e}")))?
    };
    let (captured, exchange) = capture_during(&mut cap, work).await?;
    let counters = path.counters()?;
    let log = path.finish();
    let connection = Connection {
        client: exchange.client_addr.into(),
        server: exchange.server_addr.into(),
        client_seen_by_server: None,
    };
    let mut report = captured.report(connection, exchange.client, exchange.server, server_mode);
    report.path = Some(path_report(&report, path_plan, log, counters));
    Ok((report, cap))
}

/// The report's path section from the forwarder's log and the counters.
fn path_report(r: &TraceReport, plan: &PathPlan, log: Log, kernel: [Counters; 2]) -> PathReport {
    // Each frame hashed once, not once per drop.
    let by_hash: HashMap<u64, u64> = r
        .packets
        .iter()
        .map(|p| (frame_hash(&p.data), p.number))
        .collect();
    let dropped: Vec<DropMark> = log
        .dropped
        .iter()
        .map(|d| drop_mark(r, d, &by_hash))
        .collect();
    let mut marks = Marks::new();
    for (mark, d) in dropped.iter().zip(&log.dropped) {
        mark_drop(r, mark, d, &mut marks);
    }
    words::mark_recoveries(&r.packets, &kernel, &mut marks);
    let [client, server] = kernel;
    PathReport {
        asked: words::asked(&plan.impairment),
        capture_at: plan.capture_at.name(),
        dropped,
        forwarded: way_counts(log.passed.each_ref().map(|p| p.len() as u64)),
        after_capture: way_counts(after_capture(r, plan.capture_at, &log)),
        not_tcp: way_counts(log.not_tcp),
        reordered: way_counts(log.reordered),
        forwarder_overrun: log.overrun,
        kernel: Kernels {
            client: client.0,
            server: server.0,
        },
        marks,
    }
}

/// Each way's frames the forwarder handled that the capture does not hold,
/// matched by their bytes' hash (a multiset: two frames may be equal). At
/// a way's sending end the capture saw what the forwarder read, passed or
/// dropped; at its receiving end what it passed.
fn after_capture(r: &TraceReport, at: CaptureAt, log: &Log) -> [u64; 2] {
    [Way::ToServer, Way::ToClient].map(|way| {
        let dir = direction_of(way);
        let mut seen: HashMap<u64, u32> = HashMap::new();
        for p in r.packets.iter().filter(|p| p.direction() == Some(dir)) {
            *seen.entry(frame_hash(&p.data)).or_default() += 1;
        }
        let sending_end = (at == CaptureAt::Client) == (way == Way::ToServer);
        let dropped = log.dropped.iter().filter(|d| d.way == way && sending_end);
        let handled = log.passed[way.index()]
            .iter()
            .chain(dropped.map(|d| &d.hash));
        handled
            .filter(|h| match seen.get_mut(h) {
                Some(n) if *n > 0 => {
                    *n -= 1;
                    false
                }
                _ => true,
            })
            .count() as u64
    })
}

fn way_counts(c: [u64; 2]) -> WayCounts {
    WayCounts {
        client_to_server: c[Way::ToServer.index()],
        server_to_client: c[Way::ToClient.index()],
    }
}

fn direction_of(way: Way) -> crate::flow::Direction {
    match way {
        Way::ToServer => crate::flow::Direction::ClientToServer,
        Way::ToClient => crate::flow::Direction::ServerToClient,
    }
}

/// Where a drop sits in the capture: the captured frame (the same bytes)
/// if the capture saw it before the drop, its sequence number relative to
/// its side's first.
fn drop_mark(r: &TraceReport, d: &Dropped, by_hash: &HashMap<u64, u64>) -> DropMark {
    let dir = direction_of(d.way);
    let base = r
        .packets
        .iter()
        .find_map(|p| {
            let (f, t) = (p.flow?, p.tcp.as_ref()?);
            (f.direction == dir).then(|| t.seq.wrapping_sub(f.seq))
        })
        .unwrap_or(0);
    let t0 = r.packets.first().map(|p| p.ts).unwrap_or_default();
    DropMark {
        direction: match d.way {
            Way::ToServer => "client_to_server",
            Way::ToClient => "server_to_client",
        },
        seq: d.meta.seq.wrapping_sub(base),
        len: d.meta.payload,
        reason: match d.why {
            Why::Chosen(n) => format!("drop {n}"),
            Why::Random => "loss".to_string(),
        },
        frame: by_hash.get(&d.hash).copied(),
        t_ms: Timestamp::from(d.at).secs_since(t0) * 1e3,
    }
}

/// Marks the dropped frame's row, or, when the capture never saw it, the
/// next row of its direction.
fn mark_drop(r: &TraceReport, m: &DropMark, d: &Dropped, marks: &mut Marks) {
    let why = match d.why {
        Why::Chosen(n) => format!("--drop {n}"),
        Why::Random => "--loss".to_string(),
    };
    let (frame, text) = match m.frame {
        Some(n) => (n, format!("✗ dropped here on purpose ({why})")),
        None => {
            // The forwarder logs a burst as it reads it, before it sends
            // the frames ahead of the drop: data is placed by its sequence
            // number (the next newer segment), a bare ACK by its time.
            let at = Timestamp::from(d.at);
            let dir = direction_of(d.way);
            let next = r.packets.iter().find(|p| {
                let Some(f) = p.flow.filter(|f| f.direction == dir) else {
                    return false;
                };
                if m.len > 0 {
                    p.payload_len > 0 && (f.seq.wrapping_sub(m.seq) as i32) > 0
                } else {
                    p.ts >= at
                }
            });
            let Some(next) = next else { return };
            let text = format!(
                "✗ before this, a segment never seen here (tshark: previous segment not \
                 captured): seq {} len {}, dropped on purpose ({why})",
                m.seq, m.len
            );
            (next.number, text)
        }
    };
    words::add(marks, frame, text);
}
